"""Indicator tables keyed by LSOA or ward code (CSV), read and checked once.

* :func:`read_indicator_table` -- a user's table of indicators by LSOA or ward;
* :func:`read_iod_indicators` -- the IoD File 8 underlying indicators (the official file with its long
  headers, or the compact snake-case layout), for HIA screening;
* :func:`read_cni` -- the Community Needs Index 2023 by LSOA 2021 (OCSI for Local Trust).
"""

from __future__ import annotations

import logging
import os
import re

import numpy as np
import pandas as pd

from geotarget.core.errors import SchemaError
from geotarget.core.vintages import BY_LSOA_YEAR, Vintage, get_vintage, has_lsoa21_only_codes
from geotarget.io.files import require_file
from geotarget.io.imd import canonical_name
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


# -- IoD File 8 and the Community Needs Index ------------------------------------------------------------

#: Health indicators every IoD File 8 of a vintage has (snake-case names): how a file is recognised.
FILE8_HEALTH: dict[int, tuple[str, ...]] = {
    2025: ("years_of_potential_life_lost_indicator", "comparative_illness_and_disability_ratio_indicator",
           "acute_morbidity_indicator", "mental_health_indicator"),
    2019: ("years_of_potential_life_lost_indicator", "comparative_illness_and_disability_ratio_indicator",
           "acute_morbidity_indicator", "mood_and_anxiety_disorders_indicator"),
}
_LSOA = re.compile(r"^E01\d{6}$")


def snake_header(header: object) -> str:
    """Return the snake-case name of an official header (as R's ``janitor::clean_names`` makes it).

    >>> snake_header("Violence with injury, rate per 1,000 'at-risk population'")
    'violence_with_injury_rate_per_1_000_at_risk_population'
    >>> snake_header("Core homelessness rate (% of households)")
    'core_homelessness_rate_percent_of_households'
    """
    text = " ".join(str(header).split()).replace("%", " percent ").lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _code_column(raw: pd.DataFrame, path, what: str, example: str) -> tuple[str, int | None]:
    for c in raw.columns:
        name, year = canonical_name(c)
        if name == "lsoa_code":
            return c, year
    raise SchemaError(f"{path}: no LSOA code column in this {what}; expected {example}. Columns found: "
                      f"{', '.join(map(repr, raw.columns[:12]))}{' ...' if len(raw.columns) > 12 else ''}")


def _checked_codes(raw: pd.DataFrame, col: str, path) -> pd.Series:
    codes = raw[col].str.strip()
    bad = codes[~codes.str.match(_LSOA)]
    if len(bad):
        shown = ", ".join(f"row {i + 2:,}: {v!r}" for i, v in list(bad.items())[:5])
        raise SchemaError(f"{path}, column {col!r}: not an English LSOA code — {shown}; expected E01 and 6 digits")
    dup = codes[codes.duplicated()]
    if len(dup):
        rows = [i + 2 for i in codes.index[codes == dup.iloc[0]]]
        raise SchemaError(f"{path}, column {col!r}: LSOA {dup.iloc[0]!r} appears on rows "
                          f"{', '.join(map(str, rows))}; expected one row per LSOA")
    return codes


def _numbers(raw: pd.DataFrame, col: str, path) -> np.ndarray:
    text = raw[col].str.strip().str.replace(",", "", regex=False)
    vals = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = text[vals.isna() & (text != "")]
    if len(bad):
        shown = ", ".join(f"row {i + 2:,}: {raw[col][i]!r}" for i in bad.index[:5])
        raise SchemaError(f"{path}, column {col!r}: not a number — {shown}; expected a number or a blank cell "
                          "(suppressed)")
    return vals.to_numpy(float)


def read_iod_indicators(path: str | os.PathLike, *, vintage: int | str | Vintage | None = None
                        ) -> tuple[pd.DataFrame, Vintage]:
    """Read the IoD File 8 underlying indicators, indexed by ``lsoa_code``.

    Accepts the official file (``File_8_IoD2025_Underlying_Indicators.csv``: "LSOA code (2021)", "Years of
    potential life lost indicator", "Violence with injury, rate per 1,000 'at-risk population'" ...) and the
    compact layout (``lsoa21cd``, ``years_of_potential_life_lost_indicator`` ...). Headers become their
    snake-case names (:func:`snake_header`), the names the compact layout uses, so both give the same columns;
    names and council columns are dropped. Blank cells (suppressed numerators) are missing values; text that
    is not a number is an error naming file, column, row and value.

    The vintage comes from the LSOA code header ("(2011)" / "(2021)", ``lsoa11cd`` / ``lsoa21cd``), else from
    the health indicators (mental health: IoD2025; mood and anxiety disorders: IoD2019), else from ``vintage``;
    a stated ``vintage`` that disagrees with the file is an error.
    """
    p = require_file(path, "IoD File 8 (underlying indicators)")
    raw = read_text_table(p)
    code_col, year = _code_column(raw, p, "IoD File 8", "'LSOA code (2021)' (official File 8) or lsoa21cd")
    cols: dict[str, str] = {}
    for c in raw.columns:
        if c == code_col or canonical_name(c)[0] in ("lsoa_name", "lad_code", "lad_name"):
            continue
        name = snake_header(c)
        if name in cols:
            raise SchemaError(f"{p}: columns {cols[name]!r} and {c!r} both hold {name!r}; expected only one")
        cols[name] = c
    stated = get_vintage(vintage) if vintage is not None else None
    found = BY_LSOA_YEAR.get(year) if year else None
    if found is None:
        fits = [y for y, need in FILE8_HEALTH.items() if set(need) <= set(cols)]
        found = get_vintage(fits[0]) if len(fits) == 1 else None
    if stated and found and stated != found:
        raise SchemaError(f"{p}: vintage {stated.name} was given but this is the File 8 of {found.name} "
                          f"(LSOA {found.lsoa_year}); use the indicators of the same IoD release as the IoD file")
    v = stated or found
    if v is None:
        v = get_vintage(2025 if has_lsoa21_only_codes(raw[code_col].str.strip()) else 2019)
    missing = [c for c in FILE8_HEALTH[v.year] if c not in cols]
    if missing:
        shown = ", ".join(map(repr, list(raw.columns)[:12])) + (" ..." if len(raw.columns) > 12 else "")
        raise SchemaError(f"{p}: not the IoD File 8 (underlying indicators) of {v.name}: no column for "
                          f"{', '.join(missing)}. Columns found: {shown}. Expected the official File 8 "
                          f"(e.g. 'Years of potential life lost indicator') or its snake-case names")
    codes = _checked_codes(raw, code_col, p)
    out = pd.DataFrame({name: _numbers(raw, c, p) for name, c in cols.items()},
                       index=pd.Index(codes.to_numpy(), name="lsoa_code"))
    out.attrs = {"source": os.fspath(p)}
    log.info("%s: IoD File 8 of %s, %d LSOAs, %d indicators", p, v.name, len(out), out.shape[1])
    return out, v


#: Community Needs Index columns (snake-case), and the names other layouts give them.
CNI_COLUMNS = ("cni_score", "cni_rank", "civic_assets_score", "civic_assets_rank", "connectedness_score",
               "connectedness_rank", "active_engaged_community_score", "active_engaged_community_rank",
               "left_behind_area")
_CNI_ALIASES = {
    "community_needs_index_score": "cni_score", "community_needs_index_rank": "cni_rank",
    "active_and_engaged_community_score": "active_engaged_community_score",
    "active_and_engaged_community_rank": "active_engaged_community_rank",
    "left_behind": "left_behind_area", "left_behind_neighbourhood": "left_behind_area",
    "left_behind_neighbourhoods": "left_behind_area",
}
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def read_cni(path: str | os.PathLike) -> pd.DataFrame:
    """Read the Community Needs Index 2023 by LSOA 2021, indexed by ``lsoa_code``.

    Columns (:data:`CNI_COLUMNS`): the CNI and its three domains (civic assets, connectedness, active and
    engaged community), score and national rank (1 = highest need), and ``left_behind_area`` (bool: in the
    10% highest need on both the CNI and the IMD). ``cni_score``, ``cni_rank`` and ``left_behind_area`` are
    required; the domain columns are kept where present.
    """
    p = require_file(path, "Community Needs Index")
    raw = read_text_table(p)
    code_col, year = _code_column(raw, p, "Community Needs Index", "lsoa21cd or 'LSOA code (2021)'")
    if year is not None and year != 2021:
        raise SchemaError(f"{p}, column {code_col!r}: the Community Needs Index 2023 is on LSOA 2021 codes, "
                          f"not LSOA {year}")
    cols = {}
    for c in raw.columns:
        name = snake_header(c)
        name = _CNI_ALIASES.get(name, name)
        if name in CNI_COLUMNS and name not in cols:
            cols[name] = c
    missing = [c for c in ("cni_score", "cni_rank", "left_behind_area") if c not in cols]
    if missing:
        raise SchemaError(f"{p}: not the Community Needs Index by LSOA: no column {', '.join(missing)}. Columns "
                          f"found: {', '.join(map(repr, raw.columns))}; expected {', '.join(CNI_COLUMNS)}")
    codes = _checked_codes(raw, code_col, p)
    out = pd.DataFrame(index=pd.Index(codes.to_numpy(), name="lsoa_code"))
    for name in CNI_COLUMNS:
        if name not in cols:
            continue
        if name == "left_behind_area":
            text = raw[cols[name]].str.strip().str.lower()
            bad = text[~text.isin(_TRUE | _FALSE)]
            if len(bad):
                shown = ", ".join(f"row {i + 2:,}: {raw[cols[name]][i]!r}" for i in bad.index[:5])
                raise SchemaError(f"{p}, column {cols[name]!r}: not true/false — {shown}; expected True or False")
            out[name] = text.isin(_TRUE).to_numpy()
        else:
            out[name] = _numbers(raw, cols[name], p)
    out.attrs = {"source": os.fspath(p)}
    return out


__all__ = ["CNI_COLUMNS", "FILE8_HEALTH", "read_cni", "read_indicator_table", "read_iod_indicators",
           "snake_header"]
