"""The CRS policy: analyse in British National Grid, publish web maps in WGS84."""

from __future__ import annotations

import geopandas as gpd

from geotarget.core.errors import CRSError

#: All analysis happens in British National Grid (metres).
BNG = "EPSG:27700"
#: Only web maps are written in WGS84 longitude/latitude.
WGS84 = "EPSG:4326"


def to_bng(gdf: gpd.GeoDataFrame, *, source: str = "frame") -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:27700, reprojecting if needed.

    Raises :class:`CRSError` if ``gdf`` has no CRS: guessing one silently is how
    points end up in the North Sea.
    """
    if gdf.crs is None:
        raise CRSError(
            f"{source}: the data has no coordinate reference system; expected one to be "
            "declared (e.g. a .prj file for a Shapefile). Set it with gdf.set_crs(...) first."
        )
    if gdf.crs.equals(BNG):
        return gdf
    return gdf.to_crs(BNG)


def require_same_crs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, *, names=("left", "right")) -> None:
    """Raise :class:`CRSError` naming both CRSs if ``a`` and ``b`` differ."""
    if a.crs is None or b.crs is None or not a.crs.equals(b.crs):
        raise CRSError(
            f"{names[0]} is in {a.crs.to_string() if a.crs else 'no CRS'} but {names[1]} is in "
            f"{b.crs.to_string() if b.crs else 'no CRS'}; reproject both to {BNG} first."
        )
