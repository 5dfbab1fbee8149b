"""Tests for geotarget.render.maps.deprivation_map (the map of ``geotarget run``) and write_map.

The fixture is a 3 x 3 grid of 500 m square "LSOAs" in British National Grid around
(450000, 520000) -- near Stockton-on-Tees -- with three wards (the grid's columns) and
one council, and hand-made IMD profiles of the three wards in the shape that
``aggregate(lsoas, to="ward")`` returns. These tests read the data the page embeds
(``geotarget.render.maps.read_data``); what the page does with it in a real browser (layers,
legends, tooltips, search) is tested in tests/test_browser.py.
"""

from __future__ import annotations

import copy
import math
import os
import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geotarget.core.crs import BNG, WGS84
from geotarget.core.domains import DOMAINS
from geotarget.core.errors import CRSError, SchemaError
from geotarget.render.maps import (
    DECILE_COLOURS,
    DECILE_LEGEND_TITLE,
    DEFAULT_ATTRIBUTION,
    NO_DATA_COLOUR,
    REQUIRED_PROFILE_COLUMNS,
    WARD_CLASS_COLOURS,
    WARD_PROFILE_LAYER,
    deprivation_map,
    read_data,
    write_map,
)
from geotarget.render.maps.encode import decode_topology

X0, Y0, SIDE = 450_000, 520_000, 500
EVIL = "<script>alert(1)</script>"


# --------------------------------------------------------------------------- fixtures


def make_lsoas(*, names: dict[int, str] | None = None) -> gpd.GeoDataFrame:
    """Nine square LSOAs E01000001..E01000009, row by row from the south-west."""
    rows = []
    for i in range(9):
        r, c = divmod(i, 3)
        x, y = X0 + c * SIDE, Y0 + r * SIDE
        row = {
            "lsoa_code": f"E0100000{i + 1}",
            "lsoa_name": (names or {}).get(i, f"Stockton-on-Tees 00{i + 1}A"),
            "lad_code": "E06000004",
            "lad_name": "Stockton-on-Tees",
            "ward_code": f"E0500000{c + 1}",
            "ward_name": f"Ward {c + 1}",
            "imd_score": 50.0 - 5.25 * i,
            "imd_rank": 1_234 + 3_000 * i,
            "imd_decile": i + 1,
            "pop_total": 1_500 + i,
            "geometry": shapely.box(x, y, x + SIDE, y + SIDE),
        }
        for k, d in enumerate(DOMAINS):
            row[f"{d.key}_score"] = 0.1 * i + k
            row[f"{d.key}_rank"] = 2_000 + 100 * i + k
            row[f"{d.key}_decile"] = (i + k) % 10 + 1
        rows.append(row)
    return gpd.GeoDataFrame(rows, crs=BNG)


def make_wards(lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    wards = lsoas.dissolve("ward_code", as_index=False)
    return wards[["ward_code", "ward_name", "lad_code", "geometry"]]


def make_lads(lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return lsoas.dissolve("lad_code", as_index=False)[["lad_code", "lad_name", "geometry"]]


#: The grid's wards: name, LSOAs, population and the IMD measures (average score,
#: average rank, proportion in the most deprived 10%, extent, local concentration).
PROFILE_ROWS = {
    "E05000001": ("Ward 1", 3, 4_503, 45.123456, 30_000.4, 1 / 3, 0.513494, 32_924.0),
    "E05000002": ("Ward 2", 3, 4_506, 29.5, 21_500.5, 0.0, 0.05, 25_000.0),
    "E05000003": ("Ward 3", 3, 4_509, 12.0, 9_000.0, 0.0, 0.0, 12_345.6),
}
PROFILE_MEASURES = ["average_score", "average_rank", "prop_most_deprived_10", "extent",
                    "local_concentration"]  # fmt: skip


def make_profiles(codes=None, **names: str) -> pd.DataFrame:
    """Return IMD profiles of the grid's wards as aggregate(..., to="ward") returns them.

    Indexed by area_code, each measure ranked among the wards given (1 = most deprived, ties
    take the lowest rank). ``names`` overrides ward names, e.g. ``E05000002=EVIL``.
    """
    codes = list(codes or PROFILE_ROWS)
    frame = pd.DataFrame(
        [PROFILE_ROWS[c] for c in codes],
        index=pd.Index(codes, name="area_code"),
        columns=["area_name", "n_lsoas", "population", *(f"imd_{m}" for m in PROFILE_MEASURES)],
    )
    for code, name in names.items():
        frame.loc[code, "area_name"] = name
    for m in PROFILE_MEASURES:
        rank = frame[f"imd_{m}"].rank(ascending=False, method="min").astype("int64")
        frame.insert(frame.columns.get_loc(f"imd_{m}") + 1, f"imd_rank_{m}", rank)
    frame["lad_code"] = "E06000004"
    frame["lad_name"] = "Stockton-on-Tees"
    return frame


@pytest.fixture
def lsoas() -> gpd.GeoDataFrame:
    return make_lsoas()




def render(lsoas, *, wards=None, lads=None, **kwargs) -> str:
    kwargs.setdefault("title", "Deprivation in the test grid")
    kwargs.setdefault("vintage", "IoD2025, LSOA 2021")
    return deprivation_map(lsoas, wards=wards, lads=lads, **kwargs).html()


def full_html(lsoas: gpd.GeoDataFrame, **kwargs) -> str:
    return render(lsoas, wards=make_wards(lsoas), lads=make_lads(lsoas), **kwargs)


def profile_html(lsoas: gpd.GeoDataFrame, profiles: pd.DataFrame | None = None, **kwargs) -> str:
    profiles = make_profiles() if profiles is None else profiles
    return full_html(lsoas, ward_profiles=profiles, **kwargs)


class Page:
    """The data a page embeds, with helpers to read layers, columns and legends."""

    def __init__(self, html: str):
        self.html = html
        self.spec = read_data(html)
        self.layers = {layer["name"]: layer for layer in self.spec["layers"]}

    def col(self, index):
        return self.spec["columns"][index]

    def legend_of(self, name: str) -> dict:
        (legend,) = [lg for lg in self.spec["legends"] if name in lg["layers"]]
        return legend

    def geometry(self, name: str) -> list:
        layer = self.layers[name]
        shapes = decode_topology(self.spec["topology"], f"g{layer['geom']}")
        return [shapes[r] for r in layer["rows"]] if layer["rows"] else shapes

    def tooltip(self, name: str, row: int, key: str = "tooltip") -> dict:
        """Label -> shown value of the tooltip of row ``row`` of layer ``name``."""
        tip = self.layers[name][key]
        shown = {label: self.col(c)[row] for label, c, _ in tip.get("fields", [])}
        for r in (tip.get("table") or {}).get("rows", []):
            shown[r[0]] = [None if cell is None else self.col(cell[0])[row] for cell in r[1:]]
        if tip.get("head"):
            shown["head"] = " ".join(self.col(c)[row] for c in tip["head"])
        return shown


# --------------------------------------------------------------------------- content


def test_every_lsoa_is_in_the_map_once_with_its_values(lsoas):
    page = Page(full_html(lsoas))
    imd = page.layers["IMD decile"]
    assert imd["rows"] is None  # the LSOAs in their own order
    assert page.col(imd["cls"]) == list(range(1, 10))  # imd_decile 1..9
    assert page.tooltip("IMD decile", 0) == {
        "head": "E01000001 Stockton-on-Tees 001A",
        "Ward": "Ward 1",
        "Council": "Stockton-on-Tees",
        "Population": 1500,
        "IMD": [1, 1234, 50],
        **{d.short: [(0 + k) % 10 + 1, 2000 + k, k] for k, d in enumerate(DOMAINS)},
    }
    last = page.tooltip("IMD decile", 8)
    assert last["IMD"] == [9, 25_234, 8]  # imd rank 1,234 + 24,000; score 50 - 42
    for code in lsoas["lsoa_code"]:
        assert page.html.count(code) == 1  # codes stored once, shared by all 8 layers
    formats = {r[0]: [cell[1] for cell in r[1:]] for r in page.layers["IMD decile"]["tooltip"]["table"]["rows"]}
    assert formats["IMD"] == ["i", "i", "f3"]  # decile, rank (thousands), score (3 dp)


def test_geometry_is_embedded_once_not_once_per_layer(lsoas):
    page = Page(full_html(lsoas))
    objects = page.spec["topology"]["objects"]
    assert len(objects) == 3  # LSOAs, wards, council -- not 8 copies of the LSOAs
    assert {page.layers[n]["geom"] for n in page.layers if n.endswith("decile")} == {0}
    for name in page.layers:
        if name.endswith("decile"):
            shapes = page.geometry(name)
            assert all(s.equals(t) for s, t in zip(shapes, page.geometry("IMD decile"), strict=True))


def test_shared_borders_are_stored_once(lsoas):
    # 3 x 3 squares: 24 unit edges; the 4 corners of the grid are not junctions, so
    # the two edges meeting there form one arc: 20 arcs, 44 points (not 9 x 5 = 45
    # closed-ring points with every interior edge twice).
    topo = Page(render(lsoas)).spec["topology"]
    assert len(topo["lengths"]) == 20
    assert sorted(topo["lengths"]) == [2] * 16 + [3] * 4
    assert len(topo["coords"]) == 2 * 44
    # Ward and council outlines (simplified to their corners: 3 rectangles and a
    # square, 4 x 5 closed-ring points) reuse LSOA edges where their vertices meet.
    full = Page(full_html(lsoas))
    assert len(full.spec["topology"]["coords"]) // 2 - 44 < 4 * 5
    for name, frame in (("Ward boundaries", make_wards(lsoas)), ("Council boundaries", make_lads(lsoas))):
        for got, want in zip(full.geometry(name), frame.to_crs(WGS84).geometry, strict=True):
            assert shapely.hausdorff_distance(got, want) < 1e-5


def test_coordinates_are_wgs84_rounded_to_five_decimals(lsoas):
    page = Page(render(lsoas))
    shapes = page.geometry("IMD decile")
    expected = lsoas.to_crs(WGS84).geometry
    for got, want in zip(shapes, expected, strict=True):
        assert shapely.hausdorff_distance(got, want) < 1e-5
    coords = shapely.get_coordinates(shapes)
    assert ((coords[:, 0] > -1.3) & (coords[:, 0] < -1.1)).all()  # longitude near Stockton
    assert ((coords[:, 1] > 54.5) & (coords[:, 1] < 54.7)).all()
    assert (abs(coords * 1e5 - (coords * 1e5).round()) < 1e-6).all()
    assert page.spec["topology"]["scale"] == 1e-5
    assert all(isinstance(v, int) for v in page.spec["topology"]["coords"])


def test_layers_legend_title_and_attribution_are_present(lsoas):
    page = Page(full_html(lsoas, notes="Councils: Stockton-on-Tees"))
    assert list(page.layers) == [
        "IMD decile", *(f"{d.short} decile" for d in DOMAINS), "Ward boundaries", "Council boundaries",
    ]  # fmt: skip
    shown = [n for n, layer in page.layers.items() if layer["show"]]
    assert shown == ["IMD decile", "Ward boundaries", "Council boundaries"]
    legend = page.legend_of("IMD decile")
    assert DECILE_LEGEND_TITLE == "{layer} — 1 = most deprived 10% nationally"
    assert legend["title"] == "Index of Multiple Deprivation (IMD) decile — 1 = most deprived 10% nationally"
    assert legend["layers"] == [n for n in page.layers if n.endswith("decile")]  # one legend for all 8 ...
    assert legend["titles"][4] == "Health Deprivation and Disability decile — 1 = most deprived 10% nationally"
    assert legend["titles"][0] == legend["title"]  # ... titled by the layer shown
    assert [i[2] for i in legend["items"]][::9] == ["1 most deprived", "10 least deprived"]
    # The decile layers are alternatives: one radio group in the layer control.
    groups = {n: layer.get("exclusive") for n, layer in page.layers.items()}
    assert {groups[n] for n in page.layers if n.endswith("decile")} == {"Deprivation deciles (one at a time)"}
    assert groups["Ward boundaries"] is None
    assert page.legend_of("Ward boundaries")["layers"] == ["Ward boundaries"]
    s = page.spec
    assert (s["title"], s["vintage"], s["notes"]) == (
        "Deprivation in the test grid", "IoD2025, LSOA 2021", "Councils: Stockton-on-Tees")
    assert s["attribution"] == DEFAULT_ATTRIBUTION and "Open Government Licence v3.0" in DEFAULT_ATTRIBUTION
    assert s["tiles"] is True
    assert "tile.openstreetmap.org" in page.html


def test_outlines_are_labelled_and_ward_labels_wait_for_zoom_12(lsoas):
    page = Page(full_html(lsoas))
    ward, lad = page.layers["Ward boundaries"], page.layers["Council boundaries"]
    assert page.col(ward["labels"]["text"]) == ["Ward 1", "Ward 2", "Ward 3"]
    assert ward["labels"]["minZoom"] == 12 and lad["labels"]["minZoom"] is None
    assert page.col(lad["labels"]["text"]) == ["Stockton-on-Tees"]
    assert ward["style"]["dashArray"] == "4 3" and lad["style"]["weight"] == 3
    # Each label sits inside its ward.
    points = [shapely.Point(x, y)
              for x, y in zip(page.col(ward["labels"]["lon"]), page.col(ward["labels"]["lat"]), strict=True)]
    for point, shape in zip(points, page.geometry("Ward boundaries"), strict=True):
        assert shape.contains(point)


def test_palette_is_darkest_for_decile_one():
    def luminance(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lum = [luminance(c) for c in DECILE_COLOURS]
    assert len(DECILE_COLOURS) == 10
    assert lum == sorted(lum) and len(set(lum)) == 10


def test_data_text_cannot_become_markup():
    lsoas = make_lsoas(names={0: EVIL, 1: "</script><b>bold</b>"})
    lsoas.loc[2, "ward_name"] = EVIL
    lsoas.loc[:, "lad_name"] = "A & B <i>council</i>"
    wards = make_wards(lsoas).assign(ward_name=EVIL)
    lads = make_lads(lsoas).assign(lad_name=EVIL)
    html = render(lsoas, wards=wards, lads=lads, title=EVIL, vintage=EVIL, notes=EVIL, attribution=EVIL)
    assert "alert(1)" in html  # the text is there ...
    assert "<script>alert" not in html  # ... but never as markup
    assert "<b>bold" not in html and "<i>council" not in html
    # Only the page's own <script> elements: each opening tag has its closing tag.
    assert html.count("<script") == html.count("</script>")
    page = Page(html)
    assert page.tooltip("IMD decile", 0)["head"] == "E01000001 " + EVIL
    assert page.tooltip("IMD decile", 1)["head"] == "E01000002 </script><b>bold</b>"
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in html
    # Every string in the map data is text; the page's script escapes the attribution for Leaflet.
    assert page.spec["attribution"] == EVIL


def test_2019_frame_without_some_scores_or_population(lsoas):
    frame = lsoas.drop(columns=["health_score", "crime_score", "living_env_score", "pop_total"])
    page = Page(render(frame, vintage="IoD2019, LSOA 2011"))
    tip = page.tooltip("IMD decile", 0)
    assert "Population" not in tip
    for short in ("Health", "Crime", "Living env."):
        _, rank, score = tip[short]
        assert score is None and rank is not None
    assert tip["Income"][2] == 0


def test_missing_deciles_are_drawn_as_no_data(lsoas):
    frame = lsoas.astype({"imd_decile": "float64"})
    frame.loc[4, "imd_decile"] = float("nan")
    page = Page(render(frame))
    assert page.col(page.layers["IMD decile"]["cls"])[4] is None
    assert page.legend_of("IMD decile")["items"][-1] == ["fill", NO_DATA_COLOUR, "no data"]
    assert Page(render(lsoas)).legend_of("IMD decile")["items"][-1][2] == "10 least deprived"


def test_inputs_are_not_mutated(lsoas):
    wards, lads = make_wards(lsoas), make_lads(lsoas)
    before = [copy.deepcopy(f) for f in (lsoas, wards, lads)]
    render(lsoas, wards=wards, lads=lads)
    for frame, original in zip((lsoas, wards, lads), before, strict=True):
        pd.testing.assert_frame_equal(frame, original)
        assert frame.crs == original.crs == BNG


def test_output_is_deterministic(lsoas):
    first = full_html(lsoas)
    assert full_html(make_lsoas()) == first
    mb = deprivation_map(
        lsoas, wards=make_wards(lsoas), lads=make_lads(lsoas),
        title="Deprivation in the test grid", vintage="IoD2025, LSOA 2021",
    )  # fmt: skip
    assert mb.html() == mb.html() == first
    assert not re.search(r"[0-9a-f]{32}", first)  # no random folium ids left


def test_page_is_self_contained(lsoas):
    html = full_html(lsoas)
    # No script or stylesheet from the network: only the tile URL template mentions http.
    assert not re.search(r"<(script|link)[^>]+(src|href)=", html)
    urls = set(re.findall(r"https?://[^\s\"')]+", html.split("/* geotarget map runtime")[1]))
    assert urls <= {"https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://www.openstreetmap.org/copyright",
                    "https://leafletjs.com"}
    assert "L.Control.MiniMap" in html and "L.Control.Search" in html and "markerClusterGroup" in html


def test_size_of_nine_square_map(lsoas):
    from geotarget.render.maps.page import to_json

    assert len(to_json(Page(full_html(lsoas)).spec).encode("utf-8")) < 12_000
    assert len(full_html(lsoas).encode("utf-8")) < 420_000  # the map data plus ~330 KB of inlined libraries


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "column", ["lsoa_code", "lsoa_name", "ward_name", "imd_score", "imd_decile", "income_decile"]
)
def test_missing_column_is_named(lsoas, column):
    with pytest.raises(SchemaError, match=f"lsoas is missing required column.*'{column}'"):
        render(lsoas.drop(columns=column))


def test_several_missing_columns_are_all_named(lsoas):
    with pytest.raises(SchemaError, match="'imd_rank', 'crime_decile'"):
        render(lsoas.drop(columns=["imd_rank", "crime_decile"]))


def test_ward_and_lad_columns_are_checked(lsoas):
    with pytest.raises(SchemaError, match="wards is missing required column.*'ward_name'"):
        render(lsoas, wards=make_wards(lsoas).drop(columns="ward_name"))
    with pytest.raises(SchemaError, match="lads is missing required column.*'lad_name'"):
        render(lsoas, lads=make_lads(lsoas).drop(columns="lad_name"))


@pytest.mark.parametrize("which", ["lsoas", "wards", "lads"])
def test_frame_without_crs_raises(lsoas, which):
    frames = {"lsoas": lsoas, "wards": make_wards(lsoas), "lads": make_lads(lsoas)}
    frames[which] = frames[which].set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=f"{which} has no coordinate reference system"):
        render(frames["lsoas"], wards=frames["wards"], lads=frames["lads"])


def test_plain_dataframe_is_rejected(lsoas):
    with pytest.raises(SchemaError, match="lsoas must be a geopandas GeoDataFrame"):
        render(pd.DataFrame(lsoas.drop(columns="geometry")))


def test_decile_out_of_range_names_column_and_lsoa(lsoas):
    frame = lsoas.copy()
    frame.loc[3, "education_decile"] = 11
    with pytest.raises(SchemaError, match=r"'education_decile'.*'E01000004' have 11"):
        render(frame)


def test_non_numeric_rank_names_column_and_lsoa(lsoas):
    frame = lsoas.astype({"imd_rank": object})
    frame.loc[1, "imd_rank"] = "n/a"
    with pytest.raises(SchemaError, match=r"'imd_rank' must be numeric.*'E01000002' have 'n/a'"):
        render(frame)


def test_infinite_score_names_column_and_lsoa(lsoas):
    frame = lsoas.copy()
    frame.loc[2, "income_score"] = float("inf")
    with pytest.raises(SchemaError, match=r"'income_score' must be numeric and finite.*'E01000003"):
        render(frame)


def test_duplicate_lsoa_code_raises(lsoas):
    frame = lsoas.copy()
    frame.loc[1, "lsoa_code"] = "E01000001"
    with pytest.raises(SchemaError, match="'E01000001' occur more than once"):
        render(frame)


def test_missing_geometry_raises(lsoas):
    frame = lsoas.copy()
    frame.loc[5, "geometry"] = None
    with pytest.raises(SchemaError, match=r"missing or empty geometry \(lsoa_code 'E01000006'\)"):
        render(frame)


def test_point_geometry_raises(lsoas):
    frame = lsoas.set_geometry(lsoas.centroid)
    with pytest.raises(SchemaError, match="geometries must be polygons"):
        render(frame)


# --------------------------------------------------------------------------- ward profiles


def test_ward_profiles_are_embedded_with_formatted_measures(lsoas):
    page = Page(profile_html(lsoas))
    layer = page.layers[WARD_PROFILE_LAYER]
    assert page.tooltip(WARD_PROFILE_LAYER, 0) == {
        "Ward": "E05000001 Ward 1",
        "Council": "Stockton-on-Tees",
        "LSOAs": "3",
        "Population": "4,503",
        "Average score": "45.123 (rank 1 of 3)",
        "Average rank": "30,000 (rank 1 of 3)",
        "LSOAs in England's most deprived 10%": "33.3% (rank 1 of 3)",
        "Extent": "51.3% (rank 1 of 3)",
        "Local concentration": "32,924 (rank 1 of 3)",
        "Note": "Ranks among the 3 wards profiled; 1 = most deprived.",
    }
    third = page.tooltip(WARD_PROFILE_LAYER, 2)
    assert third["Average score"] == "12.000 (rank 3 of 3)" and third["Extent"] == "0.0% (rank 3 of 3)"
    assert third["LSOAs in England's most deprived 10%"] == "0.0% (rank 2 of 3)"
    assert third["Local concentration"] == "12,346 (rank 3 of 3)"
    # Fifths of 3 ranks: ceil(5 r / 3) is 2, 4, 5 for r = 1, 2, 3 (classes 1-5 = colours 0-4).
    assert page.col(layer["cls"]) == [1, 3, 4]
    assert layer["colors"] == list(WARD_CLASS_COLOURS) and layer["show"] is False


def test_ward_geometry_is_shared_by_profile_and_outline_layers(lsoas):
    page = Page(profile_html(lsoas))
    assert page.layers[WARD_PROFILE_LAYER]["geom"] == page.layers["Ward boundaries"]["geom"]
    assert len(page.spec["topology"]["objects"]) == 3
    added = len(profile_html(lsoas).encode("utf-8")) - len(full_html(lsoas).encode("utf-8"))
    assert 0 < added < 4_000  # the profiles' text, not another copy of the boundaries


def test_ward_profile_layer_and_legend_are_present(lsoas):
    page = Page(profile_html(lsoas))
    assert WARD_PROFILE_LAYER == "Ward profile: IMD average score"
    assert list(page.layers).index(WARD_PROFILE_LAYER) == 8  # after the deciles, before the outlines
    legend = page.legend_of(WARD_PROFILE_LAYER)
    assert legend["title"] == "Ward IMD average score — rank among 3 wards; 1 = most deprived"
    assert [i[2] for i in legend["items"]] == ["none (most deprived fifth)", "1", "none", "2",
                                               "3 (least deprived fifth)"]  # fmt: skip
    assert legend["layers"] == [WARD_PROFILE_LAYER]  # bound to the profile layer alone


def test_ward_palette_is_darkest_for_the_most_deprived_fifth():
    def luminance(colour: str) -> float:
        r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lum = [luminance(c) for c in WARD_CLASS_COLOURS]
    assert len(WARD_CLASS_COLOURS) == 5
    assert lum == sorted(lum) and len(set(lum)) == 5
    assert WARD_CLASS_COLOURS[0] == DECILE_COLOURS[0] and WARD_CLASS_COLOURS[-1] == DECILE_COLOURS[-1]


def test_ward_profile_text_cannot_become_markup(lsoas):
    profiles = make_profiles(E05000002=EVIL).assign(lad_name="A & B <i>council</i>")
    html = profile_html(lsoas, profiles)
    assert "<script>alert" not in html and "<i>council" not in html
    assert html.count("<script") == html.count("</script>")
    tip = Page(html).tooltip(WARD_PROFILE_LAYER, 1)
    assert tip["Ward"] == "E05000002 " + EVIL and tip["Council"] == "A & B <i>council</i>"


def test_ward_without_profile_is_drawn_as_no_data(lsoas):
    page = Page(profile_html(lsoas, make_profiles(["E05000001", "E05000002"])))
    layer = page.layers[WARD_PROFILE_LAYER]
    assert page.col(layer["cls"]) == [2, 4, None]  # ranks 1, 2 of 2 wards: fifths 3 and 5
    tip = page.tooltip(WARD_PROFILE_LAYER, 2)
    assert tip["Ward"] == "E05000003 Ward 3" and tip["Average score"] is None
    legend = page.legend_of(WARD_PROFILE_LAYER)
    assert legend["title"].endswith("rank among 2 wards; 1 = most deprived")
    assert [i[2] for i in legend["items"]][-2:] == ["2 (least deprived fifth)", "no data"]
    assert Page(profile_html(lsoas)).legend_of(WARD_PROFILE_LAYER)["items"][-1][2] == "3 (least deprived fifth)"


def test_ward_name_and_council_fall_back_to_the_boundaries(lsoas):
    profiles = make_profiles().assign(area_name=None).drop(columns=["lad_code", "lad_name"])
    wards = make_wards(lsoas).assign(lad_name="Stockton-on-Tees")
    tip = Page(render(lsoas, wards=wards, ward_profiles=profiles)).tooltip(WARD_PROFILE_LAYER, 0)
    assert tip["Ward"] == "E05000001 Ward 1" and tip["Council"] == "Stockton-on-Tees"


def test_profiles_as_a_column_and_fractional_counts(lsoas):
    profiles = make_profiles().reset_index()
    profiles["n_lsoas"] = [2.5, 3.0, 3.5]  # custom areas split LSOAs
    page = Page(profile_html(lsoas, profiles))
    assert [page.tooltip(WARD_PROFILE_LAYER, i)["LSOAs"] for i in range(3)] == ["2.5", "3", "3.5"]


def test_output_without_ward_profiles_is_unchanged(lsoas):
    base = full_html(lsoas)
    assert full_html(lsoas, ward_profiles=None) == base
    assert "Ward profile" not in base and "Ward IMD" not in base
    page, with_profiles = Page(base), Page(profile_html(lsoas))
    for name in page.layers:
        assert page.layers[name] == with_profiles.layers[name] or name.endswith("boundaries")
    assert page.tooltip("IMD decile", 3) == with_profiles.tooltip("IMD decile", 3)


def test_ward_profile_output_is_deterministic_and_inputs_unchanged(lsoas):
    profiles = make_profiles()
    before = copy.deepcopy(profiles)
    first = profile_html(lsoas, profiles)
    assert profile_html(make_lsoas(), make_profiles()) == first
    pd.testing.assert_frame_equal(profiles, before)
    assert not re.search(r"[0-9a-f]{32}", first)


def test_ward_profiles_need_wards(lsoas):
    with pytest.raises(SchemaError, match="ward_profiles needs wards="):
        render(lsoas, ward_profiles=make_profiles())


def test_ward_profile_codes_not_in_wards_are_named(lsoas):
    profiles = make_profiles().rename(index={"E05000003": "E05999999"})
    with pytest.raises(SchemaError, match=r"ward code\(s\) 'E05999999' are not in wards"):
        profile_html(lsoas, profiles)


@pytest.mark.parametrize("column", ["area_name", "population", "imd_extent", "imd_rank_extent"])
def test_ward_profile_missing_column_is_named(lsoas, column):
    assert column in REQUIRED_PROFILE_COLUMNS
    with pytest.raises(SchemaError, match=f"ward_profiles is missing required column.*'{column}'"):
        profile_html(lsoas, make_profiles().drop(columns=column))


def test_ward_profiles_must_be_a_frame_indexed_by_area_code(lsoas):
    with pytest.raises(SchemaError, match="ward_profiles must be a pandas DataFrame.*dict"):
        profile_html(lsoas, make_profiles().to_dict())
    renamed = make_profiles().rename_axis("ward")
    with pytest.raises(SchemaError, match="indexed by 'area_code'.*index is named 'ward'"):
        profile_html(lsoas, renamed)


def test_ward_profile_duplicate_code_raises(lsoas):
    profiles = make_profiles()
    twice = pd.concat([profiles, profiles.iloc[[0]]])
    with pytest.raises(SchemaError, match="one row per ward.*'E05000001' occur more than once"):
        profile_html(lsoas, twice)


def test_ward_profile_rank_outside_the_table_raises(lsoas):
    profiles = make_profiles()
    profiles.loc["E05000002", "imd_rank_average_score"] = 4
    with pytest.raises(
        SchemaError, match=r"'imd_rank_average_score' must hold ranks .* 1-3.*'E05000002' have 4"
    ):
        profile_html(lsoas, profiles)


def test_ward_profile_percentage_instead_of_fraction_raises(lsoas):
    profiles = make_profiles()
    profiles.loc["E05000001", "imd_prop_most_deprived_10"] = 33.3
    with pytest.raises(SchemaError, match=r"'imd_prop_most_deprived_10' must hold fractions 0-1"):
        profile_html(lsoas, profiles)


def test_ward_profile_non_numeric_value_raises(lsoas):
    profiles = make_profiles().astype({"population": object})
    profiles.loc["E05000003", "population"] = "lots"
    with pytest.raises(
        SchemaError, match=r"ward_profiles: column 'population' must be numeric.*'E05000003'"
    ):
        profile_html(lsoas, profiles)


# --------------------------------------------------------------------------- write_map


def test_write_map_writes_the_rendered_html(lsoas, tmp_path):
    m = deprivation_map(lsoas, title="T", vintage="IoD2025, LSOA 2021")
    out = write_map(m, tmp_path / "map.html")
    assert out == tmp_path / "map.html"
    assert out.read_text(encoding="utf-8") == m.html()
    assert os.listdir(tmp_path) == ["map.html"]
    # A string path works too, and an existing file is replaced.
    write_map(deprivation_map(lsoas, title="Second", vintage="v"), str(out))
    assert "Second" in out.read_text(encoding="utf-8")
    assert os.listdir(tmp_path) == ["map.html"]
    # A folium map (e.g. from MapBuilder.to_folium) can be written too.
    write_map(m.to_folium(), out)
    assert out.read_text(encoding="utf-8") == m.html()


def test_write_map_failure_keeps_old_file_and_leaves_no_temp(lsoas, tmp_path, monkeypatch):
    out = tmp_path / "map.html"
    out.write_text("old map", encoding="utf-8")
    m = deprivation_map(lsoas, title="T", vintage="v")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    from geotarget.core.errors import GeotargetError

    with pytest.raises(GeotargetError, match=r"map\.html: could not write: disk full"):  # one line naming the file
        write_map(m, out)
    assert out.read_text(encoding="utf-8") == "old map"
    assert os.listdir(tmp_path) == ["map.html"]


def test_write_map_render_failure_writes_nothing(lsoas, tmp_path, monkeypatch):
    out = tmp_path / "map.html"
    out.write_text("old map", encoding="utf-8")
    m = deprivation_map(lsoas, title="T", vintage="v")
    monkeypatch.setattr(m, "spec", lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_map(m, out)
    assert out.read_text(encoding="utf-8") == "old map"
    assert os.listdir(tmp_path) == ["map.html"]


def test_write_map_creates_missing_folder(lsoas, tmp_path):
    m = deprivation_map(lsoas, title="T", vintage="v")
    out = write_map(m, tmp_path / "new" / "map.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# --------------------------------------------------------------------------- bundled data


@pytest.mark.parametrize("year", [2025, 2019])
def test_tees_valley_sample_fits_the_size_budget(year, sample25, sample19, tmp_path):
    from geotarget.analysis.aggregate import aggregate

    sample = {2025: sample25, 2019: sample19}[year]
    # The sample's frames are indexed by code: deprivation_map takes them as they are.
    assert sample.lsoas.index.name == "lsoa_code"
    mb = deprivation_map(
        sample.lsoas, wards=sample.wards, lads=sample.lads,
        ward_profiles=aggregate(sample.lsoas, to="ward", vintage=year),
        title="Deprivation in Tees Valley", vintage=sample.vintage.label,
    )  # fmt: skip
    mb.add_points(sample.assets, "Assets", category_column="asset_type", label_column="name")
    out = mb.save(tmp_path / "tees_valley.html")
    assert out.stat().st_size < 1_000_000  # budget 2 MB: all default layers and the assets take ~0.65 MB
    page = Page(out.read_text(encoding="utf-8"))
    imd = page.layers["IMD decile"]
    assert page.col(page.layers["Council boundaries"]["labels"]["text"]) == list(sample.lads["lad_name"])
    assert page.col(imd["cls"]) == sample.lsoas["imd_decile"].astype(int).tolist()
    codes = page.tooltip("IMD decile", 0)["head"].split()[0]
    assert codes == sample.lsoas.index[0]
    health = page.tooltip("IMD decile", 0)["Health"]
    assert (health[2] is None) == (year == 2019)  # no published 2019 health score
    # The shapes are the sample's boundaries, simplified by at most a few metres.
    shapes = gpd.GeoSeries(page.geometry("IMD decile"), crs=WGS84).to_crs(BNG)
    gaps = [shapely.hausdorff_distance(a, b) for a, b in zip(shapes, sample.lsoas.geometry, strict=True)]
    assert max(gaps) < 10  # metres: 5 m (area-based) simplification + 1 m grid
    # Neighbours still share their border: no gaps or overlaps beyond the grid's precision.
    union = shapely.union_all(shapes.to_numpy())
    assert abs(union.area - shapes.area.sum()) / union.area < 1e-4


@pytest.mark.parametrize("year", [2025, 2019])
def test_tees_valley_ward_profile_layer(year, sample25, sample19):
    from geotarget.analysis.aggregate import aggregate

    sample = {2025: sample25, 2019: sample19}[year]
    profiles = aggregate(sample.lsoas, to="ward", vintage=year)
    kwargs = {"wards": sample.wards, "lads": sample.lads, "title": "Deprivation in Tees Valley",
              "vintage": sample.vintage.label}
    base = deprivation_map(sample.lsoas, **kwargs).html()
    html = deprivation_map(sample.lsoas, ward_profiles=profiles, **kwargs).html()
    # The layer costs the profiles (about 20 KB), not another copy of the ward boundaries.
    added = len(html.encode("utf-8")) - len(base.encode("utf-8"))
    assert 0 < added < 50_000
    n = len(profiles)
    assert n == len(sample.wards) == 103
    page = Page(html)
    layer = page.layers[WARD_PROFILE_LAYER]
    classes = page.col(layer["cls"])
    for i, code in enumerate(sample.wards.index):
        row = profiles.loc[code]
        assert classes[i] == math.ceil(5 * row["imd_rank_average_score"] / n) - 1
        tip = page.tooltip(WARD_PROFILE_LAYER, i)
        assert tip["Average score"] == f"{row['imd_average_score']:.3f} (rank {row['imd_rank_average_score']} of 103)"
        assert tip["Ward"] == f"{code} {row['area_name']}" and tip["Council"] == row["lad_name"]
    # Fifths of 103 ranks: 1-20, 21-41, 42-61, 62-82, 83-103.
    assert pd.Series(classes).value_counts().sort_index().tolist() == [20, 21, 20, 21, 21]
    assert [i[2] for i in page.legend_of(WARD_PROFILE_LAYER)["items"]] == [
        "1–20 (most deprived fifth)", "21–41", "42–61", "62–82", "83–103 (least deprived fifth)"]
