"""Property-based fuzzing of every reader (issue 15): junk in, a geotarget error out, never a raw exception.

Each reader gets random bytes, and random CSV-ish text built from its real headers and awkward cells
(blanks, codes, ``1e400``, ``38,5``, formulas, quotes, other separators). Whatever it makes of them, it
may only return or raise a :class:`~geotarget.core.errors.GeotargetError` subclass -- never ``KeyError``,
``IndexError``, ``ValueError``, ``UnicodeDecodeError`` or a library's own exception.
"""

from __future__ import annotations

import gzip
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geotarget.core.errors import GeotargetError
from geotarget.io.areas import read_areas
from geotarget.io.assets import read_assets, read_category_map
from geotarget.io.boundaries import read_boundaries
from geotarget.io.groups import read_groups
from geotarget.io.imd import read_imd, read_population
from geotarget.io.indicators import read_cni, read_indicator_table, read_iod_indicators
from geotarget.io.lookups import read_lsoa_lookup
from geotarget.io.network import read_street_network
from geotarget.io.postcodes import read_codepoint, read_postcode_lookup, read_postcodes
from geotarget.io.sites import parse_site, read_sites
from geotarget.io.tables import read_text_table

ROOT = Path(__file__).resolve().parents[1]
#: Examples per reader: modest by default (the suite stays fast); GEOTARGET_FUZZ_EXAMPLES=500 for a long, random run.
_EXAMPLES = os.environ.get("GEOTARGET_FUZZ_EXAMPLES")
SETTINGS = settings(max_examples=int(_EXAMPLES or 12), deadline=None, derandomize=not _EXAMPLES, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _header(rel: str) -> list[str]:
    path = ROOT / rel
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return raw.decode("utf-8-sig").splitlines()[0].split(",")


IMD = _header("data/imd/iod2025_lsoa21_tees_valley.csv")
POP = _header("data/population/iod2025_population_denominators_lsoa21_tees_valley.csv")
LOOKUP = _header("data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv")
ASSETS = _header("data/assets/community_assets_tees_valley.csv")
POSTCODES = _header("data/postcodes/postcodes_tees_valley.csv.gz")
INDICATORS = _header("data/hia/iod2025_indicators_lsoa21_tees_valley.csv")
CNI = _header("data/hia/cni2023_lsoa21_tees_valley.csv")
OUTCOMES = _header("data/outcomes/outcomes_lsoa21_tees_valley.csv")

#: (reader id, call on a path, suffix, real headers of the kind of file it reads)
READERS = [
    ("read_text_table", read_text_table, ".csv", IMD),
    ("read_imd", read_imd, ".csv", IMD),
    ("read_population", read_population, ".csv", POP),
    ("read_lsoa_lookup", read_lsoa_lookup, ".csv", LOOKUP),
    ("read_assets", read_assets, ".csv", ASSETS),
    ("read_category_map", read_category_map, ".csv", ["value", "category"]),
    ("read_postcodes", read_postcodes, ".csv", POSTCODES),
    ("read_codepoint", read_codepoint, ".csv", POSTCODES),
    ("read_postcode_lookup", read_postcode_lookup, ".csv", ["pcds", "doterm", "oseast1m", "osnrth1m", "lsoa21cd",
                                                            "usertype"]),
    ("read_indicator_table", read_indicator_table, ".csv", OUTCOMES),
    ("read_iod_indicators", read_iod_indicators, ".csv", INDICATORS),
    ("read_cni", read_cni, ".csv", CNI),
    ("read_groups", read_groups, ".csv", ["lad_code", "group_code", "group_name"]),
    ("read_sites", read_sites, ".csv", ["name", "postcode", "easting", "northing", "wkt"]),
    ("read_areas", lambda p: read_areas(p, id_column="id"), ".geojson", []),
    ("read_boundaries", read_boundaries, ".gpkg", []),
    ("read_street_network", read_street_network, ".geojson", []),
    ("read_street_network_graphml", read_street_network, ".graphml", []),
    ("read_boundaries_geojson", read_boundaries, ".geojson", []),
]
_counter = itertools.count()

CELLS = st.sampled_from(["", " ", "E01012345", "E01000001", "E06000001", "E05000001", "W01000001", "1", "0", "-1",
                         "10", "11", "1e400", "inf", "nan", "NaN", "38,5", "1,234", "abc", "=SUM(A1)", "@x", '"',
                         '""', "'", "TS1 2AA", "TS12AA", "ZZ99 9ZZ", "444600", "518900", "54.5", "-1.2",
                         "POINT (444600 518900)", "POLYGON ((0 0, 1 1, 1 0, 0 0))", "gp", "park", "é", "\u00a0",
                         "a;b", "a\tb", "a|b", "\x00"])


@st.composite
def csvish(draw, headers: list[str]) -> bytes:
    pool = headers or ["id", "name", "geometry"]
    cols = draw(st.lists(st.sampled_from(pool) | st.text(max_size=8), min_size=0, max_size=min(len(pool), 12) + 1))
    sep = draw(st.sampled_from([",", ",", ";", "\t", "|"]))
    rows = draw(st.lists(st.lists(CELLS | st.text(max_size=6), min_size=0, max_size=len(cols) + 2), max_size=6))
    text = "\n".join(sep.join(r) for r in [cols, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()) and draw(st.booleans()):
        data = gzip.compress(data)[: draw(st.integers(0, len(gzip.compress(data))))]
    return data


JUNK = st.binary(max_size=600) | st.sampled_from([b"", b"\x1f\x8b", b"\x1f\x8b\x08\x00\x00", b"PK\x03\x04junk",
                                                   b"SQLite format 3\x00junk", b'{"type": "FeatureCollection"',
                                                   b'{"type": "FeatureCollection", "features": []}', b"\xef\xbb\xbf",
                                                   b"\xff\xfe", b"a,b\n", b"\n\n\n"])


def _check(reader, path: Path) -> None:
    try:
        reader(path)
    except GeotargetError:
        pass  # a clear, located error: what a user should get


@pytest.mark.parametrize(("name", "reader", "suffix", "headers"), READERS, ids=[r[0] for r in READERS])
def test_reader_on_random_bytes(name, reader, suffix, headers, tmp_path):
    @SETTINGS
    @given(data=JUNK)
    def run(data):
        path = tmp_path / f"junk{next(_counter)}{suffix}"
        path.write_bytes(data)
        _check(reader, path)

    run()


@pytest.mark.parametrize(("name", "reader", "suffix", "headers"), [r for r in READERS if r[2] == ".csv"],
                         ids=[r[0] for r in READERS if r[2] == ".csv"])
def test_reader_on_csvish_text(name, reader, suffix, headers, tmp_path):
    @SETTINGS
    @given(data=st.data())
    def run(data):
        path = tmp_path / f"table{next(_counter)}{suffix}"
        path.write_bytes(data.draw(csvish(headers)))
        _check(reader, path)

    run()


_SITES = st.text(max_size=40) | st.sampled_from(["", "0,0", "1e400,5", "nan,nan", "POINT (1 2", "POLYGON EMPTY",
                                                  "POLYGON ((0 0, 1 1, 1 0, 0 0))", "TS1 2AA", "ZZ99 9ZZ", "444600,",
                                                  ",518900", "LINESTRING (0 0, 1 1)", "GEOMETRYCOLLECTION EMPTY",
                                                  "-1,-1", "444600 518900", "54.5,-1.2"])


@pytest.fixture(scope="module")
def postcodes():
    return read_postcodes(ROOT / "data/postcodes/postcodes_tees_valley.csv.gz")


def test_parse_site_on_random_text(postcodes, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a random text is never an existing file here

    @SETTINGS
    @given(text=_SITES)
    def run(text):
        try:
            parse_site(text, postcodes=postcodes)
        except GeotargetError:
            pass

    run()
