"""Indicator tables keyed by LSOA or ward code (CSV), read and checked once."""

from __future__ import annotations

import logging
import os
import re

import pandas as pd

from geotarget.core.errors import SchemaError
from geotarget.io.files import require_file
from geotarget.io.tables import read_text_table

log = logging.getLogger(__name__)

#: An LSOA (E01/W01) or ward (E05/W05) code.
_CODE = re.compile(r"^[EW]0[15]\d{6}$")


def read_indicator_table(path: str | os.PathLike, *, id_column: str | None = None,
                         columns: list[str] | None = None) -> pd.DataFrame:
    """Read a user table of indicators keyed by LSOA or ward code (CSV, optionally gzipped).

    ``id_column`` names the code column (default: the first column whose values are LSOA or ward codes);
    ``columns`` picks indicators (default every other numeric column). Blank cells become missing values
    (reported later, never imputed); text that is not a number is an error naming file, column, row and value.
    ``attrs["level"]`` is ``"lsoa"`` or ``"ward"`` from the codes.
    """
    raw = read_text_table(require_file(path, "indicator table"))
    if id_column is None:
        found = [c for c in raw.columns if len(raw) and raw[c].str.strip().str.match(_CODE).mean() > 0.95]
        if not found:
            raise SchemaError(f"{path}: no column of LSOA (E01...) or ward (E05...) codes found; name the code "
                              f"column with `id_column`. Columns: {', '.join(map(repr, raw.columns[:8]))}"
                              ).naming("id_column")
        id_column = found[0]
    elif id_column not in raw.columns:
        raise SchemaError(f"{path}: id column {id_column!r} not found; columns are "
                          f"{', '.join(map(repr, raw.columns))}")
    codes = raw[id_column].str.strip()
    bad = codes[~codes.str.match(_CODE)]
    if len(bad):
        shown = ", ".join(f"row {i + 2:,}: {v!r}" for i, v in list(bad.items())[:5])
        raise SchemaError(f"{path}, column {id_column!r}: not an LSOA or ward code — {shown}; expected E01 or E05 "
                          "followed by 6 digits")
    kinds = codes.str[:3].str.replace("W", "E").unique()
    if len(kinds) > 1:
        raise SchemaError(f"{path}, column {id_column!r}: mixes LSOA (E01) and ward (E05) codes; expected one kind")
    dup = codes[codes.duplicated(keep=False)]
    if len(dup):
        rows = [i + 2 for i in dup.index[dup == dup.iloc[0]]]
        raise SchemaError(f"{path}, column {id_column!r}: code {dup.iloc[0]!r} appears on rows "
                          f"{', '.join(map(str, rows))}; expected one row per area")
    if columns is None:
        columns = [c for c in raw.columns if c != id_column and _numeric_share(raw[c]) > 0.9]
        if not columns:
            raise SchemaError(f"{path}: no numeric indicator columns besides {id_column!r}")
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise SchemaError(f"{path}: indicator column(s) {', '.join(map(repr, missing))} not found; columns are "
                          f"{', '.join(map(repr, raw.columns))}")
    out = {}
    for c in columns:
        text = raw[c].str.strip().str.replace(",", "", regex=False)
        vals = pd.to_numeric(text.where(text != ""), errors="coerce")
        bad = text[vals.isna() & (text != "")]
        if len(bad):
            shown = ", ".join(f"row {i + 2:,}: {raw[c][i]!r}" for i in bad.index[:5])
            raise SchemaError(f"{path}, column {c!r}: not a number — {shown}; expected a number or a blank cell")
        out[c] = vals.to_numpy(float)
    frame = pd.DataFrame(out, index=pd.Index(codes.to_numpy(), name="area_code"))
    frame.attrs = {"level": "lsoa" if kinds[0] == "E01" else "ward", "source": os.fspath(path)}
    return frame


def _numeric_share(col: pd.Series) -> float:
    text = col.str.strip().str.replace(",", "", regex=False)
    text = text[text != ""]
    return float(pd.to_numeric(text, errors="coerce").notna().mean()) if len(text) else 0.0


__all__ = ["read_indicator_table"]
