"""The areas of an analysis: which LSOAs (or wards), their IoD, population, region, geometry and indicators.

Shared by ``geotarget cluster``, ``hotspots`` and ``inequality``. The bundled Tees Valley sample works
out of the box (with England and regional reference values bundled); England-wide official files work
too, in which case the England-wide frame is kept for references and national deciles.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geotarget.analysis.gaps import (
    ENGLAND,
    Indicators,
    domain_indicators,
    humanise,
    match_areas,
    read_indicator_table,
    reference_table,
)
from geotarget.core import domains as D
from geotarget.core.errors import SchemaError, VintageError
from geotarget.core.vintages import VINTAGES, Vintage, get_vintage, has_lsoa21_only_codes
from geotarget.io.tables import read_text_table

log = logging.getLogger(__name__)

REFERENCE = "data/reference/england_region_means.csv"
REGIONS = "data/lookups/lad_region_england.csv"
OUTCOMES = "data/outcomes/outcomes_lsoa21_tees_valley.csv"
LEVELS = ("lsoa", "ward")


@dataclass(frozen=True)
class AreaData:
    """The areas of a study and what is known about them."""

    vintage: Vintage
    lsoas: gpd.GeoDataFrame  #: study LSOAs: geometry, IoD, ``pop_total``, ``lad_code``, ``region_code``, ward
    national: pd.DataFrame | None  #: every LSOA in England (IoD, population, region) when read from files
    wards: gpd.GeoDataFrame | None  #: ward polygons when known (the sample)
    reference: pd.DataFrame | None  #: bundled England/region reference table (the sample)
    sample: bool
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.vintage.label


def regions() -> pd.DataFrame:
    """LAD code -> region code and name (2024 regions; 2019 and 2024 LAD codes), bundled."""
    from geotarget.core.places import sample_path

    return read_text_table(sample_path(REGIONS)).set_index("lad_code")


def load_area_data(*, imd: str | os.PathLike = "sample", vintage=None, councils: Sequence[str] | None = None,
                   population=None, boundaries=None, boundaries_layer: str | None = None, lookup=None,
                   place: str = "tees_valley") -> AreaData:
    """Load the study LSOAs from the bundled sample (``imd="sample"``) or from official files.

    With files: ``imd`` is an IoD file (England-wide for national references and deciles), ``population``
    adds denominators when it has none, ``boundaries`` (and ``boundaries_layer``) gives LSOA polygons
    (needed for clusters and hot spots), ``lookup`` an LSOA -> ward lookup (for ``level="ward"``),
    ``councils`` restricts the study (references stay national).
    """
    from geotarget.core.councils import resolve_councils
    from geotarget.data.join import attach_imd
    from geotarget.data.sample import load_sample
    from geotarget.io.boundaries import read_boundaries
    from geotarget.io.imd import add_population, read_imd, read_population
    from geotarget.io.lookups import attach_lookup, read_lsoa_lookup

    reg = regions()
    notes: list[str] = []
    if str(imd) == "sample":
        return area_data_from_bundle(load_sample(vintage or 2025, councils=councils, place=place))
    frame = read_imd(imd, vintage=vintage)
    v = get_vintage(frame.attrs["vintage"])
    if population is not None:
        frame = add_population(frame, read_population(population, vintage=v.year))
    if "pop_total" not in frame.columns:
        raise SchemaError(f"{imd}: the file has no population denominators; pass a population file with "
                          "--population (e.g. ONS mid-year LSOA estimates)")
    if "lad_code" not in frame.columns:
        raise SchemaError(f"{imd}: no local authority district code column; expected e.g. 'Local Authority "
                          "District code (2024)' or lad24cd")
    frame["region_code"] = frame["lad_code"].map(reg["region_code"])
    lost = frame.loc[frame["region_code"].isna(), "lad_code"].unique()
    if len(lost):
        log.warning("no region for %d LAD code(s): %s", len(lost), ", ".join(lost[:5]))
    if lookup is not None:
        lk = read_lsoa_lookup(lookup)
        frame = attach_lookup(frame, lk[lk.index.isin(frame.index)])
    national = frame if len(frame) == v.n_lsoas else None
    if national is None:
        notes.append(f"{imd} holds {len(frame):,} of England's {v.n_lsoas:,} LSOAs: England and regional "
                     "references and national deciles use the published national ranks only.")
    keep = frame
    if councils:
        if "lad_name" not in frame.columns:
            raise SchemaError(f"{imd}: no council names in the file to select --la by")
        chosen = resolve_councils(councils, frame.groupby("lad_code")["lad_name"].first())
        keep = frame[frame["lad_code"].isin(chosen)]
    if boundaries is not None:
        b = read_boundaries(boundaries, layer=boundaries_layer,
                            level=f"lsoa{v.lsoa_year % 100}" if boundaries_layer is None else None)
        lsoas = attach_imd(b[b.index.isin(keep.index)], keep)
        missing = keep.index.difference(lsoas.index)
        if len(missing):
            raise SchemaError(f"{boundaries}: no boundary for {len(missing):,} study LSOAs, e.g. "
                              f"{', '.join(missing[:5])}")
    else:
        lsoas = gpd.GeoDataFrame(keep.copy())
    lsoas.attrs = dict(frame.attrs)
    notes.append(f"{imd} ({v.label}): {len(lsoas):,} study LSOAs.")
    return AreaData(v, lsoas, national, None, None, False, notes)


def area_data_from_bundle(data, *, imd=None, population=None) -> AreaData:
    """The areas of a data bundle (:func:`geotarget.load_sample` or :func:`geotarget.data.bundle.load_files`).

    For a bundled sample the bundled England and regional reference values are used. For a bundle
    built from files, pass its IoD file (``imd``, and ``population`` if it has none): when the file
    covers all England it gives the national references and deciles.
    """
    from geotarget.core.places import sample_path

    lsoas = data.lsoas.copy()
    lsoas["region_code"] = lsoas["lad_code"].map(regions()["region_code"])
    if imd is None:
        ref = read_text_table(sample_path(REFERENCE))
        ref[["n_areas", "population", "mean", "sd"]] = ref[["n_areas", "population", "mean", "sd"]].apply(pd.to_numeric)
        place = str(getattr(data, "place", "tees_valley")).replace("_", " ").title()
        return AreaData(data.vintage, lsoas, None, data.wards, ref, True,
                        [f"Bundled {place} sample ({data.vintage.label})."])
    full = load_area_data(imd=imd, vintage=data.vintage.year, population=population)
    return AreaData(data.vintage, lsoas, full.national, data.wards, None, False, list(full.notes[:-1])
                    + [f"{imd} ({data.vintage.label}): {len(lsoas):,} study LSOAs."])


# -- indicators -----------------------------------------------------------------------------------------

def _is_bundled_outcomes(path) -> bool:
    from geotarget.core.places import ROOT

    try:
        return Path(path).resolve() == (ROOT / OUTCOMES).resolve()
    except OSError:
        return False


def study_indicators(study: AreaData, *, indicators=None, id_column: str | None = None,
                     columns: Sequence[str] | None = None, higher_is_better: Sequence[str] = (),
                     domains: Sequence[str] | None = None) -> tuple[Indicators, pd.DataFrame | None, pd.DataFrame]:
    """Indicator values for the study LSOAs (or wards, for a ward-keyed table) and their reference table.

    Returns ``(indicators, reference_table_or_None, table_rows)``: without ``indicators`` the IoD domains;
    with a path, the table's columns. The reference table is bundled (sample IoD and the sample outcome
    table), computed from England-wide inputs, or ``None`` (only ``reference="study"`` is then possible).
    """
    lsoas = study.lsoas
    if indicators is None or str(indicators) == "iod":
        ind = domain_indicators(lsoas, vintage=study.vintage.year, keys=domains)
        ref = None
        if study.reference is not None:
            ref = study.reference[study.reference["source"] == ind.source]
        elif study.national is not None:
            nat = domain_indicators(study.national, vintage=study.vintage.year, keys=domains).values
            ref = reference_table(nat, study.national["pop_total"], study.national["region_code"], source=ind.source,
                                  region_names=regions().drop_duplicates("region_code")
                                  .set_index("region_code")["region_name"])
        return ind, ref, ind.values
    if str(indicators) == "sample":
        from geotarget.core.places import sample_path

        indicators = sample_path(OUTCOMES)
    table = read_indicator_table(indicators, id_column=id_column, columns=list(columns) if columns else None)
    bad_direction = [c for c in higher_is_better if c not in table.columns]
    if bad_direction:
        raise SchemaError(f"higher-is-better column(s) {', '.join(bad_direction)} are not indicators of {indicators}")
    level = table.attrs["level"]
    if level == "lsoa" and study.vintage.lsoa_year == 2011 and has_lsoa21_only_codes(table.index):
        raise VintageError(f"{indicators} holds LSOA 2021 codes (e.g. {table.index.max()}) but the study is "
                           f"{study.vintage.label}: use --vintage 2025, or map the table to LSOA 2011 first")
    ref = None
    notes: list[str] = []
    if _is_bundled_outcomes(indicators) and study.reference is not None and study.vintage.year == 2025:
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
                              region_names=regions().drop_duplicates("region_code").set_index("region_code")["region_name"])
        notes.append(f"England reference computed from the {len(eng):,} LSOAs of {indicators} ({weights}).")
    if level == "ward" and "ward_code" not in lsoas.columns:
        raise SchemaError(f"{indicators} is keyed by ward codes but the study LSOAs have no ward lookup; pass "
                          "--lookup (LSOA to ward best-fit lookup)")
    areas = lsoas.index if level == "lsoa" else pd.Index(sorted(lsoas["ward_code"].unique()), name="ward_code")
    values, note = match_areas(table, areas, what=str(indicators))
    notes.append(note)
    labels = {c: humanise(c) for c in table.columns}
    ind = Indicators(values, labels, tuple(higher_is_better), (), str(indicators), notes)
    return ind, ref, table


def to_level(values: pd.DataFrame, study: AreaData, level: str) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Values, population and region at ``level`` ("lsoa" or "ward").

    LSOA values go to wards as population-weighted means over the ward's best-fit LSOAs (intensive
    variables); values already keyed by ward are kept. Missing LSOA values propagate (never imputed).
    """
    if level not in LEVELS:
        raise SchemaError(f"level was {level!r} but is expected to be one of {list(LEVELS)}")
    lsoas = study.lsoas
    pop = lsoas["pop_total"].astype(float)
    if level == "lsoa":
        if not values.index.isin(lsoas.index).all():
            raise SchemaError("level='lsoa' needs indicators keyed by LSOA code; this table is keyed by ward code")
        return values, pop.reindex(values.index), lsoas["region_code"].reindex(values.index)
    if "ward_code" not in lsoas.columns:
        raise SchemaError("level='ward' needs an LSOA to ward lookup: pass --lookup (e.g. the ONS best-fit "
                          "LSOA21 to ward lookup)")
    ward_pop = pop.groupby(lsoas["ward_code"]).sum()
    ward_region = lsoas.groupby("ward_code")["region_code"].agg(lambda s: s.mode().iloc[0] if s.notna().any() else None)
    if values.index.isin(lsoas.index).all():
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


def area_geometries(study: AreaData, level: str) -> gpd.GeoDataFrame:
    """Polygons (EPSG:27700) of the study areas at ``level``, with ``area_name`` and ``lad_code``.

    Wards use the bundled ward boundaries (sample) or are dissolved from their best-fit LSOAs.
    """
    lsoas = study.lsoas
    if not isinstance(lsoas, gpd.GeoDataFrame) or lsoas.geometry.name not in lsoas.columns:
        raise SchemaError("this analysis needs LSOA boundaries: pass --boundaries PATH (e.g. the ONS LSOA 2021 "
                          "boundaries; add --boundaries-layer for a GeoPackage with several layers)")
    if level == "lsoa":
        g = lsoas[[c for c in ("lsoa_name", "lad_code", "lad_name") if c in lsoas.columns] + [lsoas.geometry.name]]
        g = g.rename(columns={"lsoa_name": "area_name"})
        g.index.name = "area_code"
        return g
    if study.wards is not None:
        w = study.wards
        w = w[w.index.isin(lsoas["ward_code"])]
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


def indicator_column(study: AreaData, name: str, *, indicators=None, id_column: str | None = None) -> tuple[pd.Series, str]:
    """One LSOA-level indicator: an IoD column (``imd_score``, ``health_rank``, a domain key) or a column of
    the user table ``indicators``. Returns the values for the study LSOAs and a label."""
    lsoas = study.lsoas
    if indicators is None:
        if name in D.BY_KEY:
            ind = domain_indicators(lsoas, vintage=study.vintage.year, keys=[name])
            return ind.values[name], f"{D.BY_KEY[name].label} ({'normal score of rank' if ind.transformed else 'score'})"
        if name in lsoas.columns and pd.api.types.is_numeric_dtype(lsoas[name]):
            return lsoas[name].astype(float), name
        iod = [c for c in lsoas.columns if c.endswith(("_score", "_rank", "_decile"))]
        raise SchemaError(f"indicator {name!r} is not an IoD column of the study; expected one of "
                          f"{', '.join(iod[:24])}{' ...' if len(iod) > 24 else ''} or a domain key "
                          f"({', '.join(d.key for d in D.DOMAINS)}), or pass --indicators CSV")
    if str(indicators) == "sample":
        from geotarget.core.places import sample_path

        indicators = sample_path(OUTCOMES)
    table = read_indicator_table(indicators, id_column=id_column, columns=[name])
    if table.attrs["level"] != "lsoa":
        raise SchemaError(f"{indicators}: keyed by ward codes; this analysis needs an LSOA-level indicator")
    values, note = match_areas(table, lsoas.index, what=str(indicators))
    log.info("%s", note)
    return values[name], humanise(name)


__all__ = ["ENGLAND", "LEVELS", "AreaData", "area_data_from_bundle", "area_geometries", "indicator_column", "load_area_data", "regions",
           "study_indicators", "to_level"]
