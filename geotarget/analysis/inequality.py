"""Inequality gradients across deprivation: the Slope and Relative Index of Inequality (OHID/PHE method).

For groups j = 1..m (deprivation deciles) ordered from **most** to **least** deprived, with population
share a_j and indicator value y_j:

* relative rank b_j = (a_1 + ... + a_{j-1}) + a_j / 2, the midpoint of the group's range in the
  cumulative population (0 = most deprived end, 1 = least deprived end);
* weighted least squares y_j = β0 + β1·b_j with weights a_j (PHE fits the same model as an ordinary
  regression of y·√a on √a and b·√a without intercept; the estimates are identical);
* **SII = β1**, the modelled difference between the least and the most deprived ends of the whole
  distribution (fitted value at b = 1 minus fitted value at b = 0). Its sign follows the indicator:
  for life expectancy it is positive (the least deprived live longer), for a "bad" indicator such as
  a deprivation score or a rate of ill health it is negative;
* **RII = (β0 + β1)/β0**, the fitted value at the least deprived end over the fitted value at the most
  deprived end;
* confidence intervals by Monte Carlo, as PHE's ``phe_sii``: each y_j is redrawn from a normal
  distribution with its standard error, the model refitted, and the 2.5th and 97.5th percentiles of the
  simulated SII and RII reported (100,000 draws by default, seeded).

Standard errors of decile values come from the user (a standard-error column per area, combined as
for a weighted mean of independent estimates) or, by default, from the spread of the areas within
each decile (the standard error of the population-weighted mean); ``se_source`` says which.

``gap_d1_d10`` = value of decile 10 (least deprived) − value of decile 1 (most deprived): the raw gap,
with the same sign convention as the SII, so the two can be compared directly.

Deciles are the **national** IMD deciles published by MHCLG (default) or **local** deciles: the study's
LSOAs ordered from most to least deprived by national IMD rank and cut into ten groups of equal
population (each LSOA to the decile holding the midpoint of its population).

Also: the population-weighted **Gini** coefficient and **Theil** index of the indicator across areas
(for non-negative indicators).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geotarget.core.errors import SchemaError

log = logging.getLogger(__name__)

DECILES = ("national", "local")
REPETITIONS = 100_000


def relative_ranks(population) -> np.ndarray:
    """Midpoints of each group's share of the cumulative population, in the order given.

    >>> relative_ranks([12, 10, 78]).round(3).tolist()
    [0.06, 0.17, 0.61]
    """
    a = np.asarray(population, float)
    a = a / a.sum()
    return np.cumsum(a) - a / 2


def _wls(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares of y on b with weights a; y may be (reps, m). Returns (β0, β1)."""
    bb = (a * b).sum()
    yb = (y * a).sum(axis=-1)
    sxx = (a * (b - bb) ** 2).sum()
    sxy = (a * (b - bb) * (y - yb[..., None])).sum(axis=-1)
    beta1 = sxy / sxx
    return yb - beta1 * bb, beta1


@dataclass(frozen=True)
class SlopeIndex:
    """SII and RII with Monte Carlo confidence limits."""

    sii: float
    rii: float
    intercept: float
    sii_lower: float = float("nan")
    sii_upper: float = float("nan")
    rii_lower: float = float("nan")
    rii_upper: float = float("nan")


def slope_index(values, population, se=None, *, confidence: float = 0.95, repetitions: int = REPETITIONS,
                seed: int = 0) -> SlopeIndex:
    """SII and RII of group ``values`` (ordered from most to least deprived) with population ``population``.

    ``se``: standard errors of the values, for Monte Carlo confidence limits (none without them).

    >>> s = slope_index([60, 63, 66, 69, 72], [1, 1, 1, 1, 1])
    >>> round(s.sii, 6), round(s.intercept, 6), round(s.rii, 4)
    (15.0, 58.5, 1.2564)
    """
    y = np.asarray(values, float)
    p = np.asarray(population, float)
    if y.ndim != 1 or len(y) != len(p):
        raise SchemaError("values and population must be one value per group")
    if len(y) < 2:
        raise SchemaError(f"the SII needs at least 2 groups with people; got {len(y)}")
    if np.isnan(y).any() or np.isnan(p).any() or (p <= 0).any():
        raise SchemaError("every group needs a value and a population above zero")
    a = p / p.sum()
    b = np.cumsum(a) - a / 2
    beta0, beta1 = _wls(y, a, b)
    rii = (beta0 + beta1) / beta0 if beta0 != 0 else float("nan")
    out = dict(sii=float(beta1), rii=float(rii), intercept=float(beta0))
    if se is not None:
        s = np.asarray(se, float)
        if s.shape != y.shape or np.isnan(s).any() or (s < 0).any():
            raise SchemaError("standard errors must be one non-negative number per group")
        if not 0.5 < confidence < 1:
            raise SchemaError(f"confidence was {confidence}; expected a level between 0.5 and 1, e.g. 0.95")
        rng = np.random.default_rng(seed)
        sims = y + s * rng.standard_normal((int(repetitions), len(y)))
        s0, s1 = _wls(sims, a, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (s0 + s1) / s0
        q = [(1 - confidence) / 2, (1 + confidence) / 2]
        out.update(sii_lower=float(np.quantile(s1, q[0])), sii_upper=float(np.quantile(s1, q[1])),
                   rii_lower=float(np.nanquantile(r, q[0])), rii_upper=float(np.nanquantile(r, q[1])))
    return SlopeIndex(**out)


def local_deciles(rank: pd.Series, population: pd.Series) -> pd.Series:
    """Return deciles within the study, by population.

    Areas are ordered from most deprived (national rank 1) and cut into ten groups of equal population;
    each area goes to the decile holding the midpoint of its population.

    >>> local_deciles(pd.Series([5, 1, 9, 3]), pd.Series([10, 10, 10, 10])).tolist()
    [7, 2, 9, 4]
    """
    order = np.lexsort((rank.index.to_numpy(dtype=str), rank.to_numpy()))
    pop = population.reindex(rank.index).to_numpy(float)[order]
    mid = (np.cumsum(pop) - pop / 2) / pop.sum()
    dec = np.minimum(10, np.floor(mid * 10).astype(int) + 1)
    out = pd.Series(0, index=rank.index, name="local_decile")
    out.iloc[order] = dec
    return out


def gini(values, weights) -> float:
    """Population-weighted Gini coefficient of non-negative values (0 = equal, 1 = all in one area).

    Equals Σ_i Σ_j w_i w_j |x_i − x_j| / (2 W² μ).

    >>> round(gini([1, 1, 1, 1], [1, 1, 1, 1]), 6), round(gini([0, 0, 0, 4], [1, 1, 1, 1]), 6)
    (0.0, 0.75)
    """
    x = np.asarray(values, float)
    w = np.asarray(weights, float)
    if (x < 0).any() or x.sum() == 0:
        return float("nan")
    o = np.argsort(x, kind="stable")
    x, w = x[o], w[o]
    p = w / w.sum()
    mu = (p * x).sum()
    cum = np.cumsum(p * x) / mu
    prev = np.concatenate([[0.0], cum[:-1]])
    return float(1 - (p * (prev + cum)).sum())


def theil(values, weights) -> float:
    """Population-weighted Theil T index of non-negative values: Σ p_i (x_i/μ) ln(x_i/μ).

    >>> round(theil([1, 1], [1, 1]), 6), round(theil([0, 2], [1, 1]), 6)
    (0.0, 0.693147)
    """
    x = np.asarray(values, float)
    w = np.asarray(weights, float)
    if (x < 0).any() or x.sum() == 0:
        return float("nan")
    p = w / w.sum()
    r = x / (p * x).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(r > 0, r * np.log(r), 0.0)
    return max(0.0, float((p * t).sum()))  # T >= 0; clamp rounding noise for equal values


def decile_table(values: pd.Series, population: pd.Series, deciles: pd.Series, se: pd.Series | None = None
                 ) -> pd.DataFrame:
    """Population-weighted value of each decile (1 = most deprived) with its standard error."""
    d = pd.DataFrame({"x": values, "w": population.reindex(values.index).astype(float),
                      "d": deciles.reindex(values.index)})
    if se is not None:
        d["se"] = se.reindex(values.index)
    rows = []
    for dec, g in d.groupby("d", sort=True):
        w = g["w"].to_numpy()
        x = g["x"].to_numpy()
        W = w.sum()
        mean = (w * x).sum() / W
        if se is not None:
            s = float(np.sqrt((w ** 2 * g["se"].to_numpy() ** 2).sum()) / W)
        elif len(g) > 1:
            s = float(np.sqrt((w ** 2 * (x - mean) ** 2).sum() * len(g) / (len(g) - 1)) / W)
        else:
            s = float("nan")
        rows.append({"decile": int(dec), "areas": len(g), "population": W, "value": mean, "se": s})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Inequality:
    """Result of :func:`inequality`: one row per indicator, and the decile tables behind them."""

    table: pd.DataFrame
    deciles: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def inequality(values: pd.DataFrame, population: pd.Series, *, deciles: pd.Series, decile_kind: str = "national",
               se: pd.DataFrame | None = None, labels: dict | None = None, confidence: float = 0.95,
               repetitions: int = REPETITIONS, seed: int = 0) -> Inequality:
    """SII, RII, the D10−D1 gap, Gini and Theil for each indicator (column of ``values``, LSOA rows).

    ``deciles`` gives each area's deprivation decile (1 = most deprived); ``se`` optional standard errors
    (same shape as ``values``). Areas with a missing value are left out of that indicator and counted.
    """
    if decile_kind not in DECILES:
        raise SchemaError(f"deciles was {decile_kind!r} but is expected to be one of {list(DECILES)}")
    bad = deciles.reindex(values.index)
    if bad.isna().any():
        raise SchemaError(f"no deprivation decile for {int(bad.isna().sum())} area(s), e.g. "
                          f"{', '.join(map(str, bad.index[bad.isna()][:5]))}")
    rows, tables, notes = [], [], []
    for col in values.columns:
        v = values[col]
        miss = v.isna()
        if miss.all():
            raise SchemaError(f"indicator {col!r} has no values for the study areas")
        if miss.any():
            notes.append(f"{col}: {int(miss.sum())} area(s) without a value left out: "
                         f"{', '.join(map(str, v.index[miss][:5]))}")
            log.warning("%s", notes[-1])
        v = v[~miss]
        if v.nunique() <= 1:
            raise SchemaError(f"indicator {col!r} is constant across the study areas ({v.iloc[0]!r}): no gradient "
                              "to measure")
        s = se[col].reindex(v.index) if se is not None else None
        if s is not None and s.isna().any():
            raise SchemaError(f"standard errors missing for {int(s.isna().sum())} area(s) of {col!r}")
        t = decile_table(v, population, deciles, s)
        present = t[t["population"] > 0]
        lost = sorted(set(range(1, 11)) - set(present["decile"]))
        if lost:
            notes.append(f"{col}: no areas in decile(s) {', '.join(map(str, lost))} ({decile_kind}); the SII is "
                         "fitted over the deciles present")
        se_ok = present["se"].notna().all()
        si = slope_index(present["value"], present["population"], present["se"] if se_ok else None,
                         confidence=confidence, repetitions=repetitions, seed=seed)
        a = present["population"] / present["population"].sum()
        b = np.cumsum(a) - a / 2
        t["share"] = t["population"] / t["population"].sum()
        t["relative_rank"] = pd.Series(b.to_numpy(), index=present.index).reindex(t.index)
        t["fitted"] = si.intercept + si.sii * t["relative_rank"]
        t.insert(0, "indicator", col)
        tables.append(t)
        if si.intercept <= 0 or si.intercept + si.sii <= 0:
            notes.append(f"{col}: the fitted line is at or below zero at one end (most deprived {si.intercept:.3g}, "
                         f"least deprived {si.intercept + si.sii:.3g}); the RII, a ratio of the two, is not "
                         "meaningful for it")
        if (v < 0).any():
            notes.append(f"{col}: has negative values; Gini and Theil (defined for non-negative quantities) "
                         "are left blank")
        vals = t.set_index("decile")["value"]
        pw = population.reindex(v.index).astype(float)
        rows.append({
            "indicator": col, "label": (labels or {}).get(col, col), "deciles": decile_kind,
            "areas": len(v), "population": float(pw.sum()),
            "sii": si.sii, "sii_lower": si.sii_lower, "sii_upper": si.sii_upper,
            "rii": si.rii, "rii_lower": si.rii_lower, "rii_upper": si.rii_upper,
            "gap_d1_d10": vals.get(10, np.nan) - vals.get(1, np.nan),
            "d1_value": vals.get(1, np.nan), "d10_value": vals.get(10, np.nan),
            "mean": float((v * pw).sum() / pw.sum()),
            "gini": gini(v, pw), "theil": theil(v, pw),
            "se_source": ("given" if se is not None else "between areas") if se_ok else "none (a decile has one area)",
            "confidence": confidence, "repetitions": repetitions if se_ok else 0,
        })
    return Inequality(pd.DataFrame(rows), pd.concat(tables, ignore_index=True), notes)


__all__ = ["DECILES", "Inequality", "SlopeIndex", "decile_table", "gini", "inequality", "local_deciles",
           "relative_ranks", "slope_index", "theil"]
