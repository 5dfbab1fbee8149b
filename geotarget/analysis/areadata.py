"""The areas of an analysis.

The LSOAs (or wards) of a :class:`~geotarget.data.study_data.StudyData`, their population, region, geometry
and indicators.

Shared by ``geotarget cluster``, ``hotspots`` and ``inequality``. The bundled places carry England and
regional reference values; data from England-wide official files carries the England-wide frame
(``national``) for references and national deciles.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import pandas as pd

from geotarget.analysis.gaps import (
    ENGLAND,
    Indicators,
    domain_indicators,
    humanise,
    match_areas,
    reference_table,
)
from geotarget.core import domains as D
from geotarget.core.codes import codes_in
from geotarget.core.errors import SchemaError, VintageError
from geotarget.core.vintages import VINTAGES, has_lsoa21_only_codes
from geotarget.data.study_data import StudyData

log = logging.getLogger(__name__)

LEVELS = ("lsoa", "ward")


def with_regions(study: StudyData) -> pd.DataFrame:
    """Return the study LSOAs with ``region_code`` (from the study's council -> region table)."""
    lsoas = study.lsoas.copy()
    if "region_code" not in lsoas.columns:
        reg = study.regions if study.regions is not None else pd.DataFrame({"region_code": []})
        lsoas["region_code"] = lsoas["lad_code"].map(reg["region_code"])
    return lsoas


def _region_names(study: StudyData) -> pd.Series:
    reg = study.regions if study.regions is not None else pd.DataFrame({"region_code": [], "region_name": []})
    return reg.drop_duplicates("region_code").set_index("region_code")["region_name"]


def study_notes(study: StudyData) -> list[str]:
    """Return what an analysis says about its data: the bundled place, or the IoD file and its coverage."""
    if study.bundled:
        return [f"Bundled {study.place} sample ({study.label})."]
    imd = study.source.imd
    notes = []
    if study.national is None:
        notes.append(f"{imd} holds {study.file_lsoas:,} of England's {study.vintage.n_lsoas:,} LSOAs: England and "
                     "regional references and national deciles use the published national ranks only.")
    notes.append(f"{imd} ({study.label}): {len(study.lsoas):,} study LSOAs.")
    return notes


# -- indicators -----------------------------------------------------------------------------------------

def study_indicators(study: StudyData, *, table: pd.DataFrame | None = None, name: str = "indicators",
                     bundled_outcomes: bool = False, higher_is_better: Sequence[str] = (),
                     domains: Sequence[str] | None = None) -> tuple[Indicators, pd.DataFrame | None, pd.DataFrame]:
    """Return indicator values for the study LSOAs (or wards, for a ward-keyed table) and their reference table.

    Returns ``(indicators, reference_table_or_None, table_rows)``: without ``table`` the IoD domains;
    with a table (:func:`~geotarget.io.indicators.read_indicator_table`, named ``name`` in messages), its
    columns. The reference table is bundled (sample IoD, and the sample outcome table when
    ``bundled_outcomes``), computed from England-wide inputs, or ``None`` (only ``reference="study"``
    is then possible).
    """
    lsoas = with_regions(study)
    if table is None:
        ind = domain_indicators(lsoas, vintage=study.vintage.year, keys=domains)
        ref = None
        if study.reference is not None:
            ref = study.reference[study.reference["source"] == ind.source]
        elif study.national is not None:
            nat = domain_indicators(study.national, vintage=study.vintage.year, keys=domains).values
            ref = reference_table(nat, study.national["pop_total"], study.national["region_code"], source=ind.source,
                                  region_names=_region_names(study))
        return ind, ref, ind.values
    indicators = name
    bad_direction = [c for c in higher_is_better if c not in table.columns]
    if bad_direction:
        raise SchemaError(f"higher-is-better column(s) {', '.join(bad_direction)} are not indicators of {indicators}")
    level = table.attrs["level"]
    if level == "lsoa" and study.vintage.lsoa_year == 2011 and has_lsoa21_only_codes(table.index):
        raise VintageError(f"{indicators} holds LSOA 2021 codes (e.g. {table.index.max()}) but the study is "
                           f"{study.vintage.label}: set `vintage` to 2025, or map the table to LSOA 2011 first"
                           ).naming("vintage")
    ref = None
    notes: list[str] = []
    if bundled_outcomes and study.reference is not None and study.vintage.year == 2025:
        ref = study.reference[study.reference["source"] == "outcomes_lsoa21"]
        ref = ref[ref["indicator"].isin(table.columns)]
    elif level == "lsoa" and table.index.str.startswith("E01").sum() >= VINTAGES[study.vintage.year].n_lsoas:
        eng = table[table.index.str.startswith("E01")]
        if study.national is not None:
            pop = study.national["pop_total"].reindex(eng.index)
            region = study.national["region_code"].reindex(eng.index)
            weights = "population-weighted"
        else:
            pop = pd.Series(1.0, index=eng.index)
            region = None
            weights = "LSOA-weighted (no England-wide population given)"
        ref = reference_table(eng, pop.fillna(0), region, source=str(indicators),
                              region_names=_region_names(study))
        notes.append(f"England reference computed from the {len(eng):,} LSOAs of {indicators} ({weights}).")
    if level == "ward" and "ward_code" not in lsoas.columns:
        raise SchemaError(f"{indicators} is keyed by ward codes but the study LSOAs have no ward lookup; load the "
                          "data with `lookup` (an LSOA to ward best-fit lookup)").naming("lookup")
    areas = lsoas.index if level == "lsoa" else pd.Index(sorted(lsoas["ward_code"].unique()), name="ward_code")
    values, note = match_areas(table, areas, what=str(indicators))
    notes.append(note)
    labels = {c: humanise(c) for c in table.columns}
    ind = Indicators(values, labels, tuple(higher_is_better), (), str(indicators), notes)
    return ind, ref, table


def to_level(values: pd.DataFrame, study: StudyData, level: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Values, population and region at ``level`` ("lsoa" or "ward").

    LSOA values go to wards as population-weighted means over the ward's best-fit LSOAs (intensive
    variables); values already keyed by ward are kept. Missing LSOA values propagate (never imputed).
    """
    if level not in LEVELS:
        raise SchemaError(f"level was {level!r} but is expected to be one of {list(LEVELS)}")
    lsoas = with_regions(study)
    pop = lsoas["pop_total"].astype(float)
    if level == "lsoa":
        if not codes_in(values.index, lsoas.index).all():
            raise SchemaError("level='lsoa' needs indicators keyed by LSOA code; this table is keyed by ward code")
        return values, pop.reindex(values.index), lsoas["region_code"].reindex(values.index)
    if "ward_code" not in lsoas.columns:
        raise SchemaError("level='ward' needs an LSOA to ward lookup: load the data with `lookup` (e.g. the ONS "
                          "best-fit LSOA21 to ward lookup)").naming("lookup")
    ward_pop = pop.groupby(lsoas["ward_code"]).sum()
    ward_region = lsoas.groupby("ward_code")["region_code"].agg(lambda s: s.mode().iloc[0] if s.notna().any() else None)
    if codes_in(values.index, lsoas.index).all():
        w = pop.reindex(values.index)
        wc = lsoas["ward_code"].reindex(values.index)
        num = values.mul(w, axis=0).groupby(wc).sum(min_count=1)
        # a ward with any LSOA missing an indicator gets a missing value (reported, not imputed)
        anymiss = values.isna().groupby(wc).any()
        den = w.groupby(wc).sum()
        out = num.div(den, axis=0).mask(anymiss)
        out.index.name = "ward_code"
        return out, ward_pop.reindex(out.index), ward_region.reindex(out.index)
    return values, ward_pop.reindex(values.index), ward_region.reindex(values.index)


def area_geometries(study: StudyData, level: str) -> gpd.GeoDataFrame:
    """Polygons (EPSG:27700) of the study areas at ``level``, with ``area_name`` and ``lad_code``.

    Wards use the bundled ward boundaries (sample) or are dissolved from their best-fit LSOAs.
    """
    lsoas = study.lsoas
    if not isinstance(lsoas, gpd.GeoDataFrame) or lsoas.geometry.name not in lsoas.columns:
        raise SchemaError("this analysis needs LSOA boundaries: load the data with `boundaries` (e.g. the ONS "
                          "LSOA 2021 boundaries; and `boundaries_layer` for a GeoPackage with several layers)"
                          ).naming("boundaries", "boundaries_layer")
    if level == "lsoa":
        g = lsoas[[c for c in ("lsoa_name", "lad_code", "lad_name") if c in lsoas.columns] + [lsoas.geometry.name]]
        g = g.rename(columns={"lsoa_name": "area_name"})
        g.index.name = "area_code"
        return g
    if study.wards is not None:
        w = study.wards
        w = w[codes_in(w.index, lsoas["ward_code"])]
        name_col = next((c for c in ("ward_name", "WD25NM") if c in w.columns), None)
        g = gpd.GeoDataFrame({"area_name": w[name_col] if name_col else None,
                              "lad_code": lsoas.groupby("ward_code")["lad_code"].first().reindex(w.index)},
                             geometry=w.geometry, crs=w.crs)
    else:
        g = lsoas[["ward_code", "lad_code", lsoas.geometry.name]].dissolve(by="ward_code", aggfunc="first")
        if "ward_name" in lsoas.columns:
            g.insert(0, "area_name", lsoas.groupby("ward_code")["ward_name"].first().reindex(g.index))
    g.index.name = "area_code"
    return g.sort_index()


def indicator_column(study: StudyData, name: str, *, table: pd.DataFrame | None = None,
                     table_name: str = "indicators") -> tuple[pd.Series, str]:
    """Return one LSOA-level indicator for the study LSOAs, and its label.

    The indicator is an IoD column (``imd_score``, ``health_rank``, a domain key) or a column of the user
    ``table`` (named ``table_name`` in messages).
    """
    lsoas = study.lsoas
    if table is None:
        if name in D.BY_KEY:
            ind = domain_indicators(lsoas, vintage=study.vintage.year, keys=[name])
            how = "normal score of rank" if ind.transformed else "score"
            return ind.values[name], f"{D.BY_KEY[name].label} ({how})"
        if name in lsoas.columns and pd.api.types.is_numeric_dtype(lsoas[name]):
            return lsoas[name].astype(float), name
        iod = [c for c in lsoas.columns if c.endswith(("_score", "_rank", "_decile"))]
        raise SchemaError(f"indicator {name!r} is not an IoD column of the study; expected one of "
                          f"{', '.join(iod[:24])}{' ...' if len(iod) > 24 else ''} or a domain key "
                          f"({', '.join(d.key for d in D.DOMAINS)}), or pass a table as `indicators` (a CSV)"
                          ).naming("indicators")
    indicators = table_name
    if name not in table.columns:
        raise SchemaError(f"{indicators}: no column {name!r}; columns are {', '.join(table.columns)}")
    if table.attrs["level"] != "lsoa":
        raise SchemaError(f"{indicators}: keyed by ward codes; this analysis needs an LSOA-level indicator")
    values, note = match_areas(table, lsoas.index, what=str(indicators))
    log.info("%s", note)
    return values[name], humanise(name)


__all__ = ["ENGLAND", "LEVELS", "area_geometries", "indicator_column", "study_indicators", "study_notes", "to_level",
           "with_regions"]
