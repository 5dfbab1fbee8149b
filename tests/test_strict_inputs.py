"""Strict numbers, the vintage a file claims, coverage and access options (issue 15, classes 5, 6, 10).

The CLI runs over :data:`tests.corpus_numbers.CASES` in tests/test_corpus.py (with every corpus);
unit tests pin the library behaviour behind them.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotarget import SchemaError, read_imd, read_population
from geotarget.analysis.deserts import DEFAULT_THRESHOLDS, asset_deserts, check_thresholds
from geotarget.core.errors import ParameterError
from geotarget.core.vintages import IOD2019, IOD2025, expected_decile
from geotarget.data import load
from geotarget.io.assets import CATEGORIES
from geotarget.io.tables import parse_numbers, read_numbers, read_text_table
from geotarget.jobs.params import AccessParams

from .conftest import ROOT
from .corpus_numbers import CASES, IMD25, LOOKUP25, POP25, STOCKTON, _rows, _write

GPKG = ROOT / "boundaries/tees_valley.gpkg"


# ----------------------------------------------------------------------------- the corpus, through the CLI


def test_corpus_is_big_enough():
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)


# ----------------------------------------------------------------------------- numbers read strictly


def test_parse_numbers_thousands_only_in_a_valid_pattern():
    s = pd.Series(["38,5", "1,234", "1,234,567.5", "12,34,567", "inf", "1e400", "-3.2e2", "", "x"])
    got = parse_numbers(s, thousands=True)
    assert got.tolist()[1:3] == [1234.0, 1234567.5] and got[6] == -320.0
    assert got[[0, 3, 4, 5, 7, 8]].isna().all()  # never 385, never infinite
    # without thousands a lone decimal comma (European latitudes) is a decimal point; still no infinities
    assert parse_numbers(pd.Series(["54,57", "NaN", "-inf"])).tolist()[0] == 54.57
    assert parse_numbers(pd.Series(["54,57", "NaN", "-inf"]))[1:].isna().all()


@pytest.mark.parametrize("value,what", [("38,5", "a decimal comma"), ("inf", "not a finite number"),
                                        ("1e400", "not a finite number"), ("abc", "not a number"),
                                        ("", "missing value")])
def test_read_numbers_names_file_row_column_value(value, what):
    s = pd.Series(["1", "2", value])
    with pytest.raises(SchemaError) as e:
        read_numbers(s, source="f.csv", column="Score")
    assert str(e.value).startswith(f"f.csv, column 'Score': {what}")
    assert f"row 4: {value!r}; expected" in str(e.value)  # the header is row 1


def test_read_text_table_refuses_ragged_rows(tmp_path):
    (tmp_path / "r.csv").write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(SchemaError, match=r"r.csv, row 3: 3 values but the header has 2 columns"):
        read_text_table(tmp_path / "r.csv")


def test_expected_decile_follows_mhclg():
    # decile = ceil(rank / (N / 10)): IoD2025 N/10 = 3,375.5, IoD2019 N/10 = 3,284.4
    ranks = pd.Series([1, 3375, 3376, 33755])
    assert expected_decile(ranks, IOD2025).tolist() == [1, 1, 2, 10]
    assert expected_decile(pd.Series([3284, 3285, 32844]), IOD2019).tolist() == [1, 2, 10]
    r = np.arange(1, IOD2025.n_lsoas + 1)
    assert np.array_equal(expected_decile(r, IOD2025), np.ceil(r / (IOD2025.n_lsoas / 10)).astype(int))
    assert np.bincount(expected_decile(r, IOD2025))[1:].tolist() == [3375, 3376] * 5


def test_bundled_files_pass_every_check():
    for path, year in [(IMD25, 2025), (ROOT / "data/imd/iod2019_lsoa11_tees_valley.csv", 2019)]:
        frame, v = read_imd(path)
        assert v.year == year and len(frame) > 400
    assert read_population(POP25)["pop_total"].max() < 100_000


def test_ties_that_official_ranks_make_are_accepted(tmp_path):
    """Two LSOAs tied on a score share the rank and the next rank is skipped (as in IoD2019's national ranks)."""
    header, rows = _rows(IMD25)
    r, s = header.index("income_rank"), header.index("income_score")
    order = sorted(range(len(rows)), key=lambda i: int(rows[i][r]))
    a, b = order[10], order[11]
    rows[b][s] = rows[a][s]
    rows[b][r] = rows[a][r]
    frame, _ = read_imd(_write(tmp_path / "imd.csv", header, rows))
    assert frame["income_rank"].duplicated().sum() == 1


def test_tied_rank_must_skip_the_next(tmp_path):
    header, rows = _rows(IMD25)
    r, s = header.index("income_rank"), header.index("income_score")
    order = sorted(range(len(rows)), key=lambda i: int(rows[i][r]))
    a, b, c = order[10], order[11], order[12]
    rows[b][s], rows[b][r] = rows[a][s], rows[a][r]
    rows[c][r] = str(int(rows[a][r]) + 1)  # the rank after a tie of two must be skipped
    rows[c][s] = rows[a][s]
    with pytest.raises(SchemaError, match=r"column 'income_rank': rank [\d,]+ appears 2 times .*next rank"):
        read_imd(_write(tmp_path / "imd.csv", header, rows))


@pytest.mark.parametrize("n,vintage", [(32_844, 2019), (33_755, 2025)])
def test_real_england_files_pass_and_rank_decile_agree_everywhere(shared_data, n, vintage):
    name = {2019: "iod2019_lsoa11_england.csv.gz", 2025: "iod2025_lsoa21_england.csv.gz"}[vintage]
    frame, v = read_imd(shared_data / "imd" / name)
    assert len(frame) == n == v.n_lsoas and int(frame["imd_rank"].max()) == n
    for col in [c for c in frame.columns if c.endswith("_rank")]:
        dec = col.removesuffix("_rank") + "_decile"
        if dec in frame.columns:
            assert (expected_decile(frame[col], v) == frame[dec]).all(), col


def test_real_population_files_pass(shared_data):
    pop = read_population(shared_data / "population" / "ons_sape_mid2022_lsoa21_total_england.csv.gz")
    assert len(pop) == 33_755 and pop["pop_total"].max() < 100_000


# ----------------------------------------------------------------------------- coverage (class 5)

FILES = dict(population=POP25, boundaries=GPKG, boundaries_layer="lsoa21", lookup=LOOKUP25)


def _cut(tmp_path, keep: int):
    header, rows = _rows(IMD25)
    lad = header.index("lad24cd")
    stock = [r for r in rows if r[lad] == STOCKTON]
    rows = [r for r in rows if r[lad] != STOCKTON] + stock[:keep]
    return _write(tmp_path / "imd.csv", header, rows), [r[0] for r in stock[keep:]]


def test_cut_short_iod_is_an_error_with_the_counts(tmp_path):
    imd, lost = _cut(tmp_path, 3)
    with pytest.raises(SchemaError, match=r"no IoD row for 121 LSOAs .*Stockton-on-Tees \(E06000004\): 121 of 124"):
        load(source="files", imd=imd, **FILES)
    with pytest.raises(SchemaError, match=r"121 of 124"):  # without boundaries too (the IoD-only loader)
        load(source="files", imd=imd, population=POP25, lookup=LOOKUP25)


def test_partial_proceeds_and_lists_what_is_missing(tmp_path):
    imd, lost = _cut(tmp_path, 119)
    d = load(source="files", imd=imd, **FILES, partial=True)
    assert sorted(d.missing_lsoas["lsoa_code"]) == sorted(lost) and len(lost) == 5
    assert set(d.missing_lsoas["missing_from"]) == {"IoD row"} and set(d.missing_lsoas["lad_code"]) == {STOCKTON}
    assert len(d.lsoas) == 425 - 5 and not d.lsoas.index.isin(lost).any()
    assert any(n.startswith("Partial coverage") and all(c in n for c in lost) for n in d.notes)
    # the IoD-only loader says the same
    d2 = load(source="files", imd=imd, population=POP25, lookup=LOOKUP25, partial=True)
    assert sorted(d2.missing_lsoas["lsoa_code"]) == sorted(lost)


def test_partial_run_writes_missing_lsoas_csv_and_manifest_notes(tmp_path):
    from geotarget.jobs.run import run

    imd, lost = _cut(tmp_path, 119)
    d = load(source="files", imd=imd, **FILES, partial=True)
    run(d, out=tmp_path / "out", make_map=False)
    table = pd.read_csv(tmp_path / "out" / "missing_lsoas.csv")
    assert sorted(table["lsoa_code"]) == sorted(lost) and list(table.columns) == [
        "lsoa_code", "lad_code", "missing_from", "file", "listed_in"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert any(n.startswith("Partial coverage") for n in manifest["notes"])
    assert "missing_lsoas.csv" in [o["path"] for o in manifest["outputs"]]


def test_population_and_lookup_gaps_with_partial(tmp_path):
    header, rows = _rows(POP25)
    pop = _write(tmp_path / "pop.csv", header, rows[2:])
    with pytest.raises(SchemaError, match=r"pop.csv: no population for 2 LSOAs in the IoD data.*`partial`"):
        load(source="files", imd=IMD25, **dict(FILES, population=pop))
    d = load(source="files", imd=IMD25, **dict(FILES, population=pop), partial=True)
    assert sorted(d.missing_lsoas["lsoa_code"]) == sorted(r[0] for r in rows[:2])
    assert set(d.missing_lsoas["missing_from"]) == {"population"}
    header, rows = _rows(LOOKUP25)
    lk = _write(tmp_path / "lk.csv", header, rows[3:])
    with pytest.raises(SchemaError, match=r"lk.csv: no lookup row for 3 LSOAs of the chosen councils"):
        load(source="files", imd=IMD25, **dict(FILES, lookup=lk))
    d = load(source="files", imd=IMD25, **dict(FILES, lookup=lk), partial=True)
    assert sorted(d.missing_lsoas["lsoa_code"]) == sorted(r[0] for r in rows[:3]) and len(d.lsoas) == 422


def test_complete_files_have_no_gaps():
    d = load(source="files", imd=IMD25, **FILES)
    assert d.missing_lsoas is None and len(d.lsoas) == 425 and not any("Partial" in n for n in d.notes)


def test_partial_is_declared_once():
    from geotarget.study.schema import SECTIONS

    assert SECTIONS["data"]["partial"].kind == "bool" and SECTIONS["data"]["partial"].default is False


# ----------------------------------------------------------------------------- custom areas (class 5)


def _areas(tmp_path, boxes):
    import geopandas as gpd
    from shapely.geometry import box

    from geotarget.io.areas import read_areas

    gpd.GeoDataFrame({"id": list(boxes)}, geometry=[box(*b) for b in boxes.values()], crs=27700).to_file(
        tmp_path / "a.gpkg")
    return read_areas(tmp_path / "a.gpkg", id_column="id")


def test_custom_area_without_lsoas_is_an_error_or_an_empty_row(tmp_path, sample25):
    from geotarget.analysis.aggregate import aggregate

    areas = _areas(tmp_path, {"A": (440000, 510000, 460000, 530000), "FAR": (0, 0, 1000, 1000)})
    with pytest.raises(SchemaError, match=r"a.gpkg: 1 of the 2 areas receive no LSOA .*: 'FAR'"):
        aggregate(sample25.lsoas, to="custom", areas=areas, vintage=2025, centroids=sample25.centroids)
    for method in ("best_fit", "apportion"):
        out = aggregate(sample25.lsoas, to="custom", areas=areas, vintage=2025, centroids=sample25.centroids,
                        method=method, partial=True)
        assert list(out.index) == ["A", "FAR"]
        assert out.loc["FAR", "n_lsoas"] == 0 and out.loc["FAR", "population"] == 0
        assert pd.isna(out.loc["FAR", "imd_average_score"]) and out.loc["A", "imd_rank_average_score"] == 1
        assert any("FAR" in n for n in out.attrs["notes"])


# ----------------------------------------------------------------------------- access options (class 10)


def test_thresholds_keys_are_the_categories():
    with pytest.raises(ParameterError, match=r"thresholds has key 'gps' but its keys are expected to be among"):
        AccessParams(thresholds={"gps": 800})
    assert AccessParams(thresholds={"gp": 1000}).thresholds["gp"] == 1000
    from geotarget.jobs.params import f_meta

    assert tuple(f_meta(AccessParams, "thresholds")["keys"]) == CATEGORIES
    assert set(DEFAULT_THRESHOLDS) <= set(CATEGORIES)


def test_check_thresholds_in_the_library():
    with pytest.raises(ParameterError, match=r"thresholds has category 'libary' but its categories are expected "
                                             r"to be among gp, pharmacy"):
        check_thresholds({"libary": 1600})
    with pytest.raises(SchemaError, match=r"thresholds must be distances of 0 m or more; got gp=nan"):
        check_thresholds({"gp": float("nan")})
    access = pd.DataFrame({"dist_gp_m": [100.0, 900.0]}, index=pd.Index(["a", "b"], name="lsoa_code"))
    lsoas = pd.DataFrame({"imd_decile": [1, 1], "pop_total": [10, 20]}, index=access.index)
    with pytest.raises(ParameterError, match="'gps'"):
        asset_deserts(access, lsoas, thresholds={"gps": 500})
    assert list(asset_deserts(access, lsoas, thresholds={"gp": 500})["lsoa_code"]) == ["b"]


def test_catchment_must_be_positive():
    with pytest.raises(ParameterError, match=r"catchment was 0 but is expected to be a number >= 1"):
        AccessParams(catchment=0)


def test_bundled_sample_loader_refuses_a_cut_file(tmp_path):
    """The sample loader is as strict as the files loader: a bundled IoD or population file missing rows fails."""
    import shutil

    from geotarget.data.sample import sample_data
    from geotarget.data.source import DataSource

    for d in ("data", "boundaries"):
        shutil.copytree(ROOT / d, tmp_path / d)
    header, rows = _rows(IMD25)
    _write(tmp_path / "data/imd/iod2025_lsoa21_tees_valley.csv", header, rows[5:])
    with pytest.raises(SchemaError, match=r"no IoD row for 5 LSOAs, e\.g\. " + re.escape(rows[0][0])):
        sample_data(DataSource(), root=tmp_path)
    _write(tmp_path / "data/imd/iod2025_lsoa21_tees_valley.csv", header, rows)
    header, rows = _rows(POP25)
    _write(tmp_path / "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv", header, rows[1:])
    with pytest.raises(SchemaError, match=r"no population for 1 LSOAs in the IoD data, e\.g\. E01011949"):
        sample_data(DataSource(), root=tmp_path)


def test_a_national_file_of_the_other_release_is_named(tmp_path):
    """32,844 LSOAs ranked 1 to 32,844 under an LSOA 2021 header: the IoD2019 national file, mislabelled."""
    n = IOD2019.n_lsoas
    rank = np.arange(1, n + 1)
    frame = pd.DataFrame({"lsoa21cd": [f"E01{i:06d}" for i in range(1, n + 1)],
                          "imd_score": np.round(np.linspace(90, 1, n), 3), "imd_rank": rank,
                          "imd_decile": expected_decile(rank, IOD2019)})
    frame.to_csv(tmp_path / "national.csv", index=False)
    with pytest.raises(SchemaError, match=r"national.csv: 32,844 LSOAs ranked 1 to 32,844: the IoD2019 national file "
                                          r"\(LSOA 2011\), but it is read as IoD2025"):
        read_imd(tmp_path / "national.csv")
    frame.rename(columns={"lsoa21cd": "lsoa11cd"}).to_csv(tmp_path / "right.csv", index=False)
    assert read_imd(tmp_path / "right.csv")[1] is IOD2019


def test_lsoa11_codes_under_a_2021_header(tmp_path):
    """A code the LSOA 2021 geography no longer has (bundled ONS LSOA 2011 -> 2021 lookups) is named."""
    from geotarget.io.imd import retired_lsoa11_codes

    retired = retired_lsoa11_codes()
    assert "E01011973" in retired and len(retired) == 15  # 14 in the Tees Valley, 1 in Trafford
    header, rows = _rows(IMD25)
    rows[6][0] = "E01011973"  # Stockton 2011 LSOA split in 2021
    with pytest.raises(SchemaError, match=r"imd.csv, column 'lsoa21cd': an LSOA 2011 code that LSOA 2021 does not "
                                          r"have \(split or merged in 2021\) — row 8: 'E01011973'"):
        read_imd(_write(tmp_path / "imd.csv", header, rows))


# ----------------------------------------------------------------------------- property-based: any text

_CELL = st.one_of(st.text(alphabet="0123456789,.-+eE infaINF", max_size=12), st.text(max_size=8),
                  st.integers(-10**9, 10**9).map(lambda i: f"{i:,}"),
                  st.floats(allow_nan=True, allow_infinity=True).map(str))


@settings(max_examples=300, deadline=None)
@given(st.lists(_CELL, min_size=1, max_size=8))
def test_numbers_are_finite_or_named(cells):
    """Whatever the cells, a number read is finite and matches the text; anything else is one named error."""
    s = pd.Series(cells)
    got = parse_numbers(s, thousands=True)
    assert np.isfinite(got.dropna()).all()
    for text, v in zip(cells, got, strict=True):
        if pd.notna(v):  # read: the text was a plain number, or grouped exactly as 1,234,567
            t = text.strip()
            assert "," not in t or re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", t)
            assert v == float(t.replace(",", ""))
    try:
        strict = read_numbers(s, source="f.csv", column="c")
    except SchemaError as e:
        msg = str(e)
        assert msg.startswith("f.csv, column 'c': ") and "\n" not in msg and "; expected " in msg
        assert got.isna().any()
    else:
        assert strict.notna().all() and strict.equals(got)


def test_a_trailing_separator_is_not_a_value(tmp_path):
    (tmp_path / "t.csv").write_text("a,b\n1,2,\n3,4,\n")
    assert read_text_table(tmp_path / "t.csv").to_dict("list") == {"a": ["1", "3"], "b": ["2", "4"]}
