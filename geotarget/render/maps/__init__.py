"""Interactive web maps: the one package that knows about folium and Leaflet.

Every capability adds its layers through :class:`MapBuilder`::

    from geotarget.render.maps import MapBuilder

    mb = MapBuilder("Deprivation in Stockton-on-Tees", vintage="IoD2025, LSOA 2021")
    mb.add_deciles(lsoas)                                    # IMD and domain deciles
    mb.add_outlines(wards, "Wards", label_column="ward_name")
    mb.add_categories(areas, "typology", "Typologies")       # categorical polygons
    mb.add_choropleth(lsoas, "pct_bad_health", "Bad health")  # numeric, mapclassify
    mb.add_points(assets, "Assets", category_column="category", label_column="name")
    mb.save("map.html")                                       # one self-contained file

:func:`deprivation_map` is the standard map of ``geotarget run`` built with it.

Modules: ``_builder`` (the builder), ``_encode`` (coverage simplification,
quantisation, shared-border topology), ``_page`` (the HTML page, inlined assets),
``_deprivation`` (the standard map), ``_files`` (a map from files, for
``geotarget map``), ``_values`` (columns as shown), ``_styles`` (palettes),
``_validate`` (input checks); ``assets/`` holds the page's own script and styles, ``vendor/`` Leaflet and
its plugins (see its ``MANIFEST.json`` and ``tools/vendor_js.py``).
"""

from __future__ import annotations

from geotarget.render.maps.builder import COMPRESS_ABOVE, SCHEMES, Layer, Legend, MapBuilder
from geotarget.render.maps.deprivation import (
    REQUIRED_LSOA_COLUMNS,
    REQUIRED_PROFILE_COLUMNS,
    WARD_PROFILE_LAYER,
    deprivation_map,
    write_map,
)
from geotarget.render.maps.files import LayerSource, map_from_files
from geotarget.render.maps.page import read_data
from geotarget.render.maps.styles import (
    CATEGORY_COLOURS,
    DECILE_COLOURS,
    DECILE_LEGEND_TITLE,
    DEFAULT_ATTRIBUTION,
    NO_DATA_COLOUR,
    WARD_CLASS_COLOURS,
)

__all__ = [
    "CATEGORY_COLOURS",
    "COMPRESS_ABOVE",
    "DECILE_COLOURS",
    "DEFAULT_ATTRIBUTION",
    "DECILE_LEGEND_TITLE",
    "NO_DATA_COLOUR",
    "REQUIRED_LSOA_COLUMNS",
    "REQUIRED_PROFILE_COLUMNS",
    "SCHEMES",
    "WARD_CLASS_COLOURS",
    "WARD_PROFILE_LAYER",
    "Layer",
    "LayerSource",
    "Legend",
    "MapBuilder",
    "deprivation_map",
    "map_from_files",
    "read_data",
    "write_map",
]
