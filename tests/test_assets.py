"""Reading asset lists: every row located or rejected with its row number and reason."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geotarget import CRSError, DataNotFoundError, SchemaError
from geotarget.data.sample import sample_layer
from geotarget.io.assets import CATEGORIES, asset_layer, assets_from_frame, in_england, read_assets, read_category_map
from geotarget.io.postcodes import normalise_postcode, postcode_candidates, read_postcodes

from .conftest import FIXTURES, ROOT

MESSY = FIXTURES / "assets_messy.csv"
#: Row -> reason in the hand-made messy file (rows numbered as in a spreadsheet, header = row 1).
MESSY_REJECTS = {5: "swapped_lat_lon", 6: "unknown_postcode", 7: "missing_location", 8: "outside_england",
                 13: "swapped_easting_northing", 17: "invalid_coordinates", 18: "unknown_postcode"}


@pytest.fixture(scope="module")
def postcodes():
    return read_postcodes()


@pytest.fixture(scope="module")
def messy(postcodes):
    return read_assets(MESSY, category_column="Type", capacity_column="List size", postcodes=postcodes)


def test_every_row_is_an_asset_or_a_reject(messy):
    assert messy.n_rows == 17 and len(messy.assets) + len(messy.rejects) == 17
    assert dict(zip(messy.rejects["row"], messy.rejects["reason"], strict=True)) == MESSY_REJECTS
    assert sorted(messy.assets["source_row"]) == sorted(set(range(2, 19)) - set(MESSY_REJECTS))


def test_locations_by_postcode_lat_lon_and_grid(messy, postcodes):
    a = messy.assets.set_index("source_row")
    # postcode only, lower case without a space: the Code-Point location of TS18 1HU
    assert a.loc[2, "postcode"] == "TS18 1HU" and a.loc[2, "location_source"] == "postcode"
    assert (a.loc[2, "easting"], a.loc[2, "northing"]) == (444136.0, 518701.0)
    # lat/lon of Darlington Library -> within 2 m of its postcode's grid reference (DL1 1ND)
    assert a.loc[3, "location_source"] == "lat_lon"
    assert np.hypot(a.loc[3, "easting"] - 429060, a.loc[3, "northing"] - 514625) < 2
    assert a.loc[4, "location_source"] == "easting_northing" and a.loc[4, "easting"] == 427604
    # latitude filled but longitude blank: falls back to the postcode
    assert a.loc[12, "location_source"] == "postcode" and a.loc[12, "northing"] == 519543
    assert a.loc[14, "postcode"] == "TS25 3LQ"  # "ts25  3lq"
    assert (a.loc[15, "easting"], a.loc[15, "northing"]) == (452895, 519193)  # "452,895"
    assert np.hypot(a.loc[16, "easting"] - 448851, a.loc[16, "northing"] - 518568) < 1  # "54,5600" decimal comma
    assert a.loc[2, "capacity"] == 9500 and np.isnan(a.loc[12, "capacity"])  # "n/a"
    assert messy.assets.crs.to_epsg() == 27700


def test_reject_details_name_the_value_and_fix(messy):
    r = messy.rejects.set_index("row")["detail"]
    assert "did you mean 'TS15 9AE'" in r[6]
    assert "Latitude='-1.18381', Longitude='54.69603'" in r[5] and "swap the columns" in r[5]
    assert "Easting='529816', Northing='449204'" in r[13]
    assert "look like longitude/latitude" in r[17]
    assert "'TS99 9ZZ' is not in the postcode lookup" in r[18] and "as postcodes" in r[18]
    assert "outside England" in r[8]
    rej = messy.rejects.set_index("row")
    assert rej.loc[8, "Asset Name"] == "Edinburgh Central Library"  # the user's own columns come along
    assert rej.loc[7, "Asset Name"] == "Café on the Green"  # Windows-1252 decoded


def test_categories_and_user_mapping(messy, postcodes, caplog):
    a = messy.assets.set_index("source_row")
    assert a.loc[2, "category"] == "gp" and a.loc[12, "category"] == "gp"  # "GP Practice", "Doctors"
    assert a.loc[4, "category"] == "library" and a.loc[14, "category"] == "food_support"
    assert a.loc[11, "category"] == "other" and a.loc[11, "category_source"] == "Allotment"
    with caplog.at_level(logging.WARNING, logger="geotarget.io.assets"):
        read_assets(MESSY, category_column="Type", postcodes=postcodes)
    assert "'Allotment' (1)" in caplog.text and "(category_map)" in caplog.text
    mapped = read_assets(MESSY, category_column="Type", category_map={"allotment": "park"}, postcodes=postcodes)
    assert mapped.assets.set_index("source_row").loc[11, "category"] == "park"
    with pytest.raises(SchemaError, match=r"'Allotment' -> 'garden': 'garden' is not a standard category; "
                                          r"expected one of gp, pharmacy"):
        read_assets(MESSY, category_column="Type", category_map={"Allotment": "garden"}, postcodes=postcodes)


def test_category_map_file(tmp_path):
    p = tmp_path / "map.csv"
    p.write_text("value,category\nHealth Centre,gp\nYouth Club,community_centre\n", encoding="utf-8")
    assert read_category_map(p) == {"Health Centre": "gp", "Youth Club": "community_centre"}


def test_near_duplicates_flagged_not_dropped(messy):
    a = messy.assets.set_index("source_row")
    # "The Seaton Carew Library" (postcode) and "Seaton Carew Library" (grid ref) at the same spot
    assert a.loc[9, "near_duplicate"] and a.loc[10, "near_duplicate"]
    assert a.loc[10, "duplicate_of"] == "LIB04" and a.loc[9, "duplicate_of"] is None
    assert int(a["near_duplicate"].sum()) == 2


def test_bundled_hospitals_near_duplicates():
    h = sample_layer("community_assets")
    r = assets_from_frame(h, category_column="asset_type", name_column="name", id_column="asset_id")
    dups = r.assets[r.assets["duplicate_of"].notna()].set_index("asset_id")["duplicate_of"].to_dict()
    # the source lists Guisborough General and James Cook twice ("The James Cook ..."), and two JHOOTS
    # pharmacy entries at TS5 6HA
    assert dups == {"HOS008": "HOS004", "HOS014": "HOS011", "FLJ89": "FEN51"}


@pytest.mark.parametrize("encoding,sep", [("utf-8-sig", ","), ("utf-16", ","), ("cp1252", ","), ("utf-8", ";"),
                                          ("utf-8", "\t")])
def test_any_common_encoding_and_separator(tmp_path, encoding, sep, messy, postcodes):
    text = MESSY.read_bytes().decode("cp1252")
    if sep != ",":
        import csv
        import io

        rows = list(csv.reader(io.StringIO(text)))
        out = io.StringIO()
        csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows(rows)
        text = out.getvalue()
    p = tmp_path / "assets.csv"
    p.write_bytes(text.encode(encoding))
    r = read_assets(p, category_column="Type", postcodes=postcodes)
    pd.testing.assert_frame_equal(r.rejects[["row", "reason"]], messy.rejects[["row", "reason"]])
    assert r.assets["name"].tolist() == messy.assets["name"].tolist()
    assert r.rejects.set_index("row").loc[7, "Asset Name"] == "Café on the Green"


def test_postcode_only_csv_of_the_bundled_gp_practices(tmp_path, postcodes):
    """Done-when: a postcode-only CSV of real GP practices loads, every practice located at its postcode."""
    gp = sample_layer("gp_practices")
    p = tmp_path / "gps.csv"
    gp[["org_code", "name", "postcode", "status_code"]].to_csv(p, index=False)
    r = read_assets(p, category="gp", postcodes=postcodes)
    assert len(r.assets) == len(gp) == 101 and r.rejects.empty
    assert set(r.assets["location_source"]) == {"postcode"} and r.assets["asset_id"].tolist() == gp["org_code"].tolist()
    # the bundled layer was geocoded from the same postcodes (via WGS84, hence the millimetres)
    d = shapely.distance(r.assets.geometry.to_numpy(), gp.geometry.to_numpy())
    assert d.max() < 0.01


@pytest.mark.parametrize("layer,expected", [("pharmacies", 255), ("libraries", 39)])
def test_geopackage_layers_load(layer, expected):
    r = read_assets(ROOT / "data/assets/assets_tees_valley.gpkg", layer=layer, category_column="asset_type")
    assert len(r.assets) == expected and r.rejects.empty
    assert set(r.assets["location_source"]) == {"geometry"}
    assert set(r.assets["category"]) == {{"pharmacies": "pharmacy", "libraries": "library"}[layer]}


def test_polygon_assets_keep_geometry_and_size(tmp_path):
    sites = sample_layer("greenspace_sites", place="trafford").head(5)
    p = tmp_path / "parks.geojson"
    sites.to_crs(4326).to_file(p, driver="GeoJSON")
    r = read_assets(p, category="park", name_column="site_name", id_column="site_id")
    assert len(r.assets) == 5 and set(r.assets.geom_type) <= {"Polygon", "MultiPolygon"}
    assert np.allclose(r.assets["area_ha"], sites.geometry.area.to_numpy() / 1e4, rtol=0, atol=1e-4)


# Writing the CRS-less shapefile this test needs makes pyogrio warn that no CRS was given; only that
# message is ignored, and only here.
@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_geometry_without_crs_is_an_error(tmp_path):
    g = gpd.GeoDataFrame({"name": ["x"], "type": ["gp"]}, geometry=[shapely.Point(444136, 518701)])
    p = tmp_path / "nocrs.shp"
    g.to_file(p)
    p.with_suffix(".prj").unlink(missing_ok=True)
    with pytest.raises(CRSError, match="nocrs.shp: the data has no coordinate reference system"):
        read_assets(p)


def test_multilayer_geopackage_needs_a_layer():
    with pytest.raises(SchemaError, match=r"assets_tees_valley.gpkg: has 5 layers \(gp_practices, pharmacies.*"
                                          r"name one with `layer`$"):
        read_assets(ROOT / "data/assets/assets_tees_valley.gpkg")
    with pytest.raises(SchemaError, match="no layer 'parks'; layers are gp_practices"):
        read_assets(ROOT / "data/assets/assets_tees_valley.gpkg", layer="parks")


def test_input_errors(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("name,postcode\nA,TS18 1HU\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"a.csv: no category column found .*with `category_column`.*"
                                          r"with `category`, "):
        read_assets(p)
    with pytest.raises(SchemaError, match="category='clinic' is not a standard category"):
        read_assets(p, category="clinic")
    with pytest.raises(SchemaError, match=r"column 'PC' \(given as postcode column\) not found; columns are"):
        read_assets(p, category="gp", postcode_column="PC")
    q = tmp_path / "b.csv"
    q.write_text("name,type\nA,gp\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="b.csv: no location columns; expected a postcode column"):
        read_assets(q)
    x = tmp_path / "c.xlsx"
    x.write_bytes(b"PK")
    with pytest.raises(SchemaError, match="c.xlsx: spreadsheets are read as CSV; save the sheet as 'CSV UTF-8"):
        read_assets(x)
    e = tmp_path / "e.csv"
    e.write_text("", encoding="utf-8")
    with pytest.raises(SchemaError, match="e.csv: the file is empty"):
        read_assets(e, category="gp")
    with pytest.raises(DataNotFoundError, match="nope.csv: asset file not found"):
        read_assets(tmp_path / "nope.csv")
    with pytest.raises(SchemaError, match=r"give both columns of latitude and longitude \(found only 'lat'\)"):
        read_assets(_write(tmp_path / "d.csv", "name,lat,type\nA,54.5,gp\n"), lat_column="lat")


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_postcode_normalisation():
    assert normalise_postcode("ts181hu") == "TS18 1HU"
    assert normalise_postcode(" TS18-1HU ") == "TS18 1HU"
    assert normalise_postcode("m321aa") == "M32 1AA"
    assert normalise_postcode("EC1A1BB") == "EC1A 1BB"
    for bad in ("M41", "TS18", "1HU", "", None, "TS18 1H", "TS181HUU", "M32 OXZ"):
        assert normalise_postcode(bad) is None
    assert "M32 0XZ" in postcode_candidates("M32 OXZ") and "TS15 9AE" in postcode_candidates("TSI5 9AE")


@given(st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", fullmatch=True), st.sampled_from(["", " ", "  "]),
       st.booleans())
def test_normalise_postcode_is_idempotent_and_ignores_case_and_spaces(pc, pad, lower):
    raw = pad + (pc.lower() if lower else pc) + pad
    n = normalise_postcode(raw)
    assert n is not None and normalise_postcode(n) == n and n.replace(" ", "") == pc.replace(" ", "")


def test_read_postcodes_onspd_and_codepoint_layouts(tmp_path):
    onspd = tmp_path / "ONSPD.csv"
    onspd.write_text("pcd,pcds,doterm,oseast1m,osnrth1m,lat,long,ctry\n"
                     "TS181HU,TS18 1HU,,444136,518701,54.56,-1.31,E92000001\n"
                     "TS1 9ZZ,TS1 9ZZ,200001,,,99.999999,0,E92000001\n"  # no grid reference: left out
                     "TS5 6HA,TS5 6HA,201212,449093,517811,54.55,-1.24,E92000001\n", encoding="utf-8")
    t = read_postcodes(onspd)
    assert t.index.tolist() == ["TS18 1HU", "TS5 6HA"] and t.loc["TS5 6HA", "easting"] == 449093
    cpo = tmp_path / "cpo"
    cpo.mkdir()
    (cpo / "ts.csv").write_text('"TS181HU",10,444136,518701,"E92000001","E19000001","E18000001","","E06000004",'
                                '"E05014882"\n"TS5 6HA",10,449093,517811,"E92000001","","","","E06000002",""\n',
                                encoding="utf-8")
    (cpo / "dl.csv").write_text('"DL1 1ND",10,429060,514625,"E92000001","","","","E06000005",""\n',
                                encoding="utf-8")
    t = read_postcodes(cpo)
    assert sorted(t.index) == ["DL1 1ND", "TS18 1HU", "TS5 6HA"] and t.loc["DL1 1ND", "northing"] == 514625
    with pytest.raises(SchemaError, match="not a postcode lookup; expected a postcode column"):
        read_postcodes(_write(tmp_path / "x.csv", "a,b\n1,2\n"))


def test_bundled_postcodes_cover_both_places(postcodes):
    assert {"TS18 1HU", "WA14 1AH", "M33 4ND"} <= set(postcodes.index)
    assert len(postcodes) == 19_280 + 11_264


def test_in_england():
    pts = shapely.points([[444136, 518701], [325718, 673359], [265000, 200000], [-10, 0]])
    # Stockton; Edinburgh; Cardiff; the origin of the grid (off the Scilly Isles)
    assert in_england(pts).tolist() == [True, False, False, False]


def test_asset_layer_popup_is_plain_text(messy):
    layer = asset_layer(messy.assets)
    row = layer.set_index("asset_id").loc["GP001"]
    assert row["popup"] == "The Densham Surgery — GP practice — TS18 1HU"
    assert row["category_label"] == "GP practice"
    assert "possible duplicate" in layer.set_index("asset_id").loc["LIB05", "popup"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "TS18 1HU", "ts251bn", "XX1 1XX", "M41", "TS99 9ZZ"]),
                          st.sampled_from(["", "54.55", "-1.3", "55.95", "abc"]),
                          st.sampled_from(["", "-1.31", "54.5", "-3.19"]),
                          st.sampled_from(CATEGORIES + ("Surgery", "", "swimming pool"))), min_size=1, max_size=12))
def test_no_row_is_ever_lost(rows):
    frame = pd.DataFrame(rows, columns=["postcode", "latitude", "longitude", "type"])
    r = assets_from_frame(frame, category_column="type", postcodes=_LOOKUP)
    assert len(r.assets) + len(r.rejects) == len(frame)
    assert sorted([*r.assets["source_row"], *r.rejects["row"]]) == list(range(1, len(frame) + 1))
    assert set(r.rejects["reason"]) <= {"missing_location", "unknown_postcode", "invalid_coordinates",
                                        "swapped_lat_lon", "outside_england"}
    assert in_england(r.assets.geometry.to_numpy()).all()


_LOOKUP = pd.DataFrame({"easting": [444136.0, 452269.0], "northing": [518701.0, 529844.0]},
                       index=pd.Index(["TS18 1HU", "TS25 1BN"], name="postcode"))


def test_trafford_council_land_every_row_accounted(shared_data):
    """The council's land and buildings register: 608 rows, 235 without coordinates."""
    r = read_assets(shared_data / "trafford/council_land_buildings_trafford_2025.csv.gz",
                    category_column="other_detail", name_column="property_name", id_column="asset_code")
    assert r.n_rows == 608 and len(r.assets) + len(r.rejects) == 608
    assert (r.assets["location_source"] == "easting_northing").sum() == 373
    assert (r.assets["location_source"] == "postcode").sum() == 22  # full Trafford postcodes
    districts = r.rejects[r.rejects["detail"].str.contains("only a postcode district")]
    assert len(districts) > 150 and set(r.rejects["reason"]) == {"unknown_postcode", "missing_location"}


@given(st.lists(st.one_of(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -abcz", max_size=10),
                          st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}", fullmatch=True)), max_size=20))
def test_vectorised_postcode_normalisation_agrees(values):
    from geotarget.io.postcodes import normalise_postcodes

    assert normalise_postcodes(pd.Series(values, dtype=object)).tolist() == [normalise_postcode(v) for v in values]
