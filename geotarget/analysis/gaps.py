"""Outcome gaps: how far each area is from a reference (England, its region, or the study area).

An *indicator* is any area-level measure: the IoD domain scores, or a column of a user table keyed by
LSOA or ward code (Census 2021 outcomes, the Community Needs Index, ...). For area i and indicator j

    gap_ij = s_j · (x_ij − m_j) / σ_j

where m_j is the reference value (the population-weighted mean of the indicator over England, over the
area's region, or over the study areas), σ_j is the population-weighted standard deviation of the
indicator across England's LSOAs (so gaps are in the same units, "England standard deviations",
whichever reference is chosen, and at ward level too), and s_j = +1 when a higher value is worse
(every IoD score; most outcome rates) and −1 when a higher value is better. A positive gap is a
disadvantage relative to the reference.

**Ranks without scores.** IoD2019 publishes LSOA *ranks* but not scores for the Health, Crime and Living
Environment domains (in the files geotarget reads). Rather than drop them, geotarget uses the normal
score of the national rank, z = Φ⁻¹((N − r + ½)/N) (rank 1 = most deprived → highest z). The IoD
Health, Crime and Living Environment scores are themselves roughly standard normal, so this keeps their
ordering exactly and their scale closely (on IoD2025, where both exist, the normal score of the
health rank correlates with the published health score at r ≈ 0.99). The transform is applied to the
national ranks, so it is the same whatever subset of England is studied.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri

from geotarget.core import domains as D
from geotarget.core.errors import ParameterError, SchemaError

log = logging.getLogger(__name__)

ENGLAND = "E92000001"
REFERENCES = ("england", "region", "study")
#: Columns of a reference table (bundled ``data/reference/england_region_means.csv`` or computed).
REFERENCE_COLUMNS = ["source", "indicator", "area_code", "area_name", "n_areas", "population", "mean", "sd"]


def rank_normal_score(rank, n: int) -> np.ndarray:
    """Return the normal score of a national rank (1 = most deprived): Φ⁻¹((n − rank + ½)/n), higher = more deprived.

    >>> rank_normal_score([1, 16_878, 33_755], 33_755).round(3).tolist()
    [4.176, 0.0, -4.176]
    """
    r = np.asarray(rank, dtype=float)
    return ndtri((n - r + 0.5) / n)


@dataclass(frozen=True)
class Indicators:
    """Indicator values for a set of areas, with what is needed to interpret them."""

    values: pd.DataFrame  #: areas x indicators, indexed by area code
    labels: dict[str, str]  #: indicator -> short plain-English label
    higher_is_better: tuple[str, ...] = ()
    transformed: tuple[str, ...] = ()  #: indicators computed from ranks (normal scores)
    source: str = ""  #: key of the bundled reference rows for these indicators ("iod2025", ...), if any
    notes: list[str] = field(default_factory=list)


def domain_indicators(lsoas: pd.DataFrame, *, vintage: int, keys=None) -> Indicators:
    """Return the IoD domains as indicators: the published score, or the normal score of the national rank.

    ``lsoas`` holds IoD columns (``income_score``, ``health_rank``, ...); ``keys`` picks domains
    (default the seven IMD domains).
    """
    from geotarget.core.vintages import get_vintage

    n = get_vintage(vintage).n_lsoas
    keys = [d.key for d in D.DOMAINS] if keys is None else list(keys)
    out, transformed, notes = {}, [], []
    for key in keys:
        if key not in D.BY_KEY:
            raise SchemaError(f"indicator {key!r} is not an IoD domain; expected one of {', '.join(D.BY_KEY)}")
        if f"{key}_score" in lsoas.columns:
            out[key] = lsoas[f"{key}_score"].astype(float)
        elif f"{key}_rank" in lsoas.columns:
            out[key] = pd.Series(rank_normal_score(lsoas[f"{key}_rank"], n), index=lsoas.index)
            transformed.append(key)
        else:
            notes.append(f"{D.BY_KEY[key].label}: no score or rank in the data; left out")
    if transformed:
        notes.append(f"IoD{vintage} publishes ranks but no LSOA scores for "
                     f"{', '.join(D.BY_KEY[k].label for k in transformed)}: used the normal score of the "
                     "national rank, Φ⁻¹((N − rank + ½)/N), which keeps their order and a comparable scale.")
    if not out:
        raise SchemaError("no IoD domain scores or ranks found in the data")
    values = pd.DataFrame(out, index=lsoas.index)
    return Indicators(values, {k: D.BY_KEY[k].short.lower().rstrip(".") for k in values.columns},
                      transformed=tuple(transformed), source=f"iod{vintage}", notes=notes)


def humanise(column: str) -> str:
    """Return a label for a user column: ``bad_health`` -> ``bad health``."""
    return re.sub(r"\s+", " ", str(column).replace("_", " ")).strip()


def match_areas(table: pd.DataFrame, areas: pd.Index, *, what: str = "indicator table") -> tuple[pd.DataFrame, str]:
    """Rows of ``table`` for ``areas``; a note on the match rate. No match at all is an error."""
    hit = areas.isin(table.index)
    if not hit.any():
        raise SchemaError(
            f"{table.attrs.get('source', what)}: none of its {len(table):,} codes (e.g. "
            f"{', '.join(map(str, table.index[:3]))}) match the {len(areas):,} study areas (e.g. "
            f"{', '.join(map(str, areas[:3]))}); check the geography and vintage (LSOA 2011 vs 2021, ward year)")
    note = (f"{what}: {int(hit.sum()):,} of {len(areas):,} study areas matched ({hit.mean():.1%})"
            + (f"; {int((~hit).sum()):,} without a row: {', '.join(map(str, areas[~hit][:5]))}"
               + (" ..." if (~hit).sum() > 5 else "") if not hit.all() else "")
            + f"; {int((~table.index.isin(areas)).sum()):,} rows of the table are outside the study")
    log.info("%s", note)
    return table.reindex(areas), note


def complete_rows(values: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into areas with every indicator and the rejects (area, missing indicators). Never imputes."""
    missing = values.isna()
    bad = missing.any(axis=1)
    rejects = pd.DataFrame({"area_code": values.index[bad],
                            "missing": [", ".join(values.columns[m]) for m in missing.to_numpy()[bad.to_numpy()]]})
    if bad.any():
        log.warning("%d area(s) have missing indicator values and are left out: %s", int(bad.sum()),
                    ", ".join(map(str, values.index[bad][:5])))
    return values[~bad], rejects


def weighted_mean_sd(values: pd.DataFrame, weights: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Population-weighted mean and standard deviation of each column (missing values skipped)."""
    w = weights.reindex(values.index).astype(float).to_numpy()[:, None]
    x = values.to_numpy(float)
    ok = ~np.isnan(x) & (w > 0)
    ww = np.where(ok, w, 0.0)
    xs = np.where(ok, x, 0.0)
    tot = ww.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (ww * xs).sum(axis=0) / tot
        var = (ww * (xs - mean) ** 2).sum(axis=0) / tot
    return pd.Series(mean, index=values.columns), pd.Series(np.sqrt(var), index=values.columns)


def reference_table(values: pd.DataFrame, population: pd.Series, region: pd.Series | None = None, *,
                    source: str = "", region_names: pd.Series | None = None) -> pd.DataFrame:
    """England (and regional) population-weighted means and SDs of each indicator, in long form.

    ``values`` should cover every LSOA in England; ``region`` maps each LSOA to its region code.
    """
    groups = [(ENGLAND, "England", values.index)]
    if region is not None:
        reg = region.reindex(values.index)
        for code in sorted(reg.dropna().unique()):
            name = region_names.get(code, code) if region_names is not None else code
            groups.append((code, name, reg.index[reg == code]))
    rows = []
    for code, name, idx in groups:
        sub = values.loc[idx]
        mean, sd = weighted_mean_sd(sub, population)
        for ind in values.columns:
            rows.append({"source": source, "indicator": ind, "area_code": code, "area_name": name,
                         "n_areas": int(sub[ind].notna().sum()),
                         "population": int(population.reindex(sub.index[sub[ind].notna()]).sum()),
                         "mean": mean[ind], "sd": sd[ind]})
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)


@dataclass(frozen=True)
class Gaps:
    """Result of :func:`outcome_gaps`."""

    gaps: pd.DataFrame  #: areas x indicators, positive = worse than the reference, in England SDs
    reference: str  #: "england", "region" or "study"
    means: pd.DataFrame  #: reference value used for each area and indicator
    scale: pd.Series  #: the standard deviation each indicator's gap is divided by
    labels: dict[str, str]
    notes: list[str] = field(default_factory=list)


def outcome_gaps(values: pd.DataFrame, population: pd.Series, *, reference: str = "england",
                 table: pd.DataFrame | None = None, region: pd.Series | None = None,
                 higher_is_better=(), labels: dict | None = None) -> Gaps:
    """Gap of each area to the reference, standardised by England's LSOA standard deviation.

    Parameters
    ----------
    values
        Areas x indicators (the study areas), no missing values (see :func:`complete_rows`).
    population
        Population of each area (weights for the study mean).
    reference
        ``"england"``, ``"region"`` (each area against its own region; needs ``region``) or ``"study"``
        (the population-weighted mean of ``values``).
    table
        Reference table (:func:`reference_table` layout) with England and regional means and England SDs.
        Needed for ``england`` and ``region``; for ``study`` it supplies the England SD when present,
        otherwise the study areas' own SD is used (and a note says so).
    """
    if reference not in REFERENCES:
        raise SchemaError(f"reference was {reference!r} but is expected to be one of {list(REFERENCES)}")
    notes: list[str] = []
    cols = list(values.columns)
    sd_eng = None
    if table is not None:
        eng = table[table["area_code"] == ENGLAND].set_index("indicator")
        if set(cols) <= set(eng.index):
            sd_eng = eng.loc[cols, "sd"].astype(float)
    if reference in ("england", "region") and sd_eng is None:
        raise ParameterError(
            f"reference was {reference!r} but England-wide values of every indicator ({', '.join(cols)}) are needed "
            "for it: pass an England-wide file (every LSOA in England) or set `reference` to 'study'",
            parameter="reference", related=("reference",))
    if reference == "study":
        mean, sd = weighted_mean_sd(values, population)
        means = pd.DataFrame(np.tile(mean.to_numpy(), (len(values), 1)), index=values.index, columns=cols)
        notes.append(f"Reference: the population-weighted mean of the {len(values):,} study areas.")
    elif reference == "england":
        m = eng.loc[cols, "mean"].astype(float)
        means = pd.DataFrame(np.tile(m.to_numpy(), (len(values), 1)), index=values.index, columns=cols)
        notes.append("Reference: England (population-weighted mean of every LSOA).")
    else:
        if region is None:
            raise SchemaError("reference='region' needs the region of each area (a LAD to region lookup)")
        reg = region.reindex(values.index)
        if reg.isna().any():
            raise SchemaError(f"no region for {int(reg.isna().sum())} area(s), e.g. "
                              f"{', '.join(map(str, reg.index[reg.isna()][:5]))}; check the LAD to region lookup")
        wide = table[table["area_code"] != ENGLAND].pivot(index="area_code", columns="indicator", values="mean")
        lost = sorted(set(reg) - set(wide.index))
        if lost:
            raise SchemaError(f"no reference values for region(s) {', '.join(lost)}")
        means = wide.loc[reg.to_numpy(), cols].set_axis(values.index)
        names = table.drop_duplicates("area_code").set_index("area_code")["area_name"]
        notes.append("Reference: each area's region (" + ", ".join(names.get(r, r) for r in sorted(reg.unique()))
                     + ").")
    if sd_eng is None:
        _, sd = weighted_mean_sd(values, population)
        scale = sd
        notes.append("Gaps are in standard deviations of the study areas (no England-wide values to scale by).")
    else:
        scale = sd_eng
        notes.append("Gaps are in England standard deviations (population-weighted, across LSOAs); "
                     "positive = worse than the reference.")
    flat = [c for c in cols if not scale[c] > 0]
    if flat:
        raise SchemaError(f"indicator(s) {', '.join(flat)} do not vary (standard deviation 0): a gap cannot be "
                          "standardised; remove them")
    sign = np.array([-1.0 if c in set(higher_is_better) else 1.0 for c in cols])
    gaps = (values[cols] - means) / scale[cols].to_numpy() * sign
    return Gaps(gaps, reference, means, scale, dict(labels or {c: humanise(c) for c in cols}), notes)


__all__ = ["Gaps", "Indicators", "complete_rows", "domain_indicators", "humanise", "match_areas", "outcome_gaps",
           "rank_normal_score", "reference_table", "weighted_mean_sd"]
