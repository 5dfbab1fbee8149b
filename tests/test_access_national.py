"""Assets anywhere: the NHS ODS files as published, assets over a council border, nearest GP at national scale.

The first tests run on rows copied from the official epraccur file and the bundled postcodes; those
using ``shared_data`` read the England-wide files (Code-Point Open, epraccur, the IoD 2025 and LSOA
2021 boundaries) and check the study's nearest-GP distances against a brute-force computation over
the whole national GP list, practices over the council border included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geotarget.analysis.nearest import mean_distance_by, nearest_from_points
from geotarget.cli.main import main
from geotarget.core.crs import BNG
from geotarget.core.errors import SchemaError
from geotarget.io.assets import assets_near, read_assets
from geotarget.io.ods import ods_layout

# Rows of the official epraccur file (NHS ODS, OGL v3.0), as published: no header row, 27 columns.
EPRACCUR_ROWS = [
    # 1: active GP practice, Stockton-on-Tees
    '"A81001","THE DENSHAM SURGERY","Y63","QHM","THE HEALTH CENTRE","LAWSON STREET","STOCKTON ON TEES","CLEVELAND",'
    '"","TS18 1HU","19740401","","A","B","16C","20200401","","01642 672351","","","","0","","16C","","4",""',
    # 2: active GP practice
    '"A81002","QUEENS PARK MEDICAL CENTRE","Y63","QHM","QUEENS PARK MEDICAL CTR","FARRER STREET","STOCKTON ON TEES",'
    '"CLEVELAND","","TS18 2AW","19740401","","A","B","16C","20200401","","01642 618170","","","","0","","16C",'
    '"","4",""',
    # 3: closed in 2017
    '"A81003","VICTORIA MEDICAL PRACTICE","Y54","Q74","THE HEALTH CENTRE","VICTORIA ROAD","HARTLEPOOL","CLEVELAND","",'
    '"TS26 8DB","19740401","20171031","C","B","00K","20130401","20171031","01429 272945","","","","0","","00K",'
    '"","4",""',
    # 4: dormant
    '"A81043","THE MANOR HOUSE SURGERY","Y63","QHM","THE MANOR HOUSE SURGERY","BRAIDWOOD ROAD, NORMANBY",'
    '"MIDDLESBROUGH","CLEVELAND","","TS6 0HA","19740401","","D","B","16C","20200401","","01642 374788","","","","0",'
    '"","16C","","4",""',
    # 5: out of hours (prescribing setting 2)
    '"B82638","RICHMONDSHIRE OOH","Y63","QOQ","THE HEALTH CENTRE","42 RICHMOND ROAD","CATTERICK GARRISON",'
    '"NORTH YORKSHIRE","","DL9 3JD","19991001","","A","B","42D","20130401","","01423 885959","","","","0","","RCD","",'
    '"2",""',
    # 6: Welsh GP practice
    '"W00005","ABER MEDICAL CENTRE","W00","Q99","MEDDYGFA TRIDWR","27-29 THOMAS STREET","ABERTRIDWR CAERPHILLY","",'
    '"","CF83 4AU","20031001","","A","B","7A6","20091001","","0844 4778635","","","","0","","7A6","","4",""',
    # 7: proposed urgent care centre (setting 12)
    '"Y08139","ALDERSHOT URGENT CARE CENTRE","Y59","QNQ","ALDERSHOT CTR FOR HEALTH","HOSPITAL HILL","ALDERSHOT",'
    '"HAMPSHIRE","","GU11 1AY","20231204","","P","B","D4U1Y","20231204","","01256 226166","","","","1","","D4U1Y","",'
    '"12",""',
    # 8: active, Cumbria: not in the bundled (Tees Valley, Trafford) postcodes
    '"A82004","ALSTON MEDICAL PRACTICE","Y63","QHM","THE SURGERY","COTTAGE HOSPITAL","ALSTON","CUMBRIA","","CA9 3QX",'
    '"19740401","","A","B","01H","20130401","","01434 381214","","","","0","","01H","","4",""',
    # 9: active, postcode mistyped (letter O for zero)
    '"A81004","ACKLAM MEDICAL CENTRE","Y63","QHM","TRIMDON AVENUE","ACKLAM","MIDDLESBROUGH","CLEVELAND","","TS5 8SB",'
    '"19740401","","A","B","16C","20200401","","01642 827697","","","","0","","16C","","4",""'.replace("TS5 8SB",
                                                                                                     "TS5 BSB"),
]
EXPECTED = {1: "", 2: "", 3: "closed", 4: "dormant", 5: "not_gp_practice", 6: "outside_england", 7: "proposed",
            8: "unknown_postcode", 9: "unknown_postcode"}
NORTHUMBERLAND = "E06000057"


@pytest.fixture
def epraccur(tmp_path):
    p = tmp_path / "epraccur.csv"
    p.write_text("\n".join(EPRACCUR_ROWS) + "\n", encoding="utf-8")
    return p


def test_epraccur_as_published_keeps_active_gp_practices_and_reports_the_rest(epraccur):
    r = read_assets(epraccur)
    assert r.n_rows == 9 and len(r.assets) + len(r.rejects) == 9
    assert r.assets["asset_id"].tolist() == ["A81001", "A81002"] and set(r.assets["category"]) == {"gp"}
    assert r.assets["source_row"].tolist() == [1, 2] and r.assets.crs.to_epsg() == 27700
    assert dict(zip(r.rejects["row"], r.rejects["reason"], strict=True)) == {
        k: v for k, v in EXPECTED.items() if v}
    why = r.rejects.set_index("row")["detail"]
    assert "closed 2017-10-31" in why[3] and "ods_include='closed'" in why[3]
    assert "prescribing setting 2 (out of hours), not 4 (GP practice)" in why[5]
    assert "status P (proposed)" in why[7]
    assert "Wales" in why[6]
    assert "probably terminated" in why[8]
    assert "not a valid UK postcode" in why[9]
    s = r.summary()
    assert "9 rows -> 2 assets (gp 2), 4 left out by default (" in s and "closed 1" in s
    assert "3 rejected (" in s and "unknown_postcode 2" in s and "outside_england 1" in s
    assert len(r.excluded) == 4


def test_ods_include_keeps_what_is_left_out_by_default(epraccur):
    r = read_assets(epraccur, ods_include=("closed", "dormant", "other_settings"))
    reasons = dict(zip(r.rejects["row"], r.rejects["reason"], strict=True))
    assert sorted(r.assets["source_row"]) == [1, 2, 3, 4]
    # the out-of-hours service is kept, and then located: Catterick is not in the bundled postcodes
    assert reasons == {5: "unknown_postcode", 6: "outside_england", 7: "proposed", 8: "unknown_postcode",
                       9: "unknown_postcode"}
    with pytest.raises(SchemaError, match="include was \\['open'\\] but is expected"):
        read_assets(epraccur, ods_include=("open",))


def test_epraccur_with_a_header_row_is_recognised(tmp_path):
    p = tmp_path / "epraccur_header.csv"
    header = ",".join(f'"Column {i}"' for i in range(1, 28))
    p.write_text(header + "\n" + "\n".join(EPRACCUR_ROWS) + "\n", encoding="utf-8")
    r = read_assets(p)
    assert r.assets["source_row"].tolist() == [2, 3]
    assert r.rejects["row"].tolist() == [k + 1 for k, v in EXPECTED.items() if v]


def test_the_ods_files_are_told_apart_by_their_codes(epraccur):
    head = pd.read_csv(epraccur, header=None, dtype=str, keep_default_na=False)
    assert ods_layout(head) == ("epraccur", False)
    pharmacies, dentists = head.copy(), head.copy()
    pharmacies[0] = [f"F{c}{i}X{i}" for i, c in enumerate("ABCDEFGHJ")]
    assert ods_layout(pharmacies) == ("edispensary", False)
    dentists[0] = [f"V{i:06d}" for i in range(9)]
    assert ods_layout(dentists) == ("egdpprac", False)
    assert ods_layout(head.iloc[:, :10]) is None


def test_dentist_file_gets_the_dentist_category(tmp_path, epraccur):
    rows = [line.replace('"A81001"', '"V000001"').replace('"A81002"', '"V000002"') for line in EPRACCUR_ROWS[:2]]
    p = tmp_path / "egdpprac.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = read_assets(p)
    assert r.assets["category"].tolist() == ["dentist", "dentist"] and r.rejects.empty


def test_assets_near_keeps_assets_within_the_margin():
    import geopandas as gpd

    council = gpd.GeoDataFrame({"geometry": [shapely.box(0, 0, 1000, 1000)]}, index=pd.Index(["E1"], name="lad_code"),
                               crs=BNG)
    pts = gpd.GeoDataFrame({"name": ["in", "edge", "near", "far"]},
                           geometry=gpd.points_from_xy([500, 1000, 1300, 3000], [500, 500, 500, 500]), crs=BNG)
    kept, note = assets_near(pts, council, margin=500)
    assert kept["name"].tolist() == ["in", "edge", "near"]
    assert kept["distance_to_area_m"].tolist() == [0.0, 0.0, 300.0]
    assert kept["area_code"].iloc[:2].tolist() == ["E1", "E1"] and pd.isna(kept["area_code"].iloc[2])
    assert "within 500 m" in note and "1 of them in neighbouring areas" in note and "1 farther away" in note


def test_mean_distance_by_is_postcode_weighted():
    t = pd.DataFrame({"dist_m": [100.0, 300.0, 1000.0, 2000.0], "n_800m": [2, 1, 0, 0]})
    out = mean_distance_by(t, pd.Series(["A", "A", "B", "B"], name="lad_code"))
    assert out.loc["A", "mean_dist_m"] == 200 and out.loc["B", "mean_dist_m"] == 1500
    assert out.loc["A", "share_within_800m"] == 1 and out.loc["B", "share_within_800m"] == 0
    w = mean_distance_by(t, pd.Series(["A", "A", "B", "B"]), weights=pd.Series([3.0, 1.0, 1.0, 1.0]))
    assert w.loc["A", "mean_dist_m"] == 150


# -- England-wide files ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def codepoint(shared_data):
    """Code-Point Open 2025 for all England, read with plain pandas (postcode, easting, northing, council)."""
    cp = pd.read_csv(shared_data / "postcodes" / "codepoint_open_2025_england.csv.gz",
                     usecols=["postcode", "easting", "northing", "admin_district_code"], index_col="postcode")
    return cp[(cp["easting"] > 0) | (cp["northing"] > 0)]


@pytest.fixture(scope="module")
def national_gps(shared_data, codepoint):
    return read_assets(shared_data / "assets" / "epraccur_england.csv", postcodes=codepoint)


@pytest.fixture(scope="module")
def local_codepoint(codepoint, tmp_path_factory):
    """Code-Point rows within 30 km of Northumberland's postcodes: what the study needs, quicker to read."""
    own = codepoint[codepoint["admin_district_code"] == NORTHUMBERLAND]
    x0, y0 = own[["easting", "northing"]].min() - 30_000
    x1, y1 = own[["easting", "northing"]].max() + 30_000
    near = codepoint[codepoint["easting"].between(x0, x1) & codepoint["northing"].between(y0, y1)]
    p = tmp_path_factory.mktemp("codepoint") / "codepoint_north_east.csv"
    near.reset_index().to_csv(p, index=False)
    return p


def _files(shared_data):
    s = shared_data
    return {"imd": s / "imd" / "iod2025_lsoa21_england.csv.gz",
            "population": s / "population" / "ons_sape_mid2022_lsoa21_total_england.csv.gz",
            "boundaries": s / "boundaries" / "england_boundaries_generalised.gpkg", "boundaries_layer": "lsoa21",
            "lookup": s / "lookups" / "lsoa21_ward24_lad24_ew.csv.gz"}


@pytest.fixture(scope="module")
def northumberland(shared_data, local_codepoint):
    from geotarget.data import load

    return load(source="files", **_files(shared_data), councils=["Northumberland"], codepoint=local_codepoint,
                assets=[shared_data / "assets" / "epraccur_england.csv"])


@pytest.fixture(scope="module")
def northumberland_access(northumberland):
    from geotarget.jobs.access import assess_access, sample_assets

    read, _, _ = sample_assets(northumberland)
    return read, assess_access(northumberland, read)


def test_national_epraccur_exclusions_are_counted(shared_data, national_gps):
    raw = pd.read_csv(shared_data / "assets" / "epraccur_england.csv", header=None, dtype=str, keep_default_na=False)
    status, setting = raw[12], raw[25]
    r = national_gps
    counts = r.rejects["reason"].value_counts()
    assert r.n_rows == len(raw) == 15_971
    assert counts["closed"] == (status == "C").sum() == 3_503
    assert counts["dormant"] == (status == "D").sum() == 384
    assert counts["proposed"] == (status == "P").sum() == 1
    assert counts["not_gp_practice"] == ((status == "A") & (setting != "4")).sum() == 5_333
    active_gp = (status == "A") & (setting == "4")
    welsh = active_gp & raw[2].str.startswith("W")
    assert counts["outside_england"] >= welsh.sum()
    assert len(r.assets) + counts["outside_england"] + counts["unknown_postcode"] == active_gp.sum()
    assert len(r.assets) == 6_341 and set(r.assets["category"]) == {"gp"}
    assert "left out by default (not_gp_practice 5,333, closed 3,503, dormant 384, proposed 1)" in r.summary()


def test_nearest_gp_matches_brute_force_over_the_national_list(northumberland, northumberland_access, national_gps,
                                                               codepoint):
    _, res = northumberland_access
    acc = res.access
    assert len(acc) == len(northumberland.lsoas) == 200
    o = northumberland.centroids.loc[acc.index]
    ox, oy = o.geometry.x.to_numpy(), o.geometry.y.to_numpy()
    g = national_gps.assets
    gx, gy = g["easting"].to_numpy(), g["northing"].to_numpy()
    d = np.hypot(ox[:, None] - gx[None, :], oy[:, None] - gy[None, :])  # 200 x 6,341, every GP in England
    np.testing.assert_allclose(acc["dist_gp_m"].to_numpy(), d.min(axis=1), rtol=0, atol=1e-6)
    for r in (400, 800, 1600):
        np.testing.assert_array_equal(acc[f"n_gp_{r}m"].to_numpy(), (d <= r).sum(axis=1))
    # some LSOAs' nearest surgery is over the border, and it counts
    council = codepoint["admin_district_code"].reindex(g["postcode"]).to_numpy()
    over = council[d.argmin(axis=1)] != NORTHUMBERLAND
    assert over.sum() >= 3
    inside = council == NORTHUMBERLAND
    only_inside = d[:, inside].min(axis=1)
    assert (only_inside[over] > d.min(axis=1)[over]).all()
    assert any("within 5,000 m of the study councils" in n for n in res.notes)
    # with no margin at all, the nearest practices over the border are still kept: distances stay exact
    import dataclasses

    from geotarget.jobs.access import assess_access

    read, _ = northumberland_access
    tight = dataclasses.replace(northumberland, source=dataclasses.replace(northumberland.source, asset_margin=0.0))
    res0 = assess_access(tight, read)
    np.testing.assert_allclose(res0.access["dist_gp_m"].to_numpy(), d.min(axis=1), rtol=0, atol=1e-6)
    assert any("farther assets are kept as the nearest of their category" in n for n in res0.notes)


def test_study_assets_include_neighbouring_councils(northumberland):
    a = northumberland.assets
    assert set(a["asset_type"]) == {"gp"} and (a["distance_to_area_m"] <= 5000).all()
    over = a[a["lad_code"].isna()]
    assert len(over) and (over["distance_to_area_m"] > 0).all()
    assert any("Assets within 5,000 m" in n for n in northumberland.notes)
    assert any("closed 3,503" in n for n in northumberland.notes)


def test_dask_engine_equals_memory_on_a_subset(codepoint, national_gps):
    homes = codepoint.iloc[::40]  # 37,000 postcodes spread over England
    mem = nearest_from_points(homes, national_gps.assets, radii=(800, 1600))
    dk = nearest_from_points(homes, national_gps.assets, radii=(800, 1600), engine="dask", npartitions=5)
    pd.testing.assert_frame_equal(dk.loc[mem.index], mem, check_exact=True)
    sub = homes.iloc[::20]
    g = national_gps.assets
    d = np.hypot(sub["easting"].to_numpy()[:, None] - g["easting"].to_numpy()[None, :],
                 sub["northing"].to_numpy()[:, None] - g["northing"].to_numpy()[None, :])
    np.testing.assert_allclose(mem.loc[sub.index, "dist_m"], d.min(axis=1), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(mem.loc[sub.index, "n_1600m"], (d <= 1600).sum(axis=1))
    by = mean_distance_by(mem, homes["admin_district_code"].fillna("none"))
    assert by["n"].sum() == len(homes) and (by["mean_dist_m"] > 0).all()


def test_cli_access_for_a_council_from_the_official_files(shared_data, local_codepoint, northumberland_access,
                                                          tmp_path, capsys):
    f = _files(shared_data)
    args = ["access", "--assets", str(shared_data / "assets" / "epraccur_england.csv"), "--la", "Northumberland",
            "--codepoint", str(local_codepoint), "--out", str(tmp_path)]
    for k, v in f.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "6,341 assets" not in out and "left out by default" in out and "left out by default, closed: 3,503" in out
    acc = pd.read_csv(tmp_path / "access.csv")
    assert len(acc) == 200 and acc["lsoa_code"].is_unique
    _, res = northumberland_access
    np.testing.assert_allclose(acc.set_index("lsoa_code")["dist_gp_m"], res.access["dist_gp_m"].round(1), atol=0.051)
    rej = pd.read_csv(tmp_path / "rejects.csv")
    assert (rej["reason"] == "closed").sum() == 3_503 and "org_code" in rej


def test_epraccur_zip_as_published_is_read(epraccur, tmp_path):
    import zipfile

    z = tmp_path / "epraccur.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.write(epraccur, "epraccur.csv")
    r = read_assets(z)
    assert r.assets["asset_id"].tolist() == ["A81001", "A81002"] and len(r.rejects) == 7
    assert r.source.endswith("epraccur.zip!epraccur.csv")


def test_dask_geopandas_engine_equals_memory(codepoint, national_gps, northumberland):
    import dask_geopandas
    import geopandas as gpd

    from geotarget.analysis.access import access_table

    pts = codepoint.iloc[::200]
    gdf = gpd.GeoDataFrame(pts[["admin_district_code"]], geometry=gpd.points_from_xy(pts["easting"], pts["northing"]),
                           crs=BNG)
    mem = nearest_from_points(gdf, national_gps.assets)
    dk = nearest_from_points(dask_geopandas.from_geopandas(gdf, npartitions=3), national_gps.assets)
    pd.testing.assert_frame_equal(dk.loc[mem.index], mem, check_exact=True)
    # the LSOA access table too: the study's origins, the national list
    origins = northumberland.centroids[["geometry"]].join(northumberland.lsoas[["pop_total"]])
    a = access_table(origins, national_gps.assets, population="pop_total")
    b = access_table(origins, national_gps.assets, population="pop_total", engine="dask", npartitions=3)
    pd.testing.assert_frame_equal(b.loc[a.index], a, check_exact=True)


def test_files_study_with_os_greenspace_measures_parks_like_the_sample(tmp_path):
    """A Trafford study from files, with OS Open Greenspace in its own layout, gives the bundled park distances."""
    import geopandas as gpd

    from geotarget.core.places import sample_path
    from geotarget.data import load
    from geotarget.data.sample import sample_layer
    from geotarget.jobs.access import assess_access, sample_assets

    root = sample_path("data/imd/iod2025_lsoa21_trafford.csv").parents[2]
    sites = sample_layer("greenspace_sites", place="trafford").rename(
        columns={"site_id": "id", "site_type": "function", "site_name": "distName1"})
    entrances = sample_layer("greenspace_access_points", place="trafford")
    green = tmp_path / "opgrsp_gb.gpkg"
    sites.to_file(green, layer="greenspace_site")
    entrances.to_file(green, layer="access_point")
    gps = tmp_path / "gp.geojson"
    gp = sample_layer("community_assets", place="trafford")
    gp[gp["asset_type"] == "gp_practice"].to_crs(4326).to_file(gps)
    d = load(source="files", imd=root / "data/imd/iod2025_lsoa21_trafford.csv",
             population=root / "data/population/ons_sape_mid2022_lsoa21_trafford.csv",
             boundaries=root / "boundaries/trafford.gpkg", boundaries_layer="lsoa21",
             lookup=root / "data/lookups/lsoa21_msoa21_ward25_lad25_trafford.csv",
             centroids=root / "data/centroids/lsoa21_pwc_trafford.csv", councils=["Trafford"], assets=[green, gps])
    assert any("OS Open Greenspace, read by the access job as parks" in n for n in d.notes)
    read, parks, ap = sample_assets(d)
    assert len(parks) == len(sites) and len(ap) == len(entrances) and {"site_type", "site_name"} <= set(parks)
    res = assess_access(d, read, parks=parks, park_access_points=ap)
    bundled = load(place="trafford")
    b_read, b_parks, b_ap = sample_assets(bundled)
    ref = assess_access(bundled, b_read, parks=b_parks, park_access_points=b_ap)
    pd.testing.assert_series_equal(res.access["dist_park_m"], ref.access.loc[res.access.index, "dist_park_m"])
    pd.testing.assert_series_equal(res.access["dist_gp_m"], ref.access.loc[res.access.index, "dist_gp_m"])
    assert isinstance(parks, gpd.GeoDataFrame) and parks.crs.to_epsg() == 27700
