"""What HIA screening reads besides the IoD, for any council: File 8 indicators, the CNI, England comparators.

:func:`hia_layers` fills :attr:`StudyData.hia_indicators`, :attr:`StudyData.cni` and
:attr:`StudyData.hia_reference` for data from files or the cache (``source.indicators``, ``source.cni``).
The England comparators are **computed** from the England-wide files by :func:`england_comparators`
and :func:`cni_comparators` -- the one definition, which ``data/build_sample.py`` also calls to write the
bundled ``data/hia/england_reference.csv``:

* for every IoD score (``*_score``: the IMD, domains and sub-domains the IoD frame has) and every HIA
  indicator (:data:`HIA_INDICATORS`): the population-weighted mean over England's LSOAs with a value, and
  the LSOA percentiles p10..p90 (unweighted, pandas' linear interpolation: IoD deciles count LSOAs);
* for every national decile column (``*_decile``): the share of England's population in each decile;
* the number of LSOAs and England's population; with the CNI, its number of LSOAs and of "left behind" areas.

Weights are the IoD frame's ``pop_total`` (IoD2025 with the ONS mid-2022 estimates as the population
file; IoD2019 its own mid-2015 denominators).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from geotarget.core.errors import SchemaError
from geotarget.core.vintages import Vintage
from geotarget.data.source import DataSource
from geotarget.data.study_data import Source
from geotarget.io.indicators import read_cni, read_iod_indicators

log = logging.getLogger(__name__)

#: IoD File 8 indicators kept for HIA screening, per vintage (snake-case File 8 names).
HIA_INDICATORS: dict[int, tuple[str, ...]] = {
    2025: ("years_of_potential_life_lost_indicator", "comparative_illness_and_disability_ratio_indicator",
           "acute_morbidity_indicator", "mental_health_indicator",
           "adult_skills_and_english_language_proficiency_indicator",
           "violence_with_injury_rate_per_1_000_at_risk_population", "burglary_rate_per_1_000_at_risk_properties",
           "anti_social_behaviour_rate_per_1_000_at_risk_population", "connectivity_score", "patient_to_gp_ratio",
           "housing_affordability_indicator", "household_overcrowding_indicator_bedrooms",
           "homelessness_indicator_rate_per_1_000_households"),
    2019: ("years_of_potential_life_lost_indicator", "comparative_illness_and_disability_ratio_indicator",
           "acute_morbidity_indicator", "mood_and_anxiety_disorders_indicator",
           "adult_skills_and_english_language_proficiency_indicator", "road_distance_to_a_gp_surgery_indicator_km",
           "road_distance_to_general_store_or_supermarket_indicator_km",
           "road_distance_to_a_primary_school_indicator_km", "household_overcrowding_indicator",
           "homelessness_indicator_rate_per_1000_households", "housing_affordability_indicator",
           "housing_in_poor_condition_indicator", "houses_without_central_heating_indicator",
           "road_traffic_accidents_indicator", "air_quality_indicator"),
}


def england_comparators(england: pd.DataFrame, weights: pd.Series, *, indicators: Sequence[str] = ()) -> pd.Series:
    """England comparators of the IoD scores, deciles and ``indicators``, indexed by ``(measure, statistic)``.

    Parameters
    ----------
    england
        Every LSOA in England, one row each: ``<index>_score`` and ``<index>_decile`` columns (national
        deciles) and the ``indicators`` columns.
    weights
        Each LSOA's population, on ``england``'s index.
    indicators
        Indicator columns to describe besides the scores.

    Returns
    -------
    pandas.Series
        ``pop_weighted_mean`` and ``p10``..``p90`` of each score and indicator (in column order; an
        indicator ending in ``_score`` once), ``pop_share_decile_<d>`` of each decile column, then
        ``("lsoas", "count")`` and ``("population", "total")``.

    Examples
    --------
    >>> t = pd.DataFrame({"imd_score": [10.0, 20.0], "imd_decile": [1, 2]})
    >>> ref = england_comparators(t, pd.Series([1.0, 3.0]))
    >>> float(ref["imd_score", "pop_weighted_mean"]), float(ref["imd_decile", "pop_share_decile_2"])
    (17.5, 0.75)
    """
    w = weights
    rows: list[tuple[str, str, float]] = []
    for c in dict.fromkeys([c for c in england.columns if c.endswith("_score")] + list(indicators)):
        v = england[c]
        ok = v.notna() & w.notna()
        rows.append((c, "pop_weighted_mean", (v[ok] * w[ok]).sum() / w[ok].sum()))
        for q in range(10, 100, 10):
            rows.append((c, f"p{q}", v[ok].quantile(q / 100)))
    for c in [c for c in england.columns if c.endswith("_decile")]:
        share = w.groupby(england[c]).sum() / w.sum()
        rows += [(c, f"pop_share_decile_{int(d)}", s) for d, s in share.items()]
    rows += [("lsoas", "count", len(england)), ("population", "total", w.sum())]
    return _series(rows)


def cni_comparators(cni: pd.DataFrame) -> pd.Series:
    """England counts of the Community Needs Index: its LSOAs and its "left behind" areas."""
    return _series([("cni_rank", "count", len(cni)), ("left_behind_area", "count", int(cni["left_behind_area"].sum()))])


def _series(rows) -> pd.Series:
    index = pd.MultiIndex.from_tuples([(m, s) for m, s, _ in rows], names=["measure", "statistic"])
    return pd.Series([float(v) for _, _, v in rows], index=index, name="value")


def hia_layers(source: DataSource, *, study: pd.Index, national: pd.DataFrame | None, vintage: Vintage,
               sources: list[Source], notes: list[str]) -> dict:
    """Read ``source.indicators`` and ``source.cni`` for the ``study`` LSOAs, with England comparators.

    Returns the :class:`~geotarget.data.study_data.StudyData` fields ``hia_indicators``, ``cni`` and
    ``hia_reference`` (an empty dict without ``source.indicators``); ``sources`` and ``notes`` grow in place.
    The comparators need England-wide files (``national``: the IoD file covers England; the indicators
    and CNI files cover it too); without them ``hia_reference`` is left out and a note says why.

    Raises
    ------
    SchemaError
        An indicators file of another IoD release, a CNI with IoD2019, or files without the study's LSOAs.
    """
    if source.indicators is None:
        if source.cni is not None:
            notes.append("The Community Needs Index was given without the IoD File 8 indicators (indicators); "
                         "it is used only for HIA screening, which needs both.")
        return {}
    ind, v = read_iod_indicators(source.indicators, vintage=vintage.year)
    sources.append(Source("indicators", Path(source.indicators),
                          f"{v.name} File 8 underlying indicators, LSOA {v.lsoa_year} (MHCLG)"))
    cols = [c for c in HIA_INDICATORS[v.year] if c in ind.columns]
    _require_lsoas(ind, study, source.indicators, "indicators")
    out: dict = {"hia_indicators": ind.loc[study, cols]}
    cni = None
    if source.cni is not None:
        if v.year != 2025:
            raise SchemaError(f"cni = {source.cni}: the Community Needs Index 2023 is on LSOA 2021, for IoD2025; "
                              f"this study is {v.label}: drop cni or use IoD2025").naming("cni")
        cni = read_cni(source.cni)
        sources.append(Source("cni", Path(source.cni), "Community Needs Index 2023, LSOA 2021 (OCSI for Local Trust)"))
        _require_lsoas(cni, study, source.cni, "cni")
        out["cni"] = cni.loc[study]
    if national is None:
        notes.append("HIA England comparators need the England-wide IoD file; the IoD file given covers only part "
                     "of England, so none were computed.")
        return out
    missing = national.index.difference(ind.index)
    if len(missing):
        raise SchemaError(f"{source.indicators}: no indicators for {len(missing):,} of England's {len(national):,} "
                          f"LSOAs, e.g. {', '.join(missing[:5])}; the England comparators need the England-wide "
                          "File 8").naming("indicators")
    ref = england_comparators(national.join(ind[cols]), national["pop_total"], indicators=cols)
    if cni is not None:
        ref = pd.concat([ref, cni_comparators(cni)])
    out["hia_reference"] = ref
    log.info("HIA England comparators (%s): %d values from %d LSOAs", v.name, len(ref), len(national))
    return out


def _require_lsoas(frame: pd.DataFrame, study: pd.Index, path, key: str) -> None:
    missing = study.difference(frame.index)
    if len(missing):
        raise SchemaError(f"{path}: no row for {len(missing):,} of the study's {len(study):,} LSOAs, e.g. "
                          f"{', '.join(missing[:5])}; is it for the same LSOA year as the IoD?").naming(key)


__all__ = ["HIA_INDICATORS", "cni_comparators", "england_comparators", "hia_layers"]
