"""Tests for geotarget.maps: the HTML deprivation map and its atomic writer.

The fixture is a 3 x 3 grid of 500 m square "LSOAs" in British National Grid around
(450000, 520000) -- near Stockton-on-Tees -- with three wards (the grid's columns) and
one council, and hand-made IMD profiles of the three wards in the shape that
``aggregate(lsoas, to="ward")`` returns. The map's behaviour in a browser (layers,
legends, tooltips, labels) is checked by running the generated JavaScript in node
against a small stub of Leaflet.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import subprocess

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geotarget._errors import CRSError, SchemaError
from geotarget.crs import BNG, WGS84
from geotarget.domains import DOMAINS
from geotarget.maps import (
    DECILE_COLOURS,
    DEFAULT_ATTRIBUTION,
    LEGEND_TITLE,
    REQUIRED_PROFILE_COLUMNS,
    WARD_CLASS_COLOURS,
    WARD_PROFILE_LAYER,
    deprivation_map,
    write_map,
)

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
    """IMD profiles of the grid's wards as aggregate(..., to="ward") returns them: indexed
    by area_code, each measure ranked among the wards given (1 = most deprived, ties
    take the lowest rank). ``names`` overrides ward names, e.g. ``E05000002=EVIL``."""
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
    m = deprivation_map(lsoas, wards=wards, lads=lads, **kwargs)
    return m.get_root().render()


def full_html(lsoas: gpd.GeoDataFrame, **kwargs) -> str:
    return render(lsoas, wards=make_wards(lsoas), lads=make_lads(lsoas), **kwargs)


def embedded_data(html: str) -> dict:
    """The LSOA FeatureCollection embedded in the page (one line of JSON)."""
    found = re.findall(r"^\s*var data = (\{.*\});$", html, flags=re.MULTILINE)
    assert len(found) == 1
    return json.loads(found[0])


def embedded_wards(html: str) -> dict:
    """The ward FeatureCollection of the ward profile layer (one line of JSON)."""
    found = re.findall(r"^\s*var shapes = (\{.*\});$", html, flags=re.MULTILINE)
    assert len(found) == 1
    return json.loads(found[0])


def profile_html(lsoas: gpd.GeoDataFrame, profiles: pd.DataFrame | None = None, **kwargs) -> str:
    profiles = make_profiles() if profiles is None else profiles
    return full_html(lsoas, ward_profiles=profiles, **kwargs)


def lonlat(x: float, y: float) -> str:
    """The JSON text of a BNG point in rounded WGS84, as embedded in the map."""
    lon, lat = Transformer.from_crs(BNG, WGS84, always_xy=True).transform(x, y)
    return json.dumps([round(lon, 5), round(lat, 5)], separators=(",", ":"))


# --------------------------------------------------------------------------- content


def test_every_lsoa_is_in_the_map_once_with_its_properties(lsoas):
    html = full_html(lsoas)
    data = embedded_data(html)
    codes = [f["properties"]["code"] for f in data["features"]]
    assert codes == list(lsoas["lsoa_code"])
    for code in lsoas["lsoa_code"]:
        assert code in html
    first = data["features"][0]["properties"]
    assert first == {
        "code": "E01000001",
        "name": "Stockton-on-Tees 001A",
        "ward": "Ward 1",
        "lad": "Stockton-on-Tees",
        "pop": "1,500",
        "dec": [1, 1, 2, 3, 4, 5, 6, 7],
        "rs": [["1,234", "50.000"]] + [[f"{2_000 + k:,}", f"{k:.3f}"] for k in range(7)],
    }
    last = data["features"][8]["properties"]
    assert last["rs"][0] == ["25,234", "8.000"]  # imd rank 1,234 + 24,000; score 50 - 42
    assert last["dec"][0] == 9


def test_geometry_is_embedded_once_not_once_per_layer(lsoas):
    # (X0, Y0) is a corner of LSOA 1 only; with eight decile layers a per-layer copy
    # would put it in the page eight times.
    corner = lonlat(X0, Y0)
    assert render(lsoas).count(corner) == 1
    # ... plus once in the ward outlines and once in the council outline.
    assert full_html(lsoas).count(corner) == 3


def test_coordinates_are_wgs84_rounded_to_five_decimals(lsoas):
    data = embedded_data(render(lsoas))
    coords = shapely.get_coordinates(
        [shapely.geometry.shape(f["geometry"]) for f in data["features"]]
    )
    assert coords.shape == (45, 2)  # 9 closed squares of 5 points
    assert ((coords[:, 0] > -1.3) & (coords[:, 0] < -1.1)).all()  # longitude near Stockton
    assert ((coords[:, 1] > 54.5) & (coords[:, 1] < 54.7)).all()
    assert (abs(coords * 1e5 - (coords * 1e5).round()) < 1e-6).all()
    digits = re.findall(r"-?\d+\.(\d+)", json.dumps(data["features"][0]["geometry"]))
    assert digits and max(len(d) for d in digits) <= 5


def test_layers_legend_title_and_attribution_are_present(lsoas):
    html = full_html(lsoas, notes="Councils: Stockton-on-Tees")
    for name in ["IMD decile", *(f"{d.short} decile" for d in DOMAINS)]:
        assert f'"{name}" : decile_layer_' in html
    assert '"Ward boundaries" : outline_layer_' in html
    assert '"Council boundaries" : outline_layer_' in html
    assert '"No basemap" : blank_base_layer_' in html
    assert '"collapsed": false' in html
    assert LEGEND_TITLE in html
    assert LEGEND_TITLE == "IMD / domain decile — 1 = most deprived 10% nationally"
    assert "Deprivation in the test grid" in html
    assert "IoD2025, LSOA 2021" in html
    assert "Councils: Stockton-on-Tees" in html
    assert DEFAULT_ATTRIBUTION in html
    assert "Open Government Licence v3.0" in DEFAULT_ATTRIBUTION
    assert "tile.openstreetmap.org" in html


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
    html = render(
        lsoas, wards=wards, lads=lads, title=EVIL, vintage=EVIL, notes=EVIL, attribution=EVIL
    )
    assert "alert(1)" in html  # the text is there ...
    assert "<script>alert" not in html  # ... but never as markup
    assert "<b>bold" not in html and "<i>council" not in html
    # Only the page's own <script> elements: each opening tag has its closing tag.
    assert html.count("<script") == html.count("</script>")
    data = embedded_data(html)
    assert data["features"][0]["properties"]["name"] == EVIL
    assert data["features"][1]["properties"]["name"] == "</script><b>bold</b>"
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>" in html


def test_2019_frame_without_some_scores_or_population(lsoas):
    frame = lsoas.drop(
        columns=["health_score", "crime_score", "living_env_score", "pop_total"]
    )
    data = embedded_data(render(frame, vintage="IoD2019, LSOA 2011"))
    props = data["features"][0]["properties"]
    assert props["pop"] is None
    keys = ["imd", *(d.key for d in DOMAINS)]
    for key in ("health", "crime", "living_env"):
        rank, score = props["rs"][keys.index(key)]
        assert score is None and rank is not None
    assert props["rs"][keys.index("income")][1] == "0.000"


def test_missing_deciles_are_drawn_as_no_data(lsoas):
    frame = lsoas.astype({"imd_decile": "float64"})
    frame.loc[4, "imd_decile"] = float("nan")
    html = render(frame)
    assert embedded_data(html)["features"][4]["properties"]["dec"][0] is None
    assert '"10 least deprived","no data"]' in html  # the legend gets a "no data" entry
    assert '"10 least deprived"]' in render(lsoas)


def test_inputs_are_not_mutated(lsoas):
    wards, lads = make_wards(lsoas), make_lads(lsoas)
    before = [copy.deepcopy(f) for f in (lsoas, wards, lads)]
    render(lsoas, wards=wards, lads=lads)
    for frame, original in zip((lsoas, wards, lads), before):
        pd.testing.assert_frame_equal(frame, original)
        assert frame.crs == original.crs == BNG


def test_output_is_deterministic(lsoas):
    first = full_html(lsoas)
    assert full_html(make_lsoas()) == first
    m = deprivation_map(
        lsoas, wards=make_wards(lsoas), lads=make_lads(lsoas),
        title="Deprivation in the test grid", vintage="IoD2025, LSOA 2021",
    )  # fmt: skip
    assert m.get_root().render() == m.get_root().render() == first
    assert not re.search(r"[0-9a-f]{32}", first)  # no random folium ids left


def test_size_of_nine_square_map(lsoas):
    size = len(full_html(lsoas).encode("utf-8"))
    assert size < 30_000


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


def test_ward_profiles_are_embedded_once_with_formatted_measures(lsoas):
    html = profile_html(lsoas)
    for code in PROFILE_ROWS:
        assert html.count(code) == 1
    features = embedded_wards(html)["features"]
    assert [f["properties"]["code"] for f in features] == list(make_wards(lsoas)["ward_code"])
    assert features[0]["properties"] == {
        "code": "E05000001",
        "name": "Ward 1",
        "lad": "Stockton-on-Tees",
        "n": "3",
        "pop": "4,503",
        "cls": 2,  # rank 1 of 3 wards: ceil(5 * 1 / 3) = 2
        "m": [["45.123", "1"], ["30,000", "1"], ["33.3%", "1"], ["51.3%", "1"], ["32,924", "1"]],
    }
    third = features[2]["properties"]
    assert third["cls"] == 5  # rank 3 of 3: ceil(15 / 3)
    assert third["m"] == [["12.000", "3"], ["9,000", "3"], ["0.0%", "2"], ["0.0%", "3"],
                          ["12,346", "3"]]  # fmt: skip
    assert features[1]["properties"]["cls"] == 4  # ceil(10 / 3)


def test_ward_geometry_is_shared_by_profile_and_outline_layers(lsoas):
    # (X0, Y0) is a corner of LSOA 1, ward 1 and the council: once each, with or
    # without the profile layer, which draws the same ward shapes as the outlines.
    corner = lonlat(X0, Y0)
    assert full_html(lsoas).count(corner) == 3
    html = profile_html(lsoas)
    assert html.count(corner) == 3
    profile = re.search(r"var (ward_profile_layer_\d+) = ", html).group(1)
    assert re.search(rf"\.outlineLayer\({profile}\.shapes, ", html)
    added = len(html.encode("utf-8")) - len(full_html(lsoas).encode("utf-8"))
    assert 0 < added < 8_000


def test_ward_profile_layer_and_legend_are_present(lsoas):
    html = profile_html(lsoas)
    assert WARD_PROFILE_LAYER == "Ward profile: IMD average score"
    assert f'"{WARD_PROFILE_LAYER}" : ward_profile_layer_' in html
    title = "Ward IMD average score — rank among 3 wards; 1 = most deprived"
    assert f'"{title}"' in html
    # Fifths of 3 ranks: ceil(5 r / 3) is 2, 4, 5 for r = 1, 2, 3.
    assert '["none (most deprived fifth)","1","none","2","3 (least deprived fifth)"]' in html
    # The legend is bound to the profile layer alone (the decile legend to the deciles).
    profile = re.search(r"var (ward_profile_layer_\d+) = ", html).group(1)
    assert re.search(rf"\}}\)\(map_\d+, geotarget_\d+, \[{profile}\]\);", html)
    assert html.count("legend.addTo(map)") == 2


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
    props = embedded_wards(html)["features"][1]["properties"]
    assert props["name"] == EVIL and props["lad"] == "A & B <i>council</i>"


def test_ward_without_profile_is_drawn_as_no_data(lsoas):
    html = profile_html(lsoas, make_profiles(["E05000001", "E05000002"]))
    features = embedded_wards(html)["features"]
    assert features[2]["properties"] == {
        "code": "E05000003", "name": "Ward 3", "lad": None,
        "n": None, "pop": None, "cls": None, "m": None,
    }  # fmt: skip
    assert [f["properties"]["cls"] for f in features[:2]] == [3, 5]  # ranks 1, 2 of 2
    assert "rank among 2 wards" in html
    assert '"2 (least deprived fifth)","no data"]' in html
    assert '"3 (least deprived fifth)"]' in profile_html(lsoas)  # no "no data" row


def test_ward_name_and_council_fall_back_to_the_boundaries(lsoas):
    profiles = make_profiles().assign(area_name=None).drop(columns=["lad_code", "lad_name"])
    wards = make_wards(lsoas).assign(lad_name="Stockton-on-Tees")
    html = render(lsoas, wards=wards, ward_profiles=profiles)
    props = embedded_wards(html)["features"][0]["properties"]
    assert props["name"] == "Ward 1" and props["lad"] == "Stockton-on-Tees"


def test_profiles_as_a_column_and_fractional_counts(lsoas):
    profiles = make_profiles().reset_index()
    profiles["n_lsoas"] = [2.5, 3.0, 3.5]  # custom areas split LSOAs
    features = embedded_wards(profile_html(lsoas, profiles))["features"]
    assert [f["properties"]["n"] for f in features] == ["2.5", "3", "3.5"]


def test_output_without_ward_profiles_is_unchanged(lsoas):
    base = full_html(lsoas)
    assert full_html(lsoas, ward_profiles=None) == base
    for text in ("Ward profile", "ward_profile_layer", "geotargetWardProfile", "Ward IMD"):
        assert text not in base
    # The ward outlines embed their own shapes, with no properties.
    assert re.search(r'\.outlineLayer\(\{"type":"FeatureCollection","features":\[\{"type":'
                     r'"Feature","properties":\{\},', base)  # fmt: skip
    # Adding the profiles leaves the LSOA data and decile legend as they were.
    html = profile_html(lsoas)
    assert embedded_data(html) == embedded_data(base)
    assert html.count(LEGEND_TITLE) == base.count(LEGEND_TITLE) == 1


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
    assert out.read_text(encoding="utf-8") == m.get_root().render()
    assert os.listdir(tmp_path) == ["map.html"]
    # A string path works too, and an existing file is replaced.
    write_map(deprivation_map(lsoas, title="Second", vintage="v"), str(out))
    assert "Second" in out.read_text(encoding="utf-8")
    assert os.listdir(tmp_path) == ["map.html"]


def test_write_map_failure_keeps_old_file_and_leaves_no_temp(lsoas, tmp_path, monkeypatch):
    out = tmp_path / "map.html"
    out.write_text("old map", encoding="utf-8")
    m = deprivation_map(lsoas, title="T", vintage="v")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_map(m, out)
    assert out.read_text(encoding="utf-8") == "old map"
    assert os.listdir(tmp_path) == ["map.html"]


def test_write_map_render_failure_writes_nothing(lsoas, tmp_path, monkeypatch):
    out = tmp_path / "map.html"
    out.write_text("old map", encoding="utf-8")
    m = deprivation_map(lsoas, title="T", vintage="v")
    monkeypatch.setattr(m.get_root(), "render", lambda **kw: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_map(m, out)
    assert out.read_text(encoding="utf-8") == "old map"
    assert os.listdir(tmp_path) == ["map.html"]


def test_write_map_creates_missing_folder(lsoas, tmp_path):
    m = deprivation_map(lsoas, title="T", vintage="v")
    out = write_map(m, tmp_path / "new" / "map.html")
    assert out.read_text(encoding="utf-8") == m.get_root().render()


# --------------------------------------------------------------------------- in a JS engine

# A small stand-in for Leaflet and the DOM: enough to run the page's scripts in node and
# record what the map would show. It prints a JSON summary of the map's state.
LEAFLET_STUB = r"""
const vm = require("vm");
const src = require("fs").readFileSync(process.argv[2], "utf8");
const scripts = [...src.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(m => m[1]);

class El {
  constructor(tag) { this.tagName = tag; this.children = []; this.style = {};
                     this.className = ""; this._text = ""; }
  appendChild(c) { this.children.push(c); return c; }
  set textContent(t) { this.children = []; this._text = String(t); }
  get textContent() { return this._text + this.children.map(c => c.textContent).join(""); }
  tags() { return [this.tagName, ...this.children.flatMap(c => c.tags ? c.tags() : [])]; }
}
const document = {
  createElement: t => new El(t),
  createTextNode: t => ({tagName: "#text", textContent: String(t)}),
};
function evented(o) {
  o._handlers = {};
  o.on = function (types, fn) {
    if (typeof types === "object") { for (const k in types) o.on(k, types[k]); return o; }
    for (const t of types.split(" ")) (o._handlers[t] = o._handlers[t] || []).push(fn);
    return o;
  };
  o.fire = function (t, e) { (o._handlers[t] || []).forEach(f => f(e || {})); return o; };
  return o;
}
function layer(o) {
  o = evented(o || {});
  o.addTo = target => { target.addLayer(o); return o; };
  return o;
}
function group() {
  const g = layer({layers: []});
  g.addLayer = l => { g.layers.push(l); return g; };
  return g;
}
const maps = [];
const L = {
  CRS: {EPSG3857: {}},
  map(id, options) {
    const container = new El("div");
    const m = evented({id, options, zoom: options.zoom, panes: {}, layers: new Set(),
                       controls: [], layerControls: []});
    m.createPane = n => (m.panes[n] = {style: {}});
    m.getContainer = () => container;
    m.getZoom = () => m.zoom;
    m.setZoom = z => { m.zoom = z; m.fire("zoomend"); };
    m.fitBounds = b => { m.bounds = b; m.setZoom(15); };
    m.hasLayer = l => m.layers.has(l);
    m.addLayer = l => { m.layers.add(l); return m; };
    m.removeLayer = l => { m.layers.delete(l); return m; };
    m.attributionControl = {texts: [], addAttribution(t) { this.texts.push(t); }};
    maps.push(m);
    return m;
  },
  tileLayer: (url, options) => layer({url, options}),
  layerGroup: () => group(),
  featureGroup: () => group(),
  geoJson(data, options) {
    const g = group();
    g.data = data;
    g.options = options;
    const styleOf = f => typeof options.style === "function" ? options.style(f) : options.style;
    g.resetStyle = p => { p.options = Object.assign({}, styleOf(p.feature)); };
    for (const f of data.features) {
      const p = evented({feature: f, options: Object.assign({}, styleOf(f))});
      p.bindTooltip = (content, o) => { p.tooltip = {content, options: o}; return p; };
      p.setStyle = s => Object.assign(p.options, s);
      p.bringToFront = () => p;
      g.layers.push(p);
      if (options.onEachFeature) options.onEachFeature(f, p);
    }
    return g;
  },
  marker: (latlng, options) => layer({latlng, options}),
  divIcon: options => ({options}),
  DomEvent: {disableClickPropagation() {}, disableScrollPropagation() {}},
  DomUtil: {
    create(tag, cls) { const e = new El(tag); e.className = cls || ""; return e; },
    addClass(e, c) { if (!e.className.split(" ").includes(c)) e.className += " " + c; },
    removeClass(e, c) { e.className = e.className.split(" ").filter(x => x !== c).join(" "); },
  },
};
L.control = function (options) {
  const c = {options};
  c.addTo = m => { c._container = c.onAdd(m); m.controls.push(c); return c; };
  c.getContainer = () => c._container;
  return c;
};
L.control.scale = () => ({addTo: () => {}});
L.control.layers = (base, overlays, options) =>
  ({addTo: m => { m.layerControls.push({base, overlays, options}); }});

const context = vm.createContext({L, document, console});
for (const s of scripts) vm.runInContext(s, context);

const map = maps[0];
const lc = map.layerControls[0];
const overlays = lc.overlays;
const names = Object.keys(overlays);
const legends = map.controls.filter(c => c.getContainer().className.includes("legend"));
const legend = legends[0];
const visible = control => control.getContainer().style.display !== "none";
const titleBox = map.controls.find(c => c.getContainer().className.includes("title"));
const shown = () => names.filter(n => map.hasLayer(overlays[n]));
const legendShown = () => legend.getContainer().style.display !== "none";
const hiddenWardLabels = () => map.getContainer().className.includes("hide-ward-labels");
const toggle = (name, on) => {
  if (on) { map.addLayer(overlays[name]); map.fire("overlayadd", {layer: overlays[name]}); }
  else { map.removeLayer(overlays[name]); map.fire("overlayremove", {layer: overlays[name]}); }
};
const out = {base: Object.keys(lc.base), overlays: names, controlOptions: lc.options,
             shownAtStart: shown(), legendAtStart: legendShown(),
             legendsAtStart: legends.map(visible),
             legendText: legend.getContainer().textContent,
             titleText: titleBox.getContainer().textContent,
             attribution: map.attributionControl.texts,
             wardLabelsHiddenAtZoom15: hiddenWardLabels()};
map.setZoom(11);
out.wardLabelsHiddenAtZoom11 = hiddenWardLabels();
map.setZoom(12);
out.wardLabelsHiddenAtZoom12 = hiddenWardLabels();
toggle("IMD decile", false);
out.legendWithNoDecileLayer = legendShown();
toggle("Ward boundaries", false);
out.legendAfterRemovingWards = legendShown();
toggle("Income decile", true);
out.legendWithIncome = legendShown();

const imd = overlays["IMD decile"].layers;
out.imdFill = imd.map(p => p.options.fillColor);
out.incomeFill = overlays["Income decile"].layers.map(p => p.options.fillColor);
const box = imd[0].tooltip.content(imd[0]);
out.tooltip = {text: box.textContent, tags: box.tags(), sticky: imd[0].tooltip.options.sticky};
imd[0].fire("mouseover", {target: imd[0]});
out.hoverWeight = imd[0].options.weight;
imd[0].fire("mouseout", {target: imd[0]});
out.afterHoverWeight = imd[0].options.weight;
out.outlines = ["Ward boundaries", "Council boundaries"].map(n => {
  const [shapes, ...markers] = overlays[n].layers;
  return {interactive: shapes.options.interactive, pane: shapes.options.pane,
          paneEvents: map.panes[shapes.options.pane].style.pointerEvents,
          features: shapes.layers.length,
          labels: markers.map(mk => mk.options.icon.options.html.textContent),
          labelsInteractive: markers.some(mk => mk.options.interactive)};
});

// With ward profiles: the state so far is IMD decile off, Income decile on, wards off.
const profile = overlays["Ward profile: IMD average score"];
if (profile) {
  const p = {legendText: legends[1].getContainer().textContent};
  toggle("Ward profile: IMD average score", true);
  p.legendsWithProfileAndIncome = legends.map(visible);
  toggle("Income decile", false);
  p.legendsWithProfileOnly = legends.map(visible);
  toggle("Ward profile: IMD average score", false);
  p.legendsAfterProfileOff = legends.map(visible);
  p.sharesOutlineShapes = profile.data === overlays["Ward boundaries"].layers[0].data;
  p.pane = profile.options.pane;
  p.paneZ = map.panes[profile.options.pane].style.zIndex;
  p.interactive = profile.options.interactive !== false;
  p.fills = profile.layers.map(w => w.options.fillColor);
  p.tooltips = profile.layers.map(w => {
    const b = w.tooltip.content(w);
    return {text: b.textContent, tags: b.tags(), sticky: w.tooltip.options.sticky};
  });
  profile.layers[0].fire("mouseover", {target: profile.layers[0]});
  p.hoverWeight = profile.layers[0].options.weight;
  profile.layers[0].fire("mouseout", {target: profile.layers[0]});
  p.afterHoverWeight = profile.layers[0].options.weight;
  out.profile = p;
}
console.log(JSON.stringify(out));
"""


def run_in_node(tmp, html: str) -> dict:
    """Run the page's scripts in node against LEAFLET_STUB; the map's state as a dict."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    page = tmp / "map.html"
    page.write_text(html, encoding="utf-8")
    stub = tmp / "stub.js"
    stub.write_text(LEAFLET_STUB, encoding="utf-8")
    check = subprocess.run([node, "--check", str(stub)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    done = subprocess.run(
        [node, str(stub), str(page)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def browser_state(tmp_path_factory) -> dict:
    lsoas = make_lsoas(names={0: EVIL})
    html = full_html(lsoas, notes="Line one\nLine two")
    state = run_in_node(tmp_path_factory.mktemp("js"), html)
    state["ward_names"] = list(make_wards(lsoas)["ward_name"])
    return state


@pytest.fixture(scope="module")
def profile_state(tmp_path_factory) -> dict:
    lsoas = make_lsoas(names={0: EVIL})
    profiles = make_profiles(["E05000001", "E05000002"], E05000002=EVIL)
    return run_in_node(tmp_path_factory.mktemp("js"), profile_html(lsoas, profiles))


def test_js_layer_control(browser_state):
    s = browser_state
    assert s["base"] == ["OpenStreetMap", "No basemap"]
    assert s["overlays"] == [
        "IMD decile", *(f"{d.short} decile" for d in DOMAINS),
        "Ward boundaries", "Council boundaries",
    ]  # fmt: skip
    assert s["controlOptions"]["collapsed"] is False
    assert s["shownAtStart"] == ["IMD decile", "Ward boundaries", "Council boundaries"]
    assert s["legendsAtStart"] == [True]  # one legend: no ward profile layer ...
    assert "profile" not in s  # ... when no ward_profiles are given


def test_js_ward_profile_layer_is_hidden_overlay_before_the_outlines(profile_state):
    s = profile_state
    assert s["overlays"] == [
        "IMD decile", *(f"{d.short} decile" for d in DOMAINS),
        WARD_PROFILE_LAYER, "Ward boundaries", "Council boundaries",
    ]  # fmt: skip
    assert s["shownAtStart"] == ["IMD decile", "Ward boundaries", "Council boundaries"]
    assert s["profile"]["sharesOutlineShapes"] is True  # one copy of the ward geometry
    assert s["profile"]["interactive"] is True
    assert s["profile"]["pane"] == "geotargetWardProfile" and s["profile"]["paneZ"] == 420


def test_js_ward_profile_legend_follows_its_layer(profile_state):
    s, p = profile_state, profile_state["profile"]
    assert s["legendsAtStart"] == [True, False]  # [deciles, ward profile]
    assert p["legendsWithProfileAndIncome"] == [True, True]
    assert p["legendsWithProfileOnly"] == [False, True]
    assert p["legendsAfterProfileOff"] == [False, False]
    assert p["legendText"] == (
        "Ward IMD average score — rank among 2 wards; 1 = most deprived"
        "none (most deprived fifth)none1none2 (least deprived fifth)no data"
    )


def test_js_ward_profile_fills(profile_state):
    # Ranks 1 and 2 of 2 wards fall in fifths 3 and 5; ward 3 has no profile.
    assert profile_state["profile"]["fills"] == [
        WARD_CLASS_COLOURS[2], WARD_CLASS_COLOURS[4], "#bdbdbd",
    ]  # fmt: skip
    p = profile_state["profile"]
    assert p["hoverWeight"] > p["afterHoverWeight"]


def test_js_ward_profile_tooltip(profile_state):
    first, evil, missing = profile_state["profile"]["tooltips"]
    assert first["sticky"] is True
    text = first["text"]
    assert text.startswith("E05000001 Ward 1Council: Stockton-on-TeesLSOAs: 3Population: 4,503")
    for row in ["Average score45.1231 of 2", "Average rank30,0001 of 2",
                "LSOAs in England's most deprived 10%33.3%1 of 2", "Extent51.3%1 of 2",
                "Local concentration32,9241 of 2"]:  # fmt: skip
        assert row in text
    assert "Rank: among the 2 wards profiled; 1 = most deprived." in text
    assert "script" not in evil["tags"] and evil["text"].startswith("E05000002 " + EVIL)
    assert missing["text"] == "E05000003 Ward 3No ward profile"


def test_js_legend_follows_decile_layers(browser_state):
    s = browser_state
    assert s["legendAtStart"] is True
    assert s["legendWithNoDecileLayer"] is False
    assert s["legendAfterRemovingWards"] is False
    assert s["legendWithIncome"] is True
    assert s["legendText"].startswith(LEGEND_TITLE + "1 most deprived2")
    assert s["legendText"].endswith("10 least deprived")


def test_js_choropleth_colours(browser_state):
    s = browser_state
    # imd_decile is 1..9 for LSOAs 1..9; income_decile is i % 10 + 1 as well.
    assert s["imdFill"] == list(DECILE_COLOURS[:9])
    assert s["incomeFill"] == list(DECILE_COLOURS[:9])
    assert s["hoverWeight"] > s["afterHoverWeight"]


def test_js_tooltip_shows_text_not_markup(browser_state):
    tip = browser_state["tooltip"]
    assert tip["sticky"] is True
    assert "script" not in tip["tags"]
    assert tip["text"].startswith("E01000001 " + EVIL)
    assert "Ward: Ward 1" in tip["text"] and "Council: Stockton-on-Tees" in tip["text"]
    assert "Population: 1,500" in tip["text"]
    assert "IMD11,23450.000" in tip["text"]  # decile, rank, score cells
    assert "Living env.72,0066.000" in tip["text"]


def test_js_outlines_are_not_interactive_and_labelled(browser_state):
    ward, lad = browser_state["outlines"]
    for layer in (ward, lad):
        assert layer["interactive"] is False and layer["labelsInteractive"] is False
        assert layer["paneEvents"] == "none"
    assert ward["features"] == 3 and ward["labels"] == browser_state["ward_names"]
    assert lad["features"] == 1 and lad["labels"] == ["Stockton-on-Tees"]


def test_js_ward_labels_only_from_zoom_12(browser_state):
    s = browser_state
    assert s["wardLabelsHiddenAtZoom15"] is False
    assert s["wardLabelsHiddenAtZoom11"] is True
    assert s["wardLabelsHiddenAtZoom12"] is False


def test_js_title_box_and_attribution(browser_state):
    s = browser_state
    expected = ["Deprivation in the test grid", "IoD2025, LSOA 2021", "Line one\nLine two"]
    assert s["titleText"] == "".join(expected)
    assert s["attribution"] == [DEFAULT_ATTRIBUTION]


# --------------------------------------------------------------------------- bundled data


@pytest.mark.parametrize("year", [2025, 2019])
def test_tees_valley_sample_fits_the_size_budget(year, sample25, sample19, tmp_path):
    sample = {2025: sample25, 2019: sample19}[year]
    # The sample's frames are indexed by code: deprivation_map takes them as they are.
    assert sample.lsoas.index.name == "lsoa_code"
    m = deprivation_map(
        sample.lsoas, wards=sample.wards, lads=sample.lads,
        title="Deprivation in Tees Valley", vintage=sample.vintage.label,
    )  # fmt: skip
    out = write_map(m, tmp_path / "tees_valley.html")
    html = out.read_text(encoding="utf-8")
    assert out.stat().st_size < 1_500_000  # budget 3 MB; 425 LSOAs take about 0.8 MB
    features = embedded_data(html)["features"]
    assert [f["properties"]["code"] for f in features] == list(sample.lsoas.index)
    imd_deciles = [f["properties"]["dec"][0] for f in features]
    assert imd_deciles == sample.lsoas["imd_decile"].astype(int).tolist()
    for name in sample.lads["lad_name"]:
        assert f'"{name}"]' in html  # a council label
    health = features[0]["properties"]["rs"][1 + [d.key for d in DOMAINS].index("health")]
    assert (health[1] is None) == (year == 2019)  # no published 2019 health score


@pytest.mark.parametrize("year", [2025, 2019])
def test_tees_valley_ward_profile_layer(year, sample25, sample19):
    from geotarget.aggregate import aggregate

    sample = {2025: sample25, 2019: sample19}[year]
    profiles = aggregate(sample.lsoas, to="ward")
    kwargs = dict(
        wards=sample.wards, lads=sample.lads,
        title="Deprivation in Tees Valley", vintage=sample.vintage.label,
    )  # fmt: skip
    base = deprivation_map(sample.lsoas, **kwargs).get_root().render()
    html = deprivation_map(sample.lsoas, ward_profiles=profiles, **kwargs).get_root().render()
    # The layer costs the profiles (about 20 KB), not another copy of the ward
    # boundaries (about 145 KB).
    added = len(html.encode("utf-8")) - len(base.encode("utf-8"))
    assert 0 < added < 50_000
    n = len(profiles)
    assert n == len(sample.wards) > 100
    for code in profiles.index:
        assert html.count(code) == 1
    features = {f["properties"]["code"]: f["properties"] for f in embedded_wards(html)["features"]}
    assert list(features) == list(sample.wards.index)
    for code, row in profiles.iterrows():
        props = features[code]
        assert props["cls"] == math.ceil(5 * row["imd_rank_average_score"] / n)
        assert props["m"][0] == [f"{row['imd_average_score']:.3f}", str(row["imd_rank_average_score"])]
        assert props["m"][2][0] == f"{100 * row['imd_prop_most_deprived_10']:.1f}%"
        assert props["name"] == row["area_name"] and props["lad"] == row["lad_name"]
    # Fifths of 103 ranks: 1-20, 21-41, 42-61, 62-82, 83-103.
    counts = pd.Series([p["cls"] for p in features.values()]).value_counts().sort_index()
    assert counts.tolist() == [20, 21, 20, 21, 21] and n == 103
    assert ('["1–20 (most deprived fifth)","21–41","42–61","62–82","83–103 (least deprived '
            'fifth)"]') in html  # fmt: skip
    assert "rank among 103 wards; 1 = most deprived" in html
