"""Inequality gradients across deprivation: the Slope and Relative Index of Inequality (OHID/PHE method).

The method of PHE/OHID's ``phe_sii`` (R package PHEindicatormethods; Low & Low, J Public Health 2004):
for groups j = 1..m (deprivation deciles) ordered from **most** to **least** deprived, with population
share a_j and indicator value y_j:

* relative rank b_j = (a_1 + ... + a_{j-1}) + a_j / 2, the midpoint of the group's range in the
  cumulative population (0 = most deprived end, 1 = least deprived end);
* weighted least squares y_j = β0 + β1·b_j with weights a_j (PHE fits the same model as an ordinary
  regression of y·√a on √a and b·√a without intercept; the estimates are identical);
* **SII** = fitted value at b = 1 minus fitted value at b = 0 (= β1), the modelled difference between the
  least and the most deprived ends of the whole distribution. Its sign follows the indicator: positive
  for life expectancy (the least deprived live longer), negative for a "bad" indicator such as a
  deprivation score or a rate of ill health;
* **RII** = fitted value at b = 1 over fitted value at b = 0 (= (β0 + β1)/β0). Where a fitted end is at
  or below zero the ratio is undefined: it is left empty and ``rii_note`` says why;
* the **intercept** is the fitted value at b = 0 (the most deprived end).

**Value types and transforms** (``value_type``: 0 ``none``, 1 ``rate``, 2 ``proportion``). Rates and
proportions are simulated on the log and logit scales, where their sampling error is close to normal:
each group's value is drawn from N(link(y_j), se_j) with se_j on that scale, and transformed back.
With ``transform`` (default for rates and proportions, as PHE recommends), the regression itself is
fitted on the log/logit scale and the SII, RII and intercept are the back-transformed fitted ends:
SII = inv(β0' + β1') − inv(β0'), RII = inv(β0' + β1')/inv(β0'), intercept = inv(β0'). Without it,
the regression is on the original values (only the simulation uses the link scale), as PHE before 2024.

**Standard errors** of the group values (on the simulation scale), by ``se_source``:

* ``counts`` — numerator and denominator: 95% limits by Wilson's score method (proportions) or Byar's
  method (rates), PHE's methods for these indicators, then se = (link(U) − link(L)) / (2·1.959964);
* ``limits`` — lower and upper confidence limits at ``limits_confidence`` (95% by default), on the
  link scale likewise (PHE's ``lower_cl``/``upper_cl``);
* ``given`` — standard errors as given (PHE's convention: on the log/logit scale for rates and
  proportions; :func:`inequality` converts LSOA standard errors on the value scale);
* ``between`` — (geotarget, not PHE) the spread of the areas within each decile: the standard error of
  the population-weighted mean.

**Confidence limits** by Monte Carlo, as ``phe_sii``: the model is refitted to ``repetitions`` sets of
simulated values (100,000 by default, seeded so results repeat) and the (1 − c)/2 and (1 + c)/2
quantiles of the simulated SII and RII reported, for one or more confidence levels c (e.g. 0.95 and
0.998). ``multiplier`` scales the SII and its limits (e.g. 100 for a proportion given as 0..1 to read
as percentage points); a negative multiplier reverses the polarity and inverts the RII, as PHE.

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
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from geotarget.core.errors import SchemaError

log = logging.getLogger(__name__)

DECILES = ("national", "local")
REPETITIONS = 100_000
#: Indicator types, PHE's ``value_type`` codes: 0 other (no transform), 1 rate (log), 2 proportion (logit).
VALUE_TYPES = {"none": 0, "rate": 1, "proportion": 2}
#: Where the standard errors of the decile values come from (see the module notes).
SE_SOURCES = ("counts", "limits", "given", "between")
_SCALE = {0: "value", 1: "log", 2: "logit"}
_Z95 = float(norm.ppf(0.975))


def value_type_code(value_type) -> int:
    """PHE's code of an indicator type given as 0/1/2 or ``none``/``rate``/``proportion``.

    >>> value_type_code("proportion"), value_type_code(1), value_type_code("0")
    (2, 1, 0)
    """
    if isinstance(value_type, str):
        key = value_type.strip().lower()
        if key in VALUE_TYPES:
            return VALUE_TYPES[key]
        if key in ("0", "1", "2"):
            return int(key)
    elif isinstance(value_type, (int, np.integer)) and not isinstance(value_type, bool) and value_type in (0, 1, 2):
        return int(value_type)
    raise SchemaError(f"value_type was {value_type!r} but is expected to be one of 0/'none', 1/'rate', "
                      "2/'proportion'")


def confidence_levels(confidence) -> tuple[float, ...]:
    """Confidence levels as fractions: one or several, as fractions (0.95) or percentages (99.8).

    >>> confidence_levels([95, 0.998])
    (0.95, 0.998)
    """
    levels = [confidence] if np.isscalar(confidence) else list(confidence)
    out = []
    for c in levels:
        c = float(c)
        c = c / 100 if c >= 1 else c
        if not 0.5 <= c < 1:
            raise SchemaError(f"confidence was {confidence!r}; expected levels between 0.5 and 1 (or 50 and 100), "
                              "e.g. 0.95 or 99.8")
        out.append(round(c, 10))
    if not out:
        raise SchemaError("confidence: give at least one confidence level, e.g. 0.95")
    return tuple(out)


def _link(y, vt: int):
    """Transform to the simulation scale: identity, log (rates) or logit (proportions)."""
    y = np.asarray(y, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return y if vt == 0 else np.log(y) if vt == 1 else np.log(y / (1 - y))


def _unlink(t, vt: int):
    """Back from the simulation scale (inverse of :func:`_link`)."""
    t = np.asarray(t, float)
    if vt == 0:
        return t
    if vt == 1:
        return np.exp(t)
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-t))


def _check_domain(y, vt: int, what: str = "values") -> None:
    y = np.asarray(y, float)
    bad = (y <= 0) if vt == 1 else ((y <= 0) | (y >= 1)) if vt == 2 else np.zeros(len(y), bool)
    if bad.any():
        want = "above zero for a rate (log scale)" if vt == 1 else "strictly between 0 and 1 for a proportion " \
            "(logit scale; give percentages with multiplier 100)"
        raise SchemaError(f"{what} of group(s) {', '.join(str(i + 1) for i in np.flatnonzero(bad)[:5])} "
                          f"({', '.join(f'{v:g}' for v in y[bad][:5])}) must be {want}, or use value_type 'none'")


def wilson_limits(count, denominator, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits of proportions count/denominator (PHE's method for proportions).

    >>> [round(float(v), 4) for v in np.concatenate(wilson_limits([30], [100]))]
    [0.2189, 0.3958]
    """
    x, n = np.asarray(count, float), np.asarray(denominator, float)
    z = norm.ppf(0.5 + confidence / 2)
    root = z * np.sqrt(z ** 2 + 4 * x * (1 - x / n))
    return (2 * x + z ** 2 - root) / 2 / (n + z ** 2), (2 * x + z ** 2 + root) / 2 / (n + z ** 2)


def byars_limits(count, denominator, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Byar's limits of rates count/denominator (PHE's method for counts of events).

    >>> [round(float(v), 3) for v in np.concatenate(byars_limits([30], [1000]))]
    [0.02, 0.043]
    """
    x, n = np.asarray(count, float), np.asarray(denominator, float)
    z = norm.ppf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(x > 0, x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3, 0.0)
    up = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
    return np.maximum(lo, 0.0) / n, up / n


def se_from_limits(lower, upper, value_type=0, confidence: float = 0.95) -> np.ndarray:
    """Return standard errors on the simulation scale from confidence limits: (link(U) − link(L)) / (2 z)."""
    vt = value_type_code(value_type)
    lo, up = np.asarray(lower, float), np.asarray(upper, float)
    if vt:
        _check_domain(lo, vt, "lower confidence limits")
        _check_domain(up, vt, "upper confidence limits")
    se = (_link(up, vt) - _link(lo, vt)) / (2 * norm.ppf(0.5 + confidence_levels(confidence)[0] / 2))
    if np.isnan(se).any() or (se < 0).any():
        raise SchemaError("confidence limits must be given for every group, the lower not above the upper")
    return se


def se_from_counts(count, denominator, value_type) -> np.ndarray:
    """Return standard errors on the log (rate) or logit (proportion) scale from numerators and denominators.

    The 95% Wilson (proportion) or Byar's (rate) limits, as PHE computes them, through :func:`se_from_limits`.
    """
    vt = value_type_code(value_type)
    x, n = np.asarray(count, float), np.asarray(denominator, float)
    if vt == 0:
        raise SchemaError("standard errors from counts need value_type 'rate' or 'proportion'")
    if np.isnan(x).any() or np.isnan(n).any() or (n <= 0).any() or (x <= 0).any() or (vt == 2 and (x >= n).any()):
        raise SchemaError("counts must be above zero (and below the denominator for a proportion) in every group, "
                          "for the log/logit standard error; use another se_source or value_type 'none'")
    lo, up = (wilson_limits if vt == 2 else byars_limits)(x, n)
    return se_from_limits(lo, up, vt)


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
    sxy = ((y - yb[..., None]) * (a * (b - bb))).sum(axis=-1)
    beta1 = sxy / sxx
    return yb - beta1 * bb, beta1


@dataclass(frozen=True)
class SlopeIndex:
    """SII and RII with Monte Carlo confidence limits.

    ``sii_lower`` ... ``rii_upper`` are the limits at the first confidence level; ``intervals`` holds
    ``(confidence, sii_lower, sii_upper, rii_lower, rii_upper)`` for every level. ``coef`` is
    ``(β0, β1)`` on the fitting scale (log/logit with ``transform``). ``rii`` is NaN where it is
    undefined, with the reason in ``rii_note``.
    """

    sii: float
    rii: float
    intercept: float
    sii_lower: float = float("nan")
    sii_upper: float = float("nan")
    rii_lower: float = float("nan")
    rii_upper: float = float("nan")
    rii_note: str = ""
    value_type: int = 0
    transform: bool = False
    multiplier: float = 1.0
    coef: tuple[float, float] = (float("nan"), float("nan"))
    intervals: tuple[tuple[float, float, float, float, float], ...] = ()

    def fitted(self, rank) -> np.ndarray:
        """Fitted values at relative ranks ``rank`` (0 = most deprived end), scaled by ``|multiplier|``."""
        t = self.coef[0] + self.coef[1] * np.asarray(rank, float)
        return abs(self.multiplier) * (_unlink(t, self.value_type) if self.transform else t)


def _ends(beta0, beta1, vt: int, transform: bool):
    """Fitted values at the most (b = 0) and least (b = 1) deprived ends, on the value scale."""
    if transform and vt:
        return _unlink(beta0, vt), _unlink(beta0 + beta1, vt)
    return beta0, beta0 + beta1


def slope_index(values, population, se=None, *, value_type=0, transform: bool = True, lower=None, upper=None,
                limits_confidence: float = 0.95, confidence=0.95, repetitions: int = REPETITIONS, seed: int = 0,
                multiplier: float = 1.0) -> SlopeIndex:
    """SII and RII of group ``values`` (ordered from most to least deprived) with population ``population``.

    Standard errors for the confidence limits: ``se`` (on the simulation scale: log/logit for rates and
    proportions, as PHE), or from ``lower``/``upper`` limits at ``limits_confidence``; without either,
    no limits. ``value_type``: 0/'none', 1/'rate', 2/'proportion' (values as rates per unit or as
    proportions 0..1; ``multiplier`` scales the outputs). ``transform`` (rates and proportions only): fit
    on the log/logit scale. ``confidence``: one level or several.

    >>> s = slope_index([60, 63, 66, 69, 72], [1, 1, 1, 1, 1])
    >>> round(s.sii, 6), round(s.intercept, 6), round(s.rii, 4)
    (15.0, 58.5, 1.2564)
    """
    vt = value_type_code(value_type)
    tf = bool(transform) and vt != 0
    y = np.asarray(values, float)
    p = np.asarray(population, float)
    if y.ndim != 1 or len(y) != len(p):
        raise SchemaError("values and population must be one value per group")
    if len(y) < 2:
        raise SchemaError(f"the SII needs at least 2 groups with people; got {len(y)}")
    if np.isnan(y).any() or np.isnan(p).any() or (p <= 0).any():
        raise SchemaError("every group needs a value and a population above zero")
    if not multiplier or not np.isfinite(multiplier):
        raise SchemaError(f"multiplier was {multiplier!r}; expected a number other than zero")
    levels = confidence_levels(confidence)
    if se is None and lower is not None and upper is not None:
        se = se_from_limits(lower, upper, vt, limits_confidence)
    if tf or se is not None:
        _check_domain(y, vt)
    a = p / p.sum()
    b = np.cumsum(a) - a / 2
    beta0, beta1 = _wls(_link(y, vt) if tf else y, a, b)
    lo_end, hi_end = _ends(beta0, beta1, vt, tf)
    m = float(multiplier)
    note = ""
    if lo_end <= 0 or hi_end <= 0:
        note = (f"the fitted line is at or below zero at the {'most' if lo_end <= 0 else 'least'} deprived end "
                f"(most deprived {lo_end * abs(m):.3g}, least deprived {hi_end * abs(m):.3g}): the RII, a ratio of "
                "the two, is undefined (not meaningful) and left empty")
        rii = float("nan")
    else:
        rii = float(hi_end / lo_end)
        if m < 0:
            rii = 1 / rii
    out = dict(sii=float((hi_end - lo_end) * m), rii=rii, intercept=float(lo_end * abs(m)), rii_note=note,
               value_type=vt, transform=tf, multiplier=m, coef=(float(beta0), float(beta1)))
    if se is not None:
        s = np.asarray(se, float)
        if s.shape != y.shape or np.isnan(s).any() or (s < 0).any():
            raise SchemaError("standard errors must be one non-negative number per group")
        if int(repetitions) < 1:
            raise SchemaError(f"repetitions was {repetitions!r}; expected at least 1")
        rng = np.random.default_rng(seed)
        sims = _link(y, vt) + s * rng.standard_normal((int(repetitions), len(y)))
        s0, s1 = _wls(sims if tf else _unlink(sims, vt), a, b)
        e0, e1 = _ends(s0, s1, vt, tf)
        sii_sim = (e1 - e0) * m
        with np.errstate(divide="ignore", invalid="ignore"):
            rii_sim = e1 / e0 if m > 0 else e0 / e1
        intervals = []
        for c in levels:
            q = [(1 - c) / 2, (1 + c) / 2]
            sl, su = np.quantile(sii_sim, q)
            rl, ru = np.quantile(rii_sim, q) if not note else (np.nan, np.nan)
            intervals.append((c, float(sl), float(su), float(rl), float(ru)))
        out.update(sii_lower=intervals[0][1], sii_upper=intervals[0][2], rii_lower=intervals[0][3],
                   rii_upper=intervals[0][4], intervals=tuple(intervals))
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


def decile_table(values: pd.Series, population: pd.Series, deciles: pd.Series, se: pd.Series | None = None, *,
                 counts: pd.Series | None = None, denominators: pd.Series | None = None, multiplier: float = 1.0
                 ) -> pd.DataFrame:
    """Value of each decile (1 = most deprived) with its standard error on the value scale.

    With ``counts`` and ``denominators``: value = multiplier × Σ count / Σ denominator and population
    = Σ denominator (``se`` is then left for :func:`inequality` to compute from the counts). Otherwise the
    population-weighted mean of the areas; ``se`` the standard errors of the area values (combined as
    for a weighted mean of independent estimates), or without them the spread of the areas within
    each decile (NaN for a decile of one area).
    """
    d = pd.DataFrame({"x": values, "w": population.reindex(values.index).astype(float),
                      "d": deciles.reindex(values.index)})
    if counts is not None:
        d["c"] = counts.reindex(values.index).astype(float)
        d["n"] = denominators.reindex(values.index).astype(float)
    if se is not None:
        d["se"] = se.reindex(values.index)
    rows = []
    for dec, g in d.groupby("d", sort=True):
        if counts is not None:
            c, n = float(g["c"].sum()), float(g["n"].sum())
            rows.append({"decile": int(dec), "areas": len(g), "population": n, "value": multiplier * c / n,
                         "se": float("nan"), "count": c, "denominator": n})
            continue
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


def _col(frame: pd.DataFrame | None, col: str, index) -> pd.Series | None:
    return None if frame is None or col not in frame.columns else frame[col].reindex(index)


def _pct(c: float) -> str:
    return f"{100 * c:.10g}"


def _indicator_inputs(col, v, se, counts, denominators, lower, upper, se_source, z_lim, notes):
    """Return ``(se source, values, area standard errors, counts, denominators)`` of one indicator, complete rows.

    Standard errors are None for ``between`` and ``counts``; counts and denominators None unless ``counts``.
    """
    c_, n_ = _col(counts, col, v.index), _col(denominators, col, v.index)
    lo_, up_ = _col(lower, col, v.index), _col(upper, col, v.index)
    s_ = _col(se, col, v.index)
    src = se_source or ("counts" if c_ is not None and n_ is not None else "given" if s_ is not None
                        else "limits" if lo_ is not None and up_ is not None else "between")
    need = {"counts": (c_ is not None and n_ is not None, "count and denominator columns"),
            "given": (s_ is not None, "a standard-error column"),
            "limits": (lo_ is not None and up_ is not None, "lower and upper limit columns")}
    if src in need and not need[src][0]:
        raise SchemaError(f"se_source is {src!r} but indicator {col!r} has no {need[src][1]}")
    if src == "limits":
        s_ = (up_ - lo_) / (2 * z_lim)
    miss = v.isna()
    if src == "counts":
        miss |= c_.isna() | n_.isna()
    elif src in ("given", "limits"):
        miss |= s_.isna()
    if miss.all():
        raise SchemaError(f"indicator {col!r} has no values for the study areas")
    if miss.any():
        notes.append(f"{col}: {int(miss.sum())} area(s) without a value{'' if src == 'between' else ' or ' + src}"
                     f" left out: {', '.join(map(str, v.index[miss][:5]))}")
        log.warning("%s", notes[-1])
    keep = ~miss
    if src == "counts":
        return src, v[keep], None, c_[keep], n_[keep]
    return src, v[keep], s_[keep] if src in ("given", "limits") else None, None, None


def inequality(values: pd.DataFrame, population: pd.Series, *, deciles: pd.Series, decile_kind: str = "national",
               se: pd.DataFrame | None = None, counts: pd.DataFrame | None = None,
               denominators: pd.DataFrame | None = None, lower: pd.DataFrame | None = None,
               upper: pd.DataFrame | None = None, se_source: str | None = None, value_type=0,
               transform: bool = True, multiplier: float = 1.0, labels: dict | None = None,
               confidence: float | Sequence[float] = 0.95, limits_confidence: float = 0.95,
               repetitions: int = REPETITIONS, seed: int = 0) -> Inequality:
    """SII, RII, the D10−D1 gap, Gini and Theil for each indicator (column of ``values``, LSOA rows).

    ``deciles`` gives each area's deprivation decile (1 = most deprived). Standard errors of the decile
    values (``se_source``, default: ``counts`` where an indicator has ``counts`` and ``denominators``
    columns, else ``given`` where it has an ``se`` column, else ``limits`` where it has ``lower`` and
    ``upper`` columns, else ``between``): see the module notes. ``se``, ``lower`` and ``upper`` are on
    the value scale (LSOA limits at ``limits_confidence`` are turned into standard errors, which are
    combined like given ones). ``value_type`` (0/'none', 1/'rate', 2/'proportion') and ``transform``
    apply to every indicator; values are expressed per ``multiplier`` (100 for percentages: a
    proportion given as 12.5 is 0.125). Areas with a missing value are left out of that indicator and
    counted.
    """
    if decile_kind not in DECILES:
        raise SchemaError(f"deciles was {decile_kind!r} but is expected to be one of {list(DECILES)}")
    if se_source is not None and se_source not in SE_SOURCES:
        raise SchemaError(f"se_source was {se_source!r} but is expected to be one of {list(SE_SOURCES)}")
    vt = value_type_code(value_type)
    tf = bool(transform) and vt != 0
    levels = confidence_levels(confidence)
    bad = deciles.reindex(values.index)
    if bad.isna().any():
        raise SchemaError(f"no deprivation decile for {int(bad.isna().sum())} area(s), e.g. "
                          f"{', '.join(map(str, bad.index[bad.isna()][:5]))}")
    z_lim = float(norm.ppf(0.5 + confidence_levels(limits_confidence)[0] / 2))
    rows, tables, notes = [], [], []
    for col in values.columns:
        src, v, s_, c_, n_ = _indicator_inputs(col, values[col], se, counts, denominators, lower, upper,
                                               se_source, z_lim, notes)
        if v.nunique() <= 1:
            raise SchemaError(f"indicator {col!r} is constant across the study areas ({v.iloc[0]!r}): no gradient "
                              "to measure")
        if src == "counts":
            t = decile_table(v, population, deciles, counts=c_, denominators=n_, multiplier=multiplier)
        else:
            t = decile_table(v, population, deciles, s_)
        present = t[t["population"] > 0].copy()
        lost = sorted(set(range(1, 11)) - set(present["decile"]))
        if lost:
            notes.append(f"{col}: no areas in decile(s) {', '.join(map(str, lost))} ({decile_kind}); the SII is "
                         "fitted over the deciles present")
        unit = present["value"].to_numpy(float) / multiplier  # rates per unit, proportions 0..1
        if src == "counts":
            se_link = se_from_counts(present["count"], present["denominator"], vt)
            present["se"] = se_link * (unit * (1 - unit) if vt == 2 else unit) * abs(multiplier)  # delta method
        else:
            if vt:
                _check_domain(unit, vt, f"{col}: decile values (per {multiplier:g})")
            deriv = unit * (1 - unit) if vt == 2 else unit if vt == 1 else 1.0
            se_link = present["se"].to_numpy(float) / abs(multiplier) / deriv
        se_ok = not np.isnan(se_link).any()
        si = slope_index(unit, present["population"], se_link if se_ok else None, value_type=vt, transform=tf,
                         confidence=levels, repetitions=repetitions, seed=seed, multiplier=multiplier)
        z = np.asarray(_link(unit, vt)) if vt else unit
        t = t.merge(present[["decile", "se"]], on="decile", how="left", suffixes=("_drop", ""))
        t = t.drop(columns="se_drop")
        if se_ok:
            lo_u = _unlink(z - _Z95 * se_link, vt) * multiplier
            up_u = _unlink(z + _Z95 * se_link, vt) * multiplier
            t["lower95"] = pd.Series(lo_u, index=present["decile"].to_numpy()).reindex(t["decile"]).to_numpy()
            t["upper95"] = pd.Series(up_u, index=present["decile"].to_numpy()).reindex(t["decile"]).to_numpy()
        a = present["population"] / present["population"].sum()
        b = np.cumsum(a) - a / 2
        t["share"] = t["population"] / t["population"].sum()
        t["relative_rank"] = pd.Series(b.to_numpy(), index=present["decile"].to_numpy()).reindex(t["decile"]).to_numpy()
        t["fitted"] = si.fitted(t["relative_rank"]) * np.sign(multiplier)
        t.insert(0, "indicator", col)
        tables.append(t)
        if si.rii_note:
            notes.append(f"{col}: {si.rii_note}")
        if (v < 0).any():
            notes.append(f"{col}: has negative values; Gini and Theil (defined for non-negative quantities) "
                         "are left blank")
        vals = t.set_index("decile")["value"]
        pw = population.reindex(v.index).astype(float)
        row = {
            "indicator": col, "label": (labels or {}).get(col, col), "deciles": decile_kind,
            "areas": len(v), "population": float(present["population"].sum()),
            "sii": si.sii, "sii_lower": si.sii_lower, "sii_upper": si.sii_upper,
            "rii": si.rii, "rii_lower": si.rii_lower, "rii_upper": si.rii_upper, "rii_note": si.rii_note,
            "intercept": si.intercept,
            "gap_d1_d10": vals.get(10, np.nan) - vals.get(1, np.nan),
            "d1_value": vals.get(1, np.nan), "d10_value": vals.get(10, np.nan),
            "mean": float((v * pw).sum() / pw.sum()),
            "gini": gini(v, pw), "theil": theil(v, pw),
            "value_type": next(k for k, c in VALUE_TYPES.items() if c == vt), "transform": tf,
            "multiplier": multiplier,
            "se_source": src if se_ok else f"none ({src}: a decile has one area)",
            "confidence": levels[0], "repetitions": repetitions if se_ok else 0,
        }
        for c, sl, su, rl, ru in si.intervals[1:]:
            row |= {f"sii_lower_{_pct(c)}": sl, f"sii_upper_{_pct(c)}": su,
                    f"rii_lower_{_pct(c)}": rl, f"rii_upper_{_pct(c)}": ru}
        if not se_ok and len(levels) > 1:
            for c in levels[1:]:
                row |= {f"{k}_{_pct(c)}": np.nan for k in ("sii_lower", "sii_upper", "rii_lower", "rii_upper")}
        rows.append(row)
    return Inequality(pd.DataFrame(rows), pd.concat(tables, ignore_index=True), notes)


__all__ = ["DECILES", "REPETITIONS", "SE_SOURCES", "VALUE_TYPES", "Inequality", "SlopeIndex", "byars_limits",
           "confidence_levels", "decile_table", "gini", "inequality", "local_deciles", "relative_ranks",
           "se_from_counts", "se_from_limits", "slope_index", "theil", "value_type_code", "wilson_limits"]
