"""Access to community assets from where people live: nearest distance, counts, floating catchments.

Origins are points -- normally LSOA population-weighted centroids (the bundled samples carry
them; Trafford's LSOA 2021 ones are a documented proxy) -- and assets are the located assets
of :func:`geotarget.io.assets.read_assets` (points or polygons) or the park targets of
:func:`park_targets`. For each category :func:`access_table` gives, per origin,

* ``dist_<c>_m`` -- distance to the nearest asset: straight line (to a polygon's edge, 0 inside
  it) by default, or along a street network (:mod:`geotarget.analysis.network`);
* ``nearest_<c>`` -- that asset's name (or id), and ``size_<c>_ha`` for polygon assets;
* ``n_<c>_<r>m`` -- the number of distinct assets within each radius ``r`` (near-duplicates and a
  park's several access points count once);
* ``per1k_<c>`` -- assets per 1,000 residents within reach: the two-step floating catchment
  (2SFCA, Luo and Wang 2003) with every asset's supply 1 and the ``catchment`` radius;
* ``sfca_<c>`` -- the same with each asset's ``capacity`` (e.g. GP list size), when given.

The 2SFCA counts only the population of the origins given: assets near the study area's edge
also serve people outside it, so their ratios there are optimistic.

Nearest-neighbour search is vectorised over a spatial index (a k-d tree for points, an
STRtree for other geometry). ``engine="dask"`` runs the same per-origin computation on
dask-geopandas partitions of the origins (e.g. tens of millions of address points), with
results identical to the in-memory engine for whole-number populations. For the nearest asset
alone from very many points (every residential postcode in England), see
:mod:`geotarget.analysis.nearest`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geotarget.analysis.network import NetworkRouter
from geotarget.core.crs import BNG, require_same_crs
from geotarget.core.errors import GeotargetError, SchemaError
from geotarget.core.progress import progress
from geotarget.io.assets import CATEGORIES
from geotarget.io.tables import normalise_text

log = logging.getLogger(__name__)

#: Default radii (metres) for counts: 5-, 10- and 20-minute walks.
RADII = (400, 800, 1600)
#: Default catchment radius (metres) of the floating catchment measures.
CATCHMENT_M = 1600.0
#: OS Open Greenspace site types counted as parks by default (the South Tees KPI's "park, public
#: garden or playing field").
DEFAULT_PARK_TYPES = ("Public Park Or Garden", "Playing Field")


# -- straight-line router -----------------------------------------------------------------------
class StraightLine:
    """Nearest and within-distance queries in a straight line, on a spatial index of ``geoms``."""

    def __init__(self, geoms: np.ndarray):
        self.geoms = np.asarray(geoms, dtype=object)
        self.points_only = bool(len(self.geoms)) and bool((shapely.get_type_id(self.geoms) == 0).all())
        if self.points_only:
            self.xy = shapely.get_coordinates(self.geoms)
            self.kd = cKDTree(self.xy)
        else:
            self.tree = shapely.STRtree(self.geoms)

    def nearest(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance to, and index of, the nearest geometry for each origin ``xy`` (n, 2)."""
        if self.points_only:
            d, j = self.kd.query(xy, k=1)
            return np.asarray(d, float), np.asarray(j, np.int64)
        pts = shapely.points(xy)
        (io, jt), d = self.tree.query_nearest(pts, return_distance=True, all_matches=False)
        dist, idx = np.full(len(xy), np.inf), np.full(len(xy), -1, np.int64)
        dist[io], idx[io] = d, jt
        return dist, idx

    def pairs(self, xy: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (origin, geometry, distance) with distance <= ``distance``, sorted by origin then geometry."""
        if self.points_only:
            m = cKDTree(xy).sparse_distance_matrix(self.kd, distance * (1 + 1e-9) + 1e-6, output_type="ndarray")
            order = np.lexsort((m["j"], m["i"]))
            i, j = m["i"][order].astype(np.int64), m["j"][order].astype(np.int64)
            d = np.hypot(xy[i, 0] - self.xy[j, 0], xy[i, 1] - self.xy[j, 1])
        else:
            pts = shapely.points(xy)
            i, j = self.tree.query(pts, predicate="dwithin", distance=distance)
            d = shapely.distance(pts[i], self.geoms[j])
            order = np.lexsort((j, i))
            i, j, d = i[order], j[order], d[order]
        keep = d <= distance
        return i[keep], j[keep], d[keep]


# -- inputs -------------------------------------------------------------------------------------
def _origin_xy(origins: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    geoms = origins.geometry if isinstance(origins, gpd.GeoDataFrame) else origins
    types = shapely.get_type_id(geoms.to_numpy())
    if len(geoms) and not (types == 0).all():
        raise SchemaError(f"origins must be points (e.g. population-weighted centroids); found "
                          f"{sorted(set(geoms.geom_type))}. Use .representative_point() for polygons.")
    return shapely.get_coordinates(geoms.to_numpy())


@dataclass(frozen=True)
class _Category:
    """The targets of one category, ready to query."""

    name: str
    router: object
    key: np.ndarray  # target -> distinct asset (near-duplicates and a park's access points share one)
    n_keys: int
    label: np.ndarray  # per target: the name shown as ``nearest_<c>``
    size: np.ndarray | None  # per target: area (ha) of the asset, for polygon assets / parks
    supply: np.ndarray | None  # per key: capacity


def _prepare(assets: gpd.GeoDataFrame, category: str, *, network, capacity_column: str | None,
             dedupe: bool) -> _Category:
    sub = assets[assets["category"] == category]
    ids = sub["asset_id"].astype(str) if "asset_id" in sub else pd.Series(np.arange(len(sub)).astype(str),
                                                                             index=sub.index)
    if dedupe and "duplicate_of" in sub:
        ids = sub["duplicate_of"].where(sub["duplicate_of"].notna(), ids).astype(str)
    key, uniques = pd.factorize(ids, sort=False)
    names = sub["name"].astype(str) if "name" in sub else ids
    label = np.where(names.to_numpy() != "", names.to_numpy(), ids.to_numpy()).astype(object)
    size = sub["area_ha"].to_numpy(float) if "area_ha" in sub and sub["area_ha"].notna().any() else None
    supply = None
    if capacity_column:
        if capacity_column not in sub:
            raise SchemaError(f"assets have no column {capacity_column!r} for the capacity-weighted catchment score")
        cap = pd.Series(sub[capacity_column].to_numpy(float)).groupby(key).first().to_numpy()
        supply = cap if np.isfinite(cap).any() else None
    geoms = sub.geometry.to_numpy()
    router = NetworkRouter(network, np.asarray(geoms, dtype=object)) if network is not None else StraightLine(geoms)
    return _Category(category, router, key.astype(np.int64), len(uniques), label, size, supply)


def _distinct(i: np.ndarray, k: np.ndarray, d: np.ndarray, n_keys: int, n_targets: int):
    """Collapse (origin, target) pairs to (origin, distinct asset) with the smaller distance."""
    if not len(i) or n_keys == n_targets:  # every target its own asset: nothing to collapse
        return i, k, d
    order = np.lexsort((d, k, i))
    i, k, d = i[order], k[order], d[order]
    first = np.ones(len(i), dtype=bool)
    first[1:] = (i[1:] != i[:-1]) | (k[1:] != k[:-1])
    return i[first], k[first], d[first]


# -- the per-partition passes (the in-memory engine is one partition) ---------------------------
def _pass1(xy: np.ndarray, pop: np.ndarray | None, cats: list[_Category], radii: Sequence[float],
           catchment: float, keep: dict | None = None) -> tuple[dict, dict]:
    """Nearest, counts, and each asset's population within the catchment (partial sums).

    With ``keep`` (a dict), the (origin, asset) pairs within the catchment are stored in it for
    :func:`_pass2`, saving a second search.
    """
    cols: dict[str, np.ndarray] = {}
    demand: dict[str, np.ndarray] = {}
    reach = max([*radii, catchment if pop is not None else 0.0])
    for c in progress(cats, desc="nearest assets", unit="category"):
        d, j = c.router.nearest(xy)
        found = j >= 0
        cols[f"dist_{c.name}_m"] = np.where(found & np.isfinite(d), d, np.nan)
        cols[f"nearest_{c.name}"] = np.where(found, c.label[np.where(found, j, 0)], None)
        if c.size is not None:
            cols[f"size_{c.name}_ha"] = np.where(found, c.size[np.where(found, j, 0)], np.nan)
        i, t, dd = c.router.pairs(xy, reach)
        i, k, dd = _distinct(i, c.key[t], dd, c.n_keys, len(c.key))
        for r in radii:
            cols[f"n_{c.name}_{r:g}m"] = np.bincount(i[dd <= r], minlength=len(xy))
        if pop is not None:
            inside = dd <= catchment
            demand[c.name] = np.bincount(k[inside], weights=pop[i[inside]], minlength=c.n_keys)
            if keep is not None:
                keep[c.name] = (i[inside], k[inside])
    return cols, demand


def _pass2(xy: np.ndarray, cats: list[_Category], ratios: dict, catchment: float, kept: dict | None = None) -> dict:
    """Step two of the floating catchment: sum the supply ratios of the assets within reach."""
    cols: dict[str, np.ndarray] = {}
    for c in cats:
        if kept is not None:
            i, k = kept[c.name]
        else:
            i, t, dd = c.router.pairs(xy, catchment)
            i, k, _ = _distinct(i, c.key[t], dd, c.n_keys, len(c.key))
        for col, ratio in ratios[c.name].items():
            cols[col] = np.bincount(i, weights=ratio[k], minlength=len(xy))
    return cols


def _ratios(cats: list[_Category], demand: dict) -> dict:
    out = {}
    for c in cats:
        dem = demand[c.name]
        with np.errstate(divide="ignore", invalid="ignore"):
            unit = np.where(dem > 0, 1000.0 / dem, 0.0)
            r = {f"per1k_{c.name}": unit}
            if c.supply is not None:
                sup = np.where(np.isfinite(c.supply), c.supply, 0.0)
                r[f"sfca_{c.name}"] = np.where(dem > 0, sup / dem, 0.0)
        out[c.name] = r
    return out


def access_table(
    origins: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    *,
    population: str | pd.Series | None = None,
    categories: Sequence[str] | None = None,
    radii: Sequence[float] = RADII,
    catchment: float = CATCHMENT_M,
    capacity_column: str | None = None,
    network=None,
    dedupe: bool = True,
    engine: str = "memory",
    npartitions: int | None = None,
) -> pd.DataFrame:
    """Access to each category of asset from each origin.

    Parameters
    ----------
    origins
        Points in EPSG:27700 (e.g. LSOA population-weighted centroids), indexed by area code;
        or, with ``engine="dask"``, a dask-geopandas GeoDataFrame.
    assets
        EPSG:27700, with ``category`` (and ``asset_id``, ``name``, ``area_ha``,
        ``duplicate_of`` where present), e.g. ``read_assets(...).assets``.
    population
        Residents per origin: a column of ``origins`` or a Series on its index. Needed for
        ``per1k_*`` and ``sfca_*``; left out without it.
    categories
        Categories to measure; default every category present, in :data:`CATEGORIES` order.
    radii, catchment
        Count radii and the floating-catchment radius, in metres.
    capacity_column
        Asset column with capacity (e.g. list size) for ``sfca_<c>``.
    network
        A :class:`geotarget.io.network.StreetNetwork`: distances along streets instead of
        straight lines.
    dedupe
        Count near-duplicates (``duplicate_of`` set) once. Distances are unaffected.
    engine
        ``"memory"`` or ``"dask"`` (needs the ``dask`` extra: ``pip install geotarget[dask]``).
    npartitions
        Partitions of the origins for ``engine="dask"`` (default: the origins' own, or 4).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``origins``; columns ``dist_<c>_m, nearest_<c>, [size_<c>_ha],
        n_<c>_<r>m..., [per1k_<c>, sfca_<c>]`` per category.
    """
    if engine not in ("memory", "dask"):
        raise GeotargetError(f"engine was {engine!r} but is expected to be 'memory' or 'dask'")
    if assets.crs is None or not assets.crs.equals(BNG):
        raise SchemaError(f"assets must be in {BNG} (use geotarget.core.crs.to_bng); found {assets.crs}")
    if "category" not in assets:
        raise SchemaError("assets have no 'category' column; read them with geotarget.io.assets.read_assets")
    found = {str(c) for c in assets["category"].unique()}
    present = [c for c in CATEGORIES if c in found]
    present += sorted(found - set(present))
    cats_wanted = list(categories) if categories is not None else present
    missing = [c for c in cats_wanted if c not in present]
    if missing:
        log.warning("no assets in categories %s: their columns are left out", ", ".join(missing))
    cats = [_prepare(assets, c, network=network, capacity_column=capacity_column, dedupe=dedupe)
            for c in cats_wanted if c in present]
    radii = [float(r) for r in radii]
    is_dask = engine == "dask" or type(origins).__module__.startswith("dask")
    if is_dask:
        if network is not None:
            raise GeotargetError("engine='dask' does not support street-network distances; use engine='memory'")
        return _dask_access(origins, cats, population, radii, catchment, npartitions)
    if not isinstance(origins, gpd.GeoDataFrame | gpd.GeoSeries):
        raise SchemaError("origins must be a GeoDataFrame of points")
    require_same_crs(origins if isinstance(origins, gpd.GeoDataFrame) else origins.to_frame(), assets,
                     names=("origins", "assets"))
    xy = _origin_xy(origins)
    pop = _population(origins, population)
    kept: dict = {}
    cols, demand = _pass1(xy, pop, cats, radii, catchment, kept)
    if pop is not None:
        cols.update(_pass2(xy, cats, _ratios(cats, demand), catchment, kept))
    return _frame(cols, origins.index, cats, radii, pop is not None)


def _population(origins, population) -> np.ndarray | None:
    if population is None:
        return None
    values = origins[population] if isinstance(population, str) else population.reindex(origins.index)
    if values.isna().any():
        bad = values.index[values.isna()]
        raise SchemaError(f"no population for {len(bad):,} origins, e.g. {', '.join(map(str, bad[:5]))}")
    return values.to_numpy(float)


def _frame(cols: dict, index, cats: list[_Category], radii, with_pop: bool) -> pd.DataFrame:
    order = []
    for c in cats:
        order += [f"dist_{c.name}_m", f"nearest_{c.name}"]
        order += [f"size_{c.name}_ha"] if c.size is not None else []
        order += [f"n_{c.name}_{r:g}m" for r in radii]
        if with_pop:
            order += [f"per1k_{c.name}"] + ([f"sfca_{c.name}"] if c.supply is not None else [])
    out = pd.DataFrame({k: cols[k] for k in order}, index=index)
    unreachable = {c.name: int(out[f"dist_{c.name}_m"].isna().sum()) for c in cats}
    if any(unreachable.values()):
        log.warning("origins with no reachable asset: %s",
                    ", ".join(f"{k} {v:,}" for k, v in unreachable.items() if v))
    return out


def _dask_access(origins, cats, population, radii, catchment, npartitions) -> pd.DataFrame:
    try:
        import dask
        import dask_geopandas
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise GeotargetError("engine='dask' needs dask-geopandas: pip install 'geotarget[dask]'") from e
    if isinstance(population, pd.Series):
        raise GeotargetError("with engine='dask' give population as a column name of the origins")
    if isinstance(origins, gpd.GeoDataFrame):
        origins = dask_geopandas.from_geopandas(origins, npartitions=npartitions or 4)
    parts = origins.to_delayed()

    def first(part):
        cols, demand = _pass1(_origin_xy(part), _population(part, population), cats, radii, catchment)
        return cols, demand, part.index.to_numpy()

    def second(part, ratios):
        return _pass2(_origin_xy(part), cats, ratios, catchment)

    out1 = dask.compute(*[dask.delayed(first)(p) for p in parts])
    cols = {k: np.concatenate([o[0][k] for o in out1]) for k in out1[0][0]}
    index = pd.Index(np.concatenate([o[2] for o in out1]), name=origins.index.name)
    with_pop = population is not None
    if with_pop:
        demand = {c.name: np.sum([o[1][c.name] for o in out1], axis=0) for c in cats}
        ratios = _ratios(cats, demand)
        out2 = dask.compute(*[dask.delayed(second)(p, ratios) for p in parts])
        cols.update({k: np.concatenate([o[k] for o in out2]) for k in out2[0]})
    return _frame(cols, index, cats, radii, with_pop)


# -- parks ----------------------------------------------------------------------------------------
def park_targets(
    sites: gpd.GeoDataFrame,
    access_points: gpd.GeoDataFrame | None = None,
    *,
    site_types: Sequence[str] | None = DEFAULT_PARK_TYPES,
    type_column: str = "site_type",
    id_column: str = "site_id",
    name_column: str = "site_name",
    tolerance: float = 1.0,
) -> gpd.GeoDataFrame:
    """Where people enter the parks: access points where a site has them, else the site's edge.

    Parameters
    ----------
    sites
        Green space polygons (e.g. OS Open Greenspace sites) with ``type_column``.
    access_points
        Entrance points (OS Open Greenspace access points); each is linked to every counted
        site within ``tolerance`` metres of it (they lie on site boundaries).
    site_types
        Site types counted as parks (case-insensitive); ``None`` counts every site. Default
        "Public Park Or Garden" and "Playing Field".

    Returns
    -------
    geopandas.GeoDataFrame
        One row per target, ``category = "park"``: ``asset_id`` (the site), ``name``,
        ``site_type``, ``area_ha`` (of the site), ``target`` ("access point" or "site edge").
        An entrance shared by nested sites is kept once, for the largest site.
    """
    if type_column not in sites:
        raise SchemaError(f"green space sites have no column {type_column!r}; columns are {list(sites.columns)}")
    s = sites.to_crs(BNG) if sites.crs is not None and not sites.crs.equals(BNG) else sites
    if site_types is not None:
        wanted = {normalise_text(t) for t in site_types}
        s = s[s[type_column].map(normalise_text).isin(wanted)]
        if s.empty:
            raise SchemaError(f"no green space site has {type_column} in {list(site_types)}; types found: "
                              f"{sorted(sites[type_column].dropna().unique())}")
    s = s.reset_index(drop=True)
    ids = s[id_column].astype(str) if id_column in s else pd.Series([f"site{i + 1}" for i in range(len(s))])
    names = s[name_column].fillna("").astype(str) if name_column in s else pd.Series([""] * len(s))
    names = names.where(names != "", s[type_column].astype(str))
    area = (s.geometry.area / 1e4).round(4)
    base = pd.DataFrame({"asset_id": ids, "name": names, "category": "park", "site_type": s[type_column].astype(str),
                         "area_ha": area})
    rows = []
    has_ap = np.zeros(len(s), dtype=bool)
    if access_points is not None and len(access_points):
        ap = access_points.to_crs(BNG) if not access_points.crs.equals(BNG) else access_points
        pts = ap.geometry.to_numpy()
        a, k = shapely.STRtree(s.geometry.to_numpy()).query(pts, predicate="dwithin", distance=tolerance)
        link = pd.DataFrame({"ap": a, "site": k, "area": area.to_numpy()[k]})
        link = link.sort_values(["ap", "area", "site"], ascending=[True, False, True]).drop_duplicates("ap")
        has_ap[link["site"].unique()] = True
        t = base.iloc[link["site"].to_numpy()].reset_index(drop=True)
        t["target"] = "access point"
        rows.append(gpd.GeoDataFrame(t, geometry=pts[link["ap"].to_numpy()], crs=BNG))
    edge = base[~has_ap].reset_index(drop=True)
    edge["target"] = "site edge"
    rows.append(gpd.GeoDataFrame(edge, geometry=s.geometry.to_numpy()[~has_ap], crs=BNG))
    out = pd.concat(rows, ignore_index=True)
    log.info("parks: %d sites (%d reached by %d access points, %d by their edge)", len(s), int(has_ap.sum()),
             int((out["target"] == "access point").sum()), int((~has_ap).sum()))
    return gpd.GeoDataFrame(out, geometry="geometry", crs=BNG)


def park_sites(sites: gpd.GeoDataFrame, *, site_types: Sequence[str] | None = DEFAULT_PARK_TYPES,
               type_column: str = "site_type", id_column: str = "site_id",
               name_column: str = "site_name") -> gpd.GeoDataFrame:
    """Return the counted park sites themselves as assets (``category = "park"``, ``area_ha``), for maps and KPIs."""
    t = park_targets(sites, None, site_types=site_types, type_column=type_column, id_column=id_column,
                     name_column=name_column)
    return t.drop(columns="target")


__all__ = ["CATCHMENT_M", "DEFAULT_PARK_TYPES", "RADII", "StraightLine", "access_table", "park_sites",
           "park_targets"]
