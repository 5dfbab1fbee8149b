"""Checks on the frames handed to the map builder; errors name the layer, column and rows."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geotarget.core.crs import BNG
from geotarget.core.errors import CRSError, SchemaError


def examples(values: Iterable[Any], limit: int = 5) -> str:
    """Return ``'a', 'b' and 3 more`` for error messages."""
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def key_as_column(frame: Any, key: str) -> Any:
    """Return a copy of ``frame`` with its index as column ``key``, if the index is named ``key``."""
    if isinstance(frame, pd.DataFrame) and key not in frame.columns and frame.index.name == key:
        return frame.reset_index()
    return frame


def row_names(frame: pd.DataFrame, key: str | None) -> pd.Series:
    """How rows are named in messages: by ``key`` when there is one, else by position."""
    if key is not None and key in frame.columns:
        return frame[key]
    if frame.index.name is not None:
        return pd.Series(frame.index, index=frame.index)
    return pd.Series([f"row {i + 1}" for i in range(len(frame))], index=frame.index)


def check_frame(
    gdf: Any,
    name: str,
    required: Sequence[str] = (),
    *,
    key: str | None = None,
    geometry: str = "polygon",
) -> None:
    """Raise SchemaError/CRSError unless ``gdf`` is a usable GeoDataFrame.

    ``geometry`` is ``"polygon"`` (Polygon/MultiPolygon), ``"point"`` or ``"any"``.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(
            f"{name} must be a geopandas GeoDataFrame with a geometry column, "
            f"but a {type(gdf).__name__} was given."
        )
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        raise SchemaError(
            f"{name} is missing required column(s) {listed}; expected columns {', '.join(required)}."
        )
    try:
        geoms = gdf.geometry
    except AttributeError:
        raise SchemaError(f"{name} has no active geometry column; set one with .set_geometry(...).") from None
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no coordinate reference system; expected {BNG} (British National "
            f"Grid). Declare it with .set_crs({BNG!r}) if that is what it is."
        )
    names = row_names(gdf, key)
    label = key or "rows"
    bad = geoms.isna() | geoms.is_empty
    if bad.any():
        raise SchemaError(
            f"{name}: {int(bad.sum())} row(s) have a missing or empty geometry "
            f"({label} {examples(names[bad.to_numpy()])}); every row needs a geometry."
        )
    allowed = {"polygon": ["Polygon", "MultiPolygon"], "point": ["Point"]}.get(geometry)
    if allowed is not None:
        wrong = ~geoms.geom_type.isin(allowed)
        if wrong.any():
            hint = " (use .representative_point() to map areas as points)" if geometry == "point" else ""
            raise SchemaError(
                f"{name}: geometries must be {geometry}s, but {label} "
                f"{examples(names[wrong.to_numpy()])} are {examples(geoms[wrong].geom_type.unique())}{hint}."
            )


def require_columns(frame: pd.DataFrame, name: str, columns: Iterable[str], what: str = "column") -> None:
    """Raise a SchemaError naming the ``columns`` missing from ``frame`` (``name``: the frame in messages)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{name}: {what} {examples(missing)} not found; the frame has columns "
            f"{examples([c for c in frame.columns if c != frame.geometry.name], limit=12)}."
        )


def numeric(frame: pd.DataFrame, column: str, *, name: str, key: str | None, rows: str = "row(s)") -> pd.Series:
    """Return ``frame[column]`` as float (NaN where missing).

    Raises SchemaError on non-numeric or infinite values, naming the offending rows.
    """
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = (values.isna() & raw.notna()) | np.isinf(values)
    if bad.any():
        raise SchemaError(
            f"{name}: column {column!r} must be numeric and finite, but {rows} "
            f"{examples(row_names(frame, key)[bad.to_numpy()])} have {examples(raw[bad].unique())}."
        )
    return values


def deciles(frame: pd.DataFrame, column: str, *, name: str, key: str | None) -> list[int | None]:
    """Deciles as ints (None where missing), raising SchemaError outside 1..10."""
    values = numeric(frame, column, name=name, key=key, rows="LSOA(s)")
    bad = values.notna() & ~values.isin(range(1, 11))
    if bad.any():
        raise SchemaError(
            f"{name}: column {column!r} must hold national deciles 1-10 (1 = most "
            f"deprived), but LSOA(s) {examples(row_names(frame, key)[bad.to_numpy()])} have "
            f"{examples(frame.loc[bad, column].unique())}."
        )
    return [None if math.isnan(v) else int(v) for v in values]


def unique_key(frame: pd.DataFrame, name: str, key: str, what: str) -> None:
    """Raise a SchemaError if column ``key`` of ``frame`` holds a value more than once (one row per ``what``)."""
    duplicated = frame[key][frame[key].duplicated()]
    if len(duplicated):
        raise SchemaError(
            f"{name}: column {key!r} must hold one row per {what}, but "
            f"{examples(duplicated.unique())} occur more than once; drop the duplicates."
        )
