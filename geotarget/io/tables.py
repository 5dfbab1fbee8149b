"""Plumbing for tables as people export them: encodings, separators, numbers, free text."""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from geotarget.core.crs import BNG, WGS84
from geotarget.core.errors import SchemaError


def normalise_text(value: object) -> str:
    """Lower case, ``&`` -> ``and``, punctuation and ``_`` to spaces, single spaces.

    >>> normalise_text("  GP_Practice & Surgery!")
    'gp practice and surgery'
    """
    text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)
    text = text.lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def _decode(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    for enc in ("utf-8", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            pass
    return raw.decode("latin-1")


def read_text_table(path: str | os.PathLike, *, header: int | None = 0, nrows: int | None = None) -> pd.DataFrame:
    """Read a delimited text table (optionally gzipped) with every cell as text: geotarget's one CSV reader.

    Every text input (IoD files, lookups, population, indicator tables, centroids, regions,
    postcodes, assets, sites) is read here, so each accepts the same files: a UTF-8 or UTF-16 byte
    order mark, UTF-8, else Windows-1252 (Excel's "CSV" on Windows), else Latin-1; comma,
    semicolon, tab or pipe separated (sniffed from the first 20 lines). Cells are kept as text
    (blank cells as ``""``) so that validation can report a value exactly as it appears in the
    file; header names are stripped of surrounding spaces. ``nrows`` reads only the first rows
    (``nrows=0``: the header alone).

    Raises
    ------
    SchemaError
        An empty file, or one pandas cannot parse (naming the file and pandas' reason, which gives
        the line).
    """
    path = Path(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip, whatever the suffix
        data = gzip.decompress(data)
    text = _decode(data)
    if not text.strip():
        raise SchemaError(f"{path}: the file is empty; expected a header row and data")
    sample = "\n".join(text.splitlines()[:20])
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    frame = _parse(path, text, sep, header, nrows, index_col=None)
    if header is not None:
        if not isinstance(frame.index, pd.RangeIndex):  # pandas took the first column(s) as an index: ragged rows
            error = _ragged(path, text, sep)
            if error is not None:
                raise error
            frame = _parse(path, text, sep, header, nrows, index_col=False)  # only blank values past the header
        frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _parse(path: Path, text: str, sep: str, header, nrows, *, index_col) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():  # index_col=False drops blank trailing values, checked by _ragged
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, header=header,
                               nrows=nrows, index_col=index_col)
    except pd.errors.ParserError as e:
        if "Expected" in str(e) and "fields" in str(e):  # a row with more values than the header
            raise (_ragged(path, text, sep) or SchemaError(f"{path}: not a readable CSV file")) from None
        raise SchemaError(f"{path}: not a readable CSV file ({' '.join(str(e).split())})") from None
    except pd.errors.EmptyDataError:
        raise SchemaError(f"{path}: the file is empty; expected a header row and data") from None


def _ragged(path: Path, text: str, sep: str) -> SchemaError | None:
    """Return the error for a row with more values than the header has columns (naming the first such row).

    ``None`` if every value past the header's columns is blank (a trailing separator, as some exports write).
    """
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    width = len(next(rows))
    for n, row in enumerate(rows, start=2):
        if len(row) > width and any(v.strip() for v in row[width:]):
            return SchemaError(
                f"{path}, row {n:,}: {len(row)} values but the header has {width} columns; expected one value per "
                f"column (a value holding the separator {sep!r} must be quoted, and a number written without "
                "one: 38.5, not 38,5)")
    return None


#: A plain number: ``12``, ``-3.5``, ``.5``, ``1e3`` (no separators).
_PLAIN = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
#: Thousands separators only in a valid ``1,234,567`` pattern (optionally with decimals: ``1,234.5``).
_GROUPED = r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?"
#: A decimal comma (``54,57``) as exported with a European locale.
_DECIMAL_COMMA = r"[-+]?\d+,\d+"


def _number_cells(values: pd.Series, *, thousands: bool, decimal_comma: bool) -> tuple[pd.Series, pd.Series]:
    """Return ``(numbers, problem)``: NaN where a cell is not a number, and for each such cell why not."""
    text = values.astype("string").str.strip().fillna("")
    plain = text.str.fullmatch(_PLAIN)
    grouped = text.str.fullmatch(_GROUPED) if thousands else pd.Series(False, index=text.index)
    comma = text.str.fullmatch(_DECIMAL_COMMA) & ~grouped
    clean = text.where(~grouped, text.str.replace(",", "", regex=False))
    if decimal_comma:
        clean = clean.where(~comma, text.str.replace(",", ".", regex=False))
    ok = plain | grouped | (comma if decimal_comma else False)
    with np.errstate(over="ignore"):
        numbers = pd.to_numeric(clean.where(ok, None), errors="coerce").astype("float64")
    finite = np.isfinite(numbers)
    problem = pd.Series("", index=text.index, dtype=object)
    problem[text == ""] = "missing value"
    problem[(text != "") & ~ok] = "not a number"
    if not decimal_comma:
        problem[comma] = "a decimal comma (ambiguous: a decimal point or a thousands separator?)"
    problem[(ok & ~finite & (text != "")) | text.str.fullmatch(r"(?i)[-+]?(?:inf|infinity|nan)")] = \
        "not a finite number"
    return numbers.where(finite), problem


def parse_numbers(values: pd.Series, *, thousands: bool = False) -> pd.Series:
    """Convert text cells to numbers; blank or unreadable cells become NaN.

    Numbers are read strictly: infinite values (``inf``, ``1e400``) and anything but a plain number
    are NaN. ``thousands=True`` accepts thousands separators only in a valid ``1,234,567``
    pattern (``"38,5"`` is then NaN, never 385); otherwise a lone decimal comma (``"54,57"``, from
    a European locale, e.g. latitudes) is read as a decimal point.
    """
    return _number_cells(values, thousands=thousands, decimal_comma=not thousands)[0]


def row_number(i: int) -> int:
    """File row number of data row ``i`` (0-based), as in a spreadsheet: the header is row 1."""
    return int(i) + 2


def cells_error(source, column: str, cells: pd.Series, what: str, expected: str) -> SchemaError:
    """Return a :class:`SchemaError` naming the file, column, first rows (data rows, 0-based) and values."""
    shown = ", ".join(f"row {row_number(i):,}: {v!r}" for i, v in list(cells.items())[:5])
    more = f" (and {len(cells) - 5:,} more)" if len(cells) > 5 else ""
    return SchemaError(f"{source}, column {column!r}: {what} — {shown}{more}; expected {expected}")


def read_numbers(values: pd.Series, *, source, column: str, thousands: bool = True) -> pd.Series:
    """Convert a column of text cells (a frame as :func:`read_text_table` returns it) to numbers, strictly.

    Every cell must hold a finite number: plain (``38.5``, ``-1.2e3``) or, with ``thousands``,
    grouped in a valid ``1,234,567`` pattern. A blank cell, text, ``inf``/``nan``, an overflowing
    ``1e400`` or a decimal comma (``38,5``: 38.5 or 385?) raises a :class:`SchemaError` naming the
    file, the row (the header is row 1), the column and the value.
    """
    numbers, problem = _number_cells(values, thousands=thousands, decimal_comma=False)
    text = values.astype("string").str.strip().fillna("")
    expected = {
        "missing value": "a number in every row",
        "not a number": "a number such as 38.5" + (" or 1,234" if thousands else ""),
        "not a finite number": "a finite number",
    }
    for what in ("missing value", "not a finite number", "not a number"):
        bad = problem == what
        if bad.any():
            raise cells_error(source, column, text[bad], what, expected[what])
    bad = problem != ""
    if bad.any():
        raise cells_error(source, column, text[bad], "a decimal comma (is it a decimal point or a thousands "
                          "separator?)", "a decimal point (38.5); a thousands separator only as in 1,234,567")
    return numbers


@functools.lru_cache(maxsize=1)
def _transformer(src: str, dst: str):
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def to_bng_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transform longitude/latitude (WGS84) to easting/northing (EPSG:27700)."""
    return _transformer(WGS84, BNG).transform(lon, lat)
