"""UK postcodes: normalise them, and read postcode lookups (ONSPD, Code-Point Open, bundled)."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

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
    "x": ["easting", "eastings", "bng e", "x", "oseast1m"],
    "y": ["northing", "northings", "bng n", "y", "osnrth1m"],
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


def read_postcodes(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read a postcode lookup indexed by normalised ``postcode`` with ``easting, northing`` (EPSG:27700).

    Accepts the bundled files (``None``: Tees Valley and Trafford together), an ONS Postcode
    Directory CSV (``pcds``/``pcd``, ``oseast1m``, ``osnrth1m``; terminated postcodes are kept,
    as old asset lists use them), OS Code-Point Open CSVs (with or without their header row; a
    folder of them is read whole), or any CSV with postcode and easting/northing or
    latitude/longitude columns. Rows without a grid reference are left out.
    """
    if path is None:
        from geotarget.core.places import PLACES, sample_path

        return _combine([read_postcodes(sample_path(p.postcodes)) for p in PLACES.values()])
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.suffix.lower() == ".csv" or f.name.lower().endswith(".csv.gz"))
        if not files:
            raise DataNotFoundError(f"{p}: no CSV files in this postcode folder")
        return _combine([read_postcodes(f) for f in files])
    if not p.is_file():
        raise DataNotFoundError(f"{p}: postcode lookup file not found")
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
    pcs = normalise_postcodes(raw[pc_col])
    if x_col and y_col:
        x, y = parse_numbers(raw[x_col], thousands=True), parse_numbers(raw[y_col], thousands=True)
        ok = x.notna() & y.notna() & ((x > 0) | (y > 0))
    else:
        lat, lon = parse_numbers(raw[lat_col]), parse_numbers(raw[lon_col])
        ok = lat.between(49, 62) & lon.between(-9, 3)
        x, y = pd.Series(np.nan, index=raw.index), pd.Series(np.nan, index=raw.index)
        if ok.any():
            px, py = to_bng_xy(lon[ok].to_numpy(), lat[ok].to_numpy())
            x[ok], y[ok] = px, py
    keep = ok & pcs.notna()
    out = pd.DataFrame({"easting": x[keep].to_numpy(float), "northing": y[keep].to_numpy(float)},
                       index=pd.Index(pcs[keep].to_numpy(), name="postcode"))
    out = out[~out.index.duplicated(keep="first")]
    out.attrs = {"source": os.fspath(p)}
    log.info("%s: %d postcodes with a location (%d rows without one left out)", p, len(out), int((~keep).sum()))
    return out


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


def _combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    out = pd.concat(frames)
    out = out[~out.index.duplicated(keep="first")]
    out.attrs = {"source": "; ".join(f.attrs.get("source", "?") for f in frames)}
    return out


__all__ = ["HEADERS", "normalise_postcode", "normalise_postcodes", "postcode_candidates", "read_postcode_points",
           "read_postcodes"]
