"""The one map builder: every capability adds its layers through :class:`MapBuilder`."""

from __future__ import annotations

import logging
import os
import pathlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotarget.core.crs import BNG, WGS84
from geotarget.core.domains import BY_KEY, DOMAINS, IMD
from geotarget.core.errors import SchemaError
from geotarget.io.files import write_text_atomic
from geotarget.render.maps import encode as _encode
from geotarget.render.maps import page as _page
from geotarget.render.maps.static import static_map
from geotarget.render.maps.styles import (
    DECILE_COLOURS,
    DECILE_LEGEND_TITLE,
    DEFAULT_ATTRIBUTION,
    NO_DATA_COLOUR,
    check_colour,
    decile_labels,
    decile_legend_title,
    sequential,
    text_colour,
)
from geotarget.render.maps.validate import check_frame, deciles, key_as_column, numeric, require_columns, unique_key
from geotarget.render.maps.values import (
    as_list,
    bng_frame,
    categories,
    category_palette,
    coords,
    default_tooltip,
    display,
    display_column,
    isna,
    numbers,
    texts,
)

logger = logging.getLogger(__name__)

#: Above this size (bytes of JSON) the map data is embedded gzip-compressed.
COMPRESS_ABOVE = 2_000_000
#: Zoom levels the map allows (set on the map itself, so clustering and labels work on any base layer).
MIN_ZOOM, MAX_ZOOM = 4, 19
#: Name of the radio group of the decile layers in the layer control (one shown at a time).
DECILE_GROUP = "Deprivation deciles (one at a time)"
#: mapclassify schemes accepted by :meth:`MapBuilder.add_choropleth` (the deterministic ones).
SCHEMES = ("quantiles", "equal_interval", "fisher_jenks", "jenks_caspall", "head_tail_breaks",
           "maximum_breaks", "percentiles", "std_mean", "box_plot", "user_defined")  # fmt: skip

Fields = Sequence[str] | Mapping[str, str] | None


@dataclass
class Legend:
    """A legend bound to one or more layers: shown while any of them is on the map.

    ``items`` are ``(kind, colour, label)`` with kind ``"fill"``, ``"line"`` or ``"marker"``;
    ``titles`` gives a layer its own title (the legend then names the layer shown).
    """

    title: str
    items: list[tuple[str, str, str]]
    layers: list[str] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)

    def title_of(self, layer: str) -> str:
        """Return the legend's title while ``layer`` is shown."""
        return self.titles.get(layer, self.title)


@dataclass
class Layer:
    """What the builder knows about one layer (used by the HTML and the static maps).

    ``frame`` is the input in EPSG:27700 with a plain index; ``colours`` the fill or
    marker colour of each row (None for outlines); ``style`` the outline style.
    """

    kind: str  # "fill", "outline" or "points"
    name: str
    show: bool
    frame: gpd.GeoDataFrame
    legend: Legend
    colours: list[str] | None = None
    style: dict[str, Any] = field(default_factory=dict)
    labels: list[str] | None = None
    spec: dict[str, Any] = field(default_factory=dict)


class MapBuilder:
    """Build one self-contained interactive map (Leaflet) from any number of layers.

    Every capability adds its layers here: decile choropleths, outlines with labels,
    categorical and numeric polygons, clustered points. Each layer gets a legend that
    is shown only while the layer is on; all text from data is escaped; geometry is
    simplified without gaps between neighbours, quantised to 5 decimal places and
    stored once (TopoJSON) however many layers draw it; the HTML embeds Leaflet and its
    plugins (no CDN) and is a pure function of the inputs.

    Parameters
    ----------
    title : str
        Title shown on the map and as the page title.
    vintage : str, default ""
        Data vintage shown under the title, e.g. ``"IoD2025, LSOA 2021"``.
    notes : str, default ""
        Further lines for the title box; newlines are kept.
    attribution : str, default :data:`DEFAULT_ATTRIBUTION`
        Licence statement, shown as plain text in the map's attribution line.
    parameters : dict, optional
        Analysis parameters shown in the title box as ``name: value`` lines.
    simplify : float, default 5
        Simplification tolerance in metres (0 = none), applied to each set of
        polygons as a coverage so neighbours keep a common border.
    compress : bool, optional
        Embed the data gzip-compressed (decoded by the browser). Default: when the
        data is larger than :data:`COMPRESS_ABOVE` bytes.
    tiles : bool, default True
        Offer OpenStreetMap tiles as the (default) base layer; the blank base layer
        is always there, and the map works without network access.

    Examples
    --------
    >>> import geotarget as gt
    >>> from geotarget.render.maps import MapBuilder
    >>> s = gt.load(vintage=2025, councils=["Hartlepool"])
    >>> mb = MapBuilder("Deprivation in Hartlepool", vintage=s.vintage.label)
    >>> mb = mb.add_deciles(s.lsoas).add_outlines(s.wards, "Wards", label_column="ward_name")
    >>> [layer.name for layer in mb.layers][:2], len(mb.layers)
    (['IMD decile', 'Income decile'], 9)
    """

    def __init__(
        self,
        title: str,
        *,
        vintage: str = "",
        notes: str = "",
        attribution: str = DEFAULT_ATTRIBUTION,
        parameters: Mapping[str, Any] | None = None,
        simplify: float = 5.0,
        compress: bool | None = None,
        tiles: bool = True,
    ):
        self.title = str(title)
        self.vintage = str(vintage)
        self.notes = str(notes)
        self.attribution = str(attribution)
        self.parameters = {str(k): display(v) for k, v in (parameters or {}).items()}
        self.simplify = float(simplify)
        self.compress = compress
        self.tiles = bool(tiles)
        self.layers: list[Layer] = []
        self.legends: list[Legend] = []
        self._columns: list[list[Any]] = []
        self._column_ids: dict[str, int] = {}
        self._collections: list[np.ndarray] = []  # polygons in EPSG:27700
        self._wkb_index: list[dict[bytes, int]] = []
        self._search: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ layers

    def add_deciles(
        self,
        lsoas: gpd.GeoDataFrame,
        columns: Sequence[str] | Mapping[str, str] | None = None,
        *,
        show: bool = True,
        legend_title: str = DECILE_LEGEND_TITLE,
        search: bool = True,
    ) -> MapBuilder:
        """Add one choropleth layer per decile column, decile 1 (most deprived) darkest.

        The layers are alternatives: the layer control offers them as one radio group
        (:data:`DECILE_GROUP`, with "none"), so one is shown at a time, and each has its own legend,
        which names what it shows.

        Parameters
        ----------
        lsoas : geopandas.GeoDataFrame
            One row per LSOA with ``lsoa_code`` (column or index) and the decile
            columns (integers 1-10, missing = "no data"). Shown in the tooltip when
            present: ``lsoa_name``, ``ward_name``, ``lad_name``, ``pop_total`` (or
            ``population``), and ``<index>_rank``/``<index>_score`` beside each
            ``<index>_decile``.
        columns : list or dict, optional
            Decile columns to map (a dict maps column -> layer name). Default: every
            ``<index>_decile`` present for the IMD and its seven domains, in that
            order. Layers are named ``"<short name> decile"`` (e.g. "IMD decile").
        show : bool, default True
            Show the first layer when the map opens (the others start hidden).
        legend_title : str
            Title of each layer's legend, with ``{layer}`` standing for what the layer shows: the
            index's official name and "decile" (e.g. "Health Deprivation and Disability decile"),
            or the layer name given in ``columns``.
        search : bool, default True
            Make the LSOAs findable by code and name in the search box.
        """
        what = "add_deciles: lsoas"
        frame = key_as_column(lsoas, "lsoa_code")
        check_frame(frame, what, ["lsoa_code"], key="lsoa_code")
        unique_key(frame, what, "lsoa_code", "LSOA")
        if columns is None:
            chosen = {f"{ix.key}_decile": None for ix in (IMD, *DOMAINS) if f"{ix.key}_decile" in frame.columns}
            if not chosen:
                raise SchemaError(f"{what} has no decile column (expected imd_decile and/or <domain>_decile).")
        elif isinstance(columns, Mapping):
            chosen = dict(columns)
        else:
            chosen = {c: None for c in ([columns] if isinstance(columns, str) else columns)}
        require_columns(frame, what, chosen, "decile column(s)")
        frame = bng_frame(frame)
        geo, rows = self._register_polygons(frame)

        col = self._column
        tip: dict[str, Any] = {"head": [col(texts(frame["lsoa_code"]))]}
        if "lsoa_name" in frame.columns:
            tip["head"].append(col(texts(frame["lsoa_name"])))
        tip["fields"] = [
            [label, *self._values(frame, c)]
            for c, label in (("ward_name", "Ward"), ("lad_name", "Council"), ("pop_total", "Population"),
                             ("population", "Population"))
            if c in frame.columns and not (c == "population" and "pop_total" in frame.columns)
        ]  # fmt: skip
        table_rows, layer_names, titles, classes = [], [], [], []
        for column, given in chosen.items():
            stem = column.removesuffix("_decile")
            index = BY_KEY.get(stem)
            short = index.short if index is not None else stem.replace("_", " ")
            layer_names.append(given or f"{short} decile")
            long = f"{index.label} decile" if index is not None else f"{short} decile"
            titles.append(decile_legend_title(given or long, str(legend_title)))
            values = deciles(frame, column, name=what, key="lsoa_code")
            classes.append(values)
            cells = [[col(values), "i"]]
            for measure, fmt in (("rank", "i"), ("score", "f3")):
                c = f"{stem}_{measure}"
                if c in frame.columns:
                    v = numeric(frame, c, name=what, key="lsoa_code", rows="LSOA(s)")
                    cells.append([col(numbers(v, 3)), fmt])
                else:
                    cells.append(None)
            table_rows.append([short, *cells])
        tip["table"] = {"header": ["", "Decile", "Rank", "Score"], "rows": table_rows}
        has_missing = any(v is None for values in classes for v in values)
        items = [("fill", c, label) for c, label in zip(DECILE_COLOURS, decile_labels(), strict=True)]
        search_id = self._add_search(frame, ["lsoa_code", "lsoa_name"], "LSOA") if search else None
        groups = {layer.spec.get("exclusive") for layer in self.layers} - {None}
        group = f"{DECILE_GROUP} ({len(groups) + 1})" if groups else DECILE_GROUP
        legend = self._legend(titles[0], items, no_data=has_missing)  # one legend, titled by the layer shown
        legend.titles.update(zip(layer_names, titles, strict=True))
        for i, (name, values) in enumerate(zip(layer_names, classes, strict=True)):
            spec = {"kind": "fill", "geom": geo, "rows": rows, "cls": col(values), "base": 1,
                    "colors": list(DECILE_COLOURS), "tooltip": tip, "search": search_id if i == 0 else None,
                    "exclusive": group}
            colours = [NO_DATA_COLOUR if v is None else DECILE_COLOURS[v - 1] for v in values]
            self._add_layer(Layer("fill", name, show and i == 0, frame, legend, colours=colours, spec=spec))
        return self

    def add_outlines(
        self,
        gdf: gpd.GeoDataFrame,
        name: str,
        label_column: str | None = None,
        tooltip: Fields = None,
        color: str = "#222222",
        show: bool = True,
        *,
        weight: float = 1.5,
        dash: str | None = None,
        label_min_zoom: int | None = None,
        label_size: int = 11,
        search: bool | None = None,
    ) -> MapBuilder:
        """Add area boundaries as lines (wards, councils, action areas), optionally labelled.

        Parameters
        ----------
        gdf : geopandas.GeoDataFrame
            Polygons in any declared CRS.
        name : str
            Layer name in the layer control and the legend.
        label_column : str, optional
            Column whose text is shown permanently at each area's representative
            point (from zoom ``label_min_zoom`` on, if given).
        tooltip : list or dict, optional
            Columns shown when hovering the boundary line (dict: column -> label).
        color : str, default "#222222"
            Line colour (``#rrggbb``).
        show : bool, default True
            Show the layer when the map opens.
        weight, dash : float, str
            Line width in pixels and SVG dash pattern (e.g. ``"4 3"``).
        search : bool, optional
            Make the areas findable by their label in the search box (default: when
            ``label_column`` is given).
        """
        what = f"add_outlines({name!r})"
        check_frame(gdf, what)
        if label_column is not None:
            require_columns(gdf, what, [label_column], "label column")
        colour = check_colour(color, f"{what}: color")
        frame = bng_frame(gdf)
        geo, rows = self._register_polygons(frame)
        style = {"color": colour, "weight": float(weight), "opacity": 0.9, "fill": False}
        if dash:
            style["dashArray"] = str(dash)
        spec: dict[str, Any] = {"kind": "outline", "geom": geo, "rows": rows, "style": style,
                                "tooltip": self._tooltip(frame, tooltip, what)}
        labels = None
        if label_column is not None:
            labels = texts(frame[label_column])
            pts = frame.geometry.representative_point().to_crs(WGS84)
            spec["labels"] = {"text": self._column(labels), "lat": self._column(coords(pts.y)),
                              "lon": self._column(coords(pts.x)), "minZoom": label_min_zoom, "size": int(label_size)}
            if search or search is None:
                spec["search"] = self._add_search(frame, [label_column], name)
        legend = self._legend(name, [("line", colour, name)], dash=dash)
        self._add_layer(Layer("outline", name, show, frame, legend, style=style, labels=labels, spec=spec))
        return self

    def add_categories(
        self,
        gdf: gpd.GeoDataFrame,
        column: str,
        name: str,
        labels: Mapping[Any, str] | Sequence[Any] | None = None,
        colors: Mapping[Any, str] | Sequence[str] | None = None,
        tooltip: Fields = None,
        show: bool = False,
        *,
        legend_title: str | None = None,
        opacity: float = 0.75,
        search: Sequence[str] | None = None,
    ) -> MapBuilder:
        """Add polygons filled by category (typologies, hot spots, deserts, action areas).

        Parameters
        ----------
        gdf : geopandas.GeoDataFrame
            Polygons in any declared CRS.
        column : str
            The category of each area; missing values are drawn grey ("no data").
        name : str
            Layer name in the layer control.
        labels : dict or list, optional
            A dict category -> legend label, or a list of categories; either gives the
            legend order, and every category in the data must be in it. Default: the
            sorted categories, labelled by their values.
        colors : dict or list, optional
            Colours (``#rrggbb``) per category, as a dict or in legend order.
            Default: a colour-blind-safe qualitative palette.
        tooltip : list or dict, optional
            Columns shown on hover (dict: column -> label). Default: an id/name
            column, if one is recognised, and ``column``.
        show : bool, default False
            Show the layer when the map opens.
        search : list of str, optional
            Columns whose text makes the areas findable in the search box.
        """
        what = f"add_categories({name!r})"
        check_frame(gdf, what)
        require_columns(gdf, what, [column])
        frame = bng_frame(gdf)
        order, label_of = categories(frame[column], labels, what, column)
        palette = category_palette(order, colors, what)
        index = {v: i for i, v in enumerate(order)}
        classes = [None if isna(v) else index[v] for v in frame[column].tolist()]
        geo, rows = self._register_polygons(frame)
        items = [("fill", palette[i], label_of[v]) for i, v in enumerate(order)]
        legend = self._legend(legend_title or name, items, no_data=any(c is None for c in classes))
        fields = tooltip if tooltip is not None else default_tooltip(frame, column, legend_title or name)
        spec = {"kind": "fill", "geom": geo, "rows": rows, "cls": self._column(classes), "base": 0,
                "colors": palette, "opacity": float(opacity), "tooltip": self._tooltip(frame, fields, what),
                "search": self._add_search(frame, list(search), name) if search else None}
        colours = [NO_DATA_COLOUR if c is None else palette[c] for c in classes]
        self._add_layer(Layer("fill", name, show, frame, legend, colours=colours, spec=spec))
        return self

    def add_choropleth(
        self,
        gdf: gpd.GeoDataFrame,
        column: str,
        name: str,
        k: int = 5,
        scheme: str = "quantiles",
        tooltip: Fields = None,
        show: bool = False,
        *,
        bins: Sequence[float] | None = None,
        colors: Sequence[str] | None = None,
        reverse: bool = False,
        legend_title: str | None = None,
        decimals: int | None = None,
        opacity: float = 0.75,
    ) -> MapBuilder:
        """Add polygons filled by a numeric column, classified with mapclassify.

        Parameters
        ----------
        gdf : geopandas.GeoDataFrame
            Polygons in any declared CRS.
        column : str
            Numeric column; missing values are drawn grey ("no data").
        name : str
            Layer name in the layer control.
        k : int, default 5
            Number of classes (fewer if the data has fewer distinct values).
        scheme : str, default "quantiles"
            A deterministic mapclassify scheme: one of :data:`SCHEMES`
            (``"user_defined"`` needs ``bins``, the upper bounds of the classes).
        colors : list of str, optional
            One colour per class, lowest values first. Default: viridis from light
            (low) to dark (high); ``reverse=True`` makes low values dark.
        decimals : int, optional
            Decimal places of the class bounds in the legend (default: 0 for whole
            numbers, else 2).
        """
        import mapclassify

        what = f"add_choropleth({name!r})"
        check_frame(gdf, what)
        require_columns(gdf, what, [column])
        if scheme not in SCHEMES:
            raise SchemaError(f"{what}: scheme was {scheme!r} but is expected to be one of {', '.join(SCHEMES)}.")
        if scheme == "user_defined" and not bins:
            raise SchemaError(f"{what}: scheme 'user_defined' needs bins= (the upper bound of each class).")
        frame = bng_frame(gdf)
        values = numeric(frame, column, name=what, key=None)
        present = values.dropna()
        if present.empty:
            raise SchemaError(f"{what}: column {column!r} has no values to classify.")
        kwargs: dict[str, Any] = {"bins": list(bins)} if scheme == "user_defined" else {"k": min(k, present.nunique())}
        if scheme in ("head_tail_breaks", "std_mean", "box_plot", "percentiles"):
            kwargs = {}
        classifier = mapclassify.classify(present.to_numpy(), scheme, **kwargs)
        upper = [float(b) for b in classifier.bins]
        n = len(upper)
        if colors is not None:
            palette = [check_colour(c, f"{what}: colors") for c in colors]
            if len(palette) != n:
                raise SchemaError(f"{what}: {len(palette)} colours given for {n} classes; give one per class.")
        else:
            palette = sequential(n, reverse=reverse)
        classes: list[int | None] = [None] * len(frame)
        for pos, c in zip(np.flatnonzero(values.notna().to_numpy()), classifier.yb, strict=True):
            classes[pos] = int(c)
        if decimals is None:
            decimals = 0 if bool((present == present.round()).all()) and all(b == round(b) for b in upper) else 2
        lows = [float(present.min()), *upper[:-1]]
        items = [("fill", colour, f"{lo:,.{decimals}f} – {hi:,.{decimals}f}")
                 for colour, lo, hi in zip(palette, lows, upper, strict=True)]
        geo, rows = self._register_polygons(frame)
        legend = self._legend(legend_title or f"{name} ({scheme.replace('_', ' ')})", items,
                              no_data=any(c is None for c in classes))
        fields = tooltip if tooltip is not None else default_tooltip(frame, column, legend_title or name)
        spec = {"kind": "fill", "geom": geo, "rows": rows, "cls": self._column(classes), "base": 0,
                "colors": palette, "opacity": float(opacity), "tooltip": self._tooltip(frame, fields, what)}
        colours = [NO_DATA_COLOUR if c is None else palette[c] for c in classes]
        self._add_layer(Layer("fill", name, show, frame, legend, colours=colours, spec=spec))
        return self

    def add_points(
        self,
        gdf: gpd.GeoDataFrame,
        name: str,
        category_column: str | None = None,
        label_column: str | None = None,
        popup: Fields = None,
        cluster: bool = True,
        show: bool = True,
        *,
        labels: Mapping[Any, str] | Sequence[Any] | None = None,
        colors: Mapping[Any, str] | Sequence[str] | None = None,
        icons: Mapping[Any, str] | None = None,
        color: str = "#1f4e79",
        search: bool | None = None,
    ) -> MapBuilder:
        """Add point markers (assets, HIA sites), clustered, coloured by category.

        Parameters
        ----------
        gdf : geopandas.GeoDataFrame
            Points in any declared CRS.
        name : str
            Layer name in the layer control.
        category_column : str, optional
            Category of each point: its marker colour and symbol, one legend row each.
            ``labels``/``colors`` work as in :meth:`add_categories`.
        label_column : str, optional
            Name of each point, shown on hover and findable in the search box.
        popup : list or dict, optional
            Columns shown when a marker is clicked (dict: column -> label; an empty label
            shows the value alone). In a list, each column is labelled by its name, except a
            column ``popup``, which holds the whole popup as plain text and is shown without a
            label. Default: ``label_column`` and ``category_column``.
        cluster : bool, default True
            Group nearby markers into clusters that split as you zoom in.
        icons : dict, optional
            Category -> one or two characters drawn in the marker (default: the first
            letter of the category's label).
        color : str
            Marker colour when there is no ``category_column``.
        """
        what = f"add_points({name!r})"
        check_frame(gdf, what, geometry="point")
        require_columns(gdf, what, [c for c in (category_column, label_column) if c is not None])
        frame = bng_frame(gdf)
        pts = frame.geometry.to_crs(WGS84)
        col = self._column
        spec: dict[str, Any] = {"kind": "points", "lat": col(coords(pts.y)), "lon": col(coords(pts.x)),
                                "cluster": bool(cluster)}
        if category_column is not None:
            order, label_of = categories(frame[category_column], labels, what, category_column)
            palette = category_palette(order, colors, what)
            index = {v: i for i, v in enumerate(order)}
            classes = [None if isna(v) else index[v] for v in frame[category_column].tolist()]
            symbols = [str((icons or {}).get(v) or label_of[v][:1].upper())[:2] for v in order]
            spec.update(cls=col(classes), colors=palette, icons=symbols, textColors=[text_colour(c) for c in palette])
            items = [("marker", palette[i], label_of[v]) for i, v in enumerate(order)]
            if any(c is None for c in classes):
                items.append(("marker", NO_DATA_COLOUR, "no category"))
            colours = [NO_DATA_COLOUR if c is None else palette[c] for c in classes]
        else:
            colour = check_colour(color, f"{what}: color")
            spec.update(cls=None, colors=[colour], icons=[""], textColors=[text_colour(colour)])
            items = [("marker", colour, name)]
            colours = [colour] * len(frame)
        if label_column is not None:
            spec["label"] = col(texts(frame[label_column]))
            if search or search is None:
                spec["search"] = len(self._search)
                self._search.append({"text": [spec["label"]], "kind": name, "layer": name})
        fields = popup if popup is not None else [c for c in (label_column, category_column) if c is not None]
        spec["popup"] = self._tooltip(frame, fields, what)
        legend = self._legend(name, items)
        self._add_layer(Layer("points", name, show, frame, legend, colours=colours, spec=spec))
        return self

    def add_search(self, gdf: gpd.GeoDataFrame, label_column: str, kind: str = "Postcode") -> MapBuilder:
        """Make places findable in the search box without drawing them (e.g. postcodes).

        Parameters
        ----------
        gdf : geopandas.GeoDataFrame
            Points (or areas, found at their representative point) in any declared CRS.
        label_column : str
            The text searched for, e.g. ``postcode``.
        kind : str, default "Postcode"
            Shown after each match in the search list.
        """
        what = f"add_search({kind!r})"
        check_frame(gdf, what, geometry="any")
        require_columns(gdf, what, [label_column])
        frame = bng_frame(gdf)
        pts = frame.geometry.representative_point().to_crs(WGS84)
        self._search.append({"text": [self._column(texts(frame[label_column]))], "kind": str(kind),
                             "lat": self._column(coords(pts.y)), "lon": self._column(coords(pts.x))})
        return self

    # ------------------------------------------------------------------ output

    def spec(self) -> dict[str, Any]:
        """Everything the page draws, as one JSON-ready dict (geometry as TopoJSON)."""
        if not self.layers:
            raise SchemaError("the map has no layers; add some with add_deciles, add_outlines, ... first.")
        collections = []
        for geoms in self._collections:
            simplified = _encode.simplify_coverage(geoms, self.simplify)
            collections.append(np.asarray(gpd.GeoSeries(simplified, crs=BNG).to_crs(WGS84).array, dtype=object))
        west, south, east, north = self._bounds(collections)
        legends = [{"title": lg.title, "items": [list(i) for i in lg.items], "layers": lg.layers,
                    **({"titles": [lg.title_of(name) for name in lg.layers]} if lg.titles else {})}
                   for lg in self.legends]
        return {
            "title": self.title,
            "vintage": self.vintage,
            "notes": self.notes,
            "attribution": self.attribution,  # text, like every string here (the page's script escapes it)
            "parameters": [[k, v] for k, v in self.parameters.items()],
            "bounds": [[south, west], [north, east]],
            "minZoom": MIN_ZOOM,
            "maxZoom": MAX_ZOOM,
            "tiles": self.tiles,
            "noData": NO_DATA_COLOUR,
            "topology": _encode.topology(collections),
            "columns": self._columns,
            "layers": [{"name": layer.name, "show": layer.show, **layer.spec} for layer in self.layers],
            "legends": legends,
            "search": self._search,
        }

    def to_folium(self):
        """Return the map as a :class:`folium.Map` (e.g. to display in a notebook)."""
        spec = self.spec()
        (south, west), (north, east) = spec["bounds"]
        return _page.build(spec, title=self.title, bounds=(west, south, east, north), compress=self.compress,
                           compress_above=COMPRESS_ABOVE)

    def html(self) -> str:
        """Return the complete, self-contained HTML page."""
        return _page.render_html(self.to_folium())

    def _repr_html_(self) -> str:  # Jupyter
        return self.to_folium()._repr_html_()

    def save(self, path: str | os.PathLike) -> pathlib.Path:
        """Write the map as one self-contained HTML file, atomically; returns the path.

        Missing folders are created; the file is replaced only once the new map is
        complete (written to a temporary file beside it, then renamed).
        """
        text = self.html()
        target = write_text_atomic(path, text)
        logger.info("wrote map %s (%d bytes)", target, len(text.encode("utf-8")))
        return pathlib.Path(target)

    def save_static(self, path: str | os.PathLike, layers: Sequence[str] | None = None, **kwargs: Any):
        """Write a static map (PNG, SVG or PDF by suffix) of some layers.

        See :func:`geotarget.render.maps.static.static_map`.
        """
        return static_map(self, path, layers=layers, **kwargs)

    # ------------------------------------------------------------------ plumbing

    def _add_layer(self, layer: Layer) -> None:
        if any(existing.name == layer.name for existing in self.layers):
            raise SchemaError(f"a layer named {layer.name!r} is already on the map; layer names must be unique.")
        layer.legend.layers.append(layer.name)
        self.layers.append(layer)

    def _legend(self, title: str, items: list[tuple[str, str, str]], *, no_data: bool = False,
                dash: str | None = None) -> Legend:
        items = list(items)
        if no_data:
            items.append(("fill", NO_DATA_COLOUR, "no data"))
        if dash:
            items = [(kind + ":" + dash if kind == "line" else kind, c, label) for kind, c, label in items]
        legend = Legend(str(title), items)
        self.legends.append(legend)
        return legend

    def _column(self, values: list[Any]) -> int:
        """Index of ``values`` in the shared column store (identical columns stored once)."""
        key = _page.to_json(values)
        index = self._column_ids.get(key)
        if index is None:
            index = self._column_ids[key] = len(self._columns)
            self._columns.append(values)
        return index

    def _values(self, frame: pd.DataFrame, column: str) -> list[Any]:
        """``[column index, format]`` of a column shown in a tooltip or popup."""
        values, fmt = display_column(frame[column])
        return [self._column(values), fmt]

    def _tooltip(self, frame: pd.DataFrame, fields: Fields, what: str) -> dict[str, Any] | None:
        if not fields:
            return None
        # In a list, a column is labelled by its name, except ``popup``: a whole popup as plain text (as
        # geotarget.io.assets.asset_layer writes it), shown without a label. An empty label shows no label.
        pairs = (list(fields.items()) if isinstance(fields, Mapping)
                 else [(c, "" if c == "popup" else c) for c in as_list(fields)])
        require_columns(frame, what, [c for c, _ in pairs], "tooltip/popup column(s)")
        return {"fields": [[str(label), *self._values(frame, c)] for c, label in pairs]}

    def _register_polygons(self, frame: gpd.GeoDataFrame) -> tuple[int, list[int] | None]:
        """Return the collection holding ``frame``'s polygons (reusing one that has them all)."""
        geoms = np.asarray(frame.geometry.array, dtype=object)
        wkb = shapely.to_wkb(geoms)
        for cid, index in enumerate(self._wkb_index):
            rows = [index.get(w) for w in wkb]
            if all(r is not None for r in rows):
                return cid, (None if rows == list(range(len(index))) else rows)
        self._collections.append(geoms)
        self._wkb_index.append({w: i for i, w in enumerate(wkb)})
        return len(self._collections) - 1, None

    def _add_search(self, frame: pd.DataFrame, columns: list[str], kind: str) -> int:
        """Return a search entry for a layer's features (the page finds them through the layer)."""
        found = [self._column(texts(frame[c])) for c in columns if c in frame.columns]
        self._search.append({"text": found, "kind": kind})
        return len(self._search) - 1

    def _bounds(self, collections: list[np.ndarray]) -> tuple[float, float, float, float]:
        """West, south, east, north of everything on the map (polygons in WGS84 given)."""
        boxes = [shapely.total_bounds(c) for c in collections]
        for layer in self.layers:
            if layer.kind == "points":
                lat, lon = self._columns[layer.spec["lat"]], self._columns[layer.spec["lon"]]
                boxes.append([min(lon), min(lat), max(lon), max(lat)])
        boxes = np.array(boxes)
        return (_encode.rounded(boxes[:, 0].min()), _encode.rounded(boxes[:, 1].min()),
                _encode.rounded(boxes[:, 2].max()), _encode.rounded(boxes[:, 3].max()))
