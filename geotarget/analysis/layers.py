"""Per-area results joined back to their areas' outlines, to draw or write as a layer."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd


def area_layer(areas: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return ``table`` with its areas' names, councils and geometry: a GeoDataFrame indexed by ``area_code``.

    ``areas`` are the polygons the result was computed on (indexed by area code); ``table`` is the
    result (indexed by the same codes). Only the areas in ``table`` are kept, in its order.
    """
    g = areas.reindex(table.index)
    keep = [c for c in ("area_name", "lad_code", "lad_name") if c in g.columns]
    out = gpd.GeoDataFrame(g[keep].join(table), geometry=g.geometry, crs=areas.crs)
    out.index.name = "area_code"
    return out


__all__ = ["area_layer"]
