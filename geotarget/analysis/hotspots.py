"""Hot spots: Getis-Ord Gi* and Local Moran's I (esda) with permutation inference and FDR control.

Defaults a council can defend:

* **Neighbours**: queen contiguity from :func:`geotarget.analysis.contiguity.contiguity` (boundaries within 5 m
  touch). **Islands** (areas with no neighbour) are by default linked to their nearest area
  (``islands="link"``; the links are listed in the notes and in ``linked_to``); ``islands="exclude"``
  leaves them out of the test (category ``"island (not tested)"``).
* **Gi*** uses binary weights including the area itself (Ord & Getis 1995); the statistic reported is
  its z-score. Gi* z-scores and permutation p-values do not change when a constant is added to the
  indicator, so indicators with zero or negative values (the IoD health score) are shifted to be
  positive before esda's ratio is formed. **Local Moran's I** uses row-standardised weights; areas
  are classed HH, LL, HL, LH by the sign of their value and of their neighbours' mean (z-scores).
* **Inference**: conditional permutation (esda, seeded), two-sided: p = 2 × esda's folded pseudo
  p-value, capped at 1, so the smallest possible p is 2/(P + 1). **False discovery rate**:
  Benjamini–Hochberg over all tested areas (``p_fdr``, the BH-adjusted p-value); an area is
  significant when ``p_fdr <= alpha``. With n areas, the first BH threshold is alpha/n, so P must be at
  least 2n/alpha − 1 for even one area to be declared significant whatever the data: 999 permutations
  can never pass for more than 25 areas at alpha = 0.05. ``permutations="auto"`` takes the smallest
  of 999, 1,999, 4,999, 9,999, 19,999, 49,999, 99,999 that reaches that bound (16,999 → 19,999 for
  the 425 Tees Valley LSOAs); above 99,999 it stops and reports how many areas must share the
  smallest p-value before BH can declare any (e.g. 136 for England's 33,755 LSOAs at 9,999).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geotarget.analysis.layers import area_layer
from geotarget.core.codes import codes_in
from geotarget.core.errors import SchemaError

log = logging.getLogger(__name__)

METHODS = ("gi", "moran")
ISLANDS = ("link", "exclude")
NICE_PERMUTATIONS = (999, 1_999, 4_999, 9_999, 19_999, 49_999, 99_999)
QUADRANTS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
NOT_SIGNIFICANT = "not significant"
ISLAND = "island (not tested)"


def required_permutations(n: int, alpha: float) -> int:
    """Fewest permutations P for which one area can pass Benjamini–Hochberg: 2/(P+1) <= alpha/n.

    >>> required_permutations(425, 0.05)
    16999
    """
    return math.ceil(2 * n / alpha) - 1


def auto_permutations(n: int, alpha: float) -> int:
    """Return the smallest of :data:`NICE_PERMUTATIONS` reaching :func:`required_permutations` (else the largest)."""
    need = required_permutations(n, alpha)
    return next((p for p in NICE_PERMUTATIONS if p >= need), NICE_PERMUTATIONS[-1])


def min_discoveries(n: int, alpha: float, permutations: int) -> int:
    """How many areas must share the smallest p-value, 2/(P+1), before BH can declare any significant."""
    return max(1, math.ceil(2 * n / (alpha * (permutations + 1))))


@dataclass(frozen=True)
class HotSpots:
    """Result of :func:`hotspots`."""

    table: pd.DataFrame  #: per area (index ``area_code``): value, statistic, p_value, p_fdr, category, ...
    method: str
    permutations: int
    alpha: float
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> pd.Series:
        """Number of areas in each category, sorted by category."""
        return self.table["category"].value_counts().sort_index()


def hotspots(areas, values: pd.Series, *, method: str = "gi", permutations="auto", alpha: float = 0.05,
             seed: int = 12345, islands: str = "link", n_jobs: int = 1, snap: float = 5.0) -> HotSpots:
    """Local hot spots of ``values`` over ``areas`` (polygons indexed by area code, a projected CRS).

    Returns a :class:`HotSpots` whose ``table`` has, for every area, ``value``, ``neighbours``,
    ``statistic`` (Gi* z-score, or local Moran's I), ``p_value`` (two-sided permutation), ``p_fdr``
    (Benjamini–Hochberg), ``category`` (``hot spot``/``cold spot``/``not significant`` for Gi*;
    ``HH``/``LL``/``HL``/``LH``/``not significant`` for Moran), and ``quadrant`` for Moran.
    Areas without a value are left out and listed in the notes.
    """
    from esda.getisord import G_Local
    from esda.moran import Moran_Local
    from scipy.special import comb
    from scipy.stats import false_discovery_control

    from geotarget.analysis.contiguity import contiguity
    from geotarget.core.crs import to_bng

    if method not in METHODS:
        raise SchemaError(f"method was {method!r} but is expected to be one of {list(METHODS)}")
    if islands not in ISLANDS:
        raise SchemaError(f"islands was {islands!r} but is expected to be one of {list(ISLANDS)}")
    if not 0 < alpha < 1:
        raise SchemaError(f"alpha was {alpha} but is expected to be between 0 and 1 (e.g. 0.05)")
    notes: list[str] = []
    vals = pd.to_numeric(values, errors="coerce").astype(float)
    lost = areas.index.difference(vals.dropna().index)
    if len(lost):
        notes.append(f"{len(lost):,} area(s) without a value left out: {', '.join(map(str, lost[:5]))}"
                     + (" ..." if len(lost) > 5 else ""))
        log.warning("%s", notes[-1])
    keep = areas.index[codes_in(areas.index, vals.dropna().index)]
    g = to_bng(areas.loc[keep]).sort_index()
    y_all = vals.reindex(g.index)
    if y_all.nunique() <= 1:
        raise SchemaError(f"the indicator is constant across the {len(g):,} areas: there is nothing to find")
    c = contiguity(g, snap=snap, connect_islands=islands == "link")
    excluded = list(c.islands) if islands == "exclude" else []
    if excluded:
        notes.append(f"{len(excluded)} island(s) with no neighbour left out of the test: {', '.join(excluded[:5])}")
        c = c.subset(g.index.difference(excluded))
        g = g.loc[c.ids]
    notes.append("Neighbours: " + c.report())
    n = c.n
    if n < 3:
        raise SchemaError(f"only {n} area(s) to test; hot spots need at least 3 neighbouring areas")
    card = np.bincount(c.focal, minlength=n)
    max_card = int(card.max()) if len(card) else 0
    if permutations in ("auto", None):
        perms = auto_permutations(n, alpha)
    else:
        perms = int(permutations)
        if perms < 99:
            raise SchemaError(f"permutations was {perms}; expected at least 99 (more for FDR, see the docs)")
        if 2 / (perms + 1) > alpha:
            raise SchemaError(f"with {perms} permutations the smallest two-sided p-value is {2 / (perms + 1):.3g}, "
                              f"above alpha = {alpha}: no area could ever be significant; use more permutations")
    distinct = comb(n - 1, max_card, exact=True) if max_card else 0
    if distinct < perms:
        fewer = max(99, distinct // 10)
        raise SchemaError(f"too few areas ({n}) for {perms:,} permutations: with up to {max_card} neighbours there "
                          f"are only {distinct:,} distinct neighbour sets to draw; set "
                          f"`permutations` to {fewer:,} or fewer, or more areas").naming("permutations")
    need = required_permutations(n, alpha)
    k_min = min_discoveries(n, alpha, perms)
    notes.append(f"{perms:,} permutations (seed {seed}): smallest two-sided p = {2 / (perms + 1):.2g}; "
                 f"Benjamini–Hochberg at alpha = {alpha} over {n:,} areas can declare one area significant with "
                 f"≥ {need:,} permutations" + ("." if perms >= need else
                                             f"; with {perms:,}, at least {k_min:,} areas must reach the smallest "
                                             "p-value before any is declared (strong clustering usually does)."))
    y = y_all.loc[c.ids].to_numpy(float)
    w = c.graph  # esda takes a libpysal Graph
    with warnings.catch_warnings():
        # esda's conditional randomisation warns that its default `alternative` will change; G_Local
        # and Moran_Local do not let the caller choose it. Only that warning is hidden: the
        # two-sided p-value is computed below from esda's one-sided ("directed") one, and
        # tests/test_hotspots.py pins both the value and the warning's existence, so a change of
        # esda's default fails a test rather than passing silently. Any other warning reaches the caller.
        warnings.filterwarnings("ignore", message="The alternative hypothesis for conditional randomization",
                                category=DeprecationWarning)
        if method == "gi":
            shift = 0.0
            if y.min() <= 0:
                shift = 1.0 - y.min()
                notes.append(f"Indicator shifted by {shift:+.4g} to be positive for Gi* (z-scores and p-values "
                             "are unchanged by a shift).")
            res = G_Local(y + shift, w, transform="B", star=True, permutations=perms, keep_simulations=False,
                          n_jobs=n_jobs, seed=seed)
            stat = np.asarray(res.Zs, float)
        else:
            res = Moran_Local(y, w, transformation="r", permutations=perms, keep_simulations=False,
                              n_jobs=n_jobs, seed=seed)
            stat = np.asarray(res.Is, float)
    # esda stores pseudo p-values as float32: recover the count of draws at least as extreme, exactly
    extreme = np.rint(np.asarray(res.p_sim, float) * (perms + 1))
    p = np.minimum(1.0, 2 * extreme / (perms + 1))
    p_fdr = false_discovery_control(p, method="bh")
    sig = p_fdr <= alpha
    out = pd.DataFrame({"value": y, "neighbours": card[: n] if len(card) else 0, "statistic": stat,
                        "p_value": p, "p_fdr": p_fdr}, index=c.ids)
    if method == "gi":
        cat = np.where(sig & (stat > 0), "hot spot", np.where(sig & (stat < 0), "cold spot", NOT_SIGNIFICANT))
    else:
        quad = pd.Series(np.asarray(res.q, int), index=c.ids).map(QUADRANTS)
        out["quadrant"] = quad
        cat = np.where(sig, quad.to_numpy(), NOT_SIGNIFICANT)
    out["category"] = cat
    out["linked_to"] = None
    if len(c.links):
        out.loc[c.links["island"].to_numpy(), "linked_to"] = c.links["nearest"].to_numpy()
    if excluded:
        isl = pd.DataFrame({"value": vals.reindex(excluded).to_numpy(), "neighbours": 0, "category": ISLAND},
                           index=pd.Index(excluded))
        out = pd.concat([out, isl])
    out.index.name = "area_code"
    out = out.reindex(areas.index[codes_in(areas.index, out.index)])
    counts = out["category"].value_counts()
    notes.append("Result: " + ", ".join(f"{v:,} {k}" for k, v in counts.sort_index().items()) + ".")
    log.info("hot spots (%s): %s", method, notes[-1])
    return HotSpots(out, method, perms, alpha, notes)


def hotspot_layer(areas, result: HotSpots):
    """Return the tested areas with ``category`` (and statistics) to draw: a GeoDataFrame indexed by ``area_code``."""
    return area_layer(areas, result.table)


__all__ = ["HotSpots", "METHODS", "auto_permutations", "hotspot_layer", "hotspots", "min_discoveries",
           "required_permutations"]
