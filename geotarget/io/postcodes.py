"""UK postcodes: normalise them, and read postcode lookups (ONSPD, Code-Point Open, bundled)."""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import logging
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import geopandas as gpd
import numpy as np
import pandas as pd

from geotarget.core.crs import BNG
from geotarget.core.errors import DataNotFoundError, SchemaError
from geotarget.io.tables import normalise_text, parse_numbers, read_text_table, to_bng_xy

log = logging.getLogger(__name__)

_POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")
#: Header names recognised in postcode lookups (compared after :func:`normalise_text`).
HEADERS = {
    "postcode": ["postcode", "post code", "postal code", "pcds", "pcd", "pcd7", "pcd8", "pcd2"],
    "x": ["easting", "eastings", "bng e", "x", "oseast1m", "east1m"],
    "y": ["northing", "northings", "bng n", "y", "osnrth1m", "north1m"],
    "lat": ["latitude", "lat"],
    "lon": ["longitude", "lon", "long", "lng"],
}


def normalise_postcode(value: object) -> str | None:
    """Return a UK postcode in the standard form (``"TS18 1HU"``), or ``None`` if it cannot be one.

    >>> normalise_postcode(" ts181hu"), normalise_postcode("TS18  1HU"), normalise_postcode("M32 OXZ")
    ('TS18 1HU', 'TS18 1HU', None)
    """
    text = re.sub(r"[^A-Z0-9]", "", str(value).upper()) if value is not None else ""
    if not 5 <= len(text) <= 7:
        return None
    pc = f"{text[:-3]} {text[-3:]}"
    return pc if _POSTCODE_RE.match(pc) else None


def normalise_postcodes(values: pd.Series) -> pd.Series:
    """:func:`normalise_postcode` for a whole column at once (vectorised); ``None`` where invalid."""
    text = values.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True).fillna("")
    pc = text.str[:-3] + " " + text.str[-3:]
    ok = text.str.len().between(5, 7) & pc.str.fullmatch(_POSTCODE_RE.pattern[1:-1]).fillna(False)
    return pc.astype(object).where(ok.to_numpy(bool), None)


def postcode_candidates(value: str) -> list[str]:
    """Plausible corrections of a mistyped postcode (letter O / digit 0, I / 1, S / 5)."""
    text = re.sub(r"[^A-Z0-9]", "", value.upper())
    if not 5 <= len(text) <= 7:
        return []
    out, inward = [], text[-3:]
    swaps = {"O": "0", "0": "O", "I": "1", "1": "I", "S": "5", "5": "S", "L": "1"}
    for i, ch in enumerate(text):
        if ch in swaps:
            fixed = normalise_postcode(text[:i] + swaps[ch] + text[i + 1:])
            if fixed and fixed != inward:
                out.append(fixed)
    return out


_CODEPOINT_COLUMNS = ["postcode", "positional_quality", "easting", "northing", "country_code", "nhs_regional_ha",
                      "nhs_ha", "admin_county_code", "admin_district_code", "admin_ward_code"]
#: The 10 columns of Code-Point Open's CSVs (no header row), by canonical name.
_CODEPOINT_KEYS = ["postcode", "positional_quality", "easting", "northing", "country_code", "nhs_regional_ha",
                   "nhs_ha", "admin_county_code", "lad_code", "ward_code"]
_LOCATION_HEADERS = {"postcode": HEADERS["postcode"], "easting": HEADERS["x"], "northing": HEADERS["y"]}


def read_postcodes(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read a postcode lookup indexed by normalised ``postcode`` with ``easting, northing`` (EPSG:27700).

    Accepts the bundled files (``None``: Tees Valley and Trafford together), an ONS Postcode
    Directory CSV (``pcds``/``pcd``, ``oseast1m``, ``osnrth1m``; terminated postcodes are kept,
    as old asset lists use them), OS Code-Point Open (the zip, its CSV folder or a CSV, with or
    without the header row), or any CSV with postcode and easting/northing or latitude/longitude
    columns. Rows without a grid reference or without a valid postcode are left out and counted
    (``attrs["report"]``, a :class:`ReadReport`, and the log). Files with a postcode and an
    easting/northing column are read by pandas' C parser (the national Code-Point Open file,
    1.5 million rows, in about two seconds).
    """
    if path is None:
        from geotarget.core.places import PLACES, sample_path

        return _combine([read_postcodes(sample_path(p.postcodes)) for p in PLACES.values()])
    parts = _csv_parts(path, "postcode lookup")
    report = _Report(os.fspath(path))
    frames = []
    for part in parts:
        pos, has_header, sep, enc = _locate(part, _LOCATION_HEADERS, [], _CODEPOINT_KEYS, "a postcode lookup")
        f = None
        if {"postcode", "easting", "northing"} <= set(pos):
            try:
                f = _read_part(part, pos, has_header, sep, enc, numeric=("easting", "northing"))
            except _NotNumeric:
                if "!" in part.label:  # a zip member: no slower reader to fall back on
                    raise
        if f is None:  # latitude/longitude, numbers with thousands separators: the text reader
            f = _read_located_text(Path(part.label))
        report.rows += len(f)
        frames.append(f)
    f, pcs, rows = _located(frames, report)
    out = _indexed(f, pcs, rows, ["easting", "northing"])
    return _finish(out, report, "postcodes with a grid reference")


def _read_located_text(p: Path) -> pd.DataFrame:
    """``postcode, easting, northing`` (text postcodes, BNG numbers) from any postcode CSV, by the text reader."""
    raw = read_text_table(p)
    first = str(raw.columns[0])
    if normalise_postcode(first) and normalise_text(first) not in HEADERS["postcode"]:  # headerless Code-Point Open
        raw = read_text_table(p, header=None)
        raw.columns = _CODEPOINT_COLUMNS[: len(raw.columns)] + [f"col{i}" for i in range(10, len(raw.columns))]
    cols = {normalise_text(c): c for c in raw.columns}
    pick = lambda kind: next((cols[n] for n in HEADERS[kind] if n in cols), None)  # noqa: E731
    pc_col, x_col, y_col, lat_col, lon_col = (pick(k) for k in ("postcode", "x", "y", "lat", "lon"))
    if pc_col is None or not ((x_col and y_col) or (lat_col and lon_col)):
        raise SchemaError(f"{p}: not a postcode lookup; expected a postcode column (postcode, pcds) and easting/"
                          f"northing (or oseast1m/osnrth1m, or latitude/longitude). Columns found: {list(raw.columns)}")
    if x_col and y_col:
        x, y = parse_numbers(raw[x_col], thousands=True), parse_numbers(raw[y_col], thousands=True)
    else:
        lat, lon = parse_numbers(raw[lat_col]), parse_numbers(raw[lon_col])
        ok = lat.between(49, 62) & lon.between(-9, 3)
        x, y = pd.Series(np.nan, index=raw.index), pd.Series(np.nan, index=raw.index)
        if ok.any():
            px, py = to_bng_xy(lon[ok].to_numpy(), lat[ok].to_numpy())
            x[ok], y[ok] = px, py
    return pd.DataFrame({"postcode": raw[pc_col].to_numpy(), "easting": x.to_numpy(float),
                         "northing": y.to_numpy(float)})


def read_postcode_points(path: str | os.PathLike, *, lsoa_year: int, residential: bool = True,
                         located_only: bool = True) -> gpd.GeoDataFrame:
    """Read postcodes with their LSOA as points (EPSG:27700): geotarget's one postcode-points loader.

    ``path`` is a postcode file with ``postcode``, ``easting``, ``northing`` and an LSOA code column
    of ``lsoa_year`` (``lsoa21cd``/``lsoa11cd``, as in the ONS postcode lookup) and, optionally,
    ``usertype`` (0 = small user). With ``residential=True`` only small-user postcodes are kept
    (all of them when the file has no user type), each of weight 1: population points for
    apportioning LSOAs. Postcodes without an LSOA code are left out, or with ``located_only=False``
    kept with ``lsoa_code`` None (the caller places them, e.g. by point in polygon).
    """
    p = Path(path)
    raw = read_text_table(p)
    code = f"lsoa{lsoa_year % 100}cd"
    needed = ["postcode", "easting", "northing", *([code] if located_only else [])]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise SchemaError(f"{p}: no column(s) {missing} for postcode points of LSOA {lsoa_year}; columns found: "
                          f"{list(raw.columns)}")
    codes = raw[code].str.strip() if code in raw.columns else pd.Series("", index=raw.index)
    keep = codes != "" if located_only else pd.Series(True, index=raw.index)
    if residential and "usertype" in raw.columns:
        keep &= raw["usertype"].str.strip() == "0"
    rows = raw[keep]
    x, y = parse_numbers(rows["easting"]), parse_numbers(rows["northing"])
    lsoa = codes[keep].where(codes[keep] != "", None).to_numpy(dtype=object)
    return gpd.GeoDataFrame({"postcode": rows["postcode"].to_numpy(), "lsoa_code": lsoa, "weight": 1.0},
                            geometry=gpd.points_from_xy(x, y), crs=BNG)


# ----------------------------------------------------------------------------- national files, read fast

#: Header names of OS Code-Point Open and of the compact layouts (compared after :func:`normalise_text`).
CODEPOINT_HEADERS = {
    "postcode": HEADERS["postcode"],
    "positional_quality": ["positional quality indicator", "positional quality", "pqi", "quality"],
    "easting": HEADERS["x"],
    "northing": HEADERS["y"],
    "country_code": ["country code", "ctry", "ctry25cd", "country"],
    "lad_code": ["admin district code", "district code", "lad code", "laua", "oslaua"],
    "ward_code": ["admin ward code", "ward code", "osward"],
}
#: Header names of the ONS postcode lookups (PCD_OA_LSOA_MSOA_LAD, ONSPD, NSPL; any case).
LOOKUP_HEADERS = {
    "postcode": ["pcds", "pcd", "pcd7", "pcd8", "pcd2", "postcode"],
    "doterm": ["doterm"],
    "usertype": ["usertype", "usrtypind"],  # usrtypind: ONSPD/NSPL from 2025
    "lsoa11_code": ["lsoa11cd", "lsoa11"],
    "lsoa21_code": ["lsoa21cd", "lsoa21"],
    "lad_code": ["ladcd", "laua", "lad25cd", "lad24cd", "lad23cd", "lad22cd", "lad21cd", "lad20cd", "lad19cd"],
    "country_code": ["ctry", "ctry25cd", "ctry12cd"],
}
_ENGLAND = "E92000001"
_EXAMPLES = 5


@dataclass(frozen=True)
class ReadReport:
    """What a postcode reader read and what it left out, with examples (``frame.attrs["report"]``).

    ``left_out`` maps each reason ("malformed postcode", "outside England", "no grid reference",
    "repeated postcode") to its count; ``examples`` to a few of the values.
    """

    source: str
    rows: int
    kept: int
    left_out: dict[str, int] = field(default_factory=dict)
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: ``"x.csv: 1,489,907 rows, 1,489,121 kept; 786 no grid reference (e.g. AB1 0AA)"``."""
        parts = [f"{n:,} {why} (e.g. {', '.join(self.examples.get(why, ()))})" for why, n in self.left_out.items()
                 if n]
        return f"{self.source}: {self.rows:,} rows, {self.kept:,} kept" + ("; " + "; ".join(parts) if parts else "")


class _Report:
    """Collects counts and examples while reading (becomes a :class:`ReadReport`)."""

    def __init__(self, source: str):
        self.source, self.rows, self.left_out, self.examples = source, 0, {}, {}

    def drop(self, why: str, values: pd.Series) -> None:
        if len(values):
            self.left_out[why] = self.left_out.get(why, 0) + len(values)
            have = self.examples.setdefault(why, [])
            have.extend(str(v) for v in values.iloc[: _EXAMPLES - len(have)])

    def done(self, kept: int) -> ReadReport:
        rep = ReadReport(self.source, self.rows, kept, dict(self.left_out),
                         {k: tuple(v) for k, v in self.examples.items()})
        if any(rep.left_out.values()):
            log.warning("%s", rep.summary())
        else:
            log.info("%s", rep.summary())
        return rep


@dataclass(frozen=True)
class _Part:
    """One CSV to read: a file, a gzipped file or a zip member."""

    label: str
    open: Callable[[], IO[bytes]]


def _csv_parts(path: str | os.PathLike, what: str) -> list[_Part]:
    """Return the CSVs of ``path``: a file (maybe gzipped), a folder of them, or a zip (Code-Point's Data/CSV)."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f.relative_to(p).as_posix() for f in p.rglob("*")
                       if f.is_file() and re.search(r"\.csv(\.gz)?$", f.name, re.IGNORECASE))
        if not files:
            raise DataNotFoundError(f"{p}: no CSV files in this postcode folder")
        return [_file_part(p / f) for f in _data_csvs(files) or files]
    if not p.is_file():
        raise DataNotFoundError(f"{p}: {what} file not found")
    if zipfile.is_zipfile(p):
        try:
            with zipfile.ZipFile(p) as z:
                names = [n for n in z.namelist() if n.lower().endswith(".csv")]
        except zipfile.BadZipFile as e:
            raise SchemaError(f"{p}: not a readable zip file ({e})") from None
        data = _data_csvs(names)
        if not data:
            raise SchemaError(f"{p}: no CSV files in this zip; expected {what} CSVs (e.g. Code-Point Open's "
                              "Data/CSV/*.csv)")
        return [_Part(f"{p}!{n}", functools.partial(_zip_member, p, n)) for n in sorted(data)]
    return [_file_part(p)]


def _data_csvs(names: list[str]) -> list[str]:
    """Return the data CSVs among the CSVs of a zip or folder (relative paths), leaving out documentation.

    Code-Point Open: ``Data/CSV/*.csv`` (not ``Doc/Code-Point_Open_Column_Headers.csv``); ONSPD/NSPL: the
    whole-country CSV in ``Data/``, not its per-area copies (``multi_csv``) nor ``Documents/``.
    """
    data = [n for n in names if "/data/csv/" in f"/{n.lower()}"]
    if data:
        return data
    data = [n for n in names if not re.search(r"(^|/)(doc|docs|documents|user guide)[^/]*/", n.lower())]
    return [n for n in data if "multi_csv" not in n.lower()] or data


def _zip_member(path: Path, name: str) -> IO[bytes]:
    return zipfile.ZipFile(path).open(name)


def _file_part(path: Path) -> _Part:
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return _Part(str(path), functools.partial(gzip.open, path, "rb") if gz else functools.partial(open, path, "rb"))


class _NotNumeric(SchemaError):
    """A column read as numbers is not (``read_postcodes`` then tries the text reader, which is lenient)."""


_BROKEN = (EOFError, OSError, zlib.error, zipfile.BadZipFile)


def _peek(part: _Part) -> tuple[str, str, str]:
    """Return the first line's text, the separator and the encoding of a CSV part."""
    try:
        with part.open() as f:
            head = f.read(65536)
    except _BROKEN as e:
        raise SchemaError(f"{part.label}: the file is truncated or corrupt ({e}); expected a complete CSV "
                          "(or gzipped CSV)") from None
    encoding = "latin-1"
    if head.startswith(codecs.BOM_UTF8):
        head, encoding = head[3:], "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    text = head.decode(encoding if encoding != "utf-8-sig" else "utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()[:20]
    if not lines or not lines[0].strip():
        raise SchemaError(f"{part.label}: the file is empty; expected a header row and data")
    try:
        sep = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    return lines[0], sep, encoding


def _locate(part: _Part, names: dict[str, list[str]], required: Sequence[str], headerless: Sequence[str] | None,
            what: str) -> tuple[dict[str, int], bool, str, str]:
    """Find the columns of ``names`` in a part: ``({canonical: position}, has_header, sep, encoding)``."""
    first, sep, encoding = _peek(part)
    cells = next(csv.reader([first], delimiter=sep))
    heads = [normalise_text(c) for c in cells]
    has_header = not (cells and normalise_postcode(cells[0]) and heads[0] not in names["postcode"])
    if has_header:
        pos = {}
        for key, aliases in names.items():
            hit = next((heads.index(a) for a in aliases if a in heads), None)
            if hit is not None:
                pos[key] = hit
    else:
        if headerless is None:
            raise SchemaError(f"{part.label}: no header row; expected {what} with its column names "
                              f"({', '.join(n[0] for n in names.values())})")
        pos = {k: i for i, k in enumerate(headerless) if k in names and i < len(cells)}
    missing = [k for k in required if k not in pos]
    if missing:
        wanted = "; ".join(f"{k}: {' or '.join(names[k][:4])}" for k in missing)
        raise SchemaError(f"{part.label}: not {what}; no column for {wanted}. Columns found: {cells[:12]}"
                          + ("" if has_header else " (no header row: expected Code-Point Open's 10 columns)"))
    return pos, has_header, sep, encoding


def _read_part(part: _Part, pos: dict[str, int], has_header: bool, sep: str, encoding: str,
               numeric: Sequence[str] = ()) -> pd.DataFrame:
    """Read the located columns of a part with pandas' C parser (numbers as float, the rest as text)."""
    cols = sorted(pos.values())
    dtype = {pos[k]: ("float64" if k in numeric else str) for k in pos}
    try:
        with part.open() as f:
            frame = pd.read_csv(f, sep=sep, header=None, skiprows=1 if has_header else 0, usecols=cols, dtype=dtype,
                                keep_default_na=False, na_values={pos[k]: [""] for k in numeric if k in pos},
                                encoding=encoding, engine="c")
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=cols)
    except pd.errors.ParserError as e:
        raise SchemaError(f"{part.label}: not a readable CSV file ({e})") from None
    except _BROKEN as e:
        raise SchemaError(f"{part.label}: the file is truncated or corrupt ({e}); expected a complete CSV "
                          "(or gzipped CSV)") from None
    except ValueError as e:
        bad = ", ".join(k for k in numeric if k in pos)
        raise _NotNumeric(f"{part.label}: column(s) {bad} should be numbers but are not ({e})") from None
    return frame.rename(columns={v: k for k, v in pos.items()})


def _located(frames: list[pd.DataFrame], report: _Report) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Join the parts read; return them, their postcodes and which rows have a valid postcode and a grid reference.

    The rows left out are counted in ``report`` (malformed postcodes, "no grid reference").
    """
    f = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    pcs, ok = _postcode_index(f["postcode"], report)
    x, y = f["easting"].to_numpy(float), f["northing"].to_numpy(float)
    located = ~np.isnan(x) & ~np.isnan(y) & ((x > 0) | (y > 0))
    report.drop("no grid reference", pcs[ok & ~located])
    return f, pcs, ok & located


def _postcode_index(values: pd.Series, report: _Report, why: str = "malformed postcode"
                    ) -> tuple[pd.Series, np.ndarray]:
    """Return the normalised postcodes and the mask of valid ones; invalid ones are counted in ``report``."""
    text = values.astype(str)
    ok = text.str.fullmatch(_POSTCODE_RE.pattern[1:-1]).fillna(False).to_numpy(bool)
    if not ok.all():  # only the rest need the full normalisation (e.g. Code-Point's "B1  1AA", "SW1A1AA")
        fixed = normalise_postcodes(text[~ok])
        text = text.copy()
        text[~ok] = fixed.fillna("").to_numpy(object)
        report.drop(why, values[~ok][fixed.isna().to_numpy()])
        ok = ok.copy()
        ok[~ok] = fixed.notna().to_numpy()
    return text, ok


def _indexed(f: pd.DataFrame, pcs: pd.Series, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """``f[columns]`` of the ``rows`` indexed by their normalised postcode (text stays Arrow-backed, no copies)."""
    if rows.all():  # the national files: nothing to take out, no copies
        out, idx = f[columns], pcs
    else:
        out, idx = f.loc[rows, columns], pcs[rows]
    out.index = pd.Index(idx, name="postcode")
    return out


def _finish(frame: pd.DataFrame, report: _Report, what: str) -> pd.DataFrame:
    """Index by postcode, drop repeats (counted), attach the report."""
    if report.rows == 0:
        raise SchemaError(f"{report.source}: a header row but no data rows; expected {what}")
    idx = frame.index.array
    if len(idx) > 1 and bool(np.asarray(idx[1:] > idx[:-1]).all()):  # sorted and so unique (the national files)
        dup = np.zeros(len(idx), bool)
    else:
        dup = frame.index.duplicated(keep="first")
    if dup.any():
        report.drop("repeated postcode", pd.Series(frame.index[dup]))
        frame = frame[~dup]
    frame.attrs = {"source": report.source, "report": report.done(len(frame))}
    return frame


def read_codepoint(path: str | os.PathLike, *, districts: Iterable[str] | None = None) -> pd.DataFrame:
    """Read OS Code-Point Open: England's postcodes with their grid reference, council and ward.

    ``path`` is the zip as OS publishes it (``codepo_gb.zip``: ``Data/CSV/*.csv``, no header row,
    10 columns), its CSV folder, one of its CSVs, or a CSV with a header row (``postcode,
    positional_quality, easting, northing, admin_district_code, admin_ward_code`` or Code-Point's own
    names). Only English postcodes are kept (``Country_code`` E92000001; else a district code
    starting with E); ``districts`` keeps only those admin district (council) codes, filtered as each
    CSV is read.

    Returns
    -------
    pandas.DataFrame
        Indexed by the normalised ``postcode``: ``easting, northing`` (EPSG:27700), ``lad_code``,
        ``ward_code`` (Code-Point's, as at its release) and ``positional_quality`` (10 best; 90 no
        grid reference). Rows left out (malformed postcodes, outside England, no grid reference,
        repeated) are counted with examples in ``attrs["report"]`` (:class:`ReadReport`) and logged.

    Raises
    ------
    DataNotFoundError, SchemaError
        A missing path; a truncated or corrupt file, a header row without data, or a CSV without the
        postcode and grid reference columns (naming the file and the columns expected).
    """
    keep = None if districts is None else set(districts)
    parts = _csv_parts(path, "Code-Point Open")
    report = _Report(os.fspath(path))
    frames = []
    for part in parts:
        pos, has_header, sep, enc = _locate(part, CODEPOINT_HEADERS, ["postcode", "easting", "northing"],
                                            _CODEPOINT_KEYS, "OS Code-Point Open")
        f = _read_part(part, pos, has_header, sep, enc, numeric=("easting", "northing", "positional_quality"))
        report.rows += len(f)
        if "country_code" in f.columns:
            away = (f["country_code"].astype(str) != _ENGLAND).to_numpy() & (f["country_code"] != "").to_numpy()
        elif "lad_code" in f.columns:
            lad = f["lad_code"].astype(str)
            away = ((lad != "") & ~lad.str.startswith("E")).to_numpy()
        else:
            away = np.zeros(len(f), bool)
        report.drop("outside England", f["postcode"][away])
        f = f[~away]
        if keep is not None:
            if "lad_code" not in f.columns:
                raise SchemaError(f"{part.label}: no council (admin district) column to keep `districts` by")
            f = f[f["lad_code"].isin(keep).to_numpy()]
        frames.append(f)
    f, pcs, rows = _located(frames, report)
    for c in ("lad_code", "ward_code", "positional_quality"):
        if c not in f.columns:
            f[c] = np.nan if c == "positional_quality" else ""
    out = _indexed(f, pcs, rows, ["easting", "northing", "lad_code", "ward_code", "positional_quality"])
    return _finish(out, report, "Code-Point Open rows (postcode, quality, easting, northing, ...)")


def read_postcode_lookup(path: str | os.PathLike) -> pd.DataFrame:
    """Read an ONS postcode lookup: which of England's postcodes are live and residential, and their LSOA.

    Accepts the ONS Postcode to OA/LSOA/MSOA/LAD lookup (``pcd7, pcd8, pcds, dointr, doterm,
    usertype, oa11cd, lsoa11cd, msoa11cd, ladcd``), the ONS Postcode Directory and National Statistics
    Postcode Lookup (``pcd, pcds, ..., doterm, usertype, ..., laua, ..., lsoa11, lsoa21``; from 2025
    ``pcds, ..., doterm, usrtypind, ..., lad25cd, ..., lsoa11cd, ..., lsoa21cd``), any case,
    as a CSV (optionally gzipped), a zip of them, or the compact layout (``pcds, dointr, doterm,
    usertype, oa11cd, lsoa11cd, msoa11cd, ladcd``). Postcodes of councils outside England are left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by the normalised ``postcode``: ``live`` (no termination date), ``residential``
        (user type 0, a small user), ``lsoa11_code`` and/or ``lsoa21_code`` (those the file has;
        ``""`` where blank) and ``lad_code`` (the file's council code). What was left out is in
        ``attrs["report"]`` (:class:`ReadReport`).
    """
    parts = _csv_parts(path, "ONS postcode lookup")
    report = _Report(os.fspath(path))
    frames = []
    for part in parts:
        pos, has_header, sep, enc = _locate(part, LOOKUP_HEADERS, ["postcode", "doterm", "usertype"], None,
                                            "an ONS postcode lookup (PCD_OA_LSOA_MSOA_LAD, ONSPD or NSPL)")
        if not any(k in pos for k in ("lsoa11_code", "lsoa21_code")):
            raise SchemaError(f"{part.label}: no LSOA column; expected lsoa11cd (PCD_OA_LSOA_MSOA_LAD) or "
                              "lsoa11/lsoa21 (ONSPD, NSPL)")
        f = _read_part(part, pos, has_header, sep, enc, numeric=("doterm", "usertype"))
        report.rows += len(f)
        area = f["country_code"] if "country_code" in f.columns else f.get("lad_code")
        if area is not None:
            area = area.astype(str)
            away = ((area != "") & ~area.str.startswith("E")).to_numpy()
            report.drop("outside England", f["postcode"][away])
            f = f[~away]
        frames.append(f)
    f = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    pcs, ok = _postcode_index(f["postcode"], report)
    f["live"], f["residential"] = f["doterm"].isna(), f["usertype"] == 0
    out = _indexed(f, pcs, ok, ["live", "residential", *(c for c in ("lsoa11_code", "lsoa21_code", "lad_code")
                                                          if c in f.columns)])
    return _finish(out, report, "postcode lookup rows (pcds, doterm, usertype, ...)")


def _combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    out = pd.concat(frames)
    out = out[~out.index.duplicated(keep="first")]
    out.attrs = {"source": "; ".join(f.attrs.get("source", "?") for f in frames)}
    return out


__all__ = ["CODEPOINT_HEADERS", "HEADERS", "LOOKUP_HEADERS", "ReadReport", "normalise_postcode", "normalise_postcodes",
           "postcode_candidates", "read_codepoint", "read_postcode_lookup", "read_postcode_points", "read_postcodes"]
