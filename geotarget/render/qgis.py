"""QGIS layer styles (QML) for the GeoPackages geotarget writes.

A GeoPackage can carry a default style per layer in its ``layer_styles`` table, the
table QGIS reads when a layer is added: the layer then opens styled (IMD deciles with
the standard palette, decile 1 darkest; assets coloured by type; boundaries as
labelled outlines). :func:`geotarget.io.files.write_geopackage` adds a row per layer,
from :func:`auto_style` unless a style is given.

The QML written here is the subset QGIS 3 needs for a renderer and simple labels:
``<renderer-v2>`` of type ``categorizedSymbol``, ``graduatedSymbol`` or
``singleSymbol`` with ``SimpleFill``, ``SimpleLine`` or ``SimpleMarker`` symbol
layers (properties written both as ``<Option>`` maps, read by QGIS >= 3.26, and as
``<prop>`` elements, read by older 3.x).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

import pandas as pd

from geotarget.core.domains import BY_KEY, DOMAINS, IMD
from geotarget.io.files import write_geopackage
from geotarget.render.maps.styles import CATEGORY_COLOURS, DECILE_COLOURS, NO_DATA_COLOUR, decile_labels

__all__ = ["auto_style", "categorized_qml", "geometry_kind", "graduated_qml", "single_qml", "write_styled_geopackage"]

#: Columns recognised as the category of points (assets, sites), in order of preference.
POINT_CATEGORY_COLUMNS = ("asset_type", "category", "type", "kind")
#: Columns recognised as an area's name, for labels.
NAME_COLUMNS = ("ward_name", "lad_name", "area_name", "msoa_name", "name", "lsoa_name")

_QML_VERSION = "3.28.0-Firenze"


def geometry_kind(frame: Any) -> str:
    """``"fill"``, ``"line"`` or ``"marker"`` for a GeoDataFrame's geometry type."""
    types = set(frame.geometry.geom_type.dropna().unique())
    if types <= {"Point", "MultiPoint"}:
        return "marker"
    if types <= {"LineString", "MultiLineString"}:
        return "line"
    return "fill"


def _rgba(colour: str, alpha: int = 255) -> str:
    return f"{int(colour[1:3], 16)},{int(colour[3:5], 16)},{int(colour[5:7], 16)},{alpha}"


def _symbol(parent: ET.Element, name: str, kind: str, colour: str | None, *, stroke: str = "#ffffff",
            width: float = 0.2, alpha: float = 1.0) -> None:
    symbol = ET.SubElement(parent, "symbol", {"type": kind, "name": name, "alpha": f"{alpha:g}",
                                              "clip_to_extent": "1", "force_rhr": "0"})
    if kind == "fill":
        cls = "SimpleFill"
        props = {"color": _rgba(colour) if colour else "0,0,0,0", "style": "solid" if colour else "no",
                 "outline_color": _rgba(stroke), "outline_style": "solid", "outline_width": f"{width:g}",
                 "outline_width_unit": "MM", "joinstyle": "bevel"}
    elif kind == "line":
        cls = "SimpleLine"
        props = {"line_color": _rgba(colour or stroke), "line_style": "solid", "line_width": f"{width:g}",
                 "line_width_unit": "MM", "capstyle": "square", "joinstyle": "bevel"}
    else:
        cls = "SimpleMarker"
        props = {"color": _rgba(colour or "#1f4e79"), "name": "circle", "size": "2.6", "size_unit": "MM",
                 "outline_color": _rgba(stroke), "outline_style": "solid", "outline_width": f"{width:g}",
                 "outline_width_unit": "MM"}
    layer = ET.SubElement(symbol, "layer", {"class": cls, "enabled": "1", "pass": "0", "locked": "0"})
    options = ET.SubElement(layer, "Option", {"type": "Map"})
    for k, v in props.items():
        ET.SubElement(options, "Option", {"name": k, "type": "QString", "value": v})
    for k, v in props.items():
        ET.SubElement(layer, "prop", {"k": k, "v": v})


def _document(renderer: ET.Element, label_column: str | None) -> str:
    root = ET.Element("qgis", {"version": _QML_VERSION, "styleCategories": "Symbology|Labeling"})
    root.append(renderer)
    if label_column:
        labeling = ET.SubElement(root, "labeling", {"type": "simple"})
        settings = ET.SubElement(labeling, "settings", {"calloutType": "simple"})
        ET.SubElement(settings, "text-style", {
            "fieldName": label_column, "isExpression": "0", "fontSize": "9", "fontSizeUnit": "Point",
            "textColor": "17,17,17,255", "fontWeight": "50", "namedStyle": "Regular"})
        ET.SubElement(settings, "text-buffer", {"bufferDraw": "1", "bufferSize": "0.8", "bufferSizeUnits": "MM",
                                                "bufferColor": "255,255,255,255"})
        ET.SubElement(settings, "placement", {"placement": "1", "centroidInside": "1"})
        ET.SubElement(settings, "rendering", {"obstacle": "1", "scaleVisibility": "0"})
        root.set("labelsEnabled", "1")
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def categorized_qml(column: str, items: Sequence[tuple[Any, str, str]], *, kind: str = "fill",
                    no_data: bool = True, label_column: str | None = None) -> str:
    """QML of a categorized renderer: ``items`` are ``(value, '#rrggbb', label)``.

    ``no_data`` adds a grey category for missing values.
    """
    renderer = ET.Element("renderer-v2", {"type": "categorizedSymbol", "attr": column, "forceraster": "0",
                                          "symbollevels": "0", "enableorderby": "0"})
    categories = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    rows = [(str(v), c, str(label)) for v, c, label in items]
    if no_data:
        rows.append(("", NO_DATA_COLOUR, "no data"))
    for i, (value, colour, label) in enumerate(rows):
        ET.SubElement(categories, "category", {"value": value, "symbol": str(i), "label": label, "render": "true"})
        _symbol(symbols, str(i), kind, colour, stroke="#ffffff" if kind == "fill" else "#333333",
                width=0.1 if kind == "fill" else 0.3)
    return _document(renderer, label_column)


def graduated_qml(column: str, ranges: Sequence[tuple[float, float, str, str]], *, kind: str = "fill",
                  label_column: str | None = None) -> str:
    """QML of a graduated renderer: ``ranges`` are ``(lower, upper, '#rrggbb', label)``."""
    renderer = ET.Element("renderer-v2", {"type": "graduatedSymbol", "attr": column,
                                          "graduatedMethod": "GraduatedColor", "forceraster": "0",
                                          "symbollevels": "0", "enableorderby": "0"})
    ranges_el = ET.SubElement(renderer, "ranges")
    symbols = ET.SubElement(renderer, "symbols")
    for i, (lower, upper, colour, label) in enumerate(ranges):
        ET.SubElement(ranges_el, "range", {"lower": f"{lower:.6f}", "upper": f"{upper:.6f}", "symbol": str(i),
                                           "label": label, "render": "true"})
        _symbol(symbols, str(i), kind, colour, width=0.1)
    return _document(renderer, label_column)


def single_qml(kind: str = "fill", *, fill: str | None = None, stroke: str = "#222222", width: float = 0.5,
               label_column: str | None = None) -> str:
    """QML of a single-symbol renderer (``fill=None``: outline only), optionally labelled."""
    renderer = ET.Element("renderer-v2", {"type": "singleSymbol", "forceraster": "0", "symbollevels": "0",
                                          "enableorderby": "0"})
    symbols = ET.SubElement(renderer, "symbols")
    _symbol(symbols, "0", kind, fill if kind == "fill" else (fill or stroke), stroke=stroke, width=width)
    return _document(renderer, label_column)


def auto_style(frame: Any) -> tuple[str, str]:
    """Return a default style for a layer geotarget writes: ``(QML, description)``.

    * a ``<index>_decile`` column (IMD first): deciles 1-10, decile 1 darkest;
    * ward/area profiles (``imd_rank_average_score``): fifths of the rank, most
      deprived darkest;
    * points: categorized by the first of :data:`POINT_CATEGORY_COLUMNS` present;
    * otherwise: outlines (points: one colour), labelled by a name column if any.
    """
    kind = geometry_kind(frame)
    columns = list(frame.columns)
    name = next((c for c in NAME_COLUMNS if c in columns), None)
    for index in (IMD, *DOMAINS):
        column = f"{index.key}_decile"
        if column in columns and kind == "fill":
            items = [(d, c, label) for d, c, label in zip(range(1, 11), DECILE_COLOURS, decile_labels(), strict=True)]
            return (categorized_qml(column, items, kind=kind),
                    f"{BY_KEY[index.key].short} decile (national; 1 = most deprived 10%)")
    if "imd_rank_average_score" in columns and kind == "fill":
        ranks = pd.to_numeric(frame["imd_rank_average_score"], errors="coerce")
        n = int(ranks.max()) if ranks.notna().any() else 0
        if n:
            from geotarget.render.maps.styles import WARD_CLASS_COLOURS

            bounds = [(n * k // 5, n * (k + 1) // 5) for k in range(5)]
            ranges = [(lo + 0.5, hi + 0.5, colour, f"rank {lo + 1}–{hi}")
                      for (lo, hi), colour in zip(bounds, WARD_CLASS_COLOURS, strict=True) if hi > lo]
            return (graduated_qml("imd_rank_average_score", ranges, label_column=name),
                    f"IMD average score: fifths of the rank among {n} areas (1 = most deprived)")
    if kind == "marker":
        category = next((c for c in POINT_CATEGORY_COLUMNS if c in columns), None)
        if category is not None:
            values = sorted(str(v) for v in frame[category].dropna().unique())
            palette = (list(CATEGORY_COLOURS) * (len(values) // len(CATEGORY_COLOURS) + 1))[: len(values)]
            return (categorized_qml(category, list(zip(values, palette, values, strict=True)), kind="marker"),
                    f"points by {category}")
        return single_qml("marker", fill="#1f4e79", stroke="#ffffff", width=0.2), "points"
    return single_qml(kind, label_column=name), "outlines" + (f" labelled by {name}" if name else "")


def write_styled_geopackage(path, layers: dict, *, styles: dict | None = None):
    """Write GeoPackage layers atomically, each with a default QGIS style (:func:`auto_style`).

    ``styles`` maps a layer name to QML text, or to ``None`` for no style; see
    :func:`geotarget.io.files.write_geopackage`.
    """
    return write_geopackage(path, layers, styles=styles, default_style=auto_style)
