"""Interactive web maps of deprivation: the one module that knows about folium.

:func:`deprivation_map` renders a frame of LSOAs with their IMD and domain ranks and
deciles as a Leaflet map: one choropleth layer per index, ward and council outlines
with names, a hover tooltip, a legend, the title, the data vintage and the licence
attribution; optionally, a layer of ward deprivation profiles (MHCLG's summary
measures from :func:`geotarget.aggregate.aggregate`). :func:`write_map` saves it as
one HTML file.

Design notes
------------
* The LSOA geometry is embedded **once**, as a JavaScript FeatureCollection with
  coordinates rounded to 5 decimal places (about 1 m), and every decile layer is
  built from that one object with its own style function. A map of the 425 Tees
  Valley LSOAs therefore costs one copy of the boundaries, not eight. Likewise the
  ward profile layer and the ward outlines share one copy of the ward boundaries.
* Everything that comes from data (names, codes, titles, notes) is embedded as JSON
  in which ``<``, ``>`` and ``&`` are written as ``\\u003c`` etc., so no string can
  close the ``<script>`` element, and the browser inserts it with ``textContent``,
  never as markup.
* The output is deterministic: folium's random element ids are replaced by ids
  numbered in tree order, so the same inputs give byte-identical HTML (and clean
  diffs when a map is kept under version control).
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import pathlib
from collections.abc import Iterable, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.map import Layer
from jinja2 import Template

from ._errors import CRSError, SchemaError
from ._io import write_text_atomic
from .crs import BNG, WGS84
from .domains import DOMAINS, IMD, Domain

__all__ = [
    "DECILE_COLOURS",
    "DEFAULT_ATTRIBUTION",
    "LEGEND_TITLE",
    "REQUIRED_LSOA_COLUMNS",
    "REQUIRED_PROFILE_COLUMNS",
    "WARD_CLASS_COLOURS",
    "WARD_PROFILE_LAYER",
    "deprivation_map",
    "write_map",
]

logger = logging.getLogger(__name__)

#: Licence statement shown on every map (OGL for the IoD, OS for the boundaries).
DEFAULT_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Contains OS data © Crown copyright and database right."
)

#: Fill colour of deciles 1..10: the 10-class viridis palette (perceptually uniform and
#: colour-blind safe), darkest for decile 1 = the most deprived 10% nationally.
DECILE_COLOURS: tuple[str, ...] = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
)  # fmt: skip
_NO_DATA_COLOUR = "#bdbdbd"

#: Fill colour of the ward profile layer's classes, the fifths of the wards' rank on IMD
#: average score: the 5-class viridis palette, darkest for the most deprived fifth.
WARD_CLASS_COLOURS: tuple[str, ...] = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
#: Name of the ward profile layer in the layer control.
WARD_PROFILE_LAYER = "Ward profile: IMD average score"

LEGEND_TITLE = "IMD / domain decile — 1 = most deprived 10% nationally"

#: Columns ``lsoas`` must have, besides the geometry: identity, the IMD and one
#: decile per domain (ranks, scores and ``pop_total`` are shown when present).
REQUIRED_LSOA_COLUMNS: tuple[str, ...] = (
    "lsoa_code", "lsoa_name", "lad_code", "lad_name", "ward_code", "ward_name",
    "imd_score", "imd_rank", "imd_decile",
    *(f"{d.key}_decile" for d in DOMAINS),
)  # fmt: skip
REQUIRED_WARD_COLUMNS: tuple[str, ...] = ("ward_code", "ward_name")
REQUIRED_LAD_COLUMNS: tuple[str, ...] = ("lad_code", "lad_name")

#: The IMD summary measures shown for each ward (column ``imd_<measure>`` and its rank
#: among the wards, ``imd_rank_<measure>``), with their tooltip labels.
_PROFILE_MEASURES: tuple[tuple[str, str], ...] = (
    ("average_score", "Average score"),
    ("average_rank", "Average rank"),
    ("prop_most_deprived_10", "LSOAs in England's most deprived 10%"),
    ("extent", "Extent"),
    ("local_concentration", "Local concentration"),
)
_FRACTION_MEASURES = ("prop_most_deprived_10", "extent")  # fractions 0-1, shown as %
#: Columns ``ward_profiles`` must have besides its ``area_code`` index (``lad_name`` is
#: shown when present).
REQUIRED_PROFILE_COLUMNS: tuple[str, ...] = (
    "area_name", "n_lsoas", "population",
    *(c for m, _ in _PROFILE_MEASURES for c in (f"imd_{m}", f"imd_rank_{m}")),
)  # fmt: skip
_WARD_CLASSES = 5

_PRECISION = 5  # decimal places of longitude/latitude (~1 m)
_WARD_LABEL_MIN_ZOOM = 12
_JS_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


# --------------------------------------------------------------------------- public API


def deprivation_map(
    lsoas: gpd.GeoDataFrame,
    *,
    wards: gpd.GeoDataFrame | None = None,
    lads: gpd.GeoDataFrame | None = None,
    ward_profiles: pd.DataFrame | None = None,
    title: str,
    vintage: str,
    notes: str = "",
    attribution: str = DEFAULT_ATTRIBUTION,
) -> folium.Map:
    """Build an interactive map of IMD and domain deciles for a set of LSOAs.

    The map has one choropleth layer for the IMD decile (shown) and one for each
    domain decile (hidden; switch them on in the layer control), a legend that is
    visible while any decile layer is on, optional ward and council outlines with
    their names (ward names appear from zoom 12), a tooltip per LSOA, a title box
    stating ``title``, ``vintage`` and ``notes``, and ``attribution`` in the map's
    attribution line. Base map: OpenStreetMap, or none.

    With ``ward_profiles``, a further layer (hidden at first) fills each ward by the
    fifth of its rank on IMD average score among the wards in the table, with its own
    legend (shown while the layer is on) and a tooltip with the ward's IMD summary
    measures and their ranks.

    Parameters
    ----------
    lsoas : geopandas.GeoDataFrame
        One row per LSOA, polygons in any declared CRS (normally EPSG:27700), with
        the columns in :data:`REQUIRED_LSOA_COLUMNS`: ``lsoa_code`` (a column or the
        index), ``lsoa_name, lad_code, lad_name, ward_code, ward_name, imd_score,
        imd_rank, imd_decile`` and ``<key>_decile`` for every domain in
        :data:`geotarget.domains.DOMAINS`.
        ``<key>_rank``, ``<key>_score`` and ``pop_total`` are shown in the tooltip
        when present (IoD2019 has no published score for some domains). Deciles are
        the *national* deciles, integers 1-10 (1 = most deprived 10%); a missing
        decile is drawn grey and labelled "no data".
    wards : geopandas.GeoDataFrame, optional
        Ward polygons with ``ward_code`` (column or index) and ``ward_name``, drawn
        as outlines with their names.
    lads : geopandas.GeoDataFrame, optional
        Local authority polygons with ``lad_code`` (column or index) and ``lad_name``,
        drawn as outlines with their names.
    ward_profiles : pandas.DataFrame, optional
        Ward deprivation profiles as returned by
        ``geotarget.aggregate.aggregate(lsoas, to="ward")``: indexed by ``area_code``
        (the ward code, as in ``wards``), with the columns in
        :data:`REQUIRED_PROFILE_COLUMNS` (``area_name, n_lsoas, population`` and the
        five IMD summary measures with their ranks, 1 = most deprived among the
        wards in the table) and optionally ``lad_name``. Needs ``wards``. Wards in
        ``wards`` but not in the table are drawn grey ("no data").
    title : str
        Title shown in the top-left box and as the page title.
    vintage : str
        Data vintage shown under the title, e.g. ``"IoD2025, LSOA 2021"``.
    notes : str, default ""
        Further lines for the title box (councils, parameters); newlines are kept.
    attribution : str, default :data:`DEFAULT_ATTRIBUTION`
        Licence statement, shown as plain text next to the base map's attribution.

    Returns
    -------
    folium.Map
        The map; save it with :func:`write_map`. Rendering it twice, or building it
        twice from the same inputs, gives byte-identical HTML.

    Raises
    ------
    SchemaError
        If a frame is not a GeoDataFrame, lacks a required column, has a missing,
        empty or non-polygon geometry, repeats an LSOA code, or has a decile outside
        1-10 or a non-numeric rank or score; if ``ward_profiles`` is given without
        ``wards``, lacks a column, repeats a ward or has a ward code not in
        ``wards``, a rank outside 1 to its number of wards, or a proportion or
        extent outside 0-1.
    CRSError
        If a frame has no coordinate reference system.

    Notes
    -----
    Inputs are not modified. Coordinates are reprojected to EPSG:4326 and rounded to
    5 decimal places; geometry is not simplified.
    """
    lsoas = _key_as_column(lsoas, "lsoa_code")
    _check_frame(lsoas, "lsoas", REQUIRED_LSOA_COLUMNS, key="lsoa_code", polygons=True)
    if wards is not None:
        wards = _key_as_column(wards, "ward_code")
        _check_frame(wards, "wards", REQUIRED_WARD_COLUMNS, key="ward_code")
    if lads is not None:
        lads = _key_as_column(lads, "lad_code")
        _check_frame(lads, "lads", REQUIRED_LAD_COLUMNS, key="lad_code")
    duplicated = lsoas["lsoa_code"][lsoas["lsoa_code"].duplicated()]
    if len(duplicated):
        raise SchemaError(
            f"lsoas: column 'lsoa_code' must hold one row per LSOA, but "
            f"{_examples(duplicated.unique())} occur more than once; drop the duplicates."
        )
    if ward_profiles is not None:
        if wards is None:
            raise SchemaError(
                "ward_profiles needs wards= (the ward polygons, with ward_code and "
                "ward_name) to draw them on; pass both, or neither."
            )
        ward_profiles = _check_profiles(ward_profiles, wards)

    indices: list[Domain] = [IMD, *DOMAINS]
    features = _lsoa_features(lsoas, indices)
    west, south, east, north = (
        round(float(v), _PRECISION) for v in lsoas.geometry.to_crs(WGS84).total_bounds
    )

    m = folium.Map(
        location=[round((south + north) / 2, _PRECISION), round((west + east) / 2, _PRECISION)],
        zoom_start=11,
        tiles=None,
        control_scale=True,
        zoom_snap=0.25,  # let fitBounds fill the window rather than snap a whole level out
    )
    m.get_root().title = html.escape(title)
    # Every layer is created hidden and the visible ones are added by _ShowLayers:
    # folium's own mechanism for this adds an element with a random id at each
    # render, so a map rendered twice would not give the same HTML twice.
    tiles = folium.TileLayer("OpenStreetMap", name="OpenStreetMap", show=False).add_to(m)
    _BlankBaseLayer("No basemap").add_to(m)

    has_missing = any(d is None for f in features for d in f["properties"]["dec"])
    script = _MapScript(features, indices).add_to(m)
    decile_layers = [
        _DecileLayer(script, i, f"{index.short} decile").add_to(m)
        for i, index in enumerate(indices)
    ]
    profile_layer = None
    if ward_profiles is not None:
        profile_layer = _WardProfileLayer(script, wards, ward_profiles).add_to(m)
    shown: list[Layer] = [tiles, decile_layers[0]]
    if wards is not None:
        shown.append(
            _OutlineLayer(
                script, wards, "ward_name", "Ward boundaries", kind="ward",
                min_zoom=_WARD_LABEL_MIN_ZOOM, shapes_from=profile_layer,
            ).add_to(m)
        )  # fmt: skip
    if lads is not None:
        shown.append(
            _OutlineLayer(script, lads, "lad_name", "Council boundaries", kind="lad").add_to(m)
        )
    _ShowLayers(shown).add_to(m)
    _Legend(decile_layers, **_decile_legend(no_data=has_missing)).add_to(m)
    if profile_layer is not None:
        _Legend([profile_layer], **profile_layer.legend()).add_to(m)
    _TitleBox(title=title, vintage=vintage, notes=notes, attribution=attribution).add_to(m)
    m.fit_bounds([[south, west], [north, east]])
    folium.LayerControl(collapsed=False).add_to(m)
    _number_elements(m.get_root())
    return m


def write_map(m: folium.Map, path: str | os.PathLike) -> pathlib.Path:
    """Write ``m`` as a self-contained HTML file, atomically.

    The HTML is rendered first, written to a temporary file in the same folder and
    then moved over ``path`` with :func:`os.replace`, so ``path`` is either left as it
    was or holds the complete new map, never a partial file.

    Parameters
    ----------
    m : folium.Map
        A map, e.g. from :func:`deprivation_map`.
    path : str or os.PathLike
        Destination file (conventionally ``.html``); missing folders are created.

    Returns
    -------
    pathlib.Path
        ``path`` as a :class:`pathlib.Path`.
    """
    html = m.get_root().render()
    target = write_text_atomic(path, html)
    logger.info("wrote map %s (%d bytes)", target, len(html.encode("utf-8")))
    return target


# --------------------------------------------------------------------------- validation


def _key_as_column(frame: Any, key: str) -> Any:
    """A copy of ``frame`` with its index as column ``key``, if the index is named ``key``."""
    if isinstance(frame, pd.DataFrame) and key not in frame.columns and frame.index.name == key:
        return frame.reset_index()
    return frame


def _check_frame(
    gdf: Any, name: str, required: Sequence[str], *, key: str, polygons: bool = False
) -> None:
    """Raise SchemaError/CRSError unless ``gdf`` is a usable GeoDataFrame."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SchemaError(
            f"{name} must be a geopandas GeoDataFrame with a geometry column, "
            f"but a {type(gdf).__name__} was given."
        )
    missing = [c for c in required if c not in gdf.columns]
    if missing:
        listed = ", ".join(repr(c) for c in missing)
        raise SchemaError(
            f"{name} is missing required column(s) {listed}; "
            f"expected columns {', '.join(required)}."
        )
    try:
        geometry = gdf.geometry
    except AttributeError:
        raise SchemaError(
            f"{name} has no active geometry column; set one with {name}.set_geometry(...)."
        ) from None
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no coordinate reference system; expected {BNG} (British National "
            f"Grid). Declare it with {name}.set_crs({BNG!r}) if that is what it is."
        )
    bad = geometry.isna() | geometry.is_empty
    if bad.any():
        raise SchemaError(
            f"{name}: {int(bad.sum())} row(s) have a missing or empty geometry "
            f"({key} {_examples(gdf.loc[bad, key])}); every row needs a boundary."
        )
    if polygons:
        wrong = ~geometry.geom_type.isin(["Polygon", "MultiPolygon"])
        if wrong.any():
            raise SchemaError(
                f"{name}: geometries must be polygons, but {key} "
                f"{_examples(gdf.loc[wrong, key])} are "
                f"{_examples(geometry[wrong].geom_type.unique())}."
            )


def _examples(values: Iterable[Any], limit: int = 5) -> str:
    """``'a', 'b' and 3 more`` for error messages."""
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _numeric(
    frame: pd.DataFrame,
    column: str,
    *,
    name: str = "lsoas",
    key: str = "lsoa_code",
    rows: str = "LSOA(s)",
) -> pd.Series:
    """``frame[column]`` as float (NaN where missing), raising SchemaError on
    non-numeric or infinite values and naming the offending rows by ``key``."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = (values.isna() & raw.notna()) | np.isinf(values)
    if bad.any():
        raise SchemaError(
            f"{name}: column {column!r} must be numeric and finite, but {rows} "
            f"{_examples(frame.loc[bad, key])} have "
            f"{_examples(raw[bad].unique())}."
        )
    return values


def _deciles(lsoas: pd.DataFrame, column: str) -> list[int | None]:
    """Deciles as ints (None where missing), raising SchemaError outside 1..10."""
    values = _numeric(lsoas, column)
    bad = values.notna() & ~values.isin(range(1, 11))
    if bad.any():
        raise SchemaError(
            f"lsoas: column {column!r} must hold national deciles 1-10 (1 = most "
            f"deprived), but LSOA(s) {_examples(lsoas.loc[bad, 'lsoa_code'])} have "
            f"{_examples(lsoas.loc[bad, column].unique())}."
        )
    return [None if math.isnan(v) else int(v) for v in values]


def _check_profiles(profiles: Any, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """``profiles`` with ``area_code`` as a column, after checking it against ``wards``."""
    if not isinstance(profiles, pd.DataFrame):
        raise SchemaError(
            "ward_profiles must be a pandas DataFrame as returned by "
            f"aggregate(lsoas, to='ward'), but a {type(profiles).__name__} was given."
        )
    profiles = _key_as_column(profiles, "area_code")
    if "area_code" not in profiles.columns:
        raise SchemaError(
            "ward_profiles must be indexed by 'area_code' (the ward code), as returned by "
            f"aggregate(lsoas, to='ward'), but its index is named {profiles.index.name!r} "
            f"and it has no 'area_code' column."
        )
    missing = [c for c in REQUIRED_PROFILE_COLUMNS if c not in profiles.columns]
    if missing:
        raise SchemaError(
            f"ward_profiles is missing required column(s) {', '.join(map(repr, missing))}; "
            f"expected the output of aggregate(lsoas, to='ward')."
        )
    codes = profiles["area_code"]
    duplicated = codes[codes.duplicated()]
    if len(duplicated):
        raise SchemaError(
            f"ward_profiles must hold one row per ward, but area_code "
            f"{_examples(duplicated.unique())} occur more than once."
        )
    unknown = codes[~codes.isin(wards["ward_code"])]
    if len(unknown):
        raise SchemaError(
            f"ward_profiles: ward code(s) {_examples(unknown)} are not in wards (column "
            f"'ward_code'); pass the ward boundaries of the same wards and year as the profiles."
        )
    n_wards = len(profiles)
    check = {"name": "ward_profiles", "key": "area_code", "rows": "ward(s)"}
    for column in REQUIRED_PROFILE_COLUMNS:
        if column == "area_name":
            continue
        values = _numeric(profiles, column, **check)
        if column.startswith("imd_rank_"):
            bad = values.notna() & ~values.isin(range(1, n_wards + 1))
            allowed = f"ranks among the wards in the table, whole numbers 1-{n_wards}"
        elif column.removeprefix("imd_") in _FRACTION_MEASURES:
            bad = (values < 0) | (values > 1)
            allowed = "fractions 0-1"
        else:
            continue
        if bad.any():
            raise SchemaError(
                f"ward_profiles: column {column!r} must hold {allowed}, but ward(s) "
                f"{_examples(profiles.loc[bad, 'area_code'])} have "
                f"{_examples(profiles.loc[bad, column].unique())}."
            )
    return profiles


# --------------------------------------------------------------------------- data to JSON


def _fmt_int(value: float) -> str | None:
    return None if math.isnan(value) else f"{round(value):,}"


def _fmt_score(value: float) -> str | None:
    return None if math.isnan(value) else f"{value:,.3f}"


def _fmt_percent(value: float) -> str | None:
    return None if math.isnan(value) else f"{100 * value:.1f}%"


def _fmt_count(value: float) -> str | None:
    """Whole counts as integers, fractional ones (split LSOAs) to 1 dp."""
    if math.isnan(value):
        return None
    return f"{round(value):,}" if value == round(value) else f"{value:,.1f}"


def _ward_class(rank: float, n_wards: int) -> int | None:
    """The fifth (1 = most deprived) holding ``rank`` among ``n_wards``: ceil(5 rank / n)."""
    return None if math.isnan(rank) else -(-_WARD_CLASSES * int(rank) // n_wards)


def _ward_properties(wards: gpd.GeoDataFrame, profiles: pd.DataFrame) -> list[dict]:
    """Tooltip and class of each ward in ``wards`` (in its row order) from ``profiles``.

    Properties: ``code, name, lad`` (text; ``lad`` null if unknown), ``n`` and ``pop``
    (LSOAs and population, formatted), ``cls`` (fifth 1-5 of the rank on IMD average
    score, null = no data) and ``m`` ([value, rank] per measure in
    :data:`_PROFILE_MEASURES`, formatted strings or null; ``m`` is null for a ward
    without a profile).
    """
    n_wards = len(profiles)
    check = {"name": "ward_profiles", "key": "area_code", "rows": "ward(s)"}

    def numbers(column: str) -> list[float]:
        return _numeric(profiles, column, **check).tolist()

    def shown(measure: str) -> list[list[str | None]]:
        if measure == "average_score":
            fmt = _fmt_score
        else:
            fmt = _fmt_percent if measure in _FRACTION_MEASURES else _fmt_int
        values = [fmt(v) for v in numbers(f"imd_{measure}")]
        ranks = [_fmt_int(r) for r in numbers(f"imd_rank_{measure}")]
        return [[v, r] for v, r in zip(values, ranks)]

    measures = [shown(m) for m, _ in _PROFILE_MEASURES]
    n_lsoas, population = numbers("n_lsoas"), numbers("population")
    class_ranks = numbers("imd_rank_average_score")
    names = profiles["area_name"].tolist()
    lads = profiles["lad_name"].tolist() if "lad_name" in profiles.columns else [None] * n_wards
    row_of = {code: row for row, code in enumerate(profiles["area_code"].tolist())}
    ward_lads = wards["lad_name"].tolist() if "lad_name" in wards.columns else [None] * len(wards)
    features = []
    for code, ward_name, ward_lad in zip(wards["ward_code"], wards["ward_name"], ward_lads):
        row = row_of.get(code)
        if row is None:  # a ward on the map without a profile: drawn as "no data"
            name, lad, n, pop, cls, shown_measures = "", "", None, None, None, None
        else:
            name, lad = _text(names[row]), _text(lads[row])
            n, pop = _fmt_count(n_lsoas[row]), _fmt_int(population[row])
            cls = _ward_class(class_ranks[row], n_wards)
            shown_measures = [measure[row] for measure in measures]
        features.append(
            {
                "code": _text(code),
                "name": name or _text(ward_name),
                "lad": lad or _text(ward_lad) or None,
                "n": n,
                "pop": pop,
                "cls": cls,
                "m": shown_measures,
            }
        )
    return features


def _text(value: Any) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _rounded_geometry(geoms: gpd.GeoSeries) -> list[dict[str, Any]]:
    """GeoJSON geometry dicts in WGS84 with coordinates rounded to 5 dp."""
    arr = np.asarray(geoms.to_crs(WGS84).array, dtype=object)
    arr = shapely.transform(arr, lambda xy: np.round(xy, _PRECISION))
    return [shapely.geometry.mapping(g) for g in arr]


def _lsoa_features(lsoas: gpd.GeoDataFrame, indices: Sequence[Domain]) -> list[dict]:
    """One GeoJSON feature per LSOA holding only what the map shows.

    Properties: ``code, name, ward, lad`` (text), ``pop`` (formatted or null),
    ``dec`` (decile per index, in ``indices`` order) and ``rs`` ([rank, score] per
    index, formatted strings or null).
    """
    deciles = [_deciles(lsoas, f"{ix.key}_decile") for ix in indices]
    nan = [math.nan] * len(lsoas)

    def optional(column: str) -> list[float]:
        return _numeric(lsoas, column).tolist() if column in lsoas.columns else nan

    ranks = [[_fmt_int(v) for v in optional(f"{ix.key}_rank")] for ix in indices]
    scores = [[_fmt_score(v) for v in optional(f"{ix.key}_score")] for ix in indices]
    pops = [_fmt_int(v) for v in optional("pop_total")]
    text = {c: [_text(v) for v in lsoas[c].tolist()] for c in
            ("lsoa_code", "lsoa_name", "ward_name", "lad_name")}  # fmt: skip
    features = []
    for row, geometry in enumerate(_rounded_geometry(lsoas.geometry)):
        properties = {
            "code": text["lsoa_code"][row],
            "name": text["lsoa_name"][row],
            "ward": text["ward_name"][row],
            "lad": text["lad_name"][row],
            "pop": pops[row],
            "dec": [d[row] for d in deciles],
            "rs": [[r[row], s[row]] for r, s in zip(ranks, scores)],
        }
        features.append({"type": "Feature", "properties": properties, "geometry": geometry})
    return features


def _to_js(obj: Any) -> str:
    """JSON that is also safe inside an HTML ``<script>`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_JS_ESCAPES)


# --------------------------------------------------------------------------- map elements

_CSS = """
<style>
.geotarget-box { background: rgba(255,255,255,0.92); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.35 system-ui, sans-serif; color: #222; }
.geotarget-title { max-width: 340px; }
.geotarget-title h1 { font-size: 15px; margin: 0 0 2px 0; font-weight: 600; }
.geotarget-title .geotarget-vintage { font-weight: 600; }
.geotarget-title .geotarget-notes { white-space: pre-line; margin-top: 2px; }
.geotarget-legend .geotarget-legend-title { font-weight: 600; margin-bottom: 4px;
  max-width: 190px; }
.geotarget-legend .geotarget-swatch { display: inline-block; width: 18px; height: 12px;
  margin-right: 6px; vertical-align: middle; border: 1px solid #888; }
.geotarget-tooltip table { border-collapse: collapse; margin-top: 3px; }
.geotarget-tooltip th, .geotarget-tooltip td { padding: 0 5px; text-align: right; }
.geotarget-tooltip th:first-child, .geotarget-tooltip td:first-child { text-align: left; }
.geotarget-label span { position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
  font: 11px system-ui, sans-serif; color: #111;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; }
.geotarget-label-lad span { font-size: 14px; font-weight: 700; }
.geotarget-hide-ward-labels .geotarget-label-ward { display: none; }
.leaflet-container .leaflet-control-attribution { max-width: 55vw; }
</style>
"""

_MAP_SCRIPT = r"""
{% macro header(this, kwargs) %}{{ this.css }}{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function (map) {
    "use strict";
    var data = {{ this.data }};
    var rows = {{ this.rows }};
    var palette = {{ this.palette }};
    var noData = {{ this.no_data }};
    ["geotargetOutlines", "geotargetLabels"].forEach(function (name, i) {
        var pane = map.createPane(name);
        pane.style.zIndex = 450 + i;
        pane.style.pointerEvents = "none";
    });
    function el(tag, text, cls, parent) {
        var node = document.createElement(tag);
        if (text !== null && text !== undefined) { node.textContent = text; }
        if (cls) { node.className = cls; }
        if (parent) { parent.appendChild(node); }
        return node;
    }
    function tooltip(layer) {
        var p = layer.feature.properties;
        var box = el("div");
        var head = el("div", null, null, box);
        el("b", p.code, null, head);
        head.appendChild(document.createTextNode(" " + p.name));
        el("div", "Ward: " + p.ward, null, box);
        el("div", "Council: " + p.lad, null, box);
        if (p.pop !== null) { el("div", "Population: " + p.pop, null, box); }
        var table = el("table", null, null, box);
        var tr = el("tr", null, null, table);
        ["", "Decile", "Rank", "Score"].forEach(function (h) { el("th", h, null, tr); });
        rows.forEach(function (label, i) {
            var r = el("tr", null, null, table);
            el("td", label, null, r);
            el("td", p.dec[i] === null ? "no data" : String(p.dec[i]), null, r);
            el("td", p.rs[i][0] === null ? "–" : p.rs[i][0], null, r);
            el("td", p.rs[i][1] === null ? "–" : p.rs[i][1], null, r);
        });
        return box;
    }
    function decileLayer(i) {
        function style(feature) {
            var d = feature.properties.dec[i];
            return {fillColor: d === null ? noData : palette[d - 1], fillOpacity: 0.75,
                    color: "#ffffff", weight: 0.6, opacity: 0.9};
        }
        var layer = L.geoJson(data, {
            style: style,
            onEachFeature: function (feature, path) {
                path.bindTooltip(tooltip, {sticky: true, className: "geotarget-tooltip"});
                path.on({
                    mouseover: function (e) {
                        e.target.setStyle({weight: 2.5, color: "#000000"});
                        e.target.bringToFront();
                    },
                    mouseout: function (e) { layer.resetStyle(e.target); }
                });
            }
        });
        return layer;
    }
    function outlineLayer(shapes, labels, opts) {
        var group = L.featureGroup();
        L.geoJson(shapes, {pane: "geotargetOutlines", interactive: false,
                           style: opts.style}).addTo(group);
        labels.forEach(function (label) {
            L.marker([label[0], label[1]], {
                pane: "geotargetLabels", interactive: false, keyboard: false,
                icon: L.divIcon({className: "geotarget-label geotarget-label-" + opts.kind,
                                 html: el("span", label[2]), iconSize: null})
            }).addTo(group);
        });
        if (opts.minZoom) {
            var update = function () {
                L.DomUtil[map.getZoom() < opts.minZoom ? "addClass" : "removeClass"](
                    map.getContainer(), "geotarget-hide-" + opts.kind + "-labels");
            };
            map.on("zoomend", update);
            update();
        }
        return group;
    }
    return {el: el, palette: palette, noData: noData,
            decileLayer: decileLayer, outlineLayer: outlineLayer};
})({{ this._parent.get_name() }});
{% endmacro %}
"""


class _MapScript(MacroElement):
    """The shared JavaScript: LSOA data (embedded once), tooltip and layer factories."""

    _template = Template(_MAP_SCRIPT)

    def __init__(self, features: list[dict], indices: Sequence[Domain]):
        super().__init__()
        self._name = "Geotarget"
        self.css = _CSS
        self.data = _to_js({"type": "FeatureCollection", "features": features})
        self.rows = _to_js([ix.short for ix in indices])
        self.palette = _to_js(list(DECILE_COLOURS))
        self.no_data = _to_js(_NO_DATA_COLOUR)


class _DecileLayer(Layer):
    """A choropleth of one index's deciles, drawn from the shared LSOA data."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = {{ this.script.get_name() }}.decileLayer({{ this.index }});"
        "{% endmacro %}"
    )

    def __init__(self, script: _MapScript, index: int, name: str):
        super().__init__(name=name, overlay=True, control=True, show=False)
        self._name = "DecileLayer"
        self.script = script
        self.index = index


class _OutlineLayer(Layer):
    """Non-interactive boundary outlines with a name label at each representative point."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = {{ this.script.get_name() }}.outlineLayer("
        "{{ this.shapes }}, {{ this.labels }}, {{ this.options }});"
        "{% endmacro %}"
    )

    _STYLES = {
        "ward": {"color": "#222222", "weight": 1.2, "opacity": 0.8, "dashArray": "4 3",
                 "fill": False},
        "lad": {"color": "#000000", "weight": 3, "opacity": 0.9, "fill": False},
    }  # fmt: skip

    def __init__(
        self,
        script: _MapScript,
        frame: gpd.GeoDataFrame,
        name_column: str,
        name: str,
        *,
        kind: str,
        min_zoom: int | None = None,
        shapes_from: _WardProfileLayer | None = None,
    ):
        super().__init__(name=name, overlay=True, control=True, show=False)
        self._name = "OutlineLayer"
        self.script = script
        # With shapes_from, draw the boundaries that layer embeds (same frame, same
        # order) rather than embed them a second time.
        self.shapes_from = shapes_from
        if shapes_from is None:
            geometry = _rounded_geometry(frame.geometry)
            features = [{"type": "Feature", "properties": {}, "geometry": g} for g in geometry]
            self.shapes = _to_js({"type": "FeatureCollection", "features": features})
        points = frame.geometry.representative_point().to_crs(WGS84)
        self.labels = _to_js(
            [
                [round(p.y, _PRECISION), round(p.x, _PRECISION), _text(label)]
                for p, label in zip(points, frame[name_column].tolist())
            ]
        )
        self.options = _to_js({"kind": kind, "style": self._STYLES[kind], "minZoom": min_zoom})

    def render(self, **kwargs: Any) -> None:
        if self.shapes_from is not None:  # names are resolved after _number_elements
            self.shapes = f"{self.shapes_from.get_name()}.shapes"
        super().render(**kwargs)


class _WardProfileLayer(Layer):
    """Wards filled by the fifth of their rank on IMD average score, with a tooltip.

    The layer embeds the ward boundaries with the profiles as properties; the ward
    outline layer draws the same object (``<layer>.shapes``).
    """

    _template = Template(
        r"""
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = (function (map, ns) {
    "use strict";
    var shapes = {{ this.shapes }};
    var palette = {{ this.palette }};
    var rows = {{ this.rows }};
    var of = {{ this.of }};
    var note = {{ this.note }};
    var pane = map.createPane("geotargetWardProfile");
    pane.style.zIndex = 420;  // above the LSOA deciles, below the outlines and labels
    function tooltip(layer) {
        var p = layer.feature.properties;
        var box = ns.el("div");
        var head = ns.el("div", null, null, box);
        ns.el("b", p.code, null, head);
        head.appendChild(document.createTextNode(" " + p.name));
        if (p.lad !== null) { ns.el("div", "Council: " + p.lad, null, box); }
        if (p.m === null) {
            ns.el("div", "No ward profile", null, box);
            return box;
        }
        ns.el("div", "LSOAs: " + (p.n === null ? "–" : p.n), null, box);
        ns.el("div", "Population: " + (p.pop === null ? "–" : p.pop), null, box);
        var table = ns.el("table", null, null, box);
        var tr = ns.el("tr", null, null, table);
        ["IMD", "Value", "Rank"].forEach(function (h) { ns.el("th", h, null, tr); });
        rows.forEach(function (label, i) {
            var r = ns.el("tr", null, null, table);
            ns.el("td", label, null, r);
            ns.el("td", p.m[i][0] === null ? "–" : p.m[i][0], null, r);
            ns.el("td", p.m[i][1] === null ? "–" : p.m[i][1] + of, null, r);
        });
        ns.el("div", note, null, box).style.cssText =
            "white-space: normal; max-width: 360px; margin-top: 3px; font-size: 11px;";
        return box;
    }
    var layer = L.geoJson(shapes, {
        pane: "geotargetWardProfile",
        style: function (feature) {
            var c = feature.properties.cls;
            return {fillColor: c === null ? ns.noData : palette[c - 1], fillOpacity: 0.75,
                    color: "#ffffff", weight: 1, opacity: 0.9};
        },
        onEachFeature: function (feature, path) {
            path.bindTooltip(tooltip, {sticky: true, className: "geotarget-tooltip"});
            path.on({
                mouseover: function (e) {
                    e.target.setStyle({weight: 3, color: "#000000"});
                    e.target.bringToFront();
                },
                mouseout: function (e) { layer.resetStyle(e.target); }
            });
        }
    });
    layer.shapes = shapes;
    return layer;
})({{ this._parent.get_name() }}, {{ this.script.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, script: _MapScript, wards: gpd.GeoDataFrame, profiles: pd.DataFrame):
        super().__init__(name=WARD_PROFILE_LAYER, overlay=True, control=True, show=False)
        self._name = "WardProfileLayer"
        self.script = script
        properties = _ward_properties(wards, profiles)
        features = [
            {"type": "Feature", "properties": p, "geometry": g}
            for p, g in zip(properties, _rounded_geometry(wards.geometry))
        ]
        self.shapes = _to_js({"type": "FeatureCollection", "features": features})
        self.n_wards = len(profiles)
        self.has_missing = any(p["cls"] is None for p in properties)
        self.palette = _to_js(list(WARD_CLASS_COLOURS))
        self.rows = _to_js([label for _, label in _PROFILE_MEASURES])
        self.of = _to_js(f" of {self.n_wards:,}")
        self.note = _to_js(
            f"Rank: among the {self.n_wards:,} wards profiled; 1 = most deprived. "
            "Average rank and local concentration average national LSOA ranks "
            "reversed (higher = more deprived). Extent: share of the population in "
            "the most deprived 30% of LSOAs, weighted towards the most deprived 10%."
        )

    def legend(self) -> dict[str, Any]:
        """Keyword arguments of :class:`_Legend` for this layer: one row per fifth."""
        n = self.n_wards
        wards = "ward" if n == 1 else "wards"
        labels = []
        for k in range(1, _WARD_CLASSES + 1):  # ranks r with ceil(5 r / n) = k
            lo, hi = n * (k - 1) // _WARD_CLASSES + 1, n * k // _WARD_CLASSES
            labels.append(f"{lo}–{hi}" if hi > lo else str(lo) if hi == lo else "none")
        labels[0] += " (most deprived fifth)"
        labels[-1] += " (least deprived fifth)"
        return {
            "title": f"Ward IMD average score — rank among {n:,} {wards}; 1 = most deprived",
            "colours": _to_js(list(WARD_CLASS_COLOURS)),
            "labels": labels,
            "no_data": self.has_missing,
        }


class _BlankBaseLayer(Layer):
    """An empty base layer, for a map without background tiles."""

    _template = Template(
        "{% macro script(this, kwargs) %}var {{ this.get_name() }} = L.layerGroup();{% endmacro %}"
    )

    def __init__(self, name: str):
        super().__init__(name=name, overlay=False, control=True, show=False)
        self._name = "BlankBaseLayer"


class _ShowLayers(MacroElement):
    """Add ``layers`` to the map (in this order), with names resolved at render time."""

    _template = Template(
        "{% macro script(this, kwargs) %}{% for layer in this.layers %}"
        "{{ layer.get_name() }}.addTo({{ this._parent.get_name() }});\n"
        "{% endfor %}{% endmacro %}"
    )

    def __init__(self, layers: Sequence[Layer]):
        super().__init__()
        self._name = "ShowLayers"
        self.layers = list(layers)


def _decile_legend(*, no_data: bool) -> dict[str, Any]:
    """Keyword arguments of :class:`_Legend` for the decile layers."""
    labels = [str(d) for d in range(1, 11)]
    labels[0] += " most deprived"
    labels[-1] += " least deprived"
    return {"title": LEGEND_TITLE, "colours": "ns.palette", "labels": labels, "no_data": no_data}


class _Legend(MacroElement):
    """A legend of colour classes, shown while at least one of ``layers`` is on the map.

    ``colours`` is a JavaScript expression for the list of class colours (JSON, or
    ``ns.palette`` for the shared decile palette); ``labels`` has one entry per
    colour, and a grey "no data" row is added when ``no_data`` is true.
    """

    _template = Template(
        r"""
{% macro script(this, kwargs) %}
(function (map, ns, layers) {
    var legend = L.control({position: "bottomleft"});
    legend.onAdd = function () {
        var box = ns.el("div", null, "geotarget-box geotarget-legend");
        ns.el("div", {{ this.title }}, "geotarget-legend-title", box);
        var labels = {{ this.labels }};
        {{ this.colours }}.concat({{ this.extra }}).forEach(function (colour, i) {
            var row = ns.el("div", null, null, box);
            ns.el("span", null, "geotarget-swatch", row).style.background = colour;
            row.appendChild(document.createTextNode(labels[i]));
        });
        L.DomEvent.disableClickPropagation(box);
        return box;
    };
    legend.addTo(map);
    function update() {
        var on = layers.some(function (layer) { return map.hasLayer(layer); });
        legend.getContainer().style.display = on ? "" : "none";
    }
    map.on("overlayadd overlayremove", update);
    update();
})({{ this._parent.get_name() }}, {{ this.script_name }}, [{{ this.layer_names }}]);
{% endmacro %}
"""
    )

    def __init__(
        self,
        layers: Sequence[_DecileLayer | _WardProfileLayer],
        *,
        title: str,
        colours: str,
        labels: Sequence[str],
        no_data: bool,
    ):
        super().__init__()
        self._name = "Legend"
        self.layers = list(layers)
        self.title = _to_js(title)
        self.colours = colours
        self.labels = _to_js([*labels, *(["no data"] if no_data else [])])
        self.extra = _to_js([_NO_DATA_COLOUR] if no_data else [])

    def render(self, **kwargs: Any) -> None:
        # Names are resolved at render time, after _number_elements has run.
        self.script_name = self.layers[0].script.get_name()
        self.layer_names = ", ".join(layer.get_name() for layer in self.layers)
        super().render(**kwargs)


class _TitleBox(MacroElement):
    """Title, vintage and notes box, and the licence statement in the attribution."""

    _template = Template(
        r"""
{% macro script(this, kwargs) %}
(function (map) {
    var box = L.control({position: "topleft"});
    box.onAdd = function () {
        var div = L.DomUtil.create("div", "geotarget-box geotarget-title");
        var add = function (tag, text, cls) {
            var node = document.createElement(tag);
            node.textContent = text;
            if (cls) { node.className = cls; }
            div.appendChild(node);
        };
        add("h1", {{ this.title }});
        add("div", {{ this.vintage }}, "geotarget-vintage");
        if ({{ this.notes }}) { add("div", {{ this.notes }}, "geotarget-notes"); }
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    box.addTo(map);
    if (map.attributionControl) {
        map.attributionControl.addAttribution({{ this.attribution }});
    }
})({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self, *, title: str, vintage: str, notes: str, attribution: str):
        super().__init__()
        self._name = "TitleBox"
        self.title = _to_js(title)
        self.vintage = _to_js(vintage)
        self.notes = _to_js(notes)
        # Leaflet inserts attributions as HTML, so escape the text first.
        self.attribution = _to_js(html.escape(attribution))


def _number_elements(root: Element) -> None:
    """Replace folium's random element ids by ids numbered in tree order.

    Element names (``map_<id>``) become JavaScript variable and HTML ids, so this
    makes the rendered HTML a pure function of the inputs.
    """
    counter = 0

    def visit(element: Element) -> None:
        nonlocal counter
        element._id = f"{counter:04d}"
        counter += 1
        for child in element._children.values():
            visit(child)

    visit(root)
