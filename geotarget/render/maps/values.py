"""Turning frame columns into what the page shows: texts, numbers, categories, colours."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geotarget.core.crs import to_bng
from geotarget.core.errors import SchemaError
from geotarget.render.maps import encode as _encode
from geotarget.render.maps.styles import category_colours, check_colour
from geotarget.render.maps.validate import examples


def bng_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` in EPSG:27700 with a plain 0..n-1 index (a named index becomes a column)."""
    frame = gdf.reset_index() if gdf.index.name is not None and gdf.index.name not in gdf.columns else gdf
    return to_bng(frame.reset_index(drop=True), source="map layer")


def isna(value: Any) -> bool:
    """Return True for None and missing values (NaN, NA, NaT); text never counts as missing."""
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def texts(series: pd.Series) -> list[str]:
    """Return the values as text, missing as ``""``."""
    return ["" if isna(v) else str(v) for v in series.tolist()]


def coords(values: pd.Series) -> list[float]:
    """Return coordinates rounded to :data:`~geotarget.render.maps.encode.PRECISION` places."""
    return [_encode.rounded(v) for v in values.tolist()]


def numbers(values: pd.Series, decimals: int) -> list[int | float | None]:
    """Return numbers for JSON: whole numbers as int, others rounded to ``decimals``, NaN as None."""
    out: list[int | float | None] = []
    for v in values.tolist():
        if math.isnan(v):
            out.append(None)
        elif v == round(v) and abs(v) < 2**53:
            out.append(int(v))
        else:
            out.append(round(v, decimals))
    return out


def display(value: Any) -> str:
    """Return a value as tooltip text (floats to 6 significant digits, lists joined)."""
    if isinstance(value, float):
        return f"{value:,.6g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(display(v) for v in value)
    return str(value)


def display_column(series: pd.Series) -> tuple[list[Any], str]:
    """Return a tooltip column's values, JSON-ready, and a format code for the page.

    The codes are ``t`` text, ``i`` whole number, ``n`` number (up to 3 decimals).
    """
    if pd.api.types.is_bool_dtype(series):
        return [None if isna(v) else ("Yes" if v else "No") for v in series.tolist()], "t"
    if pd.api.types.is_numeric_dtype(series):
        values = pd.to_numeric(series, errors="coerce").astype("float64")
        values = values.where(np.isfinite(values))
        shown = numbers(values, 3)
        whole = all(v is None or isinstance(v, int) for v in shown)
        return shown, "i" if whole else "n"
    return [None if isna(v) else str(v) for v in series.tolist()], "t"


def as_list(value: Sequence[str] | str) -> list[str]:
    """Return ``value`` as a list (a single text as a list of one)."""
    return [value] if isinstance(value, str) else list(value)


def categories(series: pd.Series, labels: Any, what: str, column: str) -> tuple[list[Any], dict[Any, str]]:
    """Return the categories in legend order and the label of each.

    Without ``labels`` the values present, sorted; with a mapping or a sequence, its order. A value
    present but not in ``labels`` raises a SchemaError.
    """
    present = list(dict.fromkeys(v for v in series.tolist() if not isna(v)))
    if labels is None:
        try:
            order = sorted(present)
        except TypeError:
            order = sorted(present, key=str)
        return order, {v: str(v) for v in order}
    if isinstance(labels, Mapping):
        order, label_of = list(labels), {k: str(v) for k, v in labels.items()}
    else:
        order = list(labels)
        label_of = {v: str(v) for v in order}
    unknown = [v for v in present if v not in label_of]
    if unknown:
        raise SchemaError(
            f"{what}: column {column!r} has value(s) {examples(unknown)} that are not in labels "
            f"({examples(order)}); add them to labels or recode the column."
        )
    return order, label_of


def category_palette(order: list[Any], colors: Any, what: str) -> list[str]:
    """Return one colour per category of ``order``: the default palette, or ``colors`` (a mapping or a sequence)."""
    if colors is None:
        return category_colours(len(order), what)
    if isinstance(colors, Mapping):
        missing = [v for v in order if v not in colors]
        if missing:
            raise SchemaError(f"{what}: colors has no colour for {examples(missing)}; give one per category.")
        return [check_colour(colors[v], f"{what}: colors[{v!r}]") for v in order]
    palette = [check_colour(c, f"{what}: colors") for c in colors]
    if len(palette) < len(order):
        raise SchemaError(f"{what}: {len(palette)} colours given for {len(order)} categories; give one each.")
    return palette[: len(order)]


def default_tooltip(frame: pd.DataFrame, column: str, label: str) -> dict[str, str]:
    """Return an identifying column (name or code), if one is recognised, and ``column``."""
    fields: dict[str, str] = {}
    for c in frame.columns:
        if c != column and (c.endswith("_name") or c in ("name", "area_name")):
            fields[c] = "Name"
            break
    else:
        for c in frame.columns:
            if c != column and (c.endswith("_code") or c in ("code", "area_code", "id")):
                fields[c] = "Code"
                break
    fields[column] = label
    return fields
