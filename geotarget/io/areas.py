"""Custom area polygons (GeoJSON, GeoPackage, Shapefile, GeoParquet) read and checked for the crosswalk."""

from __future__ import annotations

import logging
import os

import geopandas as gpd
import numpy as np

from geotarget.core.crs import BNG, to_bng
from geotarget.core.errors import SchemaError
from geotarget.io.files import require_file

log = logging.getLogger(__name__)


def read_areas(path: str | os.PathLike, *, id_column: str, name_column: str | None = None) -> gpd.GeoDataFrame:
    """Read custom area polygons (GeoJSON, GeoPackage, Shapefile, GeoParquet) in EPSG:27700.

    Returns a frame indexed by ``area_code`` (text) with ``area_name`` and polygon geometry.
    """
    p = os.fspath(require_file(path, "areas"))
    gdf = gpd.read_parquet(p) if p.endswith(".parquet") else gpd.read_file(p)
    gdf = to_bng(gdf, source=p)
    if id_column not in gdf.columns:
        raise SchemaError(f"{p}: id column {id_column!r} not found; columns are "
                          f"{[c for c in gdf.columns if c != gdf.geometry.name]}")
    ids = gdf[id_column].astype(str).str.strip()
    if (ids == "").any() or gdf[id_column].isna().any():
        i = int(np.flatnonzero((ids == "") | gdf[id_column].isna())[0])
        raise SchemaError(f"{p}, feature {i + 1:,}: blank id in column {id_column!r}; every area needs an id")
    if ids.duplicated().any():
        raise SchemaError(f"{p}, column {id_column!r}: id {ids[ids.duplicated()].iloc[0]!r} appears more than "
                          "once; expected one feature per area (dissolve multi-part areas first)")
    if gdf.empty:
        raise SchemaError(f"{p}: no areas (the file has no features); expected one polygon per area")
    blank = gdf.geometry.isna() | gdf.geometry.is_empty
    if blank.any():
        i = int(np.flatnonzero(blank)[0])
        raise SchemaError(f"{p}, feature {i + 1:,} (id {ids.iloc[i]!r}): no geometry; every area needs a polygon "
                          f"({int(blank.sum()):,} features have none)")
    kinds = set(gdf.geom_type.dropna())
    if not kinds <= {"Polygon", "MultiPolygon"}:
        raise SchemaError(f"{p}: areas must be polygons; found {sorted(kinds)}")
    out = gpd.GeoDataFrame({"area_code": ids.to_numpy(),
                            "area_name": gdf[name_column].astype(str).to_numpy() if name_column else ids.to_numpy()},
                           geometry=gdf.geometry.make_valid().to_numpy(), crs=BNG).set_index("area_code")
    out.attrs = {"source": p}
    return out


__all__ = ["read_areas"]
