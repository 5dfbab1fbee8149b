"""Development sites: every input form, and every bad input with its message."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from geotarget import AreaNotFoundError, CRSError, DataNotFoundError, SchemaError
from geotarget.core.errors import ParameterError
from geotarget.io.sites import parse_site, read_sites, slugify

# TS18 1AU, Stockton High Street: its Code-Point Open grid reference in the bundled postcodes.
TS18_1AU = (444527.0, 518909.0)


def test_postcode_site_is_its_grid_reference():
    pc = pd.read_csv("data/postcodes/postcodes_tees_valley.csv.gz").set_index("postcode")
    s = parse_site(" ts181au ")
    assert s.kind == "point" and s.name == "TS18 1AU"
    assert (s.geometry.x, s.geometry.y) == tuple(pc.loc["TS18 1AU", ["easting", "northing"]].astype(float))
    assert (s.geometry.x, s.geometry.y) == TS18_1AU and "a point, not the site boundary" in s.notes[0]


def test_easting_northing_pair_forms():
    for text in ("444600,518900", "444600, 518900", "E444600 N518900", "(444600;518900)"):
        assert parse_site(text).geometry.equals(shapely.Point(444600, 518900)), text


@pytest.mark.parametrize("text", ["54.5646,-1.3127", "-1.3127,54.5646"])
def test_lat_lon_given_as_easting_northing_is_refused_with_the_conversion(text):
    with pytest.raises(SchemaError, match="looks like latitude/longitude") as e:
        parse_site(text)
    e_, n_ = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(-1.3127, 54.5646)
    assert f"pass {e_:.0f},{n_:.0f}" in str(e.value)
    assert abs(e_ - TS18_1AU[0]) < 200 and abs(n_ - TS18_1AU[1]) < 200  # the same place as TS18 1AU


def test_swapped_and_out_of_range_pairs():
    with pytest.raises(SchemaError, match="looks like northing,easting: pass 444600,1000000"):
        parse_site("1000000,444600")
    with pytest.raises(SchemaError, match="not a British National Grid easting,northing"):
        parse_site("-5000,2000000")


def test_wkt_in_bng_and_wgs84():
    s = parse_site("POLYGON ((444400 518800, 444700 518800, 444700 519100, 444400 519100, 444400 518800))")
    assert s.kind == "polygon" and s.area_ha == pytest.approx(9.0) and s.notes == ()
    w = parse_site("SRID=4326;POINT (-1.3127 54.5646)")
    e_, n_ = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(-1.3127, 54.5646)
    assert (w.geometry.x, w.geometry.y) == pytest.approx((e_, n_)) and "reprojected from EPSG:4326" in w.notes[0]
    with pytest.raises(SchemaError, match="look like longitude/latitude"):
        parse_site("POINT (-1.3127 54.5646)")
    with pytest.raises(SchemaError, match="not valid WKT"):
        parse_site("POLYGON ((1 2, 3")
    with pytest.raises(SchemaError, match="got LineString"):
        parse_site("LINESTRING (444400 518800, 444700 518800)")


def test_self_intersecting_polygon_is_repaired_and_said_so():
    # a bow-tie: two triangles of base 300 m and height 150 m = 2 x 22,500 m2 = 4.5 ha
    s = parse_site("POLYGON ((444400 518800, 444700 519100, 444700 518800, 444400 519100, 444400 518800))")
    assert s.geometry.is_valid and s.area_ha == pytest.approx(4.5)
    assert len(shapely.get_parts(s.geometry)) == 2
    assert "invalid (Self-intersection[444550 518950])" in s.notes[0] and "make_valid" in s.notes[0]


def test_polygon_with_no_area_is_refused():
    with pytest.raises(SchemaError, match="no area"):
        parse_site("POLYGON ((444400 518800, 444700 518800, 444500 518800, 444400 518800))")


def test_unknown_and_mistyped_postcodes():
    with pytest.raises(AreaNotFoundError, match="TS99 9ZZ is not in the postcodes bundled with geotarget"):
        parse_site("TS99 9ZZ")
    with pytest.raises(AreaNotFoundError, match="not a valid UK postcode. Did you mean TS18 1AU"):
        parse_site("TS18 IAU")


def test_unrecognised_text_and_missing_file():
    with pytest.raises(ParameterError, match="^site was 'the old gasworks' but is expected to be a file, WKT, a "
                                             "postcode or 'easting,northing'"):
        parse_site("the old gasworks")
    with pytest.raises(DataNotFoundError, match="site file not found"):
        parse_site("allocations/site7.geojson")
    with pytest.raises(ParameterError, match="^site was '' but is expected to be a file"):
        parse_site("  ")


def _geojson(path, features, crs="EPSG:27700"):
    fc = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{crs.replace(':', '::')}"}}
    path.write_text(json.dumps(fc))
    return path


def _feature(name, geom):
    return {"type": "Feature", "properties": {"name": name}, "geometry": shapely.geometry.mapping(geom)}


def test_site_from_a_file_in_another_crs(tmp_path):
    poly = shapely.box(444400, 518800, 444700, 519100)
    g = gpd.GeoDataFrame({"name": ["Land at High Street"]}, geometry=[poly], crs=27700).to_crs(4326)
    p = tmp_path / "site.gpkg"
    g.to_file(p)
    s = parse_site(str(p))
    assert s.name == "Land at High Street" and s.area_ha == pytest.approx(9.0, rel=1e-4)
    assert "reprojected from EPSG:4326" in s.notes[0]
    assert parse_site(str(p), name="Other").name == "Other"


def test_empty_files_are_refused(tmp_path):
    empty = tmp_path / "empty.geojson"
    empty.write_text("")
    with pytest.raises(SchemaError, match="the file is empty"):
        parse_site(str(empty))
    none = _geojson(tmp_path / "none.geojson", [])
    with pytest.raises(SchemaError, match="has no features"):
        read_sites(none)
    header = tmp_path / "header.csv"
    header.write_text("name,postcode\n")
    with pytest.raises(SchemaError, match="a header row but no data rows"):  # read_text_table: any header-only CSV
        read_sites(header)
    blank = tmp_path / "blank.csv"
    blank.write_text("")
    with pytest.raises(SchemaError, match="the file is empty"):
        read_sites(blank)


def test_one_site_option_refuses_a_file_of_many(tmp_path):
    p = _geojson(tmp_path / "two.geojson", [_feature("A", shapely.Point(444600, 518900)),
                                            _feature("B", shapely.Point(441500, 515000))])
    with pytest.raises(SchemaError, match="has 2 features; `site` takes one"):
        parse_site(str(p))


def test_file_without_crs_is_refused(tmp_path):
    p = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame({"name": ["A"]}, geometry=[shapely.Point(444600, 518900)]).to_file(p)
    with pytest.raises(CRSError, match="no coordinate reference system"):
        read_sites(p)


def test_read_sites_csv_every_location_form_and_rejects(tmp_path):
    p = tmp_path / "allocations.csv"
    pd.DataFrame({
        "Site name": ["WKT site", "EN site", "LatLon site", "Postcode site", "Free site", "Bad pc", "Nowhere",
                      "Swapped"],
        "wkt": ["POINT (444600 518900)", "", "", "", "", "", "", ""],
        "easting": ["", "441500", "", "", "", "", "", "1000000"],
        "northing": ["", "515000", "", "", "", "", "", "444600"],
        "latitude": ["", "", "54.5646", "", "", "", "", ""],
        "longitude": ["", "", "-1.3127", "", "", "", "", ""],
        "postcode": ["", "", "", "TS18 1AU", "", "TS99 9ZZ", "", ""],
        "location": ["", "", "", "", "441900,512900", "", "", ""],
    }).to_csv(p, index=False)
    r = read_sites(p)
    assert [s.name for s in r.sites] == ["WKT site", "EN site", "LatLon site", "Postcode site", "Free site"]
    assert [s.row for s in r.sites] == [2, 3, 4, 5, 6]
    assert len(r.sites) + len(r.rejects) == r.n_rows == 8
    assert r.rejects["row"].tolist() == [7, 8, 9]
    assert r.rejects["name"].tolist() == ["Bad pc", "Nowhere", "Swapped"]
    assert "TS99 9ZZ" in r.rejects["detail"].iloc[0] and "no location" in r.rejects["detail"].iloc[1]
    assert r.rejects["reason"].tolist() == ["AreaNotFoundError", "SchemaError", "SchemaError"]
    lat = r.sites[2].geometry
    assert abs(lat.x - TS18_1AU[0]) < 200 and abs(lat.y - TS18_1AU[1]) < 200


def test_read_sites_needs_a_name_column(tmp_path):
    p = _geojson(tmp_path / "x.geojson", [{"type": "Feature", "properties": {"code": "1"},
                                           "geometry": {"type": "Point", "coordinates": [444600, 518900]}}])
    with pytest.raises(SchemaError, match="no site name column"):
        read_sites(p)
    assert read_sites(p, name_column="code").sites[0].name == "1"
    with pytest.raises(SchemaError, match="name column 'nom' not found"):
        read_sites(p, name_column="nom")


def test_slugs_are_safe_and_unique():
    taken: set[str] = set()
    got = [slugify(n, taken=taken) for n in ["<script>alert(1)</script>", "Café Street", "café street", "", "!!"]]
    assert got == ["script-alert-1-script", "cafe-street", "cafe-street-2", "site", "site-2"]
    assert all(np.all([c.isalnum() or c == "-" for c in g]) for g in got)
