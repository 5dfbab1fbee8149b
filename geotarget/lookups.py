"""Read LSOA -> MSOA -> ward -> LAD lookups (ONS layouts or the bundled ones)."""

from __future__ import annotations

import logging
import os

import pandas as pd

from ._codes import PREFIX, find_area_columns
from ._errors import SchemaError
from ._io import read_csv_text, require_file

log = logging.getLogger(__name__)

TARGETS = ("msoa", "ward", "lad")


def read_lsoa_lookup(path: str | os.PathLike) -> pd.DataFrame:
    """Read a best-fit lookup from LSOA to larger areas.

    Accepts ONS lookup layouts (``LSOA21CD, LSOA21NM, WD24CD, WD24NM, LAD24CD, LAD24NM``,
    lower or upper case) and the bundled ones. Columns are recognised from their headers.

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
    raw = read_csv_text(p)
    found = find_area_columns(raw.columns)
    if "lsoa_code" not in found:
        raise SchemaError(f"{p}: no LSOA code column; expected e.g. LSOA21CD or lsoa11cd. "
                          f"Columns found: {list(raw.columns)}")
    keep = {orig: canon for canon, (orig, _) in found.items()
            if canon.split("_")[0] in ("lsoa", *TARGETS)}
    out = raw[list(keep)].rename(columns=keep)
    for canon in out.columns:
        out[canon] = out[canon].str.strip()
        if canon.endswith("_code"):
            kind = canon.removesuffix("_code")
            bad = out[canon][~out[canon].str.startswith(PREFIX[kind])]
            if len(bad):
                raise SchemaError(
                    f"{p}, column {found[canon][0]!r}, row {bad.index[0] + 2:,}: {bad.iloc[0]!r} is not a "
                    f"{kind.upper()} code (expected codes starting {PREFIX[kind]})"
                )
    dup = out["lsoa_code"][out["lsoa_code"].duplicated()]
    if len(dup):
        raise SchemaError(f"{p}: LSOA {dup.iloc[0]!r} appears more than once (row {dup.index[0] + 2:,}); a best-fit "
                          "lookup gives each LSOA exactly one area")
    out = out.set_index("lsoa_code")
    year = found["lsoa_code"][1]
    out.attrs = {"source": os.fspath(p), **({"lsoa_year": year} if year else {})}
    return out


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
