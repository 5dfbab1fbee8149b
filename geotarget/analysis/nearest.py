"""Nearest asset from very many points: every residential postcode in England to its nearest GP.

:func:`nearest_from_points` takes origins as plain coordinates (a frame with ``easting`` and
``northing`` in EPSG:27700, e.g. the 1.4 million live residential postcodes of England from OS
Code-Point Open) and point assets (e.g. the 6,300 active GP practices of the NHS ODS epraccur
file), and returns for every origin the straight-line distance to the nearest asset, that asset,
and the number of assets within each radius. It queries a k-d tree (scipy's ``cKDTree``) built
once on the assets: no geometry objects are made for the origins, so all England takes a few
seconds in memory. ``engine="dask"`` runs the same per-origin computation on partitions of the
origins (a dask DataFrame, or a pandas one split in ``npartitions``) and gives identical results.

:func:`mean_distance_by` summarises the distances per area (e.g. per council): the weighted mean
(postcode-weighted by default: every residential postcode counts once, a stand-in for
population), the median, and the share of origins within each radius.

Distances are straight lines between postcode centroids and practice postcodes, not travel
distances; a point is within ``r`` metres when its distance is at most ``r``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geotarget.core.errors import GeotargetError, SchemaError

log = logging.getLogger(__name__)

#: Default count radii (metres): 10- and 20-minute walks.
NEAREST_RADII = (800.0, 1600.0)


def _xy(frame: pd.DataFrame, what: str) -> np.ndarray:
    if hasattr(frame, "geometry") and "easting" not in frame:
        import shapely

        geoms = frame.geometry.to_numpy()
        if len(geoms) and not (shapely.get_type_id(geoms) == 0).all():
            raise SchemaError(f"{what} must be points; found {sorted(set(frame.geom_type))}")
        return shapely.get_coordinates(geoms)
    missing = [c for c in ("easting", "northing") if c not in frame]
    if missing:
        raise SchemaError(f"{what} have no {' or '.join(missing)} column; expected easting and northing in "
                          "British National Grid metres (EPSG:27700), or point geometry. Columns: "
                          f"{list(frame.columns)}")
    xy = frame[["easting", "northing"]].to_numpy(float)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise SchemaError(f"{what}: {int(bad.sum()):,} rows without a numeric easting/northing, e.g. "
                          f"{', '.join(map(str, frame.index[bad][:5]))}; leave them out first")
    return xy


class NearestIndex:
    """A k-d tree on point assets, answering nearest and within-radius counts for arrays of origins."""

    def __init__(self, assets: pd.DataFrame, *, id_column: str | None = "asset_id"):
        self.xy = _xy(assets, "assets")
        if not len(self.xy):
            raise SchemaError("no assets to measure the distance to")
        self.ids = (assets[id_column].astype(str).to_numpy(object) if id_column and id_column in assets
                    else np.asarray(assets.index.astype(str), dtype=object))
        self.tree = cKDTree(self.xy)

    def query(self, xy: np.ndarray, radii: Sequence[float], *, workers: int = 1, k: int = 8
              ) -> dict[str, np.ndarray]:
        """Return ``dist_m``, ``nearest`` and ``n_<r>m`` for origins ``xy`` (n, 2).

        One search finds the ``k`` nearest assets within the largest radius: the nearest and the
        counts for most origins. Origins with none within it get an unbounded nearest search, and
        those with ``k`` or more within it are counted exactly by a ball search.
        """
        xy = np.asarray(xy, float).reshape(-1, 2)
        radii = [float(r) for r in radii]
        reach = max(radii, default=0.0)
        k = max(1, min(k, len(self.xy)))
        d, j = self.tree.query(xy, k=k, distance_upper_bound=reach * (1 + 1e-9) + 1e-6 if reach else np.inf,
                               workers=workers)
        d, j = d.reshape(len(xy), k), j.reshape(len(xy), k)
        dist, near = d[:, 0].copy(), j[:, 0].copy()
        far = ~np.isfinite(dist)
        if far.any():
            dist[far], near[far] = self.tree.query(xy[far], k=1, workers=workers)
        cols = {"dist_m": dist, "nearest": self.ids[near]}
        crowded = np.isfinite(d[:, -1]) if len(self.xy) > k else np.ones(len(xy), bool)
        for r in radii:
            n = (d <= r).sum(axis=1).astype(np.int64)
            if crowded.any():
                n[crowded] = self.tree.query_ball_point(xy[crowded], r, return_length=True, workers=workers)
            cols[f"n_{r:g}m"] = n
        return cols


def nearest_from_points(
    origins: pd.DataFrame,
    assets: pd.DataFrame,
    *,
    radii: Sequence[float] = NEAREST_RADII,
    id_column: str | None = "asset_id",
    engine: str = "memory",
    npartitions: int | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Distance to the nearest asset, which one, and how many within each radius, for every origin.

    Parameters
    ----------
    origins
        Points: a frame with ``easting`` and ``northing`` (EPSG:27700) or point geometry, e.g.
        the residential postcodes; with ``engine="dask"`` also a dask DataFrame.
    assets
        Points with ``easting``/``northing`` or point geometry (e.g. ``read_assets(...).assets``
        of one category), and ``id_column`` naming each (default their index).
    radii
        Count radii in metres (inclusive).
    engine, npartitions
        ``"memory"``, or ``"dask"``: the origins in partitions (``npartitions``, default 8 for a
        pandas frame), computed by dask; the results are identical.
    workers
        Threads for each k-d tree query (``-1``: every core).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``origins``: ``dist_m``, ``nearest`` (the asset's id), ``n_<r>m`` per radius.
    """
    if engine not in ("memory", "dask"):
        raise GeotargetError(f"engine was {engine!r} but is expected to be 'memory' or 'dask'")
    index = NearestIndex(assets, id_column=id_column)
    radii = [float(r) for r in radii]
    if engine == "dask" or type(origins).__module__.startswith("dask"):
        return _dask_nearest(origins, index, radii, npartitions, workers)
    cols = index.query(_xy(origins, "origins"), radii, workers=workers)
    return _table(cols, origins.index)


def _table(cols: dict, index: pd.Index) -> pd.DataFrame:
    out = pd.DataFrame(cols, index=index)
    out["nearest"] = out["nearest"].astype(str)
    return out


def _dask_nearest(origins, index: NearestIndex, radii, npartitions, workers) -> pd.DataFrame:
    try:
        import dask.dataframe as dd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise GeotargetError("engine='dask' needs dask: pip install 'geotarget[dask]'") from e
    index_dtype = None
    if not type(origins).__module__.startswith("dask"):
        index_dtype = origins.index.dtype
        origins = dd.from_pandas(pd.DataFrame(origins[["easting", "northing"]]) if "easting" in origins
                                 else origins, npartitions=npartitions or 8, sort=False)
    meta = pd.DataFrame({"dist_m": pd.Series(dtype=float), "nearest": pd.Series(dtype=str),
                         **{f"n_{r:g}m": pd.Series(dtype=np.int64) for r in radii}})
    meta.index = meta.index.astype(origins.index.dtype)

    def part(frame: pd.DataFrame) -> pd.DataFrame:
        return _table(index.query(_xy(frame, "origins"), radii, workers=workers), frame.index)

    out = origins.map_partitions(part, meta=meta).compute()
    out["nearest"] = out["nearest"].astype(str)
    if index_dtype is not None:
        out.index = out.index.astype(index_dtype)
    elif pd.api.types.is_string_dtype(out.index.dtype):  # dask's own string type: pandas' default
        out.index = out.index.astype(str)
    return out


def mean_distance_by(table: pd.DataFrame, by: pd.Series | str, *, weights: pd.Series | str | None = None,
                     distance: str = "dist_m") -> pd.DataFrame:
    """Weighted mean, median and maximum distance, and the share within each radius, per area.

    ``table`` is :func:`nearest_from_points`'s result (or any frame with ``distance`` and
    ``n_<r>m`` columns); ``by`` the area of each row (a column name or a Series on its index);
    ``weights`` per row (default 1: postcode-weighted). Returns one row per area: ``n``,
    ``weight``, ``mean_dist_m``, ``median_dist_m``, ``max_dist_m`` and ``share_within_<r>m``.
    """
    key = table[by] if isinstance(by, str) else by.reindex(table.index)
    if key.isna().any():
        raise SchemaError(f"{int(key.isna().sum()):,} rows have no area to group by, e.g. "
                          f"{', '.join(map(str, table.index[key.isna().to_numpy()][:5]))}")
    w = (np.ones(len(table)) if weights is None else
         (table[weights] if isinstance(weights, str) else weights.reindex(table.index)).to_numpy(float))
    code, areas = pd.factorize(key, sort=True)
    d = table[distance].to_numpy(float)
    tot = np.bincount(code, weights=w, minlength=len(areas))
    out = pd.DataFrame({"n": np.bincount(code, minlength=len(areas)), "weight": tot,
                        "mean_dist_m": np.bincount(code, weights=w * d, minlength=len(areas)) / tot},
                       index=pd.Index(areas, name=key.name or "area"))
    grouped = pd.Series(d, index=code).groupby(level=0)
    out["median_dist_m"] = grouped.median().to_numpy()
    out["max_dist_m"] = grouped.max().to_numpy()
    for c in table.columns:
        if c.startswith("n_") and c.endswith("m"):
            share = np.bincount(code, weights=w * (table[c].to_numpy() > 0), minlength=len(areas)) / tot
            out[f"share_within_{c.removeprefix('n_')}"] = share
    return out


__all__ = ["NEAREST_RADII", "NearestIndex", "mean_distance_by", "nearest_from_points"]
