"""Asset deserts (deprived neighbourhoods far from an asset) and access KPIs for councils and wards.

An **asset desert** for category *c* is an LSOA in national IMD decile <= ``max_decile``
(default 2: the most deprived 20% in England) whose distance to the nearest asset of *c* is
more than the category's threshold. Default thresholds (:data:`DEFAULT_THRESHOLDS`) follow
the walkable-neighbourhood convention -- 800 m, about a 10-minute walk, for everyday services
(GP, pharmacy, park or playing field, primary-age school, community centre) and 1,600 m, about
20 minutes, for those used less often (library, leisure centre, food support, dentist). Pass your own.

The **KPIs** are the South Tees strategy's "average distance to nearest park, public garden or
playing field and average size", and the same for every category: for each council and ward,
the population-weighted mean distance from the LSOAs' population-weighted centroids to the
nearest asset, the share of residents beyond the threshold, the population-weighted mean size
of the nearest park, and the number, mean size and rate per 1,000 residents of the assets
inside the area. LSOAs are given to wards by the best-fit lookup (population-weighted centroid).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geotarget.core.errors import ParameterError, SchemaError
from geotarget.io.assets import CATEGORIES, CATEGORY_LABELS

log = logging.getLogger(__name__)

#: Distance (metres) beyond which an LSOA counts as far from a category of asset.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "gp": 800, "pharmacy": 800, "park": 800, "school": 800, "community_centre": 800,
    "library": 1600, "leisure": 1600, "food_support": 1600, "dentist": 1600,
}


def check_thresholds(thresholds: Mapping[str, float] | None, *, found=()) -> dict[str, float]:
    """Return ``thresholds`` (default :data:`DEFAULT_THRESHOLDS`) as a dict, checked.

    Each key must be an asset category (:data:`geotarget.io.assets.CATEGORIES`, or one of ``found``,
    the categories of the access table) and each value a finite distance of 0 m or more: a misspelt
    category is an error, never silently unassessed.

    Raises
    ------
    ParameterError
        An unknown category (naming the known ones).
    SchemaError
        A distance that is negative or not finite.
    """
    th = dict(DEFAULT_THRESHOLDS if thresholds is None else thresholds)
    known = [*CATEGORIES, *sorted(set(found) - set(CATEGORIES))]
    unknown = [c for c in th if c not in known]
    if unknown:
        raise ParameterError(f"thresholds has categor{'ies' if len(unknown) > 1 else 'y'} "
                             f"{', '.join(map(repr, unknown))} but its categories are expected to be among "
                             f"{', '.join(known)}", parameter="thresholds")
    bad = []
    for c, v in th.items():
        try:
            ok = np.isfinite(float(v)) and float(v) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            bad.append(c)
    if bad:
        got = ", ".join(f"{c}={th[c]!r}" for c in bad)
        raise SchemaError(f"thresholds must be distances of 0 m or more; got {got}")
    return th


def _categories(access: pd.DataFrame) -> list[str]:
    found = [c.removeprefix("dist_").removesuffix("_m") for c in access.columns
             if c.startswith("dist_") and c.endswith("_m")]
    return [c for c in CATEGORIES if c in found] + sorted(set(found) - set(CATEGORIES))


def asset_deserts(access: pd.DataFrame, lsoas: pd.DataFrame, *, max_decile: int = 2,
                  thresholds: Mapping[str, float] | None = None, decile_column: str = "imd_decile",
                  population_column: str = "pop_total") -> pd.DataFrame:
    """Deprived LSOAs beyond the distance threshold of each category, ranked by population.

    Parameters
    ----------
    access
        From :func:`geotarget.analysis.access.access_table`, indexed by ``lsoa_code``.
    lsoas
        The LSOAs with national ``imd_decile`` (and ``imd_rank``), population and names.
    max_decile
        LSOAs in national deciles 1..``max_decile`` are assessed (1 = most deprived 10%).
    thresholds
        ``{category: metres}``; default :data:`DEFAULT_THRESHOLDS` (categories without a
        threshold, e.g. ``other``, are not assessed).

    Returns
    -------
    pandas.DataFrame
        One row per (LSOA, category): ``rank`` (1 = most residents affected; ties by IMD rank,
        then code), ``rank_in_category``, ``lsoa_code, lsoa_name, lad_code, lad_name,
        ward_code, ward_name, imd_decile, imd_rank, population, category, category_label,
        distance_m, threshold_m, beyond_m``. An LSOA with no reachable asset has
        ``distance_m`` empty and counts as beyond.
    """
    if not 1 <= int(max_decile) <= 10:
        raise SchemaError(f"max_decile was {max_decile!r} but is expected to be a whole number from 1 to 10")
    for col in (decile_column, population_column):
        if col not in lsoas:
            raise SchemaError(f"the LSOAs have no {col!r} column; expected the IoD joined to LSOAs with population")
    th = check_thresholds(thresholds, found=_categories(access))
    deprived = lsoas.index[lsoas[decile_column] <= int(max_decile)].intersection(access.index)
    rows = []
    for c in _categories(access):
        if c not in th:
            continue
        d = access.loc[deprived, f"dist_{c}_m"]
        far = d.isna() | (d > float(th[c]))
        sel = d[far]
        info = lsoas.loc[sel.index]
        rows.append(pd.DataFrame({
            "lsoa_code": sel.index, "lsoa_name": info.get("lsoa_name"), "lad_code": info.get("lad_code"),
            "lad_name": info.get("lad_name"), "ward_code": info.get("ward_code"), "ward_name": info.get("ward_name"),
            "imd_decile": info[decile_column].to_numpy(), "imd_rank": info.get("imd_rank"),
            "population": info[population_column].to_numpy(), "category": c,
            "category_label": CATEGORY_LABELS.get(c, c), "distance_m": sel.round(1).to_numpy(),
            "threshold_m": float(th[c]), "beyond_m": (sel - float(th[c])).round(1).to_numpy(),
        }).reset_index(drop=True))
    cols = ["rank", "rank_in_category", "lsoa_code", "lsoa_name", "lad_code", "lad_name", "ward_code", "ward_name",
            "imd_decile", "imd_rank", "population", "category", "category_label", "distance_m", "threshold_m",
            "beyond_m"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.concat(rows, ignore_index=True)
    rank_cols = ["population", "imd_rank", "lsoa_code", "category"] if out["imd_rank"].notna().all() else \
        ["population", "lsoa_code", "category"]
    out = out.sort_values(rank_cols, ascending=[False] + [True] * (len(rank_cols) - 1), kind="mergesort")
    out = out.reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["rank_in_category"] = out.groupby("category").cumcount() + 1
    log.info("asset deserts: %d LSOA-category pairs in %d LSOAs (deciles 1-%d)", len(out), out["lsoa_code"].nunique(),
             max_decile)
    return out[cols]


def desert_layer(deserts: pd.DataFrame, lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the desert LSOAs to draw: one polygon per LSOA, with its categories and a plain-text ``popup``."""
    if deserts.empty:
        return gpd.GeoDataFrame({"lsoa_code": [], "categories": [], "popup": []}, geometry=[], crs=lsoas.crs)
    dist = deserts["distance_m"].map(lambda v: "none reachable" if pd.isna(v) else f"{v:,.0f} m")
    part = deserts["category_label"] + " " + dist + " (> " + deserts["threshold_m"].map("{:,.0f}".format) + " m)"
    g = deserts.assign(part=part).groupby("lsoa_code", sort=False)
    first = g.first()
    out = pd.DataFrame({
        "lsoa_name": first["lsoa_name"], "lad_name": first["lad_name"], "ward_name": first["ward_name"],
        "imd_decile": first["imd_decile"], "population": first["population"],
        "n_categories": g.size(), "categories": g["category_label"].agg(", ".join), "detail": g["part"].agg("; ".join),
    })
    out["popup"] = (out.index + " " + out["lsoa_name"].fillna("") + " — IMD decile " + out["imd_decile"].astype(str)
                    + ", population " + out["population"].map("{:,}".format) + " — far from: " + out["detail"])
    geo = lsoas.geometry.reindex(out.index)
    return gpd.GeoDataFrame(out.rename_axis("lsoa_code").reset_index(), geometry=geo.to_numpy(), crs=lsoas.crs)


def access_kpis(access: pd.DataFrame, lsoas: pd.DataFrame, *, by: str = "lad", assets: gpd.GeoDataFrame | None = None,
                thresholds: Mapping[str, float] | None = None, population_column: str = "pop_total") -> pd.DataFrame:
    """Population-weighted access KPIs per council (``by="lad"``) or ward (``by="ward"``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``area_code``: ``area_name`` (and ``lad_name`` for wards), ``n_lsoas``,
        ``population``, then per category ``mean_dist_<c>_m`` (population-weighted mean distance
        to the nearest asset), ``pct_pop_beyond_<c>`` (share of residents beyond the threshold),
        ``mean_nearest_size_<c>_ha`` (population-weighted mean size of the nearest asset, for
        polygon assets such as parks) and, when ``assets`` (EPSG:27700 with ``category``) are
        given, ``n_<c>`` (assets inside the area, by their representative point; near-duplicates,
        the rows with a ``duplicate_of``, are counted once), ``per1k_<c>``, ``mean_size_<c>_ha``
        and ``duplicates_removed`` (near-duplicate rows inside the area left out of the counts).
    """
    if by not in ("lad", "ward"):
        raise SchemaError(f"by was {by!r} but is expected to be 'lad' or 'ward'")
    code, name = f"{by}_code", f"{by}_name"
    for col in (code, population_column):
        if col not in lsoas:
            raise SchemaError(f"the LSOAs have no {col!r} column")
    th = check_thresholds(thresholds, found=_categories(access))
    frame = access.join(lsoas[[code, population_column]], how="inner")
    pop = frame[population_column].astype(float)
    grp = frame[code]
    out = pd.DataFrame({"n_lsoas": grp.value_counts().sort_index(),
                        "population": pop.groupby(grp).sum().astype("int64")})
    names = lsoas.groupby(code)[name].first() if name in lsoas else pd.Series(dtype=object)
    out.insert(0, "area_name", names.reindex(out.index))
    if by == "ward" and "lad_name" in lsoas:
        out.insert(1, "lad_name", lsoas.groupby(code)["lad_name"].first().reindex(out.index))
    for c in _categories(access):
        d = frame[f"dist_{c}_m"]
        ok = d.notna()
        out[f"mean_dist_{c}_m"] = ((d * pop)[ok].groupby(grp[ok]).sum() / pop[ok].groupby(grp[ok]).sum()).round(1)
        if c in th:
            beyond = (d.isna() | (d > float(th[c]))).astype(float) * pop
            out[f"pct_pop_beyond_{c}"] = (100 * beyond.groupby(grp).sum() / pop.groupby(grp).sum()).round(1)
        if f"size_{c}_ha" in frame:
            s = frame[f"size_{c}_ha"]
            k = s.notna()
            out[f"mean_nearest_size_{c}_ha"] = ((s * pop)[k].groupby(grp[k]).sum()
                                                / pop[k].groupby(grp[k]).sum()).round(2)
    if assets is not None:
        out = out.join(_assets_in_areas(assets, lsoas, code, out["population"]))
    out.index.name = "area_code"
    return out


def _assets_in_areas(assets: gpd.GeoDataFrame, lsoas: gpd.GeoDataFrame, code: str, population: pd.Series):
    if not isinstance(lsoas, gpd.GeoDataFrame):
        raise SchemaError("counting assets in areas needs the LSOA polygons (a GeoDataFrame)")
    pts = gpd.GeoDataFrame(assets[["category"]].assign(area_ha=assets.get("area_ha")),
                           geometry=assets.geometry.representative_point(), crs=assets.crs)
    j = gpd.sjoin(pts, lsoas[[code, "geometry"]].to_crs(assets.crs), how="inner", predicate="within")
    j = j[~j.index.duplicated(keep="first")]
    # each near-duplicate group counts once, at its first row (io.assets.flag_near_duplicates)
    dup = (assets["duplicate_of"].notna() if "duplicate_of" in assets
           else pd.Series(False, index=assets.index)).reindex(j.index).to_numpy(bool)
    removed = j.loc[dup, code].value_counts().reindex(population.index, fill_value=0).astype("int64")
    j = j[~dup]
    cols = {}
    for c in [c for c in CATEGORIES if c in set(j["category"])]:
        sub = j[j["category"] == c]
        n = sub.groupby(code).size().reindex(population.index, fill_value=0)
        cols[f"n_{c}"] = n
        cols[f"per1k_{c}"] = (1000 * n / population).round(3)
        if sub["area_ha"].notna().any():
            cols[f"mean_size_{c}_ha"] = sub.groupby(code)["area_ha"].mean().reindex(population.index).round(2)
    cols["duplicates_removed"] = removed
    return pd.DataFrame(cols, index=population.index)


__all__ = ["DEFAULT_THRESHOLDS", "access_kpis", "asset_deserts", "desert_layer"]
