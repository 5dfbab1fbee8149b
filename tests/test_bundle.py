"""load(source="files"): the run's data bundle from files equals the bundled sample; UK files filtered; gaps stated."""

from __future__ import annotations

import hashlib

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geotarget import AreaNotFoundError, SchemaError
from geotarget.data import load
from geotarget.data.bundle import _msoa_codes, read_regions, resolve_region
from geotarget.jobs.run import run
from tests.conftest import ROOT

GPKG = ROOT / "boundaries/tees_valley.gpkg"
FILES = dict(
    imd=ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv",
    population=ROOT / "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv",
    boundaries=GPKG, boundaries_layer="lsoa21",
    lookup=ROOT / "data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv",
)
ALL = dict(FILES, lads=GPKG, lads_layer="lad2025", wards=GPKG, wards_layer="wards2025", msoas=GPKG,
           msoas_layer="msoa21", centroids=ROOT / "data/centroids/lsoa21_pwc_tees_valley.csv")


@pytest.fixture(scope="module")
def from_files():
    return load(source="files", **ALL)


def test_files_give_the_same_bundle_as_the_sample(from_files, sample25):
    d = from_files
    assert d.place == "Tees Valley" and d.councils == sample25.councils and d.notes == ()
    for part in ("lsoas", "wards", "lads", "msoas", "centroids"):
        assert_geodataframe_equal(getattr(d, part), getattr(sample25, part))
    assert [s.role for s in d.sources] == ["imd", "population", "boundaries", "lookup", "lads", "wards", "msoas",
                                           "centroids"]
    assert d.sources[1].vintage == "population mid-2022" and d.sources[3].vintage.endswith("(May 2025) lookup")


def test_run_on_files_writes_the_same_tables(from_files, tmp_path, tees_run):
    run(from_files, out=tmp_path / "files", make_map=False)
    for name in ("imd2025_lsoas.csv", "imd2025_wards.csv", "imd2025_councils.csv", "imd2025_lsoas.gpkg"):
        # tees_run: `geotarget run` on the sample, shared by the session (conftest)
        a, b = (hashlib.sha256((d / name).read_bytes()).hexdigest() for d in (tees_run, tmp_path / "files"))
        assert a == b, name
    assert not (tmp_path / "files" / "imd2025_map.html").exists()


def test_councils_subset_and_dissolved_outlines(sample25):
    d = load(source="files", **FILES, councils=["middlesbrough"])
    assert d.councils == ("E06000002",) and len(d.lsoas) == 90 and d.place == "Middlesbrough"
    assert any("Council outlines are the LSOAs dissolved" in n for n in d.notes)
    assert any("Ward outlines are approximate" in n for n in d.notes)
    assert any("standing in for the ONS population-weighted centroids" in n for n in d.notes)
    # the dissolved council covers exactly its LSOAs
    assert d.lads.geometry.area.iloc[0] == pytest.approx(d.lsoas.geometry.area.sum(), rel=1e-6)
    # dissolved wards: one per best-fit ward, every centroid stand-in inside its LSOA
    assert set(d.wards.index) == set(sample25.lsoas.loc[d.lsoas.index, "ward_code"])
    assert d.centroids.within(d.lsoas.geometry.reindex(d.centroids.index)).all()


def test_uk_wide_boundary_files_are_filtered_to_england(tmp_path, sample25):
    lads = sample25.lads.reset_index().rename(columns={"lad_code": "LAD24CD", "lad_name": "LAD24NM"})
    scot = gpd.GeoDataFrame({"LAD24CD": ["S12000033"], "LAD24NM": ["Aberdeen City"]},
                            geometry=[shapely.box(390000, 800000, 400000, 810000)], crs=27700)
    pd.concat([lads, scot]).to_crs(4326).to_file(tmp_path / "lad_uk.geojson")
    d = load(source="files", **FILES, lads=tmp_path / "lad_uk.geojson")
    assert list(d.lads.index) == list(sample25.councils) and "S12000033" not in d.lads.index
    assert list(d.lads["lad_name"]) == list(sample25.lads["lad_name"])


def test_msoa_codes_by_name_then_location(sample25):
    code, how = _msoa_codes(sample25.lsoas, sample25.msoas)
    assert (code == sample25.lsoas["msoa_code"]).all() and how.startswith("425 LSOAs by the ONS naming rule")
    nameless = sample25.lsoas.drop(columns="lsoa_name")
    code, how = _msoa_codes(nameless, sample25.msoas.drop(columns="msoa_name"))
    assert (code == sample25.lsoas["msoa_code"]).all() and "425 by the MSOA holding a point" in how


def test_regions(tmp_path):
    path = tmp_path / "rgn.csv"
    path.write_text("LAD24CD,LAD24NM,RGN24CD,RGN24NM\nE06000001,Hartlepool,E12000001,North East\n"
                    "E06000004,Stockton-on-Tees,E12000001,North East\nE08000009,Trafford,E12000002,North West\n")
    reg = read_regions(path)
    assert resolve_region("north-east", reg) == ("North East", ["E06000001", "E06000004"])
    assert resolve_region("E12000002", reg) == ("North West", ["E08000009"])
    with pytest.raises(AreaNotFoundError, match="region 'Wessex' matches no region; expected a code"):
        resolve_region("Wessex", reg)
    d = load(source="files", **FILES, regions=path, region="North East")
    assert d.councils == ("E06000001", "E06000004") and d.place == "North East" and len(d.lsoas) == 57 + 124


def test_errors(tmp_path, sample25):
    with pytest.raises(SchemaError, match="give councils or a region, not both"):
        load(source="files", **FILES, councils=["Hartlepool"], region="North East")
    # a region without a region lookup file: the bundled council -> region table (the five are in the North East)
    assert len(load(source="files", **FILES, region="North East").councils) == 5
    part = sample25.lsoas.drop(index="E01011949").reset_index()[["lsoa_code", "geometry"]]
    part.rename(columns={"lsoa_code": "LSOA21CD"}).to_file(tmp_path / "part.gpkg")
    with pytest.raises(SchemaError, match=r"part.gpkg: no boundary for 1 LSOAs of the chosen councils .* E01011949"):
        load(source="files", **dict(FILES, boundaries=tmp_path / "part.gpkg", boundaries_layer=None))
    wards = sample25.wards.drop(index=sample25.wards.index[0]).reset_index().rename(columns={"ward_code": "WD25CD"})
    wards[["WD25CD", "geometry"]].to_file(tmp_path / "w.gpkg")
    with pytest.raises(SchemaError, match=r"w.gpkg: no boundary for 1 wards of the lookup.*lookup's year \(May 2025\)"):
        load(source="files", **FILES, wards=tmp_path / "w.gpkg")
    cen = pd.read_csv(ROOT / "data/centroids/lsoa21_pwc_tees_valley.csv").iloc[1:]
    cen.to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(SchemaError, match=r"c.csv: no centroid for 1 of the 425 LSOAs"):
        load(source="files", **FILES, centroids=tmp_path / "c.csv")
    with pytest.raises(SchemaError, match="has no population denominators"):
        load(source="files", **{k: v for k, v in FILES.items() if k != "population"})
    with pytest.raises(AreaNotFoundError, match="council 'Gotham' matches no council"):
        load(source="files", **FILES, councils=["Gotham"])
