"""Population points anywhere in England: the national postcode readers and data.points.

Readers: official layouts and bad input. Points: postcodes placed in LSOAs, every LSOA a point, what could not
be placed counted.
"""

from __future__ import annotations

import gzip
import zipfile

import geopandas as gpd
import pandas as pd
import pytest

from geotarget import SchemaError
from geotarget.core.crs import BNG
from geotarget.core.errors import ParameterError
from geotarget.data.points import population_points, postcode_centres
from geotarget.io.postcodes import read_codepoint, read_postcode_lookup, read_postcodes
from tests.conftest import ROOT
from tests.grids import square_grid

# Code-Point Open's own layout: no header row, 10 columns (Postcode, Positional_quality_indicator, Eastings,
# Northings, Country_code, NHS_regional_HA_code, NHS_HA_code, Admin_county_code, Admin_district_code,
# Admin_ward_code), postcodes padded to 7 characters.
CPO_TS = ('"TS1 1AA",10,400500,500500,"E92000001","E19000001","E18000001","","E06000004","E05000001"\n'
          '"TS1 1AB",10,401500,500500,"E92000001","","","","E06000004","E05000001"\n'
          '"TS1 1AD",10,401000,500200,"E92000001","","","","E06000004","E05000002"\n'
          '"TS1 1AE",10,400500,499900,"E92000001","","","","E06000004","E05000002"\n'
          '"TS1 1AF",10,400500,499000,"E92000001","","","","E06000004","E05000002"\n'
          '"TS1 1AG",10,401500,501500,"E92000001","","","","E06000004","E05000002"\n'
          '"TS1 1AH",10,401600,501600,"E92000001","","","","E06000004","E05000002"\n'
          '"TS2 1AA",10,400500,499950,"E92000001","","","","E06000005","E05000003"\n'
          '"TS2 1ZZ",90,0,0,"E92000001","","","","E06000005",""\n'            # no grid reference
          '"TS9 XX",10,400100,500100,"E92000001","","","","E06000004",""\n')  # not a postcode
CPO_DG = ('"DG1 1AA",10,297000,576000,"S92000003","","","","S12000006","S13002884"\n'  # Scotland
          '"B1  1AA",10,406000,286000,"E92000001","","","","E08000025","E05011118"\n')
LOOKUP = ("pcd7,pcd8,pcds,dointr,doterm,usertype,oa11cd,lsoa11cd,msoa11cd,ladcd,lsoa11nm\n"
          "TS1 1AA,TS1  1AA,TS1 1AA,198001,,0,E00000001,E01000000,E02000001,E06000004,x\n"
          "TS1 1AB,TS1  1AB,TS1 1AB,198001,,0,E00000001,E01000001,E02000001,E06000004,x\n"
          "TS1 1AD,TS1  1AD,TS1 1AD,198001,,0,E00000001,E01000001,E02000001,E06000004,x\n"
          "TS1 1AE,TS1  1AE,TS1 1AE,198001,,0,E00000001,E01000001,E02000001,E06000004,x\n"
          "TS1 1AF,TS1  1AF,TS1 1AF,198001,,0,E00000001,,E02000001,E06000004,x\n"
          "TS1 1AG,TS1  1AG,TS1 1AG,198001,,1,E00000001,E01001001,E02000001,E06000004,x\n"
          "TS1 1AH,TS1  1AH,TS1 1AH,198001,202001,0,E00000001,E01001001,E02000001,E06000004,x\n"
          "TS2 1AA,TS2  1AA,TS2 1AA,198001,,0,E00000001,E01999999,E02000001,E06000005,x\n"
          "TS9 9ZZ,TS9  9ZZ,TS9 9ZZ,202201,,0,E00000001,E01000000,E02000001,E06000004,x\n"
          "CF1 1AA,CF1  1AA,CF1 1AA,198001,,0,W00000001,W01000001,W02000001,W06000015,x\n")


def _grid() -> gpd.GeoDataFrame:
    g = square_grid(2, size=1000, origin=(400000, 500000), index_name="lsoa_code")
    return g.assign(lad_code="E06000004", lsoa_name=[f"Test {c}" for c in g.index])


@pytest.fixture
def files(tmp_path):
    z = tmp_path / "codepo_gb.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("Data/CSV/ts.csv", CPO_TS)
        f.writestr("Data/CSV/dg.csv", CPO_DG)
        f.writestr("Doc/Code-Point_Open_Column_Headers.csv", "PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\n")
        f.writestr("Doc/licence.txt", "OGL")
    lk = tmp_path / "PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.csv"
    lk.write_text(LOOKUP, encoding="utf-8")
    return z, lk


# ----------------------------------------------------------------------------- readers


def test_codepoint_official_zip_folder_and_csv_read_alike(files, tmp_path):
    z, _ = files
    cp = read_codepoint(z)
    assert sorted(cp.index) == ["B1 1AA", "TS1 1AA", "TS1 1AB", "TS1 1AD", "TS1 1AE", "TS1 1AF", "TS1 1AG",
                                "TS1 1AH", "TS2 1AA"]
    assert cp.loc["TS1 1AA"].to_dict() == {"easting": 400500.0, "northing": 500500.0, "lad_code": "E06000004",
                                           "ward_code": "E05000001", "positional_quality": 10.0}
    rep = cp.attrs["report"]  # nothing dropped silently: counted, with examples
    assert rep.rows == 12 and rep.kept == 9
    assert rep.left_out == {"outside England": 1, "malformed postcode": 1, "no grid reference": 1}
    assert rep.examples["outside England"] == ("DG1 1AA",) and rep.examples["malformed postcode"] == ("TS9 XX",)
    assert "1 malformed postcode (e.g. TS9 XX)" in rep.summary()
    # the CSV folder, one headerless CSV, and a compact CSV with a header row
    folder = tmp_path / "codepo_gb" / "Data" / "CSV"
    folder.mkdir(parents=True)
    (tmp_path / "codepo_gb" / "Doc").mkdir()
    (tmp_path / "codepo_gb" / "Doc" / "Code-Point_Open_Column_Headers.csv").write_text("PC,PQ,EA,NO,CY\n")
    (folder / "ts.csv").write_text(CPO_TS, encoding="utf-8")
    (folder / "dg.csv").write_text(CPO_DG, encoding="utf-8")
    pd.testing.assert_frame_equal(read_codepoint(tmp_path / "codepo_gb"), cp)
    one = read_codepoint(folder / "ts.csv")
    assert len(one) == 8 and one.attrs["report"].left_out == {"malformed postcode": 1, "no grid reference": 1}
    compact = tmp_path / "compact.csv.gz"
    with gzip.open(compact, "wt") as f:
        f.write("postcode,positional_quality,easting,northing,admin_district_code,admin_ward_code\n"
                "TS1 1AA,10,400500,500500,E06000004,E05000001\nDG1 1AA,10,297000,576000,S12000006,S13002884\n")
    c = read_codepoint(compact)
    assert c.index.tolist() == ["TS1 1AA"] and c.attrs["report"].left_out == {"outside England": 1}
    # districts: only those councils, filtered while reading
    assert sorted(read_codepoint(z, districts=["E06000005"]).index) == ["TS2 1AA"]
    # read_postcodes (locating asset and site postcodes) reads the same official zip
    assert sorted(read_postcodes(z).index) == sorted([*cp.index, "DG1 1AA"])


def test_postcode_lookup_layouts(files, tmp_path):
    _, path = files
    lk = read_postcode_lookup(path)
    assert "CF1 1AA" not in lk.index and lk.attrs["report"].left_out == {"outside England": 1}
    assert list(lk.columns) == ["live", "residential", "lsoa11_code", "lad_code"]
    assert lk.loc["TS1 1AA"].tolist() == [True, True, "E01000000", "E06000004"]
    assert not lk.loc["TS1 1AH", "live"] and not lk.loc["TS1 1AG", "residential"]
    assert lk.loc["TS1 1AF", "lsoa11_code"] == ""
    # ONSPD (upper-case headers as in some releases, lsoa11 and lsoa21, laua), zipped as ONS ships it
    onspd = ("PCD,PCD2,PCDS,DOINTR,DOTERM,OSCTY,LAUA,OSWARD,USERTYPE,OSEAST1M,OSNRTH1M,CTRY,LSOA11,LSOA21\n"
             "TS1 1AA,TS1  1AA,TS1 1AA,198001,,E99999999,E06000004,E05000001,0,400500,500500,E92000001,"
             "E01000000,E01000010\n"
             "DG1 1AA,DG1  1AA,DG1 1AA,198001,,S99999999,S12000006,S13002884,0,297000,576000,S92000003,"
             "S01000001,S01000001\n")
    z = tmp_path / "ONSPD_FEB_2025_UK.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("Data/ONSPD_FEB_2025_UK.csv", onspd)
        f.writestr("Data/multi_csv/ONSPD_FEB_2025_UK_TS.csv", onspd)
        f.writestr("Documents/LA_UA names and codes UK as at 04_23.csv", "LAD23CD,LAD23NM\n")
    o = read_postcode_lookup(z)
    assert o.index.tolist() == ["TS1 1AA"] and o.attrs["report"].left_out == {"outside England": 1}
    assert o.loc["TS1 1AA", ["lsoa11_code", "lsoa21_code", "lad_code"]].tolist() == ["E01000000", "E01000010",
                                                                                      "E06000004"]
    # ONSPD/NSPL from 2025 (usrtypind, east1m/north1m, lad25cd, lsoa21cd)
    new = tmp_path / "ONSPD_FEB_2025_UK.csv"
    new.write_text("pcd7,pcd8,pcds,dointr,doterm,usrtypind,east1m,north1m,lad25cd,ctry25cd,lsoa11cd,lsoa21cd\n"
                   "TS1 1AA,TS1  1AA,TS1 1AA,198001,,0,400500,500500,E06000004,E92000001,E01000000,E01000010\n"
                   "TS1 1AB,TS1  1AB,TS1 1AB,198001,202001,1,401500,500500,E06000004,E92000001,E01000001,E01000011\n",
                   encoding="utf-8")
    n = read_postcode_lookup(new)
    assert n["lsoa21_code"].tolist() == ["E01000010", "E01000011"] and n["live"].tolist() == [True, False]
    assert n["residential"].tolist() == [True, False] and read_postcodes(new).loc["TS1 1AB", "easting"] == 401500
    # the compact layout of the shared data (pcds, dointr, doterm, usertype, oa11cd, lsoa11cd, msoa11cd, ladcd)
    compact = tmp_path / "compact.csv"
    compact.write_text("pcds,dointr,doterm,usertype,oa11cd,lsoa11cd,msoa11cd,ladcd\n"
                       "TS1 1AA,198001,,0,E00000001,E01000000,E02000001,E06000004\n", encoding="utf-8")
    assert read_postcode_lookup(compact).loc["TS1 1AA", "residential"]


def test_bad_input_gives_one_clear_error(files, tmp_path):
    z, lk = files
    whole = gzip.compress(CPO_TS.encode() * 2000)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SchemaError, match=r"cut.csv.gz: the file is truncated or corrupt .*expected a complete CSV"):
        read_codepoint(cut)
    with pytest.raises(SchemaError, match=r"cut.csv.gz: the file is truncated or corrupt"):
        read_postcodes(cut)
    head = tmp_path / "head.csv"
    head.write_text("postcode,positional_quality,easting,northing,admin_district_code,admin_ward_code\n")
    with pytest.raises(SchemaError, match=r"head.csv: a header row but no data rows; expected Code-Point Open rows"):
        read_codepoint(head)
    lhead = tmp_path / "lhead.csv"
    lhead.write_text(LOOKUP.splitlines()[0] + "\n")
    with pytest.raises(SchemaError, match=r"lhead.csv: a header row but no data rows; expected postcode lookup rows"):
        read_postcode_lookup(lhead)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("pcds,lat,long\nTS1 1AA,54.5,-1.2\n")
    with pytest.raises(SchemaError, match=r"wrong.csv: not OS Code-Point Open; no column for easting: easting or "
                                          r"eastings.*northing.*Columns found: \['pcds', 'lat', 'long'\]"):
        read_codepoint(wrong)
    with pytest.raises(SchemaError, match=r"wrong.csv: not an ONS postcode lookup .*no column for doterm: doterm; "
                                          r"usertype: usertype"):
        read_postcode_lookup(wrong)
    with pytest.raises(SchemaError, match=r"codepo_gb.zip!Data/CSV/dg.csv: no header row; expected an ONS postcode "
                                          r"lookup"):
        read_postcode_lookup(z)
    letters = tmp_path / "letters.csv"
    letters.write_text("postcode,easting,northing\nTS1 1AA,east,500500\n")
    with pytest.raises(SchemaError, match=r"letters.csv: column\(s\) easting, northing should be numbers"):
        read_codepoint(letters)
    notzip = tmp_path / "codepo_gb.zip"
    notzip.write_bytes(b"PK\x03\x04broken")
    with pytest.raises(SchemaError, match="codepo_gb.zip"):
        read_codepoint(notzip)


# ----------------------------------------------------------------------------- population points


def test_population_points_place_count_and_fill(files):
    z, lk = files
    lsoas = _grid()
    r = population_points(lsoas, codepoint=z, postcode_lookup=lk, lsoa_year=2021)
    pts = r.points
    got = pts.dropna(subset=["postcode"]).set_index("postcode")["lsoa_code"].to_dict()
    # TS1 1AD lies on the edge of two LSOAs: the first code; TS1 1AE is 100 m outside the grid: the nearest
    assert got == {"TS1 1AA": "E01000000", "TS1 1AB": "E01000001", "TS1 1AD": "E01000000", "TS1 1AE": "E01000000"}
    # every LSOA has a point: the two without a live residential postcode get an interior point
    assert set(pts["lsoa_code"]) == set(lsoas.index)
    stand_ins = pts[pts["point_source"] != "postcode"]
    assert stand_ins["point_source"].tolist() == ["interior_point"] * 2
    assert sorted(stand_ins["lsoa_code"]) == ["E01001000", "E01001001"]
    assert stand_ins.within(lsoas.geometry.reindex(stand_ins["lsoa_code"]), align=False).all()
    assert (pts["weight"] == 1).all() and pts.crs == BNG
    # what could not be placed, counted and named: TS9 9ZZ (no Code-Point location), TS1 1AF (1 km outside)
    assert r.unplaced["reason"].to_dict() == {"TS9 9ZZ": "no Code-Point location", "TS1 1AF": "outside every LSOA"}
    assert r.counts == {"postcodes": 4, "nearest": 1, "official_centroid": 0, "interior_point": 2,
                        "no_location": 1, "outside": 1}
    assert r.note.startswith("Population points: 4 live residential postcodes (Code-Point Open: codepo_gb.zip; ONS "
                             "postcode lookup: PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.csv), placed by location")
    assert "0 LSOAs by official centroid; 2 by interior point" in r.note
    assert "2 postcodes could not be placed (1 without a Code-Point location (e.g. TS9 9ZZ); 1 outside every " \
           "LSOA (e.g. TS1 1AF))" in r.note
    # the search index: every postcode of the area, business and terminated ones too; not the neighbour's
    assert sorted(r.index["postcode"]) == ["TS1 1AA", "TS1 1AB", "TS1 1AD", "TS1 1AE", "TS1 1AG", "TS1 1AH"]
    # with official centroids, an empty LSOA takes its centroid
    cen = gpd.GeoDataFrame(geometry=gpd.points_from_xy([400300], [501700]), crs=BNG,
                           index=pd.Index(["E01001000"], name="lsoa_code"))
    r2 = population_points(lsoas, codepoint=r.locations, postcode_lookup=lk, centroids=cen, lsoa_year=2021)
    src = r2.points.set_index("lsoa_code").loc[["E01001000", "E01001001"], "point_source"].tolist()
    assert src == ["official_centroid", "interior_point"] and "1 LSOAs by official centroid; 1 by interior" in r2.note
    assert r2.points.set_index("lsoa_code").geometry["E01001000"].coords[0] == (400300, 501700)
    # LSOA centroids from the postcodes: their mean, else a point inside
    c = postcode_centres(r.points, lsoas)
    assert c.loc["E01000000", "method"] == "mean_of_residential_postcodes"
    assert c.geometry["E01000000"].coords[0] == pytest.approx(((400500 + 401000 + 400500) / 3,
                                                               (500500 + 500200 + 499900) / 3))
    assert c["method"].tolist().count("interior_point") == 2 and c.index.equals(lsoas.index)


def test_population_points_lsoa_2011_by_the_lookup_code(files):
    z, lk = files
    with pytest.raises(ParameterError, match="lsoa_year was 2001 but is expected to be 2011 or 2021"):
        population_points(_grid(), codepoint=z, postcode_lookup=lk, lsoa_year=2001)
    r = population_points(_grid(), codepoint=z, postcode_lookup=lk, lsoa_year=2011)
    got = r.points.dropna(subset=["postcode"]).set_index("postcode")["lsoa_code"].to_dict()
    # the lookup's lsoa11cd decides (TS1 1AD, TS1 1AE: E01000001); TS1 1AF has none: by location (outside)
    assert got == {"TS1 1AA": "E01000000", "TS1 1AB": "E01000001", "TS1 1AD": "E01000001", "TS1 1AE": "E01000001"}
    assert "placed by the lookup's LSOA 2011 code, else by location" in r.note
    assert r.counts["nearest"] == 0 and r.counts["outside"] == 1 and r.counts["no_location"] == 1


# ----------------------------------------------------------------------------- the national files


@pytest.fixture(scope="module")
def national(shared_data):
    return (read_codepoint(shared_data / "postcodes/codepoint_open_2025_england.csv.gz"),
            read_postcode_lookup(shared_data / "postcodes/ons_pcd_oa11_lsoa11_msoa11_lad_may2022_england.csv.gz"))


def test_national_files_read_whole(national):
    cp, lk = national
    # PROVENANCE section 15: 1,489,907 Code-Point rows (786 without a grid reference); 1,474,061 live lookup
    # postcodes, 1,398,401 live and residential
    assert cp.attrs["report"].rows == 1_489_907 and len(cp) == 1_489_121
    assert cp.attrs["report"].left_out == {"no grid reference": 786}
    assert len(lk) == 2_226_377 and int(lk["live"].sum()) == 1_474_061
    assert int((lk["live"] & lk["residential"]).sum()) == 1_398_401


@pytest.mark.parametrize("vintage", [2025, 2019])
def test_stockton_from_national_files_matches_the_bundled_postcodes(national, vintage):
    from geotarget.data import load

    s = load(vintage=vintage)
    lsoas = s.lsoas[s.lsoas["lad_code"] == "E06000004"]
    cp, lk = national
    r = population_points(lsoas, codepoint=cp, postcode_lookup=lk, centroids=s.centroids,
                          lsoa_year=s.vintage.lsoa_year)
    bundled = s.postcodes[s.postcodes["lsoa_code"].isin(lsoas.index)].set_index("postcode")["lsoa_code"]
    ours = r.points.dropna(subset=["postcode"]).set_index("postcode")["lsoa_code"]
    # the bundled Tees file: Code-Point 2025 postcodes with usertype 0 in the May 2022 lookup, by LSOA; here:
    # live (no doterm) residential lookup postcodes located by Code-Point: the same within a handful
    assert abs(len(ours) - len(bundled)) <= 5 and len(bundled) > 5_000
    assert len(ours.index.symmetric_difference(bundled.index)) <= 5
    common = ours.index.intersection(bundled.index)
    assert (ours[common] == bundled[common]).all()  # the same LSOA for every postcode in both
    assert set(r.points["lsoa_code"]) == set(lsoas.index)  # every LSOA has a point
    assert set(r.points["point_source"]) <= {"postcode", "official_centroid"}
    assert r.counts["no_location"] == 16 and len(r.unplaced) == r.counts["no_location"] + r.counts["outside"]
    assert len(r.index) > len(ours)
    # LSOA centroids from the postcodes: near the ONS population-weighted centroids
    c = postcode_centres(r.points, lsoas)
    d = c.distance(s.centroids.geometry.reindex(c.index))
    assert (c["method"] == "mean_of_residential_postcodes").all() and d.median() < 100


def test_load_files_with_national_postcodes(shared_data):
    from geotarget.data import load

    gpkg = ROOT / "boundaries/tees_valley.gpkg"
    d = load(source="files", imd=ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv",
             population=ROOT / "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv",
             boundaries=gpkg, boundaries_layer="lsoa21",
             lookup=ROOT / "data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv", councils=["middlesbrough"],
             codepoint=shared_data / "postcodes/codepoint_open_2025_england.csv.gz",
             postcode_lookup=shared_data / "postcodes/ons_pcd_oa11_lsoa11_msoa11_lad_may2022_england.csv.gz")
    assert set(d.postcodes["lsoa_code"]) == set(d.lsoas.index) and d.postcodes_note.startswith("Population points")
    assert d.postcodes_note in d.notes and set(d.postcode_index["lsoa_code"]) <= set(d.lsoas.index)
    assert (d.centroids["method"] == "mean_of_residential_postcodes").all()
    assert any(n.startswith("LSOA centroids are the mean location of each LSOA's live residential postcodes")
               for n in d.notes)
    assert [s.role for s in d.sources][-2:] == ["codepoint", "postcode_lookup"]
    # postcode_locations: all England, for assets and sites over the border
    assert len(d.postcode_locations) == 1_489_121 and d.postcode_table().loc["NE1 1AD", "easting"] == 424722
