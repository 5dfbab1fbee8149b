"""Hand-checkable fixtures: a grid of square "LSOAs" with real-looking codes, shared by the tests."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from geotarget.core.crs import BNG


def square_grid(nx: int, ny: int | None = None, *, size: float = 100.0, gap: float = 0.0,
                origin: tuple[float, float] = (0.0, 0.0), code: str = "E01{y:03d}{x:03d}",
                index_name: str = "area_code", crs=BNG) -> gpd.GeoDataFrame:
    """Build a grid of ``nx`` x ``ny`` (default square) cells of ``size`` metres, ``gap`` metres apart.

    Cells run row by row from the south-west corner at ``origin``, in British National Grid.

    Cell (x, y) is coded ``code.format(x=x, y=y)`` (default ``E01yyyxxx``, a real-looking LSOA code) and the
    frame is indexed by those codes (index named ``index_name``).

    >>> g = square_grid(3)
    >>> len(g), g.index[4], g.geometry.iloc[4].bounds
    (9, 'E01001001', (100.0, 100.0, 200.0, 200.0))
    """
    ny = nx if ny is None else ny
    step = size + gap
    x0, y0 = origin
    cells = [shapely.box(x0 + x * step, y0 + y * step, x0 + x * step + size, y0 + y * step + size)
             for y in range(ny) for x in range(nx)]
    codes = [code.format(x=x, y=y) for y in range(ny) for x in range(nx)]
    return gpd.GeoDataFrame(geometry=cells, index=pd.Index(codes, name=index_name), crs=crs)
