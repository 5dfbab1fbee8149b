"""Deprivation profiles for areas bigger than an LSOA: MHCLG's five summary measures, for any geography.

For an area with LSOAs i (population p_i, national rank r_i, N LSOAs in England,
reversed rank R_i = N + 1 - r_i), as in the IoD "File 10" local-authority summaries:

* **average score** -- sum p_i score_i / sum p_i;
* **average rank** -- sum p_i R_i / sum p_i (higher = more deprived);
* **proportion of LSOAs in the most deprived 10% nationally** -- a count share (not weighted);
* **extent** -- sum w(q_i) p_i / sum p_i with the national percentile q_i = ceil(100 r_i / N),
  w = 1 for q <= 10, falling linearly from 0.95 at q = 11 to 0.05 at q = 30, 0 above;
* **local concentration** -- the population-weighted average reversed rank of the area's
  most deprived LSOAs that together hold exactly 10% of its population (the LSOA that
  crosses the 10% line counts for the part of its population needed to reach it);
* the **rank** of each measure among the areas in the result (1 = most deprived).

The Employment domain is weighted by working-age population when the input has it.
Percentiles always come from the **national** ranks in the input: a subset is never
re-ranked locally.

When an LSOA is split between areas (apportionment of custom areas), it enters each area
as a *piece* carrying a share of its population; counts of LSOAs are then fractional.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from geotarget.core import domains as D
from geotarget.core.errors import SchemaError
from geotarget.core.vintages import Vintage, get_vintage

log = logging.getLogger(__name__)

#: The measures, in output order, and whether a higher value is more deprived (all are).
MEASURES = ("average_score", "average_rank", "prop_most_deprived_10", "extent", "local_concentration")
DOMAIN_KEYS = ("imd", *(d.key for d in D.DOMAINS))


def extent_weight(percentile: np.ndarray) -> np.ndarray:
    """Return the IoD extent weight for national percentiles 1-100 (1 = most deprived).

    >>> extent_weight(np.array([1, 10, 11, 20, 30, 31])).round(4).tolist()
    [1.0, 1.0, 0.95, 0.5237, 0.05, 0.0]
    """
    q = np.asarray(percentile, dtype=float)
    return np.where(q <= 10, 1.0, np.where(q <= 30, 0.95 - (q - 11) * 0.9 / 19, 0.0))


def columns(domain: str) -> list[str]:
    """Output columns for one domain, in contract order."""
    out = []
    for m in MEASURES:
        out += [f"{domain}_{m}", f"{domain}_rank_{m}"]
    return out


def _vintage_of(lsoas: pd.DataFrame, vintage) -> Vintage:
    if vintage is not None:
        return get_vintage(vintage)
    raise SchemaError("vintage was not given: pass vintage=2019 or 2025 (the IoD release fixes N, the number of "
                      "LSOAs nationally; read_imd returns it beside the frame, geotarget.load as data.vintage)")


def _check(lsoas: pd.DataFrame, v: Vintage) -> list[str]:
    if "imd_rank" not in lsoas.columns:
        raise SchemaError(
            "the LSOA data has no national ranks (imd_rank): summary measures need the national ranks "
            "published by MHCLG; geotarget does not compute local percentiles from a subset"
        )
    if "pop_total" not in lsoas.columns:
        raise SchemaError("the LSOA data has no population (pop_total): add the IoD population denominators "
                          "(read_population + add_population) before aggregating")
    if lsoas["pop_total"].isna().any():
        bad = lsoas.index[lsoas["pop_total"].isna()]
        raise SchemaError(f"{len(bad):,} LSOAs have no population, e.g. {', '.join(map(str, bad[:5]))}")
    present = [k for k in DOMAIN_KEYS if f"{k}_rank" in lsoas.columns]
    for k in present:
        r = lsoas[f"{k}_rank"]
        if r.isna().any() or (r < 1).any() or (r > v.n_lsoas).any():
            raise SchemaError(f"{k}_rank: national ranks must lie in 1..{v.n_lsoas:,} for {v.name}; "
                              f"found {r.min()}..{r.max()} with {int(r.isna().sum())} blank")
    return present


def summary_measures(
    lsoas: pd.DataFrame,
    crosswalk: pd.DataFrame,
    *,
    vintage: int | str | None = None,
    names: pd.Series | None = None,
) -> pd.DataFrame:
    """Compute the five measures and their ranks for every area in ``crosswalk``.

    Parameters
    ----------
    lsoas
        Indexed by ``lsoa_code``, with ``pop_total`` (and ``pop_working_age``), national
        ``<domain>_rank`` columns and, where published, ``<domain>_score`` and ``_decile``.
    crosswalk
        Columns ``lsoa_code, area_code, share``: the share of each LSOA's population that
        belongs to each area (1 for best fit).
    names
        Area code -> name, optional.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``area_code`` (sorted), columns ``area_name, n_lsoas, population`` then
        :func:`columns` for each domain present. Score measures of a domain without scores
        are left empty.
    """
    v = _vintage_of(lsoas, vintage)
    present = _check(lsoas, v)
    missing = pd.Index(crosswalk["lsoa_code"]).difference(lsoas.index)
    if len(missing):
        raise SchemaError(f"{len(missing):,} LSOAs in the crosswalk are not in the LSOA data, "
                          f"e.g. {', '.join(missing[:5])}")
    cw = crosswalk[crosswalk["share"] > 0]
    piece = lsoas.loc[cw["lsoa_code"].to_numpy()]
    area = cw["area_code"].to_numpy()
    share = cw["share"].to_numpy(dtype=float)
    pop = piece["pop_total"].to_numpy(dtype=float) * share
    wa = piece["pop_working_age"].to_numpy(dtype=float) * share if "pop_working_age" in piece else None

    codes, inverse = np.unique(area, return_inverse=True)
    n_areas = len(codes)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(inverse, weights=values, minlength=n_areas)

    out = pd.DataFrame(index=pd.Index(codes, name="area_code"))
    out["area_name"] = names.reindex(codes).to_numpy() if names is not None else None
    out["n_lsoas"] = total(share)
    out["population"] = total(pop)
    if np.allclose(share, 1.0):
        out["n_lsoas"] = out["n_lsoas"].round().astype("int64")
    if np.allclose(pop, np.round(pop)):
        out["population"] = out["population"].round().astype("int64")

    for key in present:
        w = wa if key == "employment" and wa is not None else pop
        sum_w = total(w)
        rank = piece[f"{key}_rank"].to_numpy(dtype=float)
        rev = v.n_lsoas + 1 - rank
        res: dict[str, np.ndarray] = {}
        if f"{key}_score" in piece:
            res["average_score"] = total(w * piece[f"{key}_score"].to_numpy(dtype=float)) / sum_w
        else:
            res["average_score"] = np.full(n_areas, np.nan)
        res["average_rank"] = total(w * rev) / sum_w
        if f"{key}_decile" in piece:
            d1 = piece[f"{key}_decile"].to_numpy() == 1
        else:
            d1 = np.ceil(10 * rank / v.n_lsoas) == 1
        res["prop_most_deprived_10"] = total(share * d1) / total(share)
        pct = np.ceil(100 * rank / v.n_lsoas)
        res["extent"] = total(w * extent_weight(pct)) / sum_w
        res["local_concentration"] = _local_concentration(inverse, n_areas, rank, rev, w, sum_w)
        for m in MEASURES:
            vals = res[m]
            out[f"{key}_{m}"] = vals
            ranks = pd.Series(vals).rank(ascending=False, method="min")
            out[f"{key}_rank_{m}"] = ranks.astype("Int64").to_numpy()
    return out


def _local_concentration(inverse, n_areas, rank, rev, w, sum_w) -> np.ndarray:
    """Population-weighted mean reversed rank of each area's most deprived 10% of people."""
    order = np.lexsort((rank, inverse))  # by area, then most deprived first
    a, wv, rv = inverse[order], w[order], rev[order]
    cum = np.cumsum(wv)
    start = np.r_[0, np.flatnonzero(np.diff(a)) + 1]
    offset = np.repeat(cum[start] - wv[start], np.diff(np.r_[start, len(a)]))
    before = cum - wv - offset  # people in more deprived LSOAs of the same area
    target = 0.1 * sum_w[a]
    used = np.clip(target - before, 0, wv)
    num = np.bincount(a, weights=used * rv, minlength=n_areas)
    den = np.bincount(a, weights=used, minlength=n_areas)
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


TARGETS = ("lad", "msoa", "ward", "custom")


def aggregate(
    lsoas: pd.DataFrame,
    *,
    to: str,
    lookup: pd.DataFrame | None = None,
    areas=None,
    method: str = "best_fit",
    centroids=None,
    points=None,
    vintage: int | str | None = None,
) -> pd.DataFrame:
    """Deprivation profile of every LAD, MSOA, ward or custom area.

    Parameters
    ----------
    lsoas
        LSOAs indexed by ``lsoa_code`` with national ranks, scores, deciles and population
        denominators (e.g. ``geotarget.load().lsoas``, or :func:`read_imd` +
        :func:`add_population`). Must be a GeoDataFrame for ``to="custom"``.
    to
        ``"lad"``, ``"msoa"``, ``"ward"`` or ``"custom"``.
    lookup
        LSOA -> area lookup (:func:`read_lsoa_lookup`) for ``lad``/``msoa``/``ward``; when
        omitted the ``<to>_code`` column of ``lsoas`` is used. Every LSOA must be in it.
    areas
        Custom area polygons (:func:`geotarget.io.areas.read_areas`) for ``to="custom"``.
    method, centroids, points
        How LSOAs straddling custom boundaries are assigned: see
        :func:`geotarget.analysis.crosswalk.crosswalk_to_areas`.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``area_code``: ``area_name, n_lsoas, population`` then, for the IMD and
        each domain, the five measures and their ranks (1 = most deprived among the areas in
        the result). Ward and MSOA results add ``lad_code``/``lad_name`` (the council holding
        most of the area's LSOAs); custom results add ``pop_from_straddling_lsoas``.

    Examples
    --------
    >>> from geotarget import load
    >>> lads = aggregate(load(vintage=2025).lsoas, to="lad", vintage=2025)
    >>> row = lads.loc["E06000002"]
    >>> row["area_name"], int(row["n_lsoas"]), int(row["imd_rank_average_score"])
    ('Middlesbrough', 90, 1)
    """
    from geotarget.analysis.crosswalk import crosswalk_from_codes, crosswalk_to_areas, straddling_population

    if to not in TARGETS:
        raise SchemaError(f"to was {to!r} but is expected to be one of {list(TARGETS)}")
    if to == "custom":
        if areas is None:
            raise SchemaError("to='custom' needs areas= (polygons with an id column; see read_areas)")
        cw, straddling = crosswalk_to_areas(lsoas, areas, method=method, centroids=centroids, points=points)
        names = areas["area_name"] if "area_name" in areas.columns else None
        out = summary_measures(lsoas, cw, vintage=vintage, names=names)
        out["pop_from_straddling_lsoas"] = straddling_population(cw, straddling, lsoas["pop_total"]).reindex(
            out.index, fill_value=0).round(1).to_numpy()
        outside = lsoas.index.difference(cw["lsoa_code"])
        if len(outside):
            log.warning("%d LSOAs (population %s) lie outside every custom area", len(outside),
                        f"{int(lsoas.loc[outside, 'pop_total'].sum()):,}")
        out.attrs = {"method": method, "to": to}
        return out

    source = lookup if lookup is not None else lsoas
    col = f"{to}_code"
    if col not in source.columns:
        where = "the lookup" if lookup is not None else "the LSOA data (pass lookup=)"
        raise SchemaError(f"no {col} column in {where}; columns are {list(source.columns)}")
    missing = lsoas.index.difference(source.index)
    if len(missing):
        raise SchemaError(f"{len(missing):,} LSOAs are not in the lookup, e.g. {', '.join(missing[:5])}; "
                          f"is it for LSOA {lsoas.attrs.get('lsoa_year', '2011 or 2021')}?")
    codes = source[col].reindex(lsoas.index)
    names = None
    if f"{to}_name" in source.columns:
        names = source[f"{to}_name"].reindex(lsoas.index).groupby(codes).first()
    out = summary_measures(lsoas, crosswalk_from_codes(codes), vintage=vintage, names=names)
    if to in ("ward", "msoa"):
        lad_src = source if "lad_code" in source.columns else lsoas
        if "lad_code" in lad_src.columns:
            lad = lad_src["lad_code"].reindex(lsoas.index)
            out["lad_code"] = _mode_by(lad, codes).reindex(out.index).to_numpy()
            if "lad_name" in lad_src.columns:
                lad_names = lad_src["lad_name"].reindex(lsoas.index).groupby(lad).first()
                out["lad_name"] = lad_names.reindex(out["lad_code"]).to_numpy()
    out.attrs = {"to": to, "n_areas": len(out)}
    return out


def _mode_by(values: pd.Series, groups: pd.Series) -> pd.Series:
    """Return the most common value in each group (ties: the smallest), indexed by group.

    This is what ``values.groupby(groups).agg(lambda s: s.mode().iloc[0])`` gives, in a few vectorised steps
    instead of one Python call per group (seconds for England's 6,800 wards).
    """
    pairs = pd.DataFrame({"g": groups.to_numpy(), "v": values.to_numpy()}).dropna()
    counts = pairs.groupby(["g", "v"]).size().reset_index(name="n")
    counts = counts.sort_values(["g", "n", "v"], ascending=[True, False, True], kind="mergesort")
    return counts.drop_duplicates("g").set_index("g")["v"]


def in_most_deprived(result: pd.DataFrame, *, domain: str = "imd", fraction: float = 0.1,
                     by: str = "lad_code") -> pd.DataFrame:
    """How many of each council's areas are in the most deprived ``fraction`` of the areas in ``result``.

    An area is in the most deprived 10% on a measure when its rank is at most
    ``floor(0.1 * number of areas)``. Returns one row per ``by`` value with ``areas`` and,
    for each measure, the count in the top ``fraction``.
    """
    if by not in result.columns:
        raise SchemaError(f"in_most_deprived: result has no {by!r} column")
    cut = int(np.floor(fraction * len(result)))
    flags = pd.DataFrame({m: result[f"{domain}_rank_{m}"] <= cut for m in MEASURES}, index=result.index)
    counts = flags.groupby(result[by]).sum().astype("int64")
    counts.insert(0, "areas", result.groupby(by).size())
    counts.attrs = {"cut": cut, "n_areas": len(result), "fraction": fraction}
    return counts
