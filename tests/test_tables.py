"""The one text-table reader: encodings, byte order marks, separators, gzip, and its errors."""

from __future__ import annotations

import gzip

import pytest

from geotarget import SchemaError
from geotarget.io.lookups import read_lsoa_lookup
from geotarget.io.tables import read_text_table

ROWS = "LSOA21CD,WD24CD,WD24NM,LAD24CD\nE01011949,E05010000,Stockton Town Centre,E06000004\n"


@pytest.mark.parametrize("encoding,sep", [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", "\t"), ("utf-16", "|")])
def test_encodings_and_separators(tmp_path, encoding, sep):
    p = tmp_path / "t.csv"
    p.write_bytes(("code , name\nE01000001" + sep + "Bryn’s Wood & Fields\n").replace(",", sep).encode(encoding))
    t = read_text_table(p)
    assert list(t.columns) == ["code", "name"] and t.iloc[0].tolist() == ["E01000001", "Bryn’s Wood & Fields"]


def test_gzip_header_only_and_blank_cells(tmp_path):
    p = tmp_path / "t.dat"  # gzip is recognised by its content, not the suffix
    p.write_bytes(gzip.compress(b"a,b\n1,\n"))
    assert read_text_table(p).iloc[0].tolist() == ["1", ""]
    assert list(read_text_table(p, nrows=0).columns) == ["a", "b"] and read_text_table(p, nrows=0).empty


def test_empty_and_unparseable_files(tmp_path):
    (tmp_path / "e.csv").write_text("  \n")
    with pytest.raises(SchemaError, match=r"e.csv: the file is empty; expected a header row and data"):
        read_text_table(tmp_path / "e.csv")
    (tmp_path / "bad.csv").write_text('a,b\n1,"unterminated\n')
    with pytest.raises(SchemaError, match=r"bad.csv: not a readable CSV file"):
        read_text_table(tmp_path / "bad.csv")


def test_every_reader_gets_the_same_files(tmp_path):
    """A lookup saved from Excel with a European locale (semicolons, Windows-1252) reads like the original."""
    p = tmp_path / "lookup.csv"
    p.write_bytes(ROWS.replace(",", ";").replace("Town Centre", "Town Centre – Café").encode("cp1252"))
    lk = read_lsoa_lookup(p)
    assert lk.loc["E01011949", "ward_code"] == "E05010000"
    assert lk.loc["E01011949", "ward_name"] == "Stockton Town Centre – Café"
