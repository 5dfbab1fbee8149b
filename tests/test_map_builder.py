"""Tests for geotarget.render.maps.MapBuilder.

Each kind of layer, shared geometry and columns, the compact topology, compression, escaping and
errors. Browser behaviour is in tests/test_browser.py.
"""

from __future__ import annotations

import gzip
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geotarget.core.crs import BNG, WGS84
from geotarget.core.errors import CRSError, SchemaError
from geotarget.render.maps import CATEGORY_COLOURS, NO_DATA_COLOUR, MapBuilder, read_data
from geotarget.render.maps.encode import decode_topology, simplify_coverage, topology
from tests.grids import square_grid

from .test_maps import EVIL, Page, make_lsoas, make_wards


def grid(n: int = 3, side: float = 500.0) -> gpd.GeoDataFrame:
    g = square_grid(n, size=side, origin=(450_000, 520_000)).reset_index(drop=True)
    g.insert(0, "area", [f"A{i}" for i in range(n * n)])
    g.insert(1, "value", np.arange(1.0, n * n + 1))
    return g


def points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["GP one", EVIL, "Library", "Unknown"], "kind": ["gp", "gp", "library", None],
         "visits": [10, 20, 30, 40]},
        geometry=shapely.points([[450_100, 520_100], [450_200, 520_900], [451_300, 521_300], [451_000, 520_400]]),
        crs=BNG,
    )


def page(mb: MapBuilder) -> Page:
    return Page(mb.html())


# --------------------------------------------------------------------------- layers


def test_categories_colours_legend_and_no_data():
    g = grid().assign(kind=["b", "a", None, "a", "b", "c", "a", "a", "c"])
    p = page(MapBuilder("T").add_categories(g, "kind", "Kinds", show=True))
    layer = p.layers["Kinds"]
    # Default order: sorted categories; missing = no data.
    assert p.col(layer["cls"]) == [1, 0, None, 0, 1, 2, 0, 0, 2]
    assert layer["colors"] == list(CATEGORY_COLOURS[:3]) and layer["show"] is True
    assert p.legend_of("Kinds")["items"] == [["fill", CATEGORY_COLOURS[0], "a"], ["fill", CATEGORY_COLOURS[1], "b"],
                                             ["fill", CATEGORY_COLOURS[2], "c"], ["fill", NO_DATA_COLOUR, "no data"]]
    # Default tooltip: the category (no name/code column here besides 'area'? -> none recognised).
    assert [f[0] for f in layer["tooltip"]["fields"]] == ["Kinds"]


def test_categories_with_labels_colours_and_tooltip():
    g = grid().assign(hot=[1, 0, -1, 0, 0, 1, 1, 0, -1])
    mb = MapBuilder("T").add_categories(
        g, "hot", "Hot spots", labels={1: "Hot spot", 0: "Not significant", -1: "Cold spot"},
        colors={1: "#d7191c", 0: "#eeeeee", -1: "#2c7bb6"}, tooltip={"area": "Area", "value": "Value"})
    p = page(mb)
    layer = p.layers["Hot spots"]
    assert p.col(layer["cls"]) == [0, 1, 2, 1, 1, 0, 0, 1, 2]
    assert layer["colors"] == ["#d7191c", "#eeeeee", "#2c7bb6"]
    assert [i[2] for i in p.legend_of("Hot spots")["items"]] == ["Hot spot", "Not significant", "Cold spot"]
    assert p.tooltip("Hot spots", 4) == {"Area": "A4", "Value": 5}
    assert mb.layers[0].colours[2] == "#2c7bb6"  # for the static map


def test_categories_value_missing_from_labels_is_named():
    g = grid().assign(kind=["a"] * 8 + ["z"])
    with pytest.raises(SchemaError, match=r"add_categories\('K'\): column 'kind' has value\(s\) 'z' that are not in"):
        MapBuilder("T").add_categories(g, "kind", "K", labels={"a": "A"})


def test_too_many_categories_for_the_palette():
    g = grid(5).assign(kind=[f"c{i}" for i in range(25)])
    with pytest.raises(SchemaError, match="25 categories but the default palette has 16"):
        MapBuilder("T").add_categories(g, "kind", "K")


def test_choropleth_quantiles_by_hand():
    # Values 1..9 in three quantile classes: upper bounds at the 1/3 and 2/3 quantiles,
    # linearly interpolated: 1 + 8/3 = 3.67 and 1 + 16/3 = 6.33, then the maximum 9.
    p = page(MapBuilder("T").add_choropleth(grid(), "value", "Value", k=3, show=True))
    layer = p.layers["Value"]
    assert p.col(layer["cls"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [i[2] for i in p.legend_of("Value")["items"]] == ["1.00 – 3.67", "3.67 – 6.33", "6.33 – 9.00"]
    assert p.legend_of("Value")["title"] == "Value (quantiles)"
    # Light (low) to dark (high).
    lum = [0.2126 * int(c[1:3], 16) + 0.7152 * int(c[3:5], 16) + 0.0722 * int(c[5:7], 16) for c in layer["colors"]]
    assert lum == sorted(lum, reverse=True)


def test_choropleth_user_bins_and_missing_values():
    g = grid().assign(rate=[0.5, 1.5, np.nan, 2.5, 0.1, 9.0, 1.0, 2.0, 3.0])
    p = page(MapBuilder("T").add_choropleth(g, "rate", "Rate", scheme="user_defined", bins=[1, 2, 10]))
    assert p.col(p.layers["Rate"]["cls"]) == [0, 1, None, 2, 0, 2, 0, 1, 2]
    assert [i[2] for i in p.legend_of("Rate")["items"]] == ["0.10 – 1.00", "1.00 – 2.00", "2.00 – 10.00",
                                                            "no data"]


def test_choropleth_errors():
    with pytest.raises(SchemaError, match="scheme was 'natural_breaks' but is expected to be one of quantiles"):
        MapBuilder("T").add_choropleth(grid(), "value", "V", scheme="natural_breaks")
    with pytest.raises(SchemaError, match="must be numeric and finite, but row\\(s\\) 'row 1'"):
        MapBuilder("T").add_choropleth(grid().assign(value=["x"] + [1] * 8), "value", "V")
    with pytest.raises(SchemaError, match="column 'nope' not found; the frame has columns 'area', 'value'"):
        MapBuilder("T").add_choropleth(grid(), "nope", "V")


def test_points_categories_popup_and_search():
    mb = MapBuilder("T").add_points(points(), "Assets", category_column="kind", label_column="name",
                                    popup={"name": "Name", "visits": "Visits"})
    p = page(mb)
    layer = p.layers["Assets"]
    assert p.col(layer["cls"]) == [0, 0, 1, None]
    assert layer["icons"] == ["G", "L"] and layer["cluster"] is True
    assert p.col(layer["label"]) == ["GP one", EVIL, "Library", "Unknown"]
    assert p.tooltip("Assets", 1, key="popup") == {"Name": EVIL, "Visits": 20}
    lon, lat = p.col(layer["lon"]), p.col(layer["lat"])
    expected = points().to_crs(WGS84).geometry
    assert np.allclose(lon, expected.x, atol=1e-5) and np.allclose(lat, expected.y, atol=1e-5)
    assert [i[2] for i in p.legend_of("Assets")["items"]] == ["gp", "library", "no category"]
    assert p.spec["search"][layer["search"]]["text"] == [layer["label"]]
    assert "<script>alert" not in p.html


def test_a_popup_column_is_shown_without_a_label():
    """A column ``popup`` (a whole popup as text, as io.assets.asset_layer writes it) has no "popup:" label."""
    pts = points().assign(popup=["GP one — GP practice — TS18 1AU", EVIL, "Library", "Unknown"])
    p = page(MapBuilder("T").add_points(pts, "Assets", label_column="name", popup=["popup", "visits"]))
    assert p.tooltip("Assets", 0, key="popup") == {"": "GP one — GP practice — TS18 1AU", "visits": 10}
    p = page(MapBuilder("T").add_points(pts, "Assets", label_column="name", popup={"name": "", "kind": "Type"}))
    assert p.tooltip("Assets", 1, key="popup") == {"": EVIL, "Type": "gp"}


def test_decile_layers_are_a_radio_group_with_a_title_each_and_zoom_limits():
    lsoas = make_lsoas()
    mb = MapBuilder("T").add_deciles(lsoas, columns=["imd_decile", "health_decile"])
    mb.add_deciles(lsoas, columns={"income_decile": "Income (2)"}, legend_title="{layer}: deciles")
    p = page(mb)
    groups = [p.layers[n]["exclusive"] for n in ("IMD decile", "Health decile", "Income (2)")]
    assert groups == ["Deprivation deciles (one at a time)"] * 2 + ["Deprivation deciles (one at a time) (2)"]
    legend = p.legend_of("Health decile")
    assert legend["layers"] == ["IMD decile", "Health decile"]
    assert legend["titles"] == ["Index of Multiple Deprivation (IMD) decile — 1 = most deprived 10% nationally",
                                "Health Deprivation and Disability decile — 1 = most deprived 10% nationally"]
    assert p.legend_of("Income (2)")["titles"] == ["Income (2): deciles"]
    assert mb.legends[0].title_of("Health decile").startswith("Health Deprivation")
    assert (p.spec["minZoom"], p.spec["maxZoom"]) == (4, 19)  # on the map itself: clustering needs a maxZoom


def test_search_only_places():
    pc = points().assign(postcode=["TS1 1AA", "TS1 1AB", EVIL, None])
    p = page(MapBuilder("T").add_outlines(grid(), "A").add_search(pc, "postcode"))
    (entry,) = p.spec["search"]
    assert entry["kind"] == "Postcode" and p.col(entry["text"][0]) == ["TS1 1AA", "TS1 1AB", EVIL, ""]
    expected = pc.to_crs(WGS84).geometry
    assert np.allclose(p.col(entry["lat"]), expected.y, atol=1e-5)
    assert all(layer.get("search") is None for layer in p.spec["layers"])  # nothing drawn for them


def test_points_must_be_points():
    with pytest.raises(SchemaError, match=r"geometries must be points.*representative_point"):
        MapBuilder("T").add_points(grid(), "P")


def test_outlines_with_tooltip_and_labels():
    g = grid()
    p = page(MapBuilder("T").add_outlines(g, "Areas", label_column="area", tooltip=["area"], color="#ff0000"))
    layer = p.layers["Areas"]
    assert layer["style"]["color"] == "#ff0000" and layer["show"] is True
    assert p.col(layer["labels"]["text"]) == list(g["area"])
    assert p.tooltip("Areas", 2) == {"area": "A2"}
    assert p.legend_of("Areas")["items"] == [["line", "#ff0000", "Areas"]]
    with pytest.raises(SchemaError, match="is not a colour"):
        MapBuilder("T").add_outlines(g, "Areas", color="not-a-colour")


def test_same_polygons_in_several_layers_are_stored_once():
    lsoas = make_lsoas()
    subset = lsoas.iloc[[4, 0]].assign(flag=["x", "y"])  # a subset, reordered
    mb = (MapBuilder("T").add_deciles(lsoas).add_categories(subset, "flag", "Flags")
          .add_outlines(lsoas, "LSOA outlines"))
    p = page(mb)
    assert len(p.spec["topology"]["objects"]) == 1
    assert p.layers["Flags"]["rows"] == [4, 0] and p.layers["LSOA outlines"]["rows"] is None
    assert p.geometry("Flags")[0].equals(p.geometry("IMD decile")[4])


def test_identical_columns_are_stored_once():
    g = grid()
    mb = (MapBuilder("T").add_categories(g, "area", "One", tooltip=["area", "value"])
          .add_choropleth(g, "value", "Two", tooltip=["area", "value"]))
    p = page(mb)
    assert p.layers["One"]["tooltip"] == p.layers["Two"]["tooltip"]
    assert sum(c == list(g["area"]) for c in p.spec["columns"]) == 1


def test_layer_names_must_be_unique():
    mb = MapBuilder("T").add_outlines(grid(), "Areas")
    with pytest.raises(SchemaError, match="a layer named 'Areas' is already on the map"):
        mb.add_outlines(grid(), "Areas")


def test_empty_map_and_missing_crs_are_refused():
    with pytest.raises(SchemaError, match="the map has no layers"):
        MapBuilder("T").html()
    with pytest.raises(CRSError, match="has no coordinate reference system"):
        MapBuilder("T").add_outlines(grid().set_crs(None, allow_override=True), "A")


def test_parameters_notes_and_escaping_in_the_title_box():
    mb = MapBuilder(EVIL, vintage="IoD2025", notes="a\nb", parameters={"threshold": 0.1, "areas": [3, 4]})
    p = page(mb.add_outlines(grid(), EVIL))
    assert p.spec["parameters"] == [["threshold", "0.1"], ["areas", "3, 4"]]
    assert p.spec["title"] == EVIL and "<script>alert" not in p.html
    assert p.html.count("<script") == p.html.count("</script>")


def test_any_crs_is_accepted_and_index_becomes_a_column():
    g = grid().set_index("area").to_crs(WGS84)
    p = page(MapBuilder("T").add_categories(g, "value", "V", tooltip=["area"]))
    assert p.tooltip("V", 0) == {"area": "A0"}
    assert shapely.hausdorff_distance(p.geometry("V")[0], grid().to_crs(WGS84).geometry[0]) < 1e-5


def test_compressed_data_round_trips_and_is_deterministic():
    lsoas = make_lsoas()
    plain = MapBuilder("T", compress=False).add_deciles(lsoas).html()
    packed = MapBuilder("T", compress=True).add_deciles(lsoas).html()
    assert 'type="application/gzip+base64"' in packed and 'type="application/json"' not in packed
    assert read_data(packed) == read_data(plain)
    assert MapBuilder("T", compress=True).add_deciles(make_lsoas()).html() == packed
    blob = re.search(r'gzip\+base64" id="[^"]+">([^<]+)<', packed).group(1)
    import base64

    assert gzip.decompress(base64.b64decode(blob)).startswith(b'{"title":"T"')


def test_save_is_atomic_and_returns_the_path(tmp_path):
    out = MapBuilder("T").add_outlines(grid(), "A").save(tmp_path / "sub" / "m.html")
    assert out == tmp_path / "sub" / "m.html" and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in out.parent.iterdir()) == ["m.html"]


def test_builder_works_with_the_outputs_of_other_frames():
    lsoas = make_lsoas()
    wards = make_wards(lsoas)
    mb = MapBuilder("T").add_deciles(lsoas, columns={"imd_decile": "IMD 2025"}, legend_title="Deciles")
    mb.add_outlines(wards, "Wards", label_column="ward_name")
    p = page(mb)
    assert list(p.layers) == ["IMD 2025", "Wards"]
    assert p.legend_of("IMD 2025")["title"] == "Deciles"


# --------------------------------------------------------------------------- topology


def test_topology_round_trip_on_real_boundaries(sample25):
    geoms = np.asarray(sample25.lsoas.to_crs(WGS84).geometry.array)
    topo = topology([geoms])
    decoded = decode_topology(topo, "g0")
    gaps = np.array([shapely.hausdorff_distance(a, b) for a, b in zip(decoded, geoms, strict=True)])
    # Quantised to 1e-5 degrees; one LSOA loses a sliver part smaller than the grid.
    assert (gaps < 1e-5).sum() == len(geoms) - 1 and gaps.max() < 1e-4
    # Shared borders stored once: fewer points than the rings hold.
    assert len(topo["coords"]) // 2 < 0.6 * shapely.get_num_coordinates(geoms).sum()


def test_coverage_simplification_leaves_no_gaps_or_overlaps(sample25):
    geoms = np.asarray(sample25.lsoas.geometry.array)
    simple = simplify_coverage(geoms, 50.0)
    assert shapely.get_num_coordinates(simple).sum() < 0.8 * shapely.get_num_coordinates(geoms).sum()
    union = shapely.union_all(simple)
    assert abs(union.area - shapely.area(simple).sum()) < 1.0  # m^2: no overlaps
    assert abs(union.area - shapely.union_all(geoms).area) / union.area < 1e-3  # no gaps opened
    assert shapely.is_valid(simple).all()


def test_tiny_polygons_vanish_from_the_grid_but_keep_their_place():
    big = shapely.box(-1.2, 54.5, -1.1, 54.6)
    tiny = shapely.box(-1.15, 54.55, -1.15 + 1e-7, 54.55 + 1e-7)
    topo = topology([np.array([big, tiny], dtype=object)])
    decoded = decode_topology(topo, "g0")
    assert decoded[1] is None and shapely.hausdorff_distance(decoded[0], big) < 1e-9


def test_vendored_files_are_the_npm_releases_and_ship_with_the_package():
    import hashlib
    import json
    from importlib import resources

    vendor = resources.files("geotarget.render.maps.vendor")
    manifest = json.loads(vendor.joinpath("MANIFEST.json").read_text(encoding="utf-8"))
    assert {m["package"]: m["version"] for m in manifest.values()}["leaflet"] == "1.9.4"
    for folder, entry in manifest.items():
        assert any(name.lower().startswith(("license", "mit-licence")) for name in entry["files"]), folder
        for name, digest in entry["files"].items():
            assert hashlib.sha256(vendor.joinpath(folder, name).read_bytes()).hexdigest() == digest, name
