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

For the Income and Employment domains, the **scale** -- the number of people income- or
employment-deprived, sum (score_i x denominator_i), with its rank (1 = the most people) -- as
MHCLG publishes for every district.

**Denominators.** Every measure is weighted by the total population except the Employment
domain's, which MHCLG weights by the working-age population (IoD2025: ages 18-66; IoD2019:
women 18-59, men 18-64) -- the population its score is a rate of. Without a working-age
population the employment measures fall back to the total population, with a warning in the
result (``attrs["warnings"]`` and an ``employment_denominator`` column) and no employment scale.
``attrs["denominators"]`` says which population weighted each domain.

**Which measures are official.** MHCLG publishes (IoD2019 and IoD2025 Files 10-14, for districts,
upper-tier authorities, ICBs, LRFs and other groupings) the five IMD measures; for each domain the
average score, average rank and proportion of LSOAs in the most deprived 10%; and the income and
employment scale. Extent and local concentration of a **domain** are geotarget extensions: the IMD
formulas applied to the domain's national ranks (see :data:`METHOD_NOTE`).

Groupings of districts (regions, Integrated Care Boards, Local Resilience Forums, combined
authorities, any grouping a user supplies) are summarised from their LSOAs, as MHCLG does: the
measures of a group are not averages of its districts' measures.

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
#: Domains with a scale measure (number of people deprived), and the population each score is a rate of.
SCALE_DOMAINS = {"income": "pop_total", "employment": "pop_working_age"}
#: Measures MHCLG publishes: the five for the IMD; for domains average score/rank, proportion and scale.
OFFICIAL = {"imd": MEASURES, **{k: ("average_score", "average_rank", "prop_most_deprived_10", "scale")
                                for k in DOMAIN_KEYS if k != "imd"}}
METHOD_NOTE = (
    "Measures as MHCLG defines them for its district and grouping summaries (IoD Files 10-14): population-weighted "
    "average score and average rank (reversed, higher = more deprived), proportion of LSOAs in the most deprived 10% "
    "nationally (a count share), extent (weights 1 for national percentiles 1-10 falling linearly to 0 by 31) and "
    "local concentration (the average rank of the most deprived LSOAs holding 10% of the area's population), and "
    "for income and employment the scale (people deprived = sum of LSOA score x denominator; from 3-dp published "
    "rates, so within a few people of MHCLG's counts). Official: the five IMD measures; for each domain the average "
    "score, average rank and proportion in the most deprived 10%; income and employment scale. geotarget extensions: "
    "domain extent and local concentration (the IMD formulas on domain ranks), and measures for areas MHCLG does "
    "not publish (wards, MSOAs, custom areas, user groupings). Employment is weighted by the working-age population "
    "(IoD2025 18-66), every other domain by the total population. Ranks: 1 = most deprived among the areas in the "
    "result."
)


def extent_weight(percentile: np.ndarray) -> np.ndarray:
    """Return the IoD extent weight for national percentiles 1-100 (1 = most deprived).

    >>> extent_weight(np.array([1, 10, 11, 20, 30, 31])).round(4).tolist()
    [1.0, 1.0, 0.95, 0.5237, 0.05, 0.0]
    """
    q = np.asarray(percentile, dtype=float)
    return np.where(q <= 10, 1.0, np.where(q <= 30, 0.95 - (q - 11) * 0.9 / 19, 0.0))


def columns(domain: str) -> list[str]:
    """Output columns for one domain, in contract order (``_scale`` last, for income and employment)."""
    out = []
    for m in (*MEASURES, "scale") if domain in SCALE_DOMAINS else MEASURES:
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
    if "pop_working_age" in lsoas.columns and lsoas["pop_working_age"].isna().any():
        bad = lsoas.index[lsoas["pop_working_age"].isna()]
        raise SchemaError(f"{len(bad):,} LSOAs have no working-age population (pop_working_age), e.g. "
                          f"{', '.join(map(str, bad[:5]))}; give it for every LSOA or for none")
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

    denominators: dict[str, str] = {}
    warnings: list[str] = []
    for key in present:
        w = wa if key == "employment" and wa is not None else pop
        denominators[key] = "working-age population" if w is wa else "total population"
        sum_w = total(w)
        rank = piece[f"{key}_rank"].to_numpy(dtype=float)
        rev = v.n_lsoas + 1 - rank
        res: dict[str, np.ndarray] = {}
        score = piece[f"{key}_score"].to_numpy(dtype=float) if f"{key}_score" in piece else None
        res["average_score"] = total(w * score) / sum_w if score is not None else np.full(n_areas, np.nan)
        res["average_rank"] = total(w * rev) / sum_w
        if f"{key}_decile" in piece:
            d1 = piece[f"{key}_decile"].to_numpy() == 1
        else:
            d1 = np.ceil(10 * rank / v.n_lsoas) == 1
        res["prop_most_deprived_10"] = total(share * d1) / total(share)
        pct = np.ceil(100 * rank / v.n_lsoas)
        res["extent"] = total(w * extent_weight(pct)) / sum_w
        res["local_concentration"] = _local_concentration(inverse, n_areas, rank, rev, w, sum_w)
        measures = list(MEASURES)
        if key in SCALE_DOMAINS:
            measures.append("scale")
            if score is None or (key == "employment" and wa is None):
                res["scale"] = np.full(n_areas, np.nan)
            else:
                res["scale"] = total(w * score)  # people deprived: the score is a rate of this population
        for m in measures:
            vals = res[m]
            out[f"{key}_{m}"] = vals
            ranks = pd.Series(vals).rank(ascending=False, method="min")
            out[f"{key}_rank_{m}"] = ranks.astype("Int64").to_numpy()
        if key == "employment" and wa is None:
            warnings.append(
                "WARNING: no working-age population in the data, so the Employment domain is weighted by the TOTAL "
                "population: employment average score, average rank, extent and local concentration differ from "
                "MHCLG's (which weight by the working-age population, IoD2025 ages 18-66) and their ranks can be "
                "wrong; the employment scale is left empty. Give a population file with the working-age population "
                "or counts by age (IoD File 7 denominators, ONS single-year estimates, or Census 2021 TS007A).")
    if warnings:
        out["employment_denominator"] = "total population (NOT working-age: employment measures approximate)"
    described = lsoas.attrs.get("denominators", {}) if isinstance(lsoas.attrs, dict) else {}
    out.attrs = {"denominators": denominators, "warnings": warnings,
                 "population_notes": {k: v for k, v in described.items() if k in ("pop_total", "pop_working_age")}}
    for w_ in warnings:
        log.warning("%s", w_)
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


#: Groupings of districts (and ICBs, built from LSOAs), as in MHCLG's Files 11-14.
GROUPINGS = ("region", "icb", "lrf", "cauth", "groups")
TARGETS = ("lad", "msoa", "ward", *GROUPINGS, "custom")
#: What each grouping is, for messages and notes.
GROUPING_LABELS = {"region": "region", "icb": "Integrated Care Board", "lrf": "Local Resilience Forum",
                   "cauth": "combined authority", "groups": "group"}
#: Groupings that must cover every district (or LSOA): a district missing from the lookup is an error.
_COMPLETE = ("region", "icb", "lrf")


def _empty_area_rows(out: pd.DataFrame, areas, cw: pd.DataFrame) -> list[str]:
    """Add the custom areas that receive no LSOA to ``out`` as empty rows (in place); return a note naming them."""
    from geotarget.analysis.crosswalk import empty_areas

    empty = empty_areas(areas, cw)
    if not len(empty):
        return []
    for code in empty:
        out.loc[code] = np.nan
        if "area_name" in out.columns:
            out.loc[code, "area_name"] = areas["area_name"].get(code, code) if "area_name" in areas.columns else code
        for col in ("n_lsoas", "population", "pop_from_straddling_lsoas"):
            if col in out.columns:
                out.loc[code, col] = 0
    for col in ("n_lsoas", "population"):
        if col in out.columns:
            out[col] = out[col].round().astype("int64")
    for col in out.columns:  # ranks stay whole numbers, blank for the empty areas
        if "rank" in col and pd.api.types.is_float_dtype(out[col]):
            whole = out[col].dropna()
            if (whole == whole.round()).all():
                out[col] = out[col].astype("Int64")
    note = (f"Partial coverage (partial = true): {len(empty):,} custom areas receive no LSOA and are listed with no "
            f"values: {', '.join(map(str, empty[:50]))}{' ...' if len(empty) > 50 else ''}")
    log.warning("%s", note)
    return [note]


def aggregate(
    lsoas: pd.DataFrame,
    *,
    to: str,
    lookup: pd.DataFrame | None = None,
    groups: pd.DataFrame | None = None,
    areas=None,
    method: str = "best_fit",
    centroids=None,
    points=None,
    vintage: int | str | None = None,
    partial: bool = False,
) -> pd.DataFrame:
    """Deprivation profile of every LAD, MSOA, ward, grouping of districts or custom area.

    Parameters
    ----------
    lsoas
        LSOAs indexed by ``lsoa_code`` with national ranks, scores, deciles and population
        denominators (e.g. ``geotarget.load().lsoas``, or :func:`read_imd` +
        :func:`add_population`). Must be a GeoDataFrame for ``to="custom"``.
    to
        ``"lad"``, ``"msoa"``, ``"ward"``, a grouping (``"region"``, ``"icb"``, ``"lrf"``,
        ``"cauth"`` combined authorities, ``"groups"`` any grouping) or ``"custom"``.
    lookup
        LSOA -> area lookup (:func:`read_lsoa_lookup`) for ``lad``/``msoa``/``ward``; when
        omitted the ``<to>_code`` column of ``lsoas`` is used. Every LSOA must be in it.
    groups
        For a grouping: :func:`geotarget.io.groups.read_groups` -- district -> group (indexed by
        ``lad_code``) or LSOA -> group (indexed by ``lsoa_code``, e.g. the ONS LSOA -> ICB
        lookup), columns ``group_code`` and ``group_name``. Without it a ``<to>_code`` (and
        ``<to>_name``) column of ``lsoas`` is used (``region_code`` for regions). Regions, ICBs and
        LRFs must cover every LSOA; LSOAs of districts in no combined authority or user group are
        left out and counted in ``attrs["notes"]``.
    areas
        Custom area polygons (:func:`geotarget.io.areas.read_areas`) for ``to="custom"``.
    method, centroids, points
        How LSOAs straddling custom boundaries are assigned: see
        :func:`geotarget.analysis.crosswalk.crosswalk_to_areas`.
    partial
        Custom areas that receive no LSOA are listed as empty rows (``n_lsoas`` 0, no measures) and in
        ``attrs["notes"]``; by default they are an error (``DataSource.partial``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``area_code``: ``area_name, n_lsoas, population`` then, for the IMD and
        each domain, the five measures and their ranks (1 = most deprived among the areas in
        the result), and for income and employment the scale and its rank. Ward and MSOA results add
        ``lad_code``/``lad_name`` (the council holding most of the area's LSOAs); groupings add
        ``n_lads``; custom results add ``pop_from_straddling_lsoas``. ``attrs``: ``denominators``
        (domain -> population that weighted it), ``warnings``, ``notes``, ``method_note`` (:data:`METHOD_NOTE`).

    Examples
    --------
    >>> from geotarget import load
    >>> lads = aggregate(load(vintage=2025).lsoas, to="lad", vintage=2025)
    >>> row = lads.loc["E06000002"]
    >>> row["area_name"], int(row["n_lsoas"]), int(row["imd_rank_average_score"])
    ('Middlesbrough', 90, 1)
    >>> lads.attrs["denominators"]["employment"]
    'working-age population'
    """
    from geotarget.analysis.crosswalk import crosswalk_from_codes, crosswalk_to_areas, straddling_population

    if to not in TARGETS:
        raise SchemaError(f"to was {to!r} but is expected to be one of {list(TARGETS)}")
    if to == "custom":
        if areas is None:
            raise SchemaError("to='custom' needs areas= (polygons with an id column; see read_areas)")
        cw, straddling = crosswalk_to_areas(lsoas, areas, method=method, centroids=centroids, points=points,
                                            allow_empty=partial)
        names = areas["area_name"] if "area_name" in areas.columns else None
        out = summary_measures(lsoas, cw, vintage=vintage, names=names)
        out["pop_from_straddling_lsoas"] = straddling_population(cw, straddling, lsoas["pop_total"]).reindex(
            out.index, fill_value=0).round(1).to_numpy()
        outside = lsoas.index.difference(cw["lsoa_code"])
        notes = _empty_area_rows(out, areas, cw)
        if len(outside):
            notes.append(f"{len(outside):,} LSOAs (population {int(lsoas.loc[outside, 'pop_total'].sum()):,}) lie "
                         "outside every custom area")
            log.warning("%s", notes[-1])
        out.attrs.update({"method": method, "to": to, "notes": notes, "method_note": METHOD_NOTE})
        return out
    if to in GROUPINGS:
        codes, names, notes = group_codes(lsoas, to, groups)
        out = summary_measures(lsoas, crosswalk_from_codes(codes), vintage=vintage, names=names)
        if "lad_code" in lsoas.columns:
            out["n_lads"] = lsoas["lad_code"].reindex(codes.index).groupby(codes).nunique().reindex(
                out.index).to_numpy()
        out.attrs.update({"to": to, "n_areas": len(out), "notes": notes, "method_note": METHOD_NOTE})
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
    out.attrs.update({"to": to, "n_areas": len(out), "notes": [], "method_note": METHOD_NOTE})
    return out


def group_codes(lsoas: pd.DataFrame, to: str, groups: pd.DataFrame | None) -> tuple[pd.Series, pd.Series, list[str]]:
    """Each LSOA's group code for grouping ``to``, the group names, and notes on LSOAs left out.

    ``groups`` is indexed by ``lad_code`` (a grouping of districts) or ``lsoa_code`` (a grouping
    of LSOAs such as ICBs); see :func:`aggregate`.
    """
    label = GROUPING_LABELS[to]
    if groups is None:
        col = f"{to}_code"
        if col not in lsoas.columns:
            raise SchemaError(_no_groups_message(to))
        codes = lsoas[col]
        name_col = f"{to}_name"
        table = pd.DataFrame({"group_code": codes, "group_name": lsoas[name_col] if name_col in lsoas else None})
        level = "lsoa"
    else:
        level = groups.index.name.removesuffix("_code") if groups.index.name else None
        if level not in ("lsoa", "lad"):
            raise SchemaError(f"groups must be indexed by lad_code or lsoa_code (read_groups); its index is "
                              f"{groups.index.name!r}")
        table = groups
        if level == "lad":
            if "lad_code" not in lsoas.columns:
                raise SchemaError(f"a grouping of districts needs each LSOA's district: the LSOA data has no "
                                  f"lad_code column (columns {list(lsoas.columns[:8])} ...)")
            codes = lsoas["lad_code"].map(groups["group_code"])
        else:
            codes = groups["group_code"].reindex(lsoas.index)
    codes = codes.where(codes.notna() & (codes.astype(str).str.strip() != ""))
    notes: list[str] = []
    lost = codes.isna()
    if lost.any():
        where = groups.attrs.get("source", "the grouping") if groups is not None else f"the {to}_code column"
        if level == "lad":
            lads = sorted(lsoas.loc[lost, "lad_code"].unique())
            what = (f"{len(lads):,} districts ({int(lost.sum()):,} LSOAs, population "
                    f"{int(lsoas.loc[lost, 'pop_total'].sum()):,}) are in no {label}: {', '.join(lads[:8])}"
                    + (" ..." if len(lads) > 8 else ""))
        else:
            what = (f"{int(lost.sum()):,} LSOAs (population {int(lsoas.loc[lost, 'pop_total'].sum()):,}) are in no "
                    f"{label}, e.g. {', '.join(lsoas.index[lost][:5])}")
        if to in _COMPLETE or lost.all():
            if lost.all():
                raise SchemaError(f"{where}: no LSOA of the data is in any {label} ({what}); is the lookup for these "
                                  "districts (or LSOAs) and their year?")
            raise SchemaError(f"{where}: {what}; every district is in one {label} (is the lookup for these "
                              "districts' year?)")
        notes.append(f"{what}: left out of the {label} summaries.")
        log.warning("%s", notes[-1])
        codes = codes[~lost]
    names = None
    if "group_name" in table.columns and table["group_name"].notna().any():
        names = table.dropna(subset=["group_code"]).groupby("group_code")["group_name"].first()
    return codes.astype(str), names, notes


def _no_groups_message(to: str) -> str:
    if to == "icb":
        return ("to='icb' needs an LSOA -> Integrated Care Board lookup (MHCLG builds ICB summaries from LSOAs): "
                "groups=read_groups('lsoa21_icb24_en.csv.gz') (CLI --groups FILE), e.g. the ONS 'LSOA (2021) to "
                "Sub-ICB Location to ICB to LAD' lookup")
    if to == "region":
        return ("to='region' needs each LSOA's region: a region_code column (England-wide data loaded with a regions "
                "lookup) or groups=read_groups(LAD -> region CSV) (CLI --groups FILE, e.g. the bundled "
                "data/lookups/lad_region_england.csv)")
    label = GROUPING_LABELS[to]
    return (f"to={to!r} needs a district -> {label} lookup: geotarget bundles none (no open LAD -> {label} table was "
            f"available to build one from); pass groups=read_groups(FILE) (CLI --groups FILE), a CSV "
            f"lad_code,group_code,group_name, e.g. from the ONS Open Geography Portal 'Local Authority District to "
            f"{'Local Resilience Forum' if to == 'lrf' else 'Combined Authority'}' lookup")


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
