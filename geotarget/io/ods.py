"""NHS Organisation Data Service (ODS) practice files, read as NHS England publishes them.

``epraccur`` (GP practices), ``edispensary`` (pharmacies) and ``egdpprac`` (dental practices)
share one layout: **no header row**, 27 columns, of which 1 organisation code, 2 name, 3 national
grouping, 4 high-level health geography, 5--9 address lines, 10 postcode, 11 open date, 12 close
date, 13 status code (A active, C closed, D dormant, P proposed), 14 organisation sub-type,
15 commissioner, 18 telephone and 26 prescribing setting (4 = GP practice). Which file it is
is recognised from the organisation codes (GP practices ``A81001``, pharmacies ``FA123``,
dental practices ``V012345``). A copy saved with a header row (e.g. from Excel) is recognised too.

:func:`ods_layout` recognises the layout from a file's first rows; :func:`ods_frame` names the
columns and returns, for every row, why it is left out by default (``""`` for rows kept):
closed, dormant and proposed organisations, GP prescribing settings other than a GP practice
(out-of-hours services, walk-in centres, prisons ...), and Welsh organisations (national
grouping ``W..``). The caller (:func:`geotarget.io.assets.read_assets`) reports them, row by row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from geotarget.core.errors import SchemaError

#: Column names of the 27-column ODS layout (``col19`` ... are blank in the published files).
ODS_COLUMNS = (
    "org_code", "name", "national_grouping", "health_geography", "address_1", "address_2", "address_3",
    "address_4", "address_5", "postcode", "open_date", "close_date", "status_code", "org_subtype_code",
    "commissioner", "join_parent_date", "left_parent_date", "telephone", "col19", "col20", "col21",
    "amended_record", "col23", "provider_purchaser", "col25", "prescribing_setting", "col27",
)
#: ODS file -> (organisation code pattern, geotarget category).
#: GP practice codes are a letter and 5 digits, never I, O or V (dental practice codes start with V).
ODS_KINDS = {
    "epraccur": (re.compile(r"^[A-HJ-NP-UW-Z][0-9]{5}$"), "gp"),
    "edispensary": (re.compile(r"^F[A-Z0-9]{4}$"), "pharmacy"),
    "egdpprac": (re.compile(r"^V[0-9]{5,6}$"), "dentist"),
}
#: Status codes and their reasons when left out.
STATUS = {"A": "active", "C": "closed", "D": "dormant", "P": "proposed"}
#: The epraccur prescribing settings (ODS data dictionary); 4 is a GP practice.
PRESCRIBING_SETTINGS = {
    0: "other", 1: "walk-in centre", 2: "out of hours", 3: "walk-in centre and out of hours", 4: "GP practice",
    8: "public health service", 9: "community health service", 10: "hospital service", 11: "optometry service",
    12: "urgent and emergency care", 13: "hospice", 14: "care home or nursing home", 15: "border force",
    16: "young offender institution", 17: "secure training centre", 18: "secure children's home",
    19: "immigration removal centre", 20: "court", 21: "police custody", 22: "sexual assault referral centre",
    24: "other justice estate", 25: "prison", 26: "primary care network",
}
#: What ``include`` may name: rows left out by default that a user can keep.
INCLUDE = ("closed", "dormant", "proposed", "other_settings")
#: Reasons rows of an ODS file are left out by default (reported in the rejects, never dropped silently).
EXCLUDE_REASONS = ("closed", "dormant", "proposed", "not_gp_practice", "outside_england")


def _kind_of(codes: pd.Series) -> str | None:
    codes = codes.astype(str).str.strip()
    if not len(codes):
        return None
    share = {k: float(codes.str.fullmatch(p.pattern).mean()) for k, (p, _) in ODS_KINDS.items()}
    best = max(share, key=share.get)
    return best if share[best] >= 0.9 else None


def ods_layout(head: pd.DataFrame) -> tuple[str, bool] | None:
    """Recognise the ODS layout from a file's first rows read without a header.

    Returns ``(kind, has_header)`` -- ``kind`` one of :data:`ODS_KINDS` -- or ``None`` when the rows
    are not in the 27-column ODS layout.
    """
    if head.shape[1] != len(ODS_COLUMNS) or len(head) < 1:
        return None
    first = head.iloc[0].astype(str).str.strip()
    has_header = not any(p.fullmatch(first.iloc[0]) for p, _ in ODS_KINDS.values())
    body = head.iloc[1:] if has_header else head
    if not len(body):
        return None
    kind = _kind_of(body.iloc[:, 0])
    status_ok = body.iloc[:, 12].astype(str).str.strip().isin(list(STATUS)).mean() >= 0.9
    if kind is None or not status_ok:
        return None
    return kind, has_header


def ods_frame(raw: pd.DataFrame, kind: str, *, source: str, include: Sequence[str] = (),
              first_row: int = 1) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Name the columns of an ODS file read without a header, and say which rows are left out and why.

    Parameters
    ----------
    raw
        The file's rows (text), header row already removed.
    kind
        ``"epraccur"``, ``"edispensary"`` or ``"egdpprac"`` (:func:`ods_layout`).
    include
        Rows to keep that are left out by default: any of :data:`INCLUDE`.
    first_row
        The file row number of ``raw``'s first row (for messages).

    Returns
    -------
    frame, reason, detail
        The named frame (``category`` added), and per row the reason it is left out (``""``
        when kept; one of :data:`EXCLUDE_REASONS`) and a sentence saying why.
    """
    bad = sorted(set(include) - set(INCLUDE))
    if bad:
        raise SchemaError(f"{source}: include was {bad} but is expected to be any of {list(INCLUDE)}"
                          ).naming("ods_include")
    frame = raw.copy()
    frame.columns = list(ODS_COLUMNS)
    frame = frame.apply(lambda s: s.astype(str).str.strip())
    frame.insert(2, "category", ODS_KINDS[kind][1])
    frame = frame.drop(columns=[c for c in frame.columns if re.fullmatch(r"col\d+", c)])
    n = len(frame)
    reason = np.full(n, "", dtype=object)
    detail = np.full(n, "", dtype=object)
    status = frame["status_code"].to_numpy(object)
    unknown = ~np.isin(status, list(STATUS))
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise SchemaError(f"{source}, row {first_row + i:,}: status code {status[i]!r} is not an ODS status "
                          f"(expected one of {', '.join(STATUS)}: {', '.join(STATUS.values())})")
    for code, word in STATUS.items():
        if code == "A" or word in include:
            continue
        m = (status == code) & (reason == "")
        reason[m] = word
        close = frame["close_date"].to_numpy(object)
        detail[m] = [f"status {code} ({word})" + (f", closed {_date(close[i])}" if close[i] else "")
                     + f"; left out by default (include it with ods_include={word!r})" for i in np.flatnonzero(m)]
    if kind == "epraccur" and "other_settings" not in include:
        setting = pd.to_numeric(frame["prescribing_setting"], errors="coerce").to_numpy(float)
        m = (setting != 4) & (reason == "")
        reason[m] = "not_gp_practice"
        detail[m] = [f"prescribing setting {_setting(setting[i], frame['prescribing_setting'].iat[i])}, not 4 "
                     "(GP practice); left out by default (include it with ods_include='other_settings')"
                     for i in np.flatnonzero(m)]
    welsh = frame["national_grouping"].str.upper().str.startswith("W").to_numpy(bool) & (reason == "")
    reason[welsh] = "outside_england"
    detail[welsh] = [f"national grouping {g} (Wales): geotarget measures England"
                     for g in frame["national_grouping"].to_numpy(object)[welsh]]
    return frame, reason, detail


def _date(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if re.fullmatch(r"\d{8}", text) else text


def _setting(value: float, text: str) -> str:
    if np.isnan(value):
        return f"{text!r} (blank or not a number)"
    return f"{int(value)} ({PRESCRIBING_SETTINGS.get(int(value), 'not in the ODS list')})"


#: Postcode areas outside England (Wales, Scotland, Northern Ireland, the Crown dependencies).
NON_ENGLISH_AREAS = frozenset({
    "CF", "SA", "LL", "NP", "LD", "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA",
    "PH", "TD", "ZE", "BT", "GY", "JE", "IM",
})


def postcode_area(postcode: str) -> str:
    """Return the letters before the first digit of a postcode (``"TS18 1HU"`` -> ``"TS"``)."""
    m = re.match(r"^([A-Z]{1,2})[0-9]", postcode.strip().upper())
    return m.group(1) if m else ""


__all__ = ["EXCLUDE_REASONS", "INCLUDE", "NON_ENGLISH_AREAS", "ODS_COLUMNS", "ODS_KINDS", "PRESCRIBING_SETTINGS",
           "STATUS", "ods_frame", "ods_layout", "postcode_area"]
