"""From inputs to output files: what ``geotarget cluster``, ``hotspots`` and ``inequality`` run.

Each ``run_*`` function takes the study's data (:func:`geotarget.data.load`), computes, and returns a
result holding the frames to draw (``layer``: a GeoDataFrame indexed by ``area_code``) and, when ``out``
is given, writes the files atomically. The analysis itself lives in :mod:`geotarget.analysis.gaps`,
:mod:`geotarget.analysis.typology`, :mod:`geotarget.analysis.hotspots` and :mod:`geotarget.analysis.inequality`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geotarget.analysis.areadata import area_geometries, indicator_column, study_indicators, study_notes, to_level
from geotarget.analysis.gaps import complete_rows, outcome_gaps
from geotarget.core.errors import ParameterError, SchemaError
from geotarget.core.licences import ATTRIBUTION
from geotarget.data.study_data import StudyData
from geotarget.io.files import write_csv, write_text_atomic
from geotarget.io.provenance import Provenance
from geotarget.io.publish import publishing
from geotarget.jobs.params import ClusterParams as C
from geotarget.jobs.params import HotspotsParams as H
from geotarget.jobs.params import InequalityParams as I
from geotarget.render.qgis import write_styled_geopackage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalysisResult:
    """What an analysis produced: the result object, the layer to map, notes and the files written."""

    study: StudyData
    result: object
    layer: object
    notes: list[str] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)


#: The bundled outcome indicators (``--indicators sample``), with bundled England references.
OUTCOMES = "data/outcomes/outcomes_lsoa21_tees_valley.csv"


def _indicator_table(indicators, *, id_column: str | None = None, columns: Sequence[str] | None = None):
    """``(table, name, bundled)`` for an indicator table path (or ``"sample"``), ``(None, "", False)`` for the IoD."""
    from geotarget.core.places import ROOT, sample_path
    from geotarget.io.indicators import read_indicator_table

    if indicators is None or str(indicators) == "iod":
        return None, "", False
    path = sample_path(OUTCOMES) if str(indicators) == "sample" else indicators
    try:
        bundled = Path(path).resolve() == (ROOT / OUTCOMES).resolve()
    except OSError:
        bundled = False
    table = read_indicator_table(path, id_column=id_column, columns=list(columns) if columns else None)
    return table, str(path), bundled


def _study(data: StudyData | None) -> StudyData:
    if data is None:
        from geotarget.data.load import load

        return load()
    return data


def _inputs(study: StudyData) -> list[Path]:
    return [s.path for s in study.sources] if not study.bundled else []


def _guard(out: Path, names: Sequence[str], inputs: Sequence) -> None:
    """Refuse to write over an input file."""
    targets = {(out / n).resolve() for n in names}
    for p in inputs:
        if (isinstance(p, (str, os.PathLike)) and str(p) not in ("sample", "iod") and Path(p).exists()
                and Path(p).resolve() in targets):
            raise ParameterError(f"out was {str(out)!r} but {p} is an input and would be overwritten by an "
                                 "output; choose another folder", parameter="out")


def _job_parameters(values: Mapping) -> dict:
    """Return the parameters of a job call as the manifest records them (not the data, output folder or frames)."""
    simple = (str, int, float, bool, os.PathLike, list, tuple, Mapping, type(None))
    return {k: v for k, v in values.items() if k not in ("data", "out") and isinstance(v, simple)}


@contextlib.contextmanager
def _publish(out, command: str, parameters: Mapping, study: StudyData, indicators) -> Iterator:
    """Own ``out`` while the job writes (:func:`geotarget.io.publish.publishing`), its inputs recorded first."""
    prov = Provenance(out, command=command, parameters=_job_parameters(parameters))
    prov.add_sources(study.sources)
    if isinstance(indicators, (str, os.PathLike)) and Path(indicators).is_file():
        prov.add_input(indicators, role="indicators")
    with publishing(out, command=command, provenance=prov) as pub:
        yield pub


def _notes_text(title: str, study: StudyData, notes: list[str]) -> str:
    lines = [title, "", f"Data: {study.label}.", *[f"- {n}" for n in notes], "",
             ATTRIBUTION]
    return "\n".join(lines) + "\n"


def run_cluster(data: StudyData | None = None, *, level: str = C.level, method: str = C.method,
                spatial: bool = C.spatial, k=C.k, min_population: float | None = C.min_population,
                indicators=C.indicators, id_column: str | None = C.id_column, columns: Sequence[str] | None = C.columns,
                higher_is_better: Sequence[str] = C.higher_is_better, reference: str = C.reference,
                seed: int = C.seed, out: str | os.PathLike | None = None) -> AnalysisResult:
    """Compute outcome gaps and a typology of the study's LSOAs or wards.

    See :func:`geotarget.analysis.typology.cluster_areas`.

    Parameters and defaults: :class:`~geotarget.jobs.params.ClusterParams` (``spatial=True`` is
    ``method="spatial"``: contiguous regions).

    Writes ``clusters.gpkg`` (layer ``clusters``: ``area_code, area_name, cluster, label, population``,
    gaps), ``cluster_profiles.csv``, ``cluster_profiles.png``, ``cluster_scores.csv`` (k tried),
    ``gaps.csv`` (every area's indicator values, reference values and gaps), ``clusters_notes.txt`` and,
    if areas had missing values, ``cluster_rejects.csv``.
    """
    from geotarget.analysis.typology import cluster_areas, cluster_layer
    from geotarget.render.charts import profile_chart

    params = dict(locals())
    method = "spatial" if spatial else method
    study = _study(data)
    base_notes = study_notes(study)
    read, name, bundled = _indicator_table(indicators, id_column=id_column, columns=columns)
    ind, table, _ = study_indicators(study, table=read, name=name, bundled_outcomes=bundled,
                                     higher_is_better=higher_is_better)
    values, pop, region = to_level(ind.values, study, level)
    notes = [*base_notes, *ind.notes]
    values, rejects = complete_rows(values)
    if len(rejects):
        notes.append(f"{len(rejects):,} area(s) left out for missing values (listed in cluster_rejects.csv): "
                     + ", ".join(rejects["area_code"].head(5)))
    if values.empty:
        raise SchemaError("no area has a value for every indicator")
    gaps = outcome_gaps(values, pop, reference=reference, table=table, region=region,
                        higher_is_better=ind.higher_is_better, labels=ind.labels)
    notes += gaps.notes
    areas = area_geometries(study, level) if (method == "spatial" or out is not None) else None
    typ = cluster_areas(gaps.gaps, pop, method=method, k=k, seed=seed, areas=areas, min_population=min_population,
                        values=values, labels=ind.labels)
    notes += typ.notes
    layer = cluster_layer(areas, typ) if areas is not None else None
    outputs: dict[str, Path] = {}
    if out is not None:
        with _publish(out, "cluster", params, study, indicators) as pub:
            d = pub.dir
            names = ["clusters.gpkg", "cluster_profiles.csv", "cluster_profiles.png", "cluster_scores.csv", "gaps.csv",
                     "clusters_notes.txt", "cluster_rejects.csv"]
            _guard(d, names, [indicators, *_inputs(study)])
            outputs["clusters"] = write_styled_geopackage(d / "clusters.gpkg", {"clusters": layer})
            outputs["profiles"] = write_csv(d / "cluster_profiles.csv", typ.profiles)
            outputs["chart"] = profile_chart(typ, d / "cluster_profiles.png", title=(
                f"Area typology: {typ.method}, k = {typ.k}, {len(values):,} {'LSOAs' if level == 'lsoa' else 'wards'}; "
                f"gaps vs {reference} "
                f"({study.label})"))
            outputs["scores"] = write_csv(d / "cluster_scores.csv", typ.scores)
            flat = (values.add_prefix("value_").join(gaps.means.add_prefix("reference_"))
                    .join(gaps.gaps.add_prefix("gap_")))
            flat.insert(0, "population", pop.reindex(flat.index))
            flat.index.name = "area_code"
            outputs["gaps"] = write_csv(d / "gaps.csv", flat, index=True)
            if len(rejects):
                outputs["rejects"] = write_csv(d / "cluster_rejects.csv", rejects)
            outputs["notes"] = write_text_atomic(d / "clusters_notes.txt", _notes_text(
                f"Area typology ({typ.method}, k = {typ.k}) on outcome gaps vs {reference}", study, notes))
        outputs = pub.final(outputs)
    return AnalysisResult(study, typ, layer, notes, outputs)


def run_hotspots(data: StudyData | None = None, *, indicator: str = H.indicator, indicators=H.indicators,
                 id_column: str | None = H.id_column, method: str = H.method, permutations=H.permutations,
                 alpha: float = H.alpha, seed: int = H.seed, islands: str = H.islands, n_jobs: int = H.n_jobs,
                 out: str | os.PathLike | None = None) -> AnalysisResult:
    """Hot spots of one LSOA indicator (see :func:`geotarget.analysis.hotspots.hotspots`).

    Parameters and defaults: :class:`~geotarget.jobs.params.HotspotsParams`.

    Writes ``hotspots.gpkg`` (layer ``hotspots``: ``area_code, area_name, value, statistic, p_value, p_fdr,
    category``, ...), ``hotspots.csv`` and ``hotspots_notes.txt``.
    """
    from geotarget.analysis.hotspots import hotspot_layer, hotspots

    params = dict(locals())
    study = _study(data)
    base_notes = study_notes(study)
    read, name, _ = _indicator_table(indicators, id_column=id_column, columns=[indicator] if indicators else None)
    values, label = indicator_column(study, indicator, table=read, table_name=name)
    areas = area_geometries(study, "lsoa")
    res = hotspots(areas, values, method=method, permutations=permutations, alpha=alpha, seed=seed,
                   islands=islands, n_jobs=n_jobs)
    notes = [*base_notes, f"Indicator: {label}; high values are 'hot'.", *res.notes]
    layer = hotspot_layer(areas, res)
    outputs: dict[str, Path] = {}
    if out is not None:
        with _publish(out, "hotspots", params, study, indicators) as pub:
            d = pub.dir
            _guard(d, ["hotspots.gpkg", "hotspots.csv", "hotspots_notes.txt"], [indicators, *_inputs(study)])
            outputs["hotspots"] = write_styled_geopackage(d / "hotspots.gpkg", {"hotspots": layer})
            outputs["csv"] = write_csv(d / "hotspots.csv", pd.DataFrame(layer.drop(columns=layer.geometry.name)),
                                       index=True)
            title = f"{'Getis-Ord Gi*' if method == 'gi' else 'Local Moran'} hot spots of {label}"
            outputs["notes"] = write_text_atomic(d / "hotspots_notes.txt", _notes_text(title, study, notes))
        outputs = pub.final(outputs)
    return AnalysisResult(study, res, layer, notes, outputs)


def run_inequality(data: StudyData | None = None, *, indicator: Sequence[str] | str | None = I.indicator,
                   indicators=I.indicators, id_column: str | None = I.id_column, value_type: str = I.value_type,
                   transform: bool = I.transform, multiplier: float = I.multiplier, se_source: str | None = I.se_source,
                   count_columns: Mapping[str, str] | None = I.count_columns,
                   denominator_columns: Mapping[str, str] | None = I.denominator_columns,
                   se_columns: Mapping[str, str] | None = I.se_columns,
                   lower_columns: Mapping[str, str] | None = I.lower_columns,
                   upper_columns: Mapping[str, str] | None = I.upper_columns,
                   limits_confidence: float = I.limits_confidence, deciles: str = I.deciles,
                   confidence: Sequence[float] | float = I.confidence, repetitions: int = I.repetitions,
                   seed: int = I.seed, out: str | os.PathLike | None = None) -> AnalysisResult:
    """Compute SII/RII, the D10−D1 gap, Gini and Theil for LSOA indicators.

    See :func:`geotarget.analysis.inequality.inequality`.

    Parameters and defaults: :class:`~geotarget.jobs.params.InequalityParams`.
    ``indicator``: one or more IoD columns or columns of the ``indicators`` table (default: every column
    of the table but those named as counts, denominators, standard errors or limits; without a table,
    required). ``count_columns``/``denominator_columns``, ``se_columns``, ``lower_columns``/``upper_columns``
    map an indicator to columns of the table; an indicator with counts need not be a column itself (its
    value is count / denominator x ``multiplier``). Writes ``inequality.csv``, ``inequality_deciles.csv``
    and ``inequality_notes.txt``.
    """
    from geotarget.analysis.inequality import inequality, local_deciles

    params = dict(locals())
    study = _study(data)
    base_notes = study_notes(study)
    lsoas = study.lsoas
    names = [indicator] if isinstance(indicator, str) else list(indicator or [])
    maps = {"count": count_columns, "denominator": denominator_columns, "standard-error": se_columns,
            "lower limit": lower_columns, "upper limit": upper_columns}
    frames: dict[str, pd.DataFrame | None] = dict.fromkeys(maps)
    if indicators is not None:
        read, name, bundled = _indicator_table(indicators, id_column=id_column)
        ind, _, table = study_indicators(study, table=read, name=name, bundled_outcomes=bundled)
        if ind.values.index.name == "ward_code" or not ind.values.index.isin(lsoas.index).all():
            raise SchemaError(f"{indicators}: the SII needs LSOA-level indicators; this table is keyed by ward")
        helpers = {c for m in maps.values() for c in (m or {}).values()}
        cols = names or [c for c in ind.values.columns if c not in helpers]
        for what, m in maps.items():
            missing = [f"{k}={c}" for k, c in (m or {}).items() if c not in table.columns]
            if missing:
                raise SchemaError(f"{what} column(s) {', '.join(missing)} not in {indicators}; columns are "
                                  f"{', '.join(table.columns)}")
            if m:
                frames[what] = pd.DataFrame({k: table[c].reindex(ind.values.index) for k, c in m.items()
                                             if k in cols})
        values = ind.values.reindex(columns=[c for c in cols if c in ind.values.columns])
        for c in cols:  # an indicator given by its counts only
            if c not in values.columns and c in (count_columns or {}) and c in (denominator_columns or {}):
                values[c] = multiplier * frames["count"][c] / frames["denominator"][c]
        bad = [c for c in cols if c not in values.columns]
        if bad:
            raise SchemaError(f"indicator(s) {', '.join(bad)} are not columns of {indicators}; columns are "
                              f"{', '.join(ind.values.columns)}")
        values = values[cols]
        labels = {c: ind.labels.get(c, c) for c in cols}
        notes = [*base_notes, *ind.notes]
    else:
        if not names:
            raise ParameterError("indicator was None but is expected to name the indicator(s) to measure: an IoD "
                                 "column such as 'imd_score', or columns of `indicators` (a CSV)",
                                 parameter="indicator", related=("indicators",))
        if any(maps.values()):
            raise ParameterError("count, denominator, standard-error and limit columns are columns of `indicators` "
                                 "(a CSV); give the table too", parameter="indicators")
        got = {n: indicator_column(study, n) for n in names}
        values = pd.DataFrame({n: v for n, (v, _) in got.items()})
        labels = {n: lab for n, (_, lab) in got.items()}
        notes = list(base_notes)
    pop = lsoas["pop_total"].astype(float)
    if deciles == "national":
        dec = lsoas["imd_decile"]
        notes.append("Deciles: national IMD deciles published by MHCLG (1 = most deprived 10% of LSOAs in England).")
    elif deciles == "local":
        dec = local_deciles(lsoas["imd_rank"], pop)
        notes.append(f"Deciles: local — the {len(lsoas):,} study LSOAs ordered by national IMD rank and cut into "
                     "ten groups of equal population.")
    else:
        raise SchemaError(f"deciles was {deciles!r} but is expected to be 'national' or 'local'")
    res = inequality(values, pop, deciles=dec, decile_kind=deciles, se=frames["standard-error"],
                     counts=frames["count"], denominators=frames["denominator"], lower=frames["lower limit"],
                     upper=frames["upper limit"], se_source=se_source, value_type=value_type, transform=transform,
                     multiplier=multiplier, labels=labels, confidence=confidence, limits_confidence=limits_confidence,
                     repetitions=repetitions, seed=seed)
    notes += res.notes
    if frames["count"] is not None:
        notes.append("Indicators with counts: decile value = multiplier x sum of counts / sum of denominators, and "
                     "the denominators weight the regression.")
    notes.append("SII = modelled value at the least deprived end minus the most deprived end (OHID/PHE phe_sii "
                 "method); RII = least / most deprived fitted values (left empty where a fitted end is at or below "
                 "zero); gap_d1_d10 = decile 10 − decile 1. Rates and proportions: simulated on the log/logit scale"
                 + (", and fitted on it and transformed back (transform)." if transform else "; fitted on the "
                    "original values (no transform)."))
    outputs: dict[str, Path] = {}
    if out is not None:
        with _publish(out, "inequality", params, study, indicators) as pub:
            d = pub.dir
            _guard(d, ["inequality.csv", "inequality_deciles.csv", "inequality_notes.txt"],
                   [indicators, *_inputs(study)])
            outputs["inequality"] = write_csv(d / "inequality.csv", res.table)
            outputs["deciles"] = write_csv(d / "inequality_deciles.csv", res.deciles)
            outputs["notes"] = write_text_atomic(d / "inequality_notes.txt", _notes_text(
                "Inequality across deprivation deciles", study, notes))
        outputs = pub.final(outputs)
    return AnalysisResult(study, res, None, notes, outputs)


__all__ = ["AnalysisResult", "run_cluster", "run_hotspots", "run_inequality"]
