"""read_imd / read_population: official File 7 layouts, the canonical layout, and every error message."""

from __future__ import annotations

import pandas as pd
import pytest

from geotarget import SchemaError, read_imd, read_population
from geotarget.io.imd import canonical_name

from .conftest import FIXTURES, ROOT

SAMPLE25 = ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv"
SAMPLE19 = ROOT / "data/imd/iod2019_lsoa11_tees_valley.csv"


def test_official_file7_iod2025_parses_every_column():
    imd, v = read_imd(FIXTURES / "iod2025_file7_official.csv")
    assert v.year == 2025 and "vintage" not in imd.attrs  # the vintage is returned beside the frame
    assert imd.index.name == "lsoa_code"
    assert list(imd.index) == ["E01000001", "E01000002", "E01000003", "E01000005", "E01000006"]
    row = imd.loc["E01000001"]
    # values as published in File 7 for City of London 001A
    assert row["imd_score"] == pytest.approx(8.742)
    assert row["imd_rank"] == 26525 and row["imd_decile"] == 8
    assert row["living_env_rank"] == 244 and row["living_env_decile"] == 1
    assert row["idaci_score"] == pytest.approx(0.039) and row["idaopi_rank"] == 33721
    # the published header is cut to "... 10% of LSO": still recognised
    assert row["cyp_decile"] == 10 and row["outdoors_score"] == pytest.approx(1.414)
    assert row["pop_total"] == 1795 and row["pop_working_age"] == 1248
    assert imd["imd_rank"].dtype == "int64"
    assert imd.loc["E01000006", "lad_name"] == "Barking and Dagenham"


def test_official_file7_iod2019_matches_canonical_sample():
    official, v = read_imd(FIXTURES / "iod2019_file7_official.csv")
    assert v.year == 2019
    # headers with Excel line breaks ("Education, Skills and\nTraining Score") are normalised
    assert "education_score" in official.columns
    assert official.loc["E01011949", "pop_working_age"] == 1134
    canonical, _ = read_imd(SAMPLE19)
    cols = [c for c in official.columns if c in canonical.columns and not c.startswith("pop_")]
    pd.testing.assert_frame_equal(official[cols], canonical.loc[official.index, cols], check_dtype=False)


def test_canonical_sample_reads_both_vintages():
    (a, va), (b, vb) = read_imd(SAMPLE25), read_imd(SAMPLE19)
    assert (va.year, len(a)) == (2025, 425)
    assert (vb.year, len(b)) == (2019, 417)
    assert "health_score" in a.columns and "health_score" not in b.columns


@pytest.mark.parametrize("header, expected", [
    ("Index of Multiple Deprivation (IMD) Score", "imd_score"),
    ("Income Deprivation Affecting Children Index (IDACI) Score (rate)", "idaci_score"),
    ("Income Score (rate)", "income_score"),
    ("Barriers to Housing and Services Decile (where 1 is most deprived 10% of LSOAs)", "barriers_decile"),
    ("Geographical Barriers Sub-domain Rank (where 1 is most deprived)", "geog_barriers_rank"),
    ("Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)",
     "pop_working_age"),
    ("pop_total_mid2022", "pop_total"),
    ("LSOA21CD", "lsoa_code"),
    ("Unrelated column", None),
])
def test_canonical_name(header, expected):
    assert canonical_name(header)[0] == expected


def _write(tmp_path, text, name="imd.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_text(text, encoding=encoding)
    return p


HEAD = "lsoa21cd,lsoa21nm,imd_score,imd_rank,imd_decile\n"


def test_error_bad_code_names_file_column_row_value(tmp_path):
    p = _write(tmp_path, HEAD + "E01011949,A,40.2,4520,2\nE0101234,B,10.0,20000,6\n")
    with pytest.raises(SchemaError, match=r"imd\.csv, column 'lsoa21cd'.*row 3: 'E0101234'.*E01 followed by 6 digits"):
        read_imd(p)


def test_error_duplicate_code_names_rows(tmp_path):
    p = _write(tmp_path, HEAD + "E01011949,A,40.2,4520,2\nE01011950,B,1,2,1\nE01011949,A,40.2,4520,2\n")
    with pytest.raises(SchemaError, match=r"'E01011949' appears 2 times \(rows 2, 4\)"):
        read_imd(p)


def test_error_missing_column_suggests_official_header(tmp_path):
    p = _write(tmp_path, "lsoa21cd,imd_score,imd_rank\nE01011949,40.2,4520\n")
    with pytest.raises(SchemaError, match=r"missing column\(s\) imd_decile.*Index of Multiple Deprivation \(IMD\) "
                                          r"Decile"):
        read_imd(p)


def test_error_no_lsoa_column(tmp_path):
    p = _write(tmp_path, "code,imd_score,imd_rank,imd_decile\nE01011949,40.2,4520,2\n")
    with pytest.raises(SchemaError, match="no LSOA code column"):
        read_imd(p)


def test_error_non_numeric_value(tmp_path):
    p = _write(tmp_path, HEAD + "E01011949,A,40.2,4520,2\nE01011950,B,high,59,1\n")
    with pytest.raises(SchemaError, match=r"column 'imd_score': not a number — row 3: 'high'"):
        read_imd(p)


def test_error_blank_value(tmp_path):
    p = _write(tmp_path, HEAD + "E01011949,A,40.2,,2\n")
    with pytest.raises(SchemaError, match=r"column 'imd_rank': missing value — row 2"):
        read_imd(p)


def test_error_decile_out_of_range(tmp_path):
    p = _write(tmp_path, HEAD + "E01011949,A,40.2,4520,11\n")
    with pytest.raises(SchemaError, match=r"decile out of range — row 2: '11'.*1 \(most deprived 10%\) to 10"):
        read_imd(p)


def test_error_rank_out_of_range_uses_vintage_n(tmp_path):
    p = _write(tmp_path, HEAD + "E01011949,A,40.2,33756,10\n")
    with pytest.raises(SchemaError, match=r"rank out of range — row 2: '33756'.*to 33,755"):
        read_imd(p)


def test_error_vintage_unknown(tmp_path):
    p = _write(tmp_path, "lsoa_code,imd_score,imd_rank,imd_decile\nE01011949,40.2,4520,2\n")
    with pytest.raises(SchemaError, match="pass vintage=2019 or vintage=2025"):
        read_imd(p)
    assert read_imd(p, vintage=2019)[1].year == 2019


def test_error_vintage_contradicts_header(tmp_path):
    p = _write(tmp_path, HEAD + "E01011949,A,40.2,4520,2\n")
    with pytest.raises(SchemaError, match="vintage=IoD2019 was given but .* LSOA 2021"):
        read_imd(p, vintage=2019)


def test_error_two_columns_same_meaning(tmp_path):
    p = _write(tmp_path, "lsoa21cd,LSOA code (2021),imd_score,imd_rank,imd_decile\nE01011949,E01011949,1,2,1\n")
    with pytest.raises(SchemaError, match="both hold 'lsoa_code'"):
        read_imd(p)


def test_windows_1252_and_bom_are_read(tmp_path):
    p = _write(tmp_path, HEAD + "E01011949,Café 009A,40.2,4520,2\n", encoding="cp1252")
    assert read_imd(p)[0].loc["E01011949", "lsoa_name"] == "Café 009A"
    q = _write(tmp_path, "\ufeff" + HEAD + "E01011949,A,40.2,4520,2\n", name="bom.csv")
    assert read_imd(q)[0].index[0] == "E01011949"


def test_thousands_separators_are_numbers(tmp_path):
    p = _write(tmp_path, HEAD + 'E01011949,A,40.2,"4,520",2\n')
    assert read_imd(p)[0].loc["E01011949", "imd_rank"] == 4520


def test_missing_file_error(tmp_path):
    from geotarget import DataNotFoundError

    with pytest.raises(DataNotFoundError, match="nope.csv: IoD file not found"):
        read_imd(tmp_path / "nope.csv")


def test_population_reader_and_error(tmp_path):
    pop = read_population(ROOT / "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv")
    assert "vintage" not in pop.attrs and len(pop) == 425
    assert set(pop.columns) == {"pop_total", "pop_0_15", "pop_60plus", "pop_working_age"}
    p = _write(tmp_path, "lsoa21cd,pop_total_mid2022\nE01011949,-3\n")
    with pytest.raises(SchemaError, match=r"not a population count — row 2: '-3'"):
        read_population(p)


def test_england_iod2025_national_deciles(shared_data):
    imd, v = read_imd(shared_data / "imd/iod2025_lsoa21_england.csv.gz")
    assert len(imd) == 33_755 and v.year == 2025
    # national deciles hold a tenth of England's LSOAs each
    counts = imd["imd_decile"].value_counts()
    assert counts.min() >= 3375 and counts.max() <= 3376
    assert sorted(imd["imd_rank"]) == list(range(1, 33_756))
    # the bundled sample is exactly the Tees rows of the national file
    sample, _ = read_imd(SAMPLE25)
    cols = [c for c in imd.columns if c in sample.columns]
    pd.testing.assert_frame_equal(sample[cols], imd.loc[sample.index, cols], check_dtype=False)
