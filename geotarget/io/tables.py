"""Plumbing for tables as people export them: encodings, separators, numbers, free text."""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import io
import os
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from geotarget.core.crs import BNG, WGS84
from geotarget.core.errors import DataNotFoundError, SchemaError


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


def _read_text(path: Path) -> str:
    """Return the text of ``path`` (gunzipped if gzip, decoded); a file that cannot be read is a one-line error.

    Raises
    ------
    DataNotFoundError
        No such file.
    SchemaError
        A folder, an unreadable file, a truncated or corrupt gzip stream, or binary data that is not text.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataNotFoundError(f"{path}: file not found; check the path") from None
    except IsADirectoryError:
        raise SchemaError(f"{path}: is a folder; expected a CSV file") from None
    except OSError as e:
        raise SchemaError(f"{path}: could not be read ({e.strerror or e}); check the file and its "
                          "permissions") from None
    if data[:2] == b"\x1f\x8b":  # gzip, whatever the suffix
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError; a cut stream is an EOFError
            raise SchemaError(f"{path}: the gzip file is truncated or corrupt ({e or type(e).__name__}); "
                              "download or copy it again") from None
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SchemaError(f"{path}: holds binary data, not text; expected a CSV file "
                          "(a spreadsheet or zip needs exporting or unpacking to CSV first)")
    try:
        return _decode(data)
    except UnicodeDecodeError as e:
        raise SchemaError(f"{path}: is not readable text ({e.reason} at byte {e.start:,}); expected a CSV file") \
            from None


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
        An empty or header-only file (unless ``nrows`` is given), a truncated or corrupt gzip file,
        binary data, or one pandas cannot parse (naming the file and pandas' reason, which gives the line).
    DataNotFoundError
        No such file.
    """
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise SchemaError(f"{path}: the file is empty; expected a header row and data")
    sample = "\n".join(text.splitlines()[:20])
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, header=header, nrows=nrows)
    except (pd.errors.ParserError, csv.Error) as e:
        raise SchemaError(f"{path}: not a readable CSV file ({e})") from None
    except pd.errors.EmptyDataError:
        raise SchemaError(f"{path}: the file is empty; expected a header row and data") from None
    if header is not None:
        frame.columns = [str(c).strip() for c in frame.columns]
        if frame.empty and nrows is None:  # a header-only file: an export or download cut after its first line
            raise SchemaError(f"{path}: the file has a header row but no data rows; expected one row per record "
                              "(was the export or download cut short?)")
    return frame


def parse_numbers(values: pd.Series, *, thousands: bool = False) -> pd.Series:
    """Convert text cells to numbers; blank or unreadable cells become NaN.

    ``thousands=True`` drops commas as thousands separators (``"1,234"``); otherwise a lone decimal
    comma (``"54,57"``, from a European locale) is read as a decimal point.
    """
    text = values.astype("string").str.strip().fillna("")
    if thousands:
        text = text.str.replace(",", "", regex=False)
    else:  # a decimal comma ("54,57") in coordinates exported with a European locale
        text = text.where(~text.str.fullmatch(r"-?\d+,\d+"), text.str.replace(",", ".", regex=False))
    return pd.to_numeric(text, errors="coerce")


@functools.lru_cache(maxsize=1)
def _transformer(src: str, dst: str):
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def to_bng_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transform longitude/latitude (WGS84) to easting/northing (EPSG:27700)."""
    return _transformer(WGS84, BNG).transform(lon, lat)
