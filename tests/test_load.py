"""geotarget.load: one front door for the bundled places, official files and the data cache."""

from __future__ import annotations

import shutil

import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal

import geotarget as gt
from geotarget import DataNotFoundError, SchemaError
from geotarget.core.errors import ParameterError
from geotarget.data import DataSource, StudyData, load
from geotarget.io.fetch import cached_path
from tests.conftest import ROOT

IMD = ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv"
POP = ROOT / "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv"
LOOKUP = ROOT / "data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv"
GPKG = ROOT / "boundaries/tees_valley.gpkg"


def test_default_is_the_bundled_tees_valley(sample25):
    d = sample25
    assert isinstance(d, StudyData) and gt.load is load
    assert d.place == "Tees Valley" and d.place_key == "tees_valley" and d.bundled
    assert d.vintage is gt.IOD2025 and d.label == "IoD2025, LSOA 2021"
    assert "vintage" not in d.lsoas.attrs  # the vintage travels as a field, not in the frames
    assert len(d.councils) == 5 and len(d.lsoas) == len(d.centroids)
    assert {"ward_code", "lad_code", "pop_total", "imd_decile"} <= set(d.lsoas.columns)
    assert [s.role for s in d.sources] == ["imd", "population", "boundaries", "lookup", "centroids", "assets"]
    # everything a study needs is in the one object
    assert d.postcodes["lsoa_code"].isin(d.lsoas.index).all() and (d.postcodes["weight"] == 1).all()
    assert d.hia_indicators is not None and d.cni is not None and d.hia_reference is not None
    assert d.reference is not None and d.regions.loc["E06000001", "region_code"] == "E12000001"
    assert d.national is None and d.parks is None
    assert d.source == DataSource(vintage=2025)


def test_overrides_and_a_source_given_as_text():
    d = load("sample", place="trafford", vintage="2019")
    assert d.place == "Trafford" and d.vintage.year == 2019 and d.councils == ("E08000009",)
    assert d.parks is not None and d.park_access_points is not None
    m = load(DataSource(councils=("middlesbrough",)))
    assert m.councils == ("E06000002",) and len(m.lsoas) == 90
    assert load(councils="Middlesbrough").councils == ("E06000002",)


def test_unknown_options_and_sources_are_refused():
    with pytest.raises(SchemaError, match=r"load\(\) got 'counciles' but is expected to take DataSource fields"):
        load(counciles=["Hartlepool"])
    with pytest.raises(SchemaError,
                       match=r"source was 'web' but is expected to be one of \['sample', 'files', 'cache'\]"):
        load(source="web")
    with pytest.raises(SchemaError, match='goes with source = "files"'):
        load(imd=IMD)
    with pytest.raises(ParameterError, match="^imd was None but is expected with source='files': the IoD file"):
        load(source="files")


def test_files_without_boundaries_say_what_is_missing():
    d = load(source="files", imd=IMD, population=POP, councils=["Hartlepool"])
    assert not d.has_geometry and d.wards is None and d.vintage.year == 2025
    assert d.councils == ("E06000001",) and d.place == "Hartlepool" and d.file_lsoas > len(d.lsoas)
    assert "vintage" not in d.lsoas.attrs
    from geotarget.hia.screen import hia_data
    from geotarget.jobs.run import run

    with pytest.raises(DataNotFoundError, match="the main job .run. needs lsoas geometry, wards, lads"):
        run(d, out="unused")
    with pytest.raises(DataNotFoundError, match="HIA screening needs lsoas geometry, lads, centroids, postcodes"):
        hia_data(d)


def test_access_and_hia_take_data_from_files():
    """With boundaries and a lookup, files give access (origins: stand-in centroids) like the sample."""
    from geotarget.hia.screen import hia_data
    from geotarget.jobs.access import assess_access, sample_assets

    d = load(source="files", imd=IMD, population=POP, boundaries=GPKG, boundaries_layer="lsoa21", lookup=LOOKUP,
             councils=["Hartlepool"])
    assert d.lads is not None and d.centroids is not None and not d.bundled
    with pytest.raises(DataNotFoundError, match="no community assets"):
        sample_assets(d)
    read, _, _ = sample_assets(load(councils=["Hartlepool"]))
    res = assess_access(d, read)
    assert set(res.access.index) == set(d.lsoas.index) and (res.access["dist_gp_m"] >= 0).all()
    with pytest.raises(DataNotFoundError, match="postcodes, hia_indicators, hia_reference"):
        hia_data(d)


def test_cache_names_the_fetch_command(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"geotarget data fetch iod2025"):
        load(source="cache", cache=tmp_path)
    with pytest.raises(DataNotFoundError, match="no lookup for IoD2019"):
        shutil.copy(ROOT / "data/imd/iod2019_lsoa11_tees_valley.csv", _place(cached_path("iod2019", cache=tmp_path)))
        gpd.read_file(GPKG, layer="lsoa11").to_file(_place(cached_path("lsoa11-boundaries", cache=tmp_path)))
        load(source="cache", cache=tmp_path, vintage=2019)


def test_cache_reads_the_catalogue_files(tmp_path, sample25):
    shutil.copy(IMD, _place(cached_path("iod2025", cache=tmp_path)))
    gpd.read_file(GPKG, layer="lsoa21").to_file(_place(cached_path("lsoa21-boundaries", cache=tmp_path)))
    shutil.copy(LOOKUP, _place(cached_path("lsoa21-ward24-lookup", cache=tmp_path)))
    d = load(source="cache", cache=tmp_path, population=POP, councils=["Stockton-on-Tees"])
    assert d.councils == ("E06000004",) and len(d.lsoas) == 124
    assert {s.path for s in d.sources} >= {cached_path("iod2025", cache=tmp_path), POP}
    expected = sample25.lsoas[sample25.lsoas["lad_code"] == "E06000004"].drop(columns="geometry")
    got = d.lsoas.drop(columns="geometry")[expected.columns]
    assert got.equals(expected.loc[got.index])


def _place(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_jobs_take_the_one_object(sample25, tmp_path):
    from geotarget.analysis.target import target_areas
    from geotarget.jobs.analyses import run_inequality
    from geotarget.jobs.profiles import profile_areas

    p = profile_areas(sample25, to="lad")
    assert p.vintage == 2025 and len(p.table) == 5
    t = target_areas(sample25.lsoas, councils=["Hartlepool"], vintage=sample25.vintage, sensitivity=False)
    assert t.vintage is sample25.vintage
    r = run_inequality(sample25, indicator="imd_score", repetitions=1000)
    assert r.study is sample25 and r.notes[0] == "Bundled Tees Valley sample (IoD2025, LSOA 2021)."
    assert_geodataframe_equal(r.study.lsoas, sample25.lsoas)
