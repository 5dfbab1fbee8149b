"""geotarget data add / list: recognising files by their layout, the cache records, verification on use."""

from __future__ import annotations

import gzip
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from geotarget.cli.main import main
from geotarget.core.errors import FetchError, GeotargetError, SchemaError
from geotarget.data.capabilities import cache_capabilities
from geotarget.data.load import CACHED, CACHED_ASSETS, REQUIRED, cached_source
from geotarget.data.source import DataSource
from geotarget.io.fetch import CATALOGUE, cached_path, fetch, list_data, verify_cached
from geotarget.io.store import LAYOUTS, add, recognise
from tests.conftest import ROOT

#: Files of /work/shared/data (PROVENANCE.md sections 1-5, 8-9, 15, 17) and the dataset each is.
SHARED_FILES = {
    "imd/iod2025_lsoa21_england.csv.gz": "iod2025",
    "imd/iod2025_lsoa21_tees_valley.csv": "iod2025",
    "imd/iod2019_lsoa11_england.csv.gz": "iod2019",
    "imd/iod2019_lsoa11_tees_valley.csv": "iod2019",
    "imd/iod2025_lsoa21_indicators_england.csv.gz": "iod2025-indicators",
    "imd/iod2019_lsoa11_indicators_england.csv.gz": "iod2019-indicators",
    "cni/cni2023_lsoa21_england.csv.gz": "cni2023",
    "boundaries/lsoa21_tees_valley_bgc.geojson": "lsoa21-boundaries",
    "boundaries/lsoa11_tees_valley_bgc.geojson": "lsoa11-boundaries",
    "boundaries/msoa21_tees_valley_bgc.geojson": "msoa21-boundaries",
    "lookups/lsoa21_ward24_lad24_ew.csv.gz": "lsoa21-ward24-lookup",
    "lookups/lsoa11_lsoa21_lad22_ew.csv.gz": "lsoa11-lsoa21-lookup",
    "lookups/lad24_region24_england.csv": "lad24-regions",
    "lookups/lsoa21_icb24_en.csv.gz": "lsoa21-icb24-lookup",
    "postcodes/codepoint_open_2025_TS_DL.csv.gz": "codepoint-open",
    "postcodes/codepoint_open_2025_england.csv.gz": "codepoint-open",
    "postcodes/ons_pcd_oa11_lsoa11_msoa11_lad_may2022_TS_DL.csv.gz": "ons-postcode-lookup",
    "postcodes/ons_pcd_oa11_lsoa11_msoa11_lad_may2022_england.csv.gz": "ons-postcode-lookup",
    "population/ons_sape_mid2022_lsoa21_total_england.csv.gz": "lsoa21-population",
    "population/iod2025_population_denominators_lsoa21_tees_valley.csv": "lsoa21-population",
    "centroids/lsoa21_pwc_tees_valley.csv": "lsoa21-centroids",
    "centroids/lsoa21_pwc_tees_valley.geojson": "lsoa21-centroids",
    "assets/epraccur_england.csv": "ods-epraccur",
}
#: Files there that look close to a dataset but are not one: they must not be taken for it.
NOT_DATASETS = [
    "imd/iod2025_lsoa21_subdomains_england.csv.gz",  # LSOA code and domain ranks, but no IMD: not File 7
    "imd/iod2019_lsoa11_subdomains_england.csv.gz",
    "cni/cni2019_ward17_england.csv.gz",  # CNI by 2017 ward, not LSOA 2021
    "population/census2021_ts007a_age5_lsoa21_england.csv.gz",  # Census counts, not SAPE
    "lookups/lsoa21_tees_valley_residential_postcode_centroids.csv",  # a proxy, not ONS centroids
    "lookups/lsoa11_ward17_ew.csv.gz",
    "boundaries/wards2025_tees_valley_bgc.geojson",  # May 2025 wards: the catalogue has May 2024
    "trafford/community_assets_trafford.geojson",  # points with an LSOA code, but assets, not centroids
]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    c = tmp_path / "cache"
    monkeypatch.setenv("GEOTARGET_CACHE", str(c))
    return c


def _state(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def _records(cache: Path) -> list[Path]:
    return sorted(cache.rglob("*.json")) if cache.exists() else []


# ----------------------------------------------------------------------------- the real files


@pytest.mark.parametrize(("rel", "name"), sorted(SHARED_FILES.items()))
def test_shared_file_is_recognised(shared_data, rel, name):
    found = recognise(shared_data / rel)
    assert [r.name for r in found] == [name]


@pytest.mark.parametrize("rel", NOT_DATASETS)
def test_lookalike_shared_file_is_not_taken_for_a_dataset(shared_data, rel):
    with pytest.raises(SchemaError, match="not recognised as any dataset"):
        recognise(shared_data / rel)


def test_england_geopackage_adds_each_recognised_layer(shared_data, cache):
    gpkg = shared_data / "boundaries/england_boundaries_generalised.gpkg"
    before = _state(gpkg)
    added = add(gpkg)
    assert {a.name: a.layer for a in added} == {"lsoa11-boundaries": "lsoa11", "lsoa21-boundaries": "lsoa21",
                                               "msoa21-boundaries": "msoa21", "lad24-boundaries": "lad24_uk"}
    assert _state(gpkg) == before  # the original is not touched
    import pyogrio

    for a in added:
        assert a.path == cached_path(a.name) and a.path.suffix == ".gpkg"
        info = pyogrio.read_info(a.path)
        assert info["features"] == {"lsoa11": 32844, "lsoa21": 33755, "msoa21": 6856, "lad24_uk": 361}[a.layer]
        rec = json.loads((a.path.parent / (a.path.name + ".json")).read_text())
        assert rec["layer"] == a.layer and rec["added_from"] == str(gpkg) and rec["name"] == a.name
        assert rec["sha256"] == hashlib.sha256(a.path.read_bytes()).hexdigest()
    assert {a.status for a in add(gpkg)} == {"unchanged"}  # the same file again: nothing to do


def test_england_files_are_added_with_records(shared_data, cache):
    rels = ["imd/iod2025_lsoa21_england.csv.gz", "postcodes/codepoint_open_2025_england.csv.gz",
            "postcodes/ons_pcd_oa11_lsoa11_msoa11_lad_may2022_england.csv.gz", "assets/epraccur_england.csv",
            "lookups/lsoa21_icb24_en.csv.gz", "lookups/lsoa21_ward24_lad24_ew.csv.gz"]
    files = [shared_data / r for r in rels]
    before = [_state(f) for f in files]
    added = add(files)
    assert [a.name for a in added] == [SHARED_FILES[r] for r in rels]
    assert [_state(f) for f in files] == before
    for a, f in zip(added, files, strict=True):
        assert a.status == "added" and cached_path(a.name) == a.path and a.path.parent == cache / a.name
        assert a.path.read_bytes() == f.read_bytes()  # kept as it is (a .csv.gz stays gzipped)
        rec = json.loads((a.path.parent / (a.path.name + ".json")).read_text())
        assert rec["sha256"] == rec["source_sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
        assert rec["added_from"] == str(f) and rec["recognised"] == a.how and rec["bytes"] == f.stat().st_size
    rows = {r.name: r for r in list_data()}
    assert rows["codepoint-open"].status == "cached" and "added" in rows["codepoint-open"].detail
    assert [a.status for a in add(files[:1])] == ["unchanged"]


# ----------------------------------------------------------------------------- official layouts


FILE7_HEADERS = ["LSOA code (2021)", "LSOA name (2021)", "Local Authority District code (2024)",
                 "Local Authority District name (2024)", "Index of Multiple Deprivation (IMD) Score",
                 "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
                 "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
                 "Total population: mid 2022"]
CODEPOINT_ROWS = [["TS1 1AA", "10", "448907", "520333", "E92000001", "", "", "", "E06000002", "E05009866"],
                  ["TS1 1AB", "10", "449050", "520373", "E92000001", "", "", "", "E06000002", "E05009866"],
                  ["DL1 1AA", "10", "429090", "514540", "E92000001", "", "", "", "E06000005", "E05013634"]]


def _csv(path: Path, rows, *, gz: bool = False) -> Path:
    text = "".join(",".join(f'"{c}"' if "," in c else c for c in r) + "\n" for r in rows)
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


def _ods(code: str, setting: str = "") -> list[str]:
    row = [""] * 27
    row[0], row[1], row[9], row[12], row[25] = code, "A PRACTICE", "TS18 1HU", "A", setting
    return row


def test_official_file7_headers(tmp_path):
    rows = [FILE7_HEADERS, ["E01011949", "Hartlepool 009A", "E06000001", "Hartlepool", "40.218", "4520", "2", "1870"]]
    (r,) = recognise(_csv(tmp_path / "File_7.csv", rows))
    assert r.name == "iod2025" and "LSOA code (2021)" in r.how
    rows[0] = [h.replace("2021", "2011").replace("2024", "2019") for h in FILE7_HEADERS]
    assert [x.name for x in recognise(_csv(tmp_path / "f7_2019.csv", rows))] == ["iod2019"]


def test_official_file8_headers(tmp_path):
    rows = [["LSOA code (2021)", "LSOA name (2021)", "Income Domain numerator",
             "Income Deprivation Affecting Children Index (IDACI) numerator", "Years of potential life lost indicator",
             "Comparative illness and disability ratio indicator"],
            ["E01011949", "Hartlepool 009A", "500", "120", "77.5", "195.4"]]
    assert [x.name for x in recognise(_csv(tmp_path / "File_8.csv", rows))] == ["iod2025-indicators"]


def test_headerless_codepoint_csv_and_zip(tmp_path, cache):
    one = _csv(tmp_path / "ts.csv", CODEPOINT_ROWS)
    (r,) = recognise(one)
    assert r.name == "codepoint-open" and "no header, 10 columns" in r.how
    z = tmp_path / "download" / "codepo_gb.zip"
    z.parent.mkdir()
    with zipfile.ZipFile(z, "w") as f:
        f.write(one, "Data/CSV/ts.csv")
        f.writestr("Data/CSV/dl.csv", "".join(",".join(r) + "\n" for r in CODEPOINT_ROWS[2:]))
        f.writestr("Doc/Code-Point_Open_Column_Headers.csv", "PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\n")
    (a,) = add(z)
    assert a.name == "codepoint-open" and "2 CSV files under Data/CSV/" in a.how
    assert a.path.name == "codepo_gb.zip" and a.path.read_bytes() == z.read_bytes()  # the zip, read as it is
    from geotarget.io.postcodes import read_postcodes

    assert sorted(read_postcodes(one).index) == ["DL1 1AA", "TS1 1AA", "TS1 1AB"]


def test_ons_postcode_lookups(tmp_path):
    pcd = [["pcd7", "pcd8", "pcds", "dointr", "doterm", "usertype", "oa11cd", "lsoa11cd", "msoa11cd", "ladcd",
            "lsoa11nm", "msoa11nm", "ladcd", "ladnm", "ladnmw"],
           ["TS1 1AA", "TS1  1AA", "TS1 1AA", "199801", "", "0", "E00060274", "E01012064", "E02002503",
            "E06000002", "Middlesbrough 014A", "Middlesbrough 014", "E06000002", "Middlesbrough", ""]]
    onspd = [["pcd", "pcd2", "pcds", "dointr", "doterm", "oscty", "ced", "oslaua", "osward", "parish", "usertype",
              "oseast1m", "osnrth1m", "osgrdind", "oshlthau", "nhser", "ctry", "rgn", "oa21", "lsoa21", "msoa21"],
             ["TS1 1AA", "TS1  1AA", "TS1 1AA", "199801", "", "E99999999", "E99999999", "E06000002", "E05009866",
              "E43000155", "0", "448907", "520333", "1", "E18000001", "E40000012", "E92000001", "E12000001",
              "E00060274", "E01012064", "E02002503"]]
    (a,) = recognise(_csv(tmp_path / "PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU.csv", pcd))
    (b,) = recognise(_csv(tmp_path / "ONSPD_FEB_2025_UK.csv", onspd))
    assert a.name == b.name == "ons-postcode-lookup"
    assert "ONSPD/NSPL layout" in b.how and "lsoa21" in b.how


def test_official_ons_lookup_headers(tmp_path):
    icb = [["LSOA21CD", "LSOA21NM", "SICBL24CD", "SICBL24CDH", "SICBL24NM", "ICB24CD", "ICB24CDH", "ICB24NM",
            "LAD24CD", "LAD24NM", "ObjectId"],
           ["E01011949", "Hartlepool 009A", "E38000247", "16C", "NHS North East and North Cumbria ICB - 16C",
            "E54000050", "QHM", "NHS North East and North Cumbria ICB", "E06000001", "Hartlepool", "1"]]
    l11 = [["LSOA11CD", "LSOA11NM", "LSOA21CD", "LSOA21NM", "CHGIND", "LAD22CD", "LAD22NM", "LAD22NMW", "ObjectId"],
           ["E01011949", "Hartlepool 009A", "E01011949", "Hartlepool 009A", "U", "E06000001", "Hartlepool", "", "1"]]
    ward = [["LSOA21CD", "LSOA21NM", "WD24CD", "WD24NM", "WD24NMW", "LAD24CD", "LAD24NM", "LAD24NMW", "ObjectId"],
            ["E01011949", "Hartlepool 009A", "E05008942", "Burn Valley", "", "E06000001", "Hartlepool", "", "1"]]
    assert [x.name for x in recognise(_csv(tmp_path / "a.csv", icb))] == ["lsoa21-icb24-lookup"]
    assert [x.name for x in recognise(_csv(tmp_path / "b.csv", l11))] == ["lsoa11-lsoa21-lookup"]
    assert [x.name for x in recognise(_csv(tmp_path / "c.csv", ward))] == ["lsoa21-ward24-lookup"]


def test_ods_files_told_apart_by_their_codes(tmp_path, cache):
    gp = _csv(tmp_path / "gp.csv", [_ods("A81001", "4"), _ods("Y02345", "4"), _ods("A81002", "4")])
    ph = _csv(tmp_path / "ph.csv", [_ods("FA114"), _ods("FC371"), _ods("FX123")])
    dn = _csv(tmp_path / "dn.csv", [_ods("V00123"), _ods("V12345"), _ods("V54321")])
    assert [recognise(p)[0].name for p in (gp, ph, dn)] == ["ods-epraccur", "ods-edispensary", "ods-egdpprac"]
    assert "prescribing setting (column 26) filled in 3 rows, 3 of them 4" in recognise(gp)[0].how
    mixed = _csv(tmp_path / "mixed.csv", [_ods("A81001"), _ods("FA114"), _ods("V00123")])
    with pytest.raises(SchemaError, match=r"mixed.csv: an NHS ODS file .* do not tell which.*`as_`"):
        add(mixed)
    assert _records(cache) == []
    (a,) = add(mixed, as_="ods-edispensary")
    assert a.name == "ods-edispensary" and a.how == "named with `as_`"
    z = tmp_path / "epraccur.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.write(gp, "epraccur.csv")
    (b,) = add(z)  # the CSV inside an ODS zip is what is kept
    assert b.name == "ods-epraccur" and b.path.suffix == ".csv" and b.path.read_bytes() == gp.read_bytes()


def test_cli_ambiguous_names_the_flag(tmp_path, cache, capsys):
    mixed = _csv(tmp_path / "mixed.csv", [_ods("A81001"), _ods("FA114"), _ods("V00123")])
    assert main(["data", "add", str(mixed)]) == 2
    err = capsys.readouterr().err
    assert "do not tell which" in err and "--as (ods-epraccur, ods-edispensary or ods-egdpprac)" in err


# ----------------------------------------------------------------------------- errors, no-ops, replacing


def test_unknown_file_names_columns_and_layouts(tmp_path, cache):
    f = _csv(tmp_path / "mystery.csv", [["site", "visits", "month"], ["Library", "120", "2024-01"]])
    with pytest.raises(SchemaError) as e:
        add(f)
    msg = str(e.value)
    assert str(f) in msg and "['site', 'visits', 'month']" in msg and "Layouts expected" in msg
    assert all(name in msg for name in LAYOUTS) and "`as_`" in msg
    assert _records(cache) == []


def test_truncated_gzip_is_an_error_and_nothing_is_recorded(shared_data, tmp_path, cache):
    raw = (shared_data / "imd/iod2025_lsoa21_england.csv.gz").read_bytes()
    cut = tmp_path / "iod2025.csv.gz"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(SchemaError, match=r"iod2025.csv.gz: the gzip file is truncated or damaged.*Nothing was added"):
        add(cut)
    assert _records(cache) == [] and not (cache / "iod2025").exists()


def test_truncated_gzip_of_repo_file(tmp_path, cache):
    raw = gzip.compress((ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv").read_bytes())
    cut = tmp_path / "x.csv.gz"
    cut.write_bytes(raw[:-40])
    with pytest.raises(SchemaError, match="truncated or damaged"):
        add(cut)
    assert _records(cache) == []


def test_readd_is_a_noop_and_a_different_file_needs_force(tmp_path, cache):
    iod = ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv"
    (a,) = add(iod)
    mtime = a.path.stat().st_mtime_ns
    (b,) = add(iod)
    assert b.status == "unchanged" and b.path.stat().st_mtime_ns == mtime
    other = tmp_path / "iod_trafford.csv.gz"
    other.write_bytes(gzip.compress((ROOT / "data/imd/iod2025_lsoa21_trafford.csv").read_bytes()))
    with pytest.raises(GeotargetError, match=r"iod2025 is already in the cache .* is a different file; .*`force`"):
        add(other)
    assert a.path.read_bytes() == iod.read_bytes()  # unchanged
    (c,) = add(other, force=True)
    assert c.status == "replaced" and c.path.name.endswith(".csv.gz") and not a.path.exists()
    assert cached_path("iod2025") == c.path
    assert sorted(p.name for p in (cache / "iod2025").iterdir()) == [c.path.name, c.path.name + ".json"]


# ----------------------------------------------------------------------------- list, capabilities, use


def test_cli_add_and_list_show_capabilities(tmp_path, cache, capsys):
    lookup = ROOT / "data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv"
    assert main(["data", "add", str(ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv"),
                 str(ROOT / "boundaries/tees_valley.gpkg")]) == 0
    out = capsys.readouterr().out
    assert "iod2025: added:" in out and "lsoa21-boundaries: added:" in out and "(layer lsoa21)" in out
    assert main(["data", "add", str(lookup)]) == 2  # May 2025 wards: not the catalogue's lookup
    assert "not recognised" in capsys.readouterr().err
    assert main(["data", "add", str(lookup), "--as", "lsoa21-ward24-lookup"]) == 0
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.strip().startswith("deprivation map / action areas"))
    # this IoD file has no population denominators (the official File 7 has): then it needs the population file
    assert line.strip() == ("deprivation map / action areas for any council: needs lsoa21-population (has iod2025, "
                            "lsoa21-boundaries, lsoa21-ward24-lookup)")
    pop = _csv(tmp_path / "pop.csv", [["lsoa21cd", "lsoa21nm", "pop_total_mid2022"], ["E01011949", "x", "1870"]])
    assert main(["data", "add", str(pop)]) == 0
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert ("deprivation map / action areas for any council: yes (iod2025, lsoa21-boundaries, lsoa21-ward24-lookup, "
            "lsoa21-population); better with wards24-boundaries (ward outlines are otherwise the LSOAs dissolved by "
            "best-fit ward, which is approximate)") in out
    assert "population points from postcodes: needs codepoint-open, ons-postcode-lookup" in out
    hia = next(x for x in out.splitlines() if x.strip().startswith("HIA screening"))
    assert "iod2025-indicators" in hia and "cni2023" not in hia.split("(has")[0] and \
        hia.strip().startswith("HIA screening: needs")  # the CNI improves the report; it is not needed
    assert "GP access: needs codepoint-open, ods-epraccur" in out


def test_capabilities_follow_the_one_declaration(cache):
    caps = {c.label: c for c in cache_capabilities()}
    assert caps["deprivation map / action areas for any council"].missing == tuple(CACHED[2025][k] for k in REQUIRED)
    assert sum(c.label.endswith("access") for c in caps.values()) == len(CACHED_ASSETS)
    c19 = {c.label: c for c in cache_capabilities(vintage=2019)}
    assert c19["deprivation map / action areas for any council"].unavailable == ("lookup",)


def test_hand_edited_cached_file_is_caught_on_use(tmp_path, cache):
    (a,) = add(ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv")
    add(ROOT / "boundaries/tees_valley.gpkg")
    add(ROOT / "data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv", as_="lsoa21-ward24-lookup")
    src = cached_source(DataSource(source="cache", cache=cache))
    assert src.imd == a.path
    text = a.path.read_text().replace("Hartlepool 009A", "Hartlepool 009Z", 1)
    a.path.write_text(text)
    with pytest.raises(FetchError, match=r"has changed since it was fetched or added.*geotarget data add FILE --force.*"
                                         r"geotarget data fetch iod2025 --force") as e:
        cached_source(DataSource(source="cache", cache=cache))
    assert str(a.path) in str(e.value)
    with pytest.raises(FetchError, match="changed since it was fetched or added"):
        fetch("iod2025")
    with pytest.raises(FetchError, match="changed since it was fetched or added"):
        verify_cached(a.path)


def test_cached_source_takes_cached_asset_lists(tmp_path, cache):
    add(ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv")
    add(ROOT / "boundaries/tees_valley.gpkg")
    add(ROOT / "data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv", as_="lsoa21-ward24-lookup")
    assert cached_source(DataSource(source="cache")).assets == ()
    (gp,) = add(_csv(tmp_path / "gp.csv", [_ods("A81001", "4"), _ods("A81002", "4")]))
    assert cached_source(DataSource(source="cache")).assets == (gp.path,)
    mine = tmp_path / "mine.geojson"
    assert cached_source(DataSource(source="cache", assets=(mine,))).assets == (mine,)  # named ones win


def test_manual_dataset_fetch_says_to_add(cache):
    with pytest.raises(FetchError, match=r"cni2023 has no stable download address: download it from https://.*"
                                         r"`geotarget data add FILE`"):
        fetch("cni2023")


def test_every_cached_name_is_in_the_catalogue_with_a_layout():
    names = {n for v in CACHED.values() for n in v.values() if n} | set(CACHED_ASSETS)
    assert names <= set(CATALOGUE) and names <= set(LAYOUTS)



def test_added_england_files_load_as_a_cache_study(shared_data, cache):
    """The national files added by layout are what ``load(source="cache")`` reads: Middlesbrough as published."""
    from geotarget import load

    add([shared_data / "imd/iod2025_lsoa21_england.csv.gz", shared_data / "lookups/lsoa21_ward24_lad24_ew.csv.gz",
         shared_data / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
         shared_data / "boundaries/england_boundaries_generalised.gpkg"])
    d = load(source="cache", councils=["Middlesbrough"])
    assert len(d.lsoas) == 90 and int((d.lsoas["imd_decile"] == 1).sum()) == 45  # MHCLG IoD2025: 45 of 90
    used = {s.role: s.path for s in d.sources}
    assert used["boundaries"] == cached_path("lsoa21-boundaries") and used["imd"] == cached_path("iod2025")
    import pandas as pd

    sape = pd.read_csv(shared_data / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz", index_col="lsoa21cd")
    assert d.lsoas["pop_total"].sum() == sape.loc[d.lsoas.index, "pop_total_mid2022"].sum() > 140_000
