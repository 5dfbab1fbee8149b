"""``place`` means any English council, a list of them, a region or England, on every command (issue 14).

The resolution tests run offline on the bundled council -> region table; the ones that read a council
outside the bundled sample use ``national_cache`` (the England-wide files, placed in a data cache as
``geotarget data fetch`` would).
"""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from geotarget import AreaNotFoundError, DataNotFoundError, load
from geotarget.cli.main import main
from geotarget.data.place import resolve_place

from .conftest import SHARED

LEEDS = "E08000035"


# ----------------------------------------------------------------------------- resolution, offline


@pytest.mark.parametrize("text, codes, key", [
    ("Leeds", (LEEDS,), None),
    ("E08000035", (LEEDS,), None),
    ("e08000035", (LEEDS,), None),
    ("stockton on tees", ("E06000004",), "tees_valley"),
    ("STOCKTON-ON-TEES", ("E06000004",), "tees_valley"),
    ("Stockton", ("E06000004",), "tees_valley"),  # an unambiguous start
    ("Kingston upon Hull, City of", ("E06000010",), None),
    ("Hull", ("E06000010",), None),
    ("Bristol", ("E06000023",), None),  # "Bristol, City of" without its suffix
    ("Brighton & Hove", ("E06000043",), None),
    ("Leeds, Bradford", (LEEDS, "E08000032"), None),
    ("Leeds, Kingston upon Hull, City of", (LEEDS, "E06000010"), None),  # a comma inside a name is kept
    (["Leeds", "Bradford"], (LEEDS, "E08000032"), None),
    (("Middlesbrough", "E06000001"), ("E06000002", "E06000001"), "tees_valley"),
])
def test_councils_by_name_or_code(text, codes, key):
    c = resolve_place(text)
    assert c.kind == "councils" and c.councils == codes and c.key == key


def test_names_of_places():
    assert resolve_place("Leeds, Bradford").name == "Leeds and Bradford"
    assert resolve_place("Hartlepool, Middlesbrough, Redcar and Cleveland, Stockton-on-Tees, Darlington").name == \
        "Tees Valley"
    assert resolve_place("E08000035").name == "Leeds"


def test_regions_england_and_bundled_places():
    ne = resolve_place("North East")
    assert ne.kind == "region" and ne.region == "E12000001" and ne.name == "North East" and len(ne.councils) == 12
    assert resolve_place("e12000001") == ne and resolve_place("north-east") == ne
    assert resolve_place("London").region == "E12000007" and len(resolve_place("London").councils) == 33
    e = resolve_place("England")
    assert e.kind == "england" and e.name == "England" and e.councils == ()
    tv = resolve_place("tees_valley")
    assert tv.kind == "bundled" and tv.key == "tees_valley" and len(tv.councils) == 5 and tv.name == "Tees Valley"
    assert resolve_place("Trafford").key == "trafford" and resolve_place("Tees Valley").key == "tees_valley"


def test_every_english_council_resolves_by_its_own_name_and_code():
    lookup = pd.read_csv(SHARED / "lookups" / "lad24_region24_england.csv", dtype=str) \
        if (SHARED / "lookups" / "lad24_region24_england.csv").exists() else None
    from geotarget.data.place import council_table

    table = council_table()
    rows = lookup[["lad24cd", "lad24nm"]].itertuples(index=False) if lookup is not None else \
        table["lad_name"].items()
    n = 0
    for code, name in rows:
        got = resolve_place(name)
        assert code in got.councils and len(got.councils) == 1 or got.kind == "bundled", (code, name, got)
        assert resolve_place(code).councils[0] == code
        n += 1
    assert n >= 296


@pytest.mark.parametrize("text, message", [
    ("Leds", r"place 'Leds' matches no council or region in England; did you mean Leeds \(E08000035\)"),
    ("stockton-on-tes", r"did you mean Stockton-on-Tees \(E06000004\)"),
    ("Newcastle", r"place 'Newcastle' matches 2 councils or regions; did you mean Newcastle-under-Lyme \(E07000195\) "
                  r"or Newcastle upon Tyne \(E08000021\)"),
    ("North East, Leeds", r"place 'North East' is a region and cannot be listed with other places"),
    ("Leeds, Gotham", r"place 'Gotham' matches no council or region in England; did you mean "),
])
def test_a_place_that_matches_nothing_says_what_was_close(text, message):
    with pytest.raises(AreaNotFoundError, match=message):
        resolve_place(text)


# ----------------------------------------------------------------------------- sample or cache


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOTARGET_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_bundled_councils_work_offline_from_the_sample(empty_cache):
    d = load(place="Middlesbrough")
    assert d.bundled and d.councils == ("E06000002",) and len(d.lsoas) == 90
    d = load(place="stockton on tees, Darlington")
    assert d.bundled and d.councils == ("E06000004", "E06000005") and len(d.lsoas) == 124 + 66
    assert load(place="trafford", councils=["E08000009"]).place_key == "trafford"


def test_other_councils_need_the_cache_and_say_how_to_fill_it(empty_cache):
    for kw in ({"place": "Leeds"}, {"place": "Leeds, Middlesbrough"}, {"place": "North East"}, {"place": "england"},
               {"place": "North East", "councils": ["Middlesbrough"]}):
        with pytest.raises(DataNotFoundError, match=r"is not in the bundled sample \(Tees Valley, Trafford\), so its "
                           r"data comes from the national files in the data cache .*cache, which lacks iod2025, "
                           r"lsoa21-boundaries, lsoa21-ward24-lookup: run `geotarget data fetch iod2025 "
                           r"lsoa21-boundaries lsoa21-ward24-lookup`"):
            load(**kw)
    with pytest.raises(AreaNotFoundError, match=r"council 'Leeds' matches no council; expected .*Darlington"):
        load(councils=["Leeds"])  # councils narrow the place (the default, the bundled Tees Valley)


def test_cli_place_errors_are_one_line(empty_cache, tmp_path, capsys):
    assert main(["run", "--place", "Leds", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("geotarget run: error: --place 'Leds' matches no council") and "Leeds (E08000035)" in err
    assert "\n" not in err
    assert main(["aggregate", "--place", "Leeds", "--to", "ward", "--out", str(tmp_path / "w.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert "geotarget data fetch iod2025 lsoa21-boundaries lsoa21-ward24-lookup" in err and "\n" not in err


def test_study_places(empty_cache, tmp_path):
    from geotarget.core.errors import GeotargetError
    from geotarget.study.pipeline import data_source, load_study_data
    from geotarget.study.schema import parse_study

    s = parse_study('[place]\nengland = true\n', path=tmp_path / "study.toml")
    assert data_source(s).place == "england" and data_source(s).source == "sample"
    s = parse_study('[place]\nregion = "North East"\n[data]\nsource = "cache"\n', path=tmp_path / "study.toml")
    assert data_source(s).region == "North East"
    s = parse_study('[place]\nplace = "Leds"\n', path=tmp_path / "study.toml")
    with pytest.raises(GeotargetError, match=r"study.toml, line 2: \[place\] place: place 'Leds' .*did you mean Leeds"):
        load_study_data(s)
    s = parse_study('[place]\nplace = "Middlesbrough"\n', path=tmp_path / "study.toml")
    assert len(load_study_data(s).lsoas) == 90


# ----------------------------------------------------------------------------- any council, from the cache

PLACE = "Leeds"  # 488 LSOAs, 33 wards (2024), outside the bundled sample

COMMANDS = {
    "run": ["run", "-q"],
    "aggregate": ["aggregate", "--to", "ward", "-q"],
    "target": ["target", "-q"],
    "cluster": ["cluster", "-q"],
    "hotspots": ["hotspots", "--permutations", "99", "-q"],
    "inequality": ["inequality", "--indicator", "imd_score", "--repetitions", "1000", "-q"],
    "access": ["access", "--assets", str(SHARED / "assets" / "epraccur_england.csv"), "-q"],  # + --codepoint
    "hia": ["hia", "--site", "429900,433600", "-q"],  # Leeds city centre
}


@pytest.fixture(scope="module")
def leeds_codepoint(shared_data, tmp_path_factory):
    """Code-Point Open postcodes within 10 km of Leeds' (where its assets and sites are located)."""
    cp = pd.read_csv(shared_data / "postcodes" / "codepoint_open_2025_england.csv.gz",
                     usecols=["postcode", "easting", "northing", "admin_district_code"])
    own = cp[cp["admin_district_code"] == LEEDS]
    (x0, y0), (x1, y1) = own[["easting", "northing"]].min() - 10_000, own[["easting", "northing"]].max() + 10_000
    path = tmp_path_factory.mktemp("codepoint") / "codepoint_leeds.csv"
    cp[cp["easting"].between(x0, x1) & cp["northing"].between(y0, y1)].to_csv(path, index=False)
    return path


@pytest.mark.slow  # ten commands on a national cache: about 2 minutes (CI runs it with `-m slow`)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_data_command_takes_any_council(command, national_cache, monkeypatch, tmp_path, request):
    monkeypatch.setenv("GEOTARGET_CACHE", str(national_cache))
    out = tmp_path / ("wards.csv" if command == "aggregate" else "out")
    extra = ["--codepoint", str(request.getfixturevalue("leeds_codepoint"))] if command in ("access", "hia") else []
    assert main([*COMMANDS[command], *extra, "--place", PLACE, "--out", str(out)]) == 0
    if command == "aggregate":
        t = pd.read_csv(out)
        assert len(t) == 33 and set(t["lad_code"]) == {LEEDS} and t["imd_rank_average_score"].max() > 33
    elif command == "run":
        lsoas = pd.read_csv(out / "imd2025_lsoas.csv")
        assert len(lsoas) == 488 and set(lsoas["lad_code"]) == {LEEDS}
    elif command == "access":
        acc = pd.read_csv(out / "access.csv")
        assert len(acc) == 488 and acc["dist_gp_m"].notna().all()
    else:
        assert any(p.is_file() for p in out.rglob("*"))


def _england_wards() -> int:
    with gzip.open(SHARED / "lookups" / "lsoa21_ward24_lad24_ew.csv.gz", "rt") as f:
        lk = pd.read_csv(f, dtype=str)
    return lk.loc[lk["lsoa21cd"].str.startswith("E"), "wd24cd"].nunique()


def test_ward_ranks_of_a_council_are_national(national_cache, monkeypatch, tmp_path):
    from geotarget.analysis.aggregate import aggregate
    from geotarget.io.fetch import cached_path
    from geotarget.io.imd import add_population, read_imd, read_population
    from geotarget.io.lookups import read_lsoa_lookup
    from geotarget.jobs.profiles import profile_areas

    monkeypatch.setenv("GEOTARGET_CACHE", str(national_cache))
    n_wards = _england_wards()
    assert n_wards == 6784
    d = load(place=PLACE)
    assert not d.bundled and d.source.source == "cache" and d.national is not None
    p = profile_areas(d, to="ward")
    assert p.national and p.n_ranked == n_wards and p.among == "6,784 wards in England" and len(p.table) == 33
    # the same wards in a profile of every ward of England, made here from the files themselves
    england, _ = read_imd(cached_path("iod2025", cache=national_cache))
    england = add_population(england, read_population(cached_path("lsoa21-population", cache=national_cache),
                                                      vintage=2025))
    lk = read_lsoa_lookup(cached_path("lsoa21-ward24-lookup", cache=national_cache))
    full = aggregate(england, to="ward", lookup=lk.loc[lk.index.isin(england.index)], vintage=2025)
    assert len(full) == n_wards
    ranks = [c for c in p.table.columns if "_rank_" in c]
    assert p.table[ranks].equals(full.loc[p.table.index, ranks])
    assert (p.table["imd_rank_average_score"] > len(p.table)).any()  # not re-ranked among the 33
    # the main job's ward table and map say so
    from geotarget.jobs.run import run

    res = run(d, out=tmp_path)
    assert res.ward_ranks.among == p.among and res.ward_profiles[ranks].equals(p.table[ranks])
    html = (tmp_path / "imd2025_map.html").read_text(encoding="utf-8")
    assert "rank among 6,784 wards in England; 1 = most deprived" in html
    assert "Ranks among the 6,784 wards in England" in html


def test_bundled_ward_ranks_say_where(tees_run):
    html = (tees_run / "imd2025_map.html").read_text(encoding="utf-8")
    assert "rank among 103 wards in Tees Valley; 1 = most deprived" in html
    assert "6,784" not in html


def test_bundled_councils_from_the_cache_when_it_has_the_files(national_cache, monkeypatch):
    monkeypatch.setenv("GEOTARGET_CACHE", str(national_cache))
    d = load(place="Middlesbrough")
    assert not d.bundled and d.councils == ("E06000002",) and len(d.lsoas) == 90 and d.national is not None
    assert load().bundled  # the default place stays the bundled sample


def test_a_region_from_the_cache(national_cache, monkeypatch):
    monkeypatch.setenv("GEOTARGET_CACHE", str(national_cache))
    ne = load(place="North East")
    assert ne.place == "North East" and len(ne.councils) == 12


def test_a_region_of_an_iod_file_alone_is_refused_not_ignored(tmp_path):
    from geotarget.core.errors import ParameterError

    with pytest.raises(ParameterError, match=r"region 'North East' needs boundaries and lookup besides the IoD file"):
        load(source="files", imd=tmp_path / "iod.csv", place="North East")


def test_a_study_of_any_council(national_cache, monkeypatch, tmp_path):
    from geotarget.study.pipeline import check_capabilities, data_source, load_study_data
    from geotarget.study.schema import parse_study

    monkeypatch.setenv("GEOTARGET_CACHE", str(national_cache))
    s = parse_study('[place]\nplace = "Leeds"\n[output]\nmap = false\n[access]\n[hia]\nsite = "429900,433600"\n',
                    path=tmp_path / "study.toml")
    check_capabilities(s)  # [access] and [hia] are not refused up-front for a place from the cache
    assert data_source(s).place == "Leeds"
    d = load_study_data(s)
    assert d.source.source == "cache" and d.councils == (LEEDS,) and len(d.lsoas) == 488


def test_study_councils_outside_the_sample_are_the_place(empty_cache, tmp_path):
    from geotarget.core.errors import GeotargetError
    from geotarget.study.pipeline import data_source, load_study_data
    from geotarget.study.schema import parse_study

    s = parse_study('[place]\ncouncils = ["Leeds", "Bradford"]\n', path=tmp_path / "study.toml")
    assert data_source(s).place == "E08000035,E08000032" and data_source(s).councils == ()
    with pytest.raises(GeotargetError, match=r"study.toml, line 2: \[place\] councils: .*geotarget data fetch iod2025"):
        load_study_data(s)
    s = parse_study('[place]\ncouncils = ["Hartlepool"]\n', path=tmp_path / "study.toml")
    assert data_source(s).place == "tees_valley" and data_source(s).councils == ("Hartlepool",)
    s = parse_study('[place]\ncouncils = ["Trafford"]\n', path=tmp_path / "study.toml")
    assert load_study_data(s).place_key == "trafford"
    s = parse_study('[place]\ncouncils = ["Leds"]\n', path=tmp_path / "study.toml")
    with pytest.raises(GeotargetError, match=r"line 2: \[place\] councils: council 'Leds' .*did you mean Leeds"):
        load_study_data(s)
