"""Read groupings of districts or LSOAs: regions, ICBs, LRFs, combined authorities, any user grouping.

A grouping file is a CSV with one row per district (``lad_code, group_code, group_name``) or per
LSOA (``lsoa_code, group_code, group_name``, as the ONS LSOA -> Sub-ICB -> ICB lookup is). Official
headers are recognised too: ``LAD24CD``/``lad_code`` or ``LSOA21CD``/``lsoa21_code`` for the key;
``RGN24CD``/``region_code``, ``ICB24CD``/``icb24_code``, ``LRF24CD``, ``CAUTH24CD`` (with their
``..NM`` names) for the group, or ``group_code``/``group_name``.
"""

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

#: Group header stems by grouping (``icb24cd``, ``icb_code``, ``rgn24nm``, ``region_name`` ...).
_GROUP_HEADER = re.compile(r"^(group|rgn|region|icb|lrf|cauth|ca)(\d\d)?_?(cd|code|nm|name)$")
_STEM = {"group": "groups", "rgn": "region", "region": "region", "icb": "icb", "lrf": "lrf", "cauth": "cauth",
         "ca": "cauth"}
#: GSS code patterns of each grouping (``groups``: any code).
GROUP_CODE_RE = {"region": re.compile(r"^E12\d{6}$"), "icb": re.compile(r"^E54\d{6}$"),
                 "lrf": re.compile(r"^E48\d{6}$"), "cauth": re.compile(r"^E47\d{6}$")}
_KEY_RE = {"lad": re.compile(r"^(E0[6-9]|W06)\d{6}$"), "lsoa": re.compile(r"^[EW]01\d{6}$")}


def read_groups(path: str | os.PathLike, *, to: str = "groups") -> pd.DataFrame:
    """Read a grouping of districts or LSOAs.

    Parameters
    ----------
    path
        CSV (optionally gzipped). The key column holds district (``E06``-``E09``) or LSOA (``E01``)
        codes; the group columns are ``group_code``/``group_name`` or the official headers of
        ``to`` (``RGN24CD``, ``ICB24CD``, ``LRF24CD``, ``CAUTH24CD``).
    to
        The grouping: ``"region"``, ``"icb"``, ``"lrf"``, ``"cauth"`` (codes checked against their
        GSS prefix E12, E54, E48, E47) or ``"groups"`` (any codes).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``lad_code`` or ``lsoa_code`` (the key), columns ``group_code`` and ``group_name``
        (empty when the file has no names); ``attrs["source"]``.

    Raises
    ------
    SchemaError
        No key or group column, a blank or malformed code (with its row), a district or LSOA in two
        groups.
    """
    p = require_file(path, "grouping")
    raw = read_text_table(p)
    name = os.path.basename(os.fspath(p))
    areas = find_area_columns(raw.columns)
    key = next((k for k in ("lsoa", "lad") if f"{k}_code" in areas), None)
    if key is None:
        raise SchemaError(f"{p}: no district or LSOA code column; expected lad_code (or LAD24CD) or lsoa_code (or "
                          f"LSOA21CD). Columns found: {list(raw.columns)}")
    key_col = areas[f"{key}_code"][0]
    group: dict[str, str] = {}
    for col in raw.columns:
        m = _GROUP_HEADER.match(str(col).strip().lower())
        if not m:
            continue
        stem = _STEM[m.group(1)]
        if stem not in ("groups", to) and to != "groups":  # any grouping: any recognised group column
            continue
        what = "code" if m.group(3) in ("cd", "code") else "name"
        group.setdefault(what, col)
    if "code" not in group:
        wanted = "group_code" if to == "groups" else f"group_code or the official {to.upper()}..CD header"
        raise SchemaError(f"{p}: no group code column for to={to!r}; expected {wanted}. Columns found: "
                          f"{list(raw.columns)}")
    out = pd.DataFrame({f"{key}_code": raw[key_col].str.strip(), "group_code": raw[group["code"]].str.strip(),
                        "group_name": raw[group["name"]].str.strip() if "name" in group else None})
    for col, rx, what in ((f"{key}_code", _KEY_RE[key], f"a {key.upper()} code"),
                          ("group_code", GROUP_CODE_RE.get(to), f"a {to.upper()} code")):
        values = out[col]
        bad = values == "" if rx is None else ~values.str.match(rx)
        if bad.any():
            i = bad.to_numpy().nonzero()[0]
            orig = key_col if col != "group_code" else group["code"]
            raise SchemaError(f"{p}, column {orig!r}, row {i[0] + 2:,}: {values.iloc[i[0]]!r} is not {what}"
                              + (f" (and {len(i) - 1:,} more rows)" if len(i) > 1 else ""))
    pairs = out.drop_duplicates([f"{key}_code", "group_code"])
    dup = pairs[pairs[f"{key}_code"].duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0, 0]
        rows = (out.index[out[f"{key}_code"] == first] + 2).tolist()
        raise SchemaError(f"{p}: {key.upper()} {first!r} is in more than one group "
                          f"({', '.join(dup[dup.iloc[:, 0] == first]['group_code'])}; rows {rows[:5]}); "
                          "expected each in exactly one")
    out = pairs.set_index(f"{key}_code")
    out.attrs = {"source": os.fspath(p)}
    log.info("%s: %d %ss in %d groups", name, len(out), key.upper(), out["group_code"].nunique())
    return out


__all__ = ["GROUP_CODE_RE", "read_groups"]
