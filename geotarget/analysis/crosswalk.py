"""Crosswalks from LSOAs to larger areas: lookups (LAD, MSOA, ward) and custom polygons.

A crosswalk is a table ``lsoa_code, area_code, share``: the share of each LSOA's
population that belongs to each area. Best fit gives every LSOA one area with share 1;
apportionment splits straddling LSOAs by the population points (postcodes, output areas)
that fall in each area, so an LSOA entirely covered by areas keeps its whole population.
Build one once and reuse it (as in tobler).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from geotarget.core.crs import BNG, to_bng
from geotarget.core.errors import SchemaError

log = logging.getLogger(__name__)

METHODS = ("best_fit", "apportion")
#: Population points this close (metres) to an area but outside every area count for the nearest one:
#: generalised (20 m) boundaries leave some coastal and edge postcodes just outside.
SNAP = 100.0


def crosswalk_from_codes(codes: pd.Series) -> pd.DataFrame:
    """Best-fit crosswalk from a Series LSOA code -> area code (e.g. ``lsoas["lad_code"]``)."""
    blank = codes.isna() | (codes.astype(str).str.strip() == "")
    if blank.any():
        raise SchemaError(f"{int(blank.sum()):,} LSOAs have no area code, e.g. "
                          f"{', '.join(map(str, codes.index[blank][:5]))}")
    return pd.DataFrame({"lsoa_code": codes.index.to_numpy(), "area_code": codes.to_numpy(), "share": 1.0})


def crosswalk_to_areas(
    lsoas: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    method: str = "best_fit",
    centroids: gpd.GeoDataFrame | None = None,
    points: gpd.GeoDataFrame | None = None,
    allow_empty: bool = False,
) -> tuple[pd.DataFrame, pd.Series]:
    """Crosswalk from LSOA polygons to custom area polygons.

    Parameters
    ----------
    lsoas
        LSOA polygons indexed by ``lsoa_code`` (EPSG:27700).
    areas
        Area polygons indexed by ``area_code`` (as from :func:`read_areas`).
    method
        ``"best_fit"`` (default): each LSOA goes wholly to the area containing its
        population-weighted centroid (``centroids``; else a point inside the polygon).
        ``"apportion"``: an LSOA's population is split by the share of its population
        ``points`` (a ``lsoa_code`` column and optional ``weight``; e.g. residential
        postcodes) in each area; LSOAs without points are split by area.
    allow_empty
        Accept areas that receive no LSOA (``DataSource.partial``; the caller lists them as empty rows).
        By default such an area is an error naming it: it would otherwise vanish from the results.

    Returns
    -------
    (crosswalk, straddling)
        The crosswalk, and a boolean Series (by ``lsoa_code``) of LSOAs whose polygon
        crosses an area boundary (more than 1% of it outside the area it is given to).

    Raises
    ------
    SchemaError
        Areas that receive no LSOA (unless ``allow_empty``), named with the count of LSOAs.
    """
    if method not in METHODS:
        raise SchemaError(f"method was {method!r} but is expected to be one of {list(METHODS)}")
    lsoas = to_bng(lsoas, source="lsoas")
    areas = to_bng(areas, source="areas")
    # Overlay once: what part of each LSOA lies in each area.
    inter = gpd.overlay(
        gpd.GeoDataFrame({"lsoa_code": lsoas.index.to_numpy()}, geometry=lsoas.geometry.to_numpy(), crs=BNG),
        gpd.GeoDataFrame({"area_code": areas.index.to_numpy()}, geometry=areas.geometry.to_numpy(), crs=BNG),
        how="intersection", keep_geom_type=True,
    )
    inter["frac"] = inter.geometry.area.to_numpy() / lsoas.geometry.area.reindex(inter["lsoa_code"]).to_numpy()
    inter = inter[inter["frac"] > 1e-6]
    biggest = inter.groupby("lsoa_code")["frac"].max().reindex(lsoas.index, fill_value=0.0)
    straddling = biggest < 0.99

    if method == "best_fit":
        if centroids is not None:
            pts = centroids.geometry.reindex(lsoas.index)
            pts = pts.where(pts.notna(), lsoas.geometry.representative_point())
        else:
            pts = lsoas.geometry.representative_point()
        gp = gpd.GeoDataFrame({"lsoa_code": lsoas.index.to_numpy()}, geometry=pts.to_numpy(), crs=BNG)
        j = gpd.sjoin(gp, areas[["geometry"]].reset_index(), how="inner", predicate="within")
        j = j.drop_duplicates("lsoa_code")
        cw = pd.DataFrame({"lsoa_code": j["lsoa_code"].to_numpy(), "area_code": j["area_code"].to_numpy(),
                           "share": 1.0})
    else:
        shares = inter[["lsoa_code", "area_code", "frac"]].rename(columns={"frac": "share"})
        if points is not None:
            shares = _point_shares(points, areas, lsoas.index, fallback=shares)
        cw = shares.reset_index(drop=True)
    cw = cw.sort_values(["area_code", "lsoa_code"]).reset_index(drop=True)
    empty = empty_areas(areas, cw)
    if len(empty) and not allow_empty:
        src = areas.attrs.get("source", "the custom areas")
        names = areas["area_name"] if "area_name" in areas.columns else pd.Series(areas.index, index=areas.index)
        shown = ", ".join(f"{c!r}" + (f" ({names[c]})" if str(names[c]) != str(c) else "") for c in empty[:10])
        raise SchemaError(
            f"{src}: {len(empty):,} of the {len(areas):,} areas receive no LSOA of the {len(lsoas):,} in the study "
            f"({method.replace('_', '-')}): {shown}{' ...' if len(empty) > 10 else ''}; expected every area to "
            "hold at least one LSOA's population. Are the areas inside the study's councils and in the right CRS? "
            "Use the apportion `method` for areas smaller than an LSOA, or proceed with `partial` (a study's [data] "
            "partial = true) to list them as empty rows").naming("method", "partial")
    log.info("crosswalk (%s): %d LSOAs to %d areas; %d LSOAs straddle area boundaries", method,
             cw["lsoa_code"].nunique(), cw["area_code"].nunique(), int(straddling.sum()))
    return cw, straddling


def empty_areas(areas: gpd.GeoDataFrame, crosswalk: pd.DataFrame) -> pd.Index:
    """Return the codes of ``areas`` that receive no share of any LSOA in ``crosswalk``."""
    got = crosswalk.loc[crosswalk["share"] > 0, "area_code"]
    return areas.index[~areas.index.isin(got)]


def _point_shares(points: gpd.GeoDataFrame, areas, lsoa_index, *, fallback: pd.DataFrame) -> pd.DataFrame:
    if "lsoa_code" not in points.columns:
        raise SchemaError("apportionment points need a 'lsoa_code' column (the LSOA each point belongs to)")
    pts = to_bng(points, source="points")
    pts = pts[pts["lsoa_code"].isin(lsoa_index)]
    weight = pts["weight"].to_numpy(dtype=float) if "weight" in pts.columns else np.ones(len(pts))
    pts = gpd.GeoDataFrame({"lsoa_code": pts["lsoa_code"].to_numpy(), "weight": weight},
                           geometry=pts.geometry.to_numpy(), crs=BNG)
    j = gpd.sjoin(pts, areas[["geometry"]].reset_index(), how="left", predicate="within")
    j = j[~j.index.duplicated()]  # a point in overlapping areas counts once
    lost = j["area_code"].isna()
    if lost.any():  # points just outside generalised coastlines and edges: nearest area within SNAP metres
        near = gpd.sjoin_nearest(j.loc[lost, ["lsoa_code", "weight", "geometry"]], areas[["geometry"]].reset_index(),
                                 how="left", max_distance=SNAP)
        near = near[~near.index.duplicated()]
        j.loc[lost, "area_code"] = near["area_code"]
    j["area_code"] = j["area_code"].fillna("")  # outside every area
    w = j.groupby(["lsoa_code", "area_code"])["weight"].sum()
    share = (w / w.groupby(level="lsoa_code").transform("sum")).rename("share").reset_index()
    share = share[share["area_code"] != ""]
    covered = set(pts["lsoa_code"])
    rest = fallback[~fallback["lsoa_code"].isin(covered)]
    if len(rest):
        log.info("%d LSOAs have no population points; split by area instead", rest["lsoa_code"].nunique())
    return pd.concat([share, rest], ignore_index=True)


def straddling_population(crosswalk: pd.DataFrame, straddling: pd.Series, population: pd.Series) -> pd.Series:
    """Per area, the population that came from LSOAs straddling an area boundary."""
    cw = crosswalk.assign(pop=population.reindex(crosswalk["lsoa_code"]).to_numpy() * crosswalk["share"],
                          s=straddling.reindex(crosswalk["lsoa_code"]).fillna(False).to_numpy())
    return cw[cw["s"]].groupby("area_code")["pop"].sum().reindex(cw["area_code"].unique(), fill_value=0.0)
