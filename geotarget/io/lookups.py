"""Read LSOA -> MSOA -> ward -> LAD lookups (ONS layouts or the bundled ones)."""

from __future__ import annotations

import logging
import os
import re

import pandas as pd

from geotarget.core.codes import find_area_columns
from geotarget.core.errors import SchemaError
from geotarget.io.files import require_file
from geotarget.io.tables import read_text_table

log = logging.getLogger(__name__)

TARGETS = ("msoa", "ward", "lad")
#: GSS code patterns by kind (England and Wales: lookups often cover both).
CODE_RE = {
    "lsoa": re.compile(r"^[EW]01\d{6}$"),
    "msoa": re.compile(r"^[EW]02\d{6}$"),
    "ward": re.compile(r"^[EW]05\d{6}$"),
    "lad": re.compile(r"^(E0[6-9]|W06)\d{6}$"),
}


def _kind_from_values(values: pd.Series) -> str | None:
    v = values[values != ""]
    if v.empty:
        return None
    for kind, rx in CODE_RE.items():
        if v.str.match(rx).all():
            return kind
    return None


def read_lsoa_lookup(
    path: str | os.PathLike,
    *,
    lsoa_column: str | None = None,
    columns: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Read a best-fit lookup from LSOA to larger areas.

    Columns are recognised from their headers (``LSOA21CD, WD24CD, WD24NM, LAD24CD``, lower
    or upper case, as in the ONS lookups and the bundled ones) or, failing that, from the
    codes they hold (E01/W01 LSOA, E02 MSOA, E05 ward, E06-E09 LAD). Name them explicitly
    with ``lsoa_column`` and ``columns={"ward_code": "MY_WARD", "ward_name": ...}``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``lsoa_code``; ``msoa_code``, ``ward_code``, ``lad_code`` and their
        ``*_name`` columns where the file has them. ``attrs["lsoa_year"]`` from the header.

    Raises
    ------
    SchemaError
        No LSOA column, codes of the wrong kind, an LSOA listed twice (a best-fit lookup
        gives each LSOA one area).
    """
    p = require_file(path, "lookup")
    raw = read_text_table(p)
    found = {k: v for k, v in find_area_columns(raw.columns).items() if k.split("_")[0] in ("lsoa", *TARGETS)}
    named = dict(columns or {})
    if lsoa_column:
        named["lsoa_code"] = lsoa_column
    for canon, col in named.items():
        if col not in raw.columns:
            raise SchemaError(f"{p}: column {col!r} (for {canon}) not found; columns are {list(raw.columns)}")
        found[canon] = (col, None)
    used = {orig for orig, _ in found.values()}
    for col in raw.columns:  # recognise unnamed code columns from their values
        if col in used:
            continue
        kind = _kind_from_values(raw[col].str.strip())
        if kind and f"{kind}_code" not in found:
            found[f"{kind}_code"] = (col, None)
    if "lsoa_code" not in found:
        raise SchemaError(f"{p}: no LSOA code column; expected e.g. LSOA21CD or lsoa11cd, or a column of LSOA "
                          f"codes (E01...), or pass lsoa_column=. Columns found: {list(raw.columns)}")
    keep = {orig: canon for canon, (orig, _) in found.items()}
    out = raw[list(keep)].rename(columns=keep)
    for canon in out.columns:
        out[canon] = out[canon].str.strip()
        if canon.endswith("_code"):
            kind = canon.removesuffix("_code")
            bad = out[canon][~out[canon].str.match(CODE_RE[kind])]
            if len(bad):
                raise SchemaError(
                    f"{p}, column {found[canon][0]!r}, row {bad.index[0] + 2:,}: {bad.iloc[0]!r} is not a "
                    f"{kind.upper()} code (expected e.g. {_example(kind)})"
                )
    dup = out["lsoa_code"][out["lsoa_code"].duplicated()]
    if len(dup):
        raise SchemaError(f"{p}: LSOA {dup.iloc[0]!r} appears more than once (row {dup.index[0] + 2:,}); a best-fit "
                          "lookup gives each LSOA exactly one area")
    out = out.set_index("lsoa_code")
    year = found["lsoa_code"][1]
    out.attrs = {"source": os.fspath(p), **({"lsoa_year": year} if year else {})}
    log.info("%s: %d LSOAs -> %s", p, len(out), ", ".join(c for c in out.columns if c.endswith("_code")))
    return out


def _example(kind: str) -> str:
    return {"lsoa": "E01011949", "msoa": "E02002491", "ward": "E05013044", "lad": "E06000001"}[kind]


def attach_lookup(lsoas: pd.DataFrame, lookup: pd.DataFrame) -> pd.DataFrame:
    """Add the lookup's area columns to ``lsoas`` (indexed by ``lsoa_code``); every LSOA must be found."""
    missing = lsoas.index.difference(lookup.index)
    if len(missing):
        raise SchemaError(
            f"{lookup.attrs.get('source', 'lookup')}: {len(missing):,} LSOAs are not in the lookup, e.g. "
            f"{', '.join(missing[:5])}; is it for the same LSOA year ({lsoas.attrs.get('lsoa_year', '?')})?"
        )
    new = lookup.drop(columns=[c for c in lookup.columns if c in lsoas.columns])
    out = lsoas.join(new, how="left")
    out.attrs = dict(lsoas.attrs)
    return out
