"""What every screening of one study looks up, built once: spatial indexes and per-LSOA tables.

A screening asks the same questions of the same data for every site: which LSOAs a buffer reaches,
which residential postcodes lie inside it, each LSOA's population-weighted centroid and enriched row,
each council's comparator, the distance to every asset. :class:`ScreenIndex` answers them from arrays and
spatial trees built once per :class:`~geotarget.hia.screen.HiaData` (so once per process in the web
service), with the same geometry predicates and the same arithmetic as asking the frames directly: a
screening's results do not depend on whether the index is used.
"""

from __future__ import annotations

import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


class ScreenIndex:
    """Arrays and trees over one study's LSOAs, postcode points and assets (see the module docstring).

    Parameters
    ----------
    lsoas
        The study's LSOAs (``lsoa_code`` index, ``pop_total``, ``lad_code``, ``ward_code``, polygons).
    enriched
        ``lsoas`` enriched for screening (local deciles, indicators, CNI), or ``None`` when enriching a subset
        could give other dtypes than a subset of the whole (an LSOA missing from a joined table); the
        screening then enriches its own rows.
    centroids
        Population-weighted centroids by ``lsoa_code`` (an LSOA without one uses a representative point).
    wards
        Ward polygons by ``ward_code``, with ``ward_name``.
    points
        Residential postcode points with ``lsoa_code``.
    targets, parks
        What access is measured to (``category``), and green space sites.
    """

    def __init__(self, lsoas: gpd.GeoDataFrame, enriched: gpd.GeoDataFrame | None, centroids: gpd.GeoDataFrame,
                 wards: gpd.GeoDataFrame, points: gpd.GeoDataFrame, targets: gpd.GeoDataFrame,
                 parks: gpd.GeoDataFrame | None):
        self.lsoas = lsoas
        self.enriched = enriched.copy() if enriched is not None else None  # consolidated: faster row selections
        self.geoms = lsoas.geometry.to_numpy()
        self.tree = lsoas.sindex
        self.area = shapely.area(self.geoms)
        pwc = centroids.geometry.reindex(lsoas.index)
        self.pwc = pwc.where(pwc.notna(), lsoas.geometry.representative_point()).to_numpy()
        self.pop_total = lsoas["pop_total"].to_numpy()
        pos = lsoas.index.get_indexer(points["lsoa_code"])
        mine = pos >= 0
        self.point_lsoa = pos[mine]
        self.point_tree = shapely.STRtree(points.geometry.to_numpy()[mine])
        #: residential postcodes of each LSOA (the denominator of its apportioned share)
        self.point_total = np.bincount(self.point_lsoa, minlength=len(lsoas))
        #: ward code -> residents (the sum of its LSOAs), and -> name (``Series.get`` costs more than a dict's)
        self.ward_pop = dict(lsoas.groupby("ward_code")["pop_total"].sum().items())
        self.wards = wards
        self.ward_names = dict(wards["ward_name"].items()) if wards.index.is_unique else wards["ward_name"]
        self.ward_tree = wards.sindex
        self.targets = targets
        self.target_geoms = targets.geometry.to_numpy()
        self.target_is_point = (targets.geom_type == "Point").to_numpy()
        cats = targets["category"].to_numpy()
        self.by_category = {}
        for c in pd.unique(cats):
            rows = np.flatnonzero(cats == c)
            sub = targets.iloc[rows]
            key = sub["duplicate_of"].where(sub["duplicate_of"].notna(), sub["asset_id"]) \
                if "duplicate_of" in sub else sub["asset_id"]
            self.by_category[c] = (rows, sub, key.astype(str).to_numpy())
        self.parks = parks
        self.park_geoms = parks.geometry.to_numpy() if parks is not None else None
        self._cache: dict = {}
        self._lock = threading.Lock()

    def lsoas_near(self, geom: shapely.Geometry) -> np.ndarray:
        """Return the positions (sorted) of the LSOAs intersecting ``geom``."""
        return np.sort(self.tree.query(geom, predicate="intersects"))

    def points_inside(self, geom: shapely.Geometry) -> np.ndarray:
        """Return the residential postcodes strictly inside ``geom``, counted by LSOA position."""
        hit = self.point_tree.query(geom, predicate="contains")
        return np.bincount(self.point_lsoa[hit], minlength=len(self.lsoas))

    def cached(self, key, build):
        """Return ``build()`` computed once per ``key`` (per-council comparators); safe across threads."""
        try:
            return self._cache[key]
        except KeyError:
            pass
        value = build()
        with self._lock:
            return self._cache.setdefault(key, value)


__all__ = ["ScreenIndex"]
