"""A map from files: any geotarget output (GeoPackage layers, GeoJSON, ...) as map layers.

Behind ``geotarget map --layers PATH[:COLUMN] ...``. Each ``PATH[#LAYER][:COLUMN]``
adds one map layer per spatial layer of the file (or only ``LAYER``), styled by what
it holds:

* polygons with IMD/domain deciles and ``lsoa_code``: decile choropleths (all
  deciles, or only ``COLUMN`` if it is a ``*_decile`` column);
* polygons with ``COLUMN``: a numeric choropleth (quantiles) when the column is
  numeric with more than 10 distinct values, else categories;
* polygons without ``COLUMN``: outlines, labelled by a name column if there is one;
* points: markers, coloured by ``COLUMN`` (or a recognised category column such as
  ``asset_type``) and named by a name column.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors

from geotarget.core.domains import BY_KEY, DOMAINS, IMD
from geotarget.core.errors import DataNotFoundError, SchemaError
from geotarget.io.boundaries import gdal_error
from geotarget.render.maps.builder import MapBuilder
from geotarget.render.maps.styles import CATEGORY_COLOURS, DECILE_COLOURS, DEFAULT_ATTRIBUTION, decile_labels

logger = logging.getLogger(__name__)

POINT_CATEGORY_COLUMNS = ("asset_type", "category", "type", "kind")
NAME_COLUMNS = ("name", "area_name", "ward_name", "lad_name", "msoa_name", "lsoa_name")
_DECILES = tuple(f"{ix.key}_decile" for ix in (IMD, *DOMAINS))


@dataclass(frozen=True)
class LayerSource:
    """One ``--layers`` argument: a file, optionally one of its layers and a column."""

    path: Path
    layer: str | None = None
    column: str | None = None

    @classmethod
    def parse(cls, text: str) -> LayerSource:
        """``PATH[#LAYER][:COLUMN]``; a ``:`` that is part of an existing path is kept."""
        column = None
        given = text
        if not Path(text).is_file() and ":" in text:  # (a drive letter's colon is part of an existing path)
            text, column = text.rsplit(":", 1)
        path, _, layer = text.partition("#")
        text = given
        if not Path(path).is_file():
            raise DataNotFoundError(f"{path}: map layer file not found (from `layers` entry {text!r})"
                                    ).naming("layers")
        return cls(Path(path), layer or None, column or None)


def map_from_files(
    sources: Sequence[str | LayerSource],
    *,
    title: str,
    vintage: str = "",
    notes: str = "",
    attribution: str = DEFAULT_ATTRIBUTION,
) -> MapBuilder:
    """Return a :class:`MapBuilder` with the layers of ``sources`` (see module notes)."""
    mb = MapBuilder(title, vintage=vintage, notes=notes, attribution=attribution)
    shown_fill = False
    for source in sources:
        src = LayerSource.parse(source) if isinstance(source, str) else source
        for layer_name, frame in _read(src):
            label = layer_name if src.layer or _layer_count(src.path) > 1 else src.path.stem
            shown_fill = _add(mb, frame, label, src, show_fill=not shown_fill) or shown_fill
    return mb


def _layer_count(path: Path) -> int:
    return sum(1 for _, geom in pyogrio.list_layers(path) if geom is not None)


def _read(src: LayerSource) -> list[tuple[str, gpd.GeoDataFrame]]:
    try:
        return _read_layers(src)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.GeometryError,
            pyogrio.errors.FieldError, pyogrio.errors.CRSError) as e:  # a corrupt or unknown file: one clear line
        raise gdal_error(e, src.path) from None


def _read_layers(src: LayerSource) -> list[tuple[str, gpd.GeoDataFrame]]:
    spatial = [str(name) for name, geom in pyogrio.list_layers(src.path) if geom is not None]
    if src.layer is not None:
        if src.layer not in spatial:
            raise SchemaError(f"{src.path}: no spatial layer {src.layer!r}; it has {spatial}.")
        spatial = [src.layer]
    if not spatial:
        raise SchemaError(f"{src.path}: no spatial layer to map.")
    out = []
    for name in spatial:
        frame = gpd.read_file(src.path, layer=name)
        if frame.crs is None:
            raise SchemaError(f"{src.path} layer {name!r}: no coordinate reference system declared.")
        out.append((name, frame))
    return out


def _name_column(frame: pd.DataFrame) -> str | None:
    return next((c for c in NAME_COLUMNS if c in frame.columns), None)


def _add(mb: MapBuilder, frame: gpd.GeoDataFrame, label: str, src: LayerSource, *, show_fill: bool) -> bool:
    """Add ``frame``; True if a filled layer was shown."""
    column = src.column
    if column is not None and column not in frame.columns:
        raise SchemaError(f"{src.path} layer {label!r}: no column {column!r}; it has "
                          f"{[c for c in frame.columns if c != frame.geometry.name]}.")
    types = set(frame.geometry.geom_type.dropna().unique())
    name = _name_column(frame)
    if types <= {"Point"}:
        category = column or next((c for c in POINT_CATEGORY_COLUMNS if c in frame.columns), None)
        popup = [c for c in (name, category, "postcode") if c is not None and c in frame.columns]
        if category is not None and column is None and frame[category].nunique() <= 1:
            category = None  # one kind of point per layer: colour the layer instead
        n_points = sum(layer.kind == "points" for layer in mb.layers)
        mb.add_points(frame, _unique(mb, label), category_column=category, label_column=name, popup=popup,
                      color=CATEGORY_COLOURS[(n_points * 3) % len(CATEGORY_COLOURS)])
        return False
    if not types <= {"Polygon", "MultiPolygon"}:
        raise SchemaError(f"{src.path} layer {label!r}: {sorted(types)} geometries cannot be mapped yet "
                          "(polygons and points can).")
    deciles = [c for c in _DECILES if c in frame.columns]
    if "lsoa_code" in frame.columns and deciles and (column is None or column in deciles):
        chosen = [column] if column else deciles
        names = {c: _unique(mb, f"{BY_KEY[c.removesuffix('_decile')].short} decile") for c in chosen}
        mb.add_deciles(frame, names, show=show_fill)
        return show_fill
    if column is None:
        mb.add_outlines(frame, _unique(mb, label), label_column=name if len(frame) <= 500 else None,
                        tooltip=[name] if name else None)
        return False
    tooltip = [c for c in (name, "lsoa_code", "area_code", column) if c is not None and c in frame.columns]
    values = frame[column]
    if column.endswith("_decile"):
        present = sorted(int(v) for v in values.dropna().unique())
        labels = {d: lab for d, lab in zip(range(1, 11), decile_labels(), strict=True) if d in present}
        colours = {d: DECILE_COLOURS[d - 1] for d in labels}
        mb.add_categories(frame, column, _unique(mb, f"{label}: {column}"), labels=labels, colors=colours,
                          tooltip=tooltip, show=show_fill)
    elif pd.api.types.is_numeric_dtype(values) and values.nunique() > 10:
        mb.add_choropleth(frame, column, _unique(mb, f"{label}: {column}"), tooltip=tooltip, show=show_fill)
    else:
        mb.add_categories(frame, column, _unique(mb, f"{label}: {column}"), tooltip=tooltip, show=show_fill)
    return show_fill


def _unique(mb: MapBuilder, name: str) -> str:
    taken = {layer.name for layer in mb.layers}
    candidate, k = name, 2
    while candidate in taken:
        candidate, k = f"{name} ({k})", k + 1
    return candidate


def default_title(sources: Sequence[str]) -> str:
    """Return ``"Map of ..."`` naming the stems of the source files (layer and ``#`` suffixes dropped)."""
    stems = [Path(s.split("#")[0].split(":")[0] if not os.path.exists(s) else s).stem for s in sources]
    return "Map of " + ", ".join(dict.fromkeys(stems))
