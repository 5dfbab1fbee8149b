"""Read the English Indices of Deprivation as MHCLG publishes them.

:func:`read_imd` accepts

* the official "File 7" CSV of IoD2019 and IoD2025 (long headers such as
  ``"LSOA code (2011)"`` and ``"Index of Multiple Deprivation (IMD) Score"``), and the
  other official files that share its headers (File 1, 2, 5, ...);
* geotarget's canonical CSV (``lsoa21cd, lsoa21nm, lad24cd, imd_score, imd_rank, ...``),
  the layout of the bundled sample.

Headers are mapped to short canonical names in one place, :func:`canonical_name`. The
result is indexed by ``lsoa_code``; :func:`read_imd` returns the vintage beside the frame (never in ``attrs``).
"""

from __future__ import annotations

import functools
import logging
import os
import re

import numpy as np
import pandas as pd

from geotarget.core import domains as D
from geotarget.core.errors import SchemaError
from geotarget.core.vintages import (
    LAST_LSOA11_CODE,
    VINTAGES,
    Vintage,
    expected_decile,
    get_vintage,
    has_lsoa21_only_codes,
)
from geotarget.io.files import require_file
from geotarget.io.tables import cells_error, read_numbers, read_text_table, row_number

log = logging.getLogger(__name__)

LSOA_CODE_RE = re.compile(r"^E01\d{6}$")

# Official index labels (normalised: lower case, single spaces) -> canonical key. Longest first
# so that "income deprivation affecting children index" wins over "income".
_INDEX_LABELS: dict[str, str] = {
    d.label.lower(): d.key for d in D.ALL_INDICES
}
_INDEX_LABELS.update({"index of multiple deprivation": "imd", "imd": "imd"})
_INDEX_ORDER = sorted(_INDEX_LABELS, key=len, reverse=True)

_POPULATION = [
    (re.compile(r"^total population"), "pop_total"),
    (re.compile(r"^dependent children aged 0-15"), "pop_0_15"),
    (re.compile(r"^population aged 16-59"), "pop_16_59"),
    (re.compile(r"^older population aged 60 and over"), "pop_60plus"),
    (re.compile(r"^working age population"), "pop_working_age"),
    (re.compile(r"^usual[ _]residents[ _]total$"), "pop_total"),  # Census 2021 TS007A "Age: Total"
]
#: Age columns of ONS population tables: single years ``age_18``, bands ``age_15_19``, open ``age_90_plus``.
_AGE = re.compile(r"^(?:pop_)?age_(\d+)(?:_(\d+))?(_?plus)?$")
_CANONICAL_POP = re.compile(r"^(pop_(?:total|0_15|16_59|60plus|working_age))(?:_mid\d{4})?$")
_ID_COLUMNS = {
    "lsoa code": "lsoa_code", "lsoa name": "lsoa_name",
    "local authority district code": "lad_code", "local authority district name": "lad_name",
}
_CANONICAL_ID = re.compile(r"^(lsoa|lad)(\d\d)?_?(cd|nm|code|name)$")
_CANONICAL_MEASURE = re.compile(r"^([a-z_]+)_(score|rank|decile)$")


def normalise_header(header: str) -> str:
    """Lower case, single spaces (official headers exported from Excel carry line breaks)."""
    return " ".join(str(header).split()).lower()


def canonical_name(header: str) -> tuple[str | None, int | None]:
    """Map one column header to ``(canonical name, geography year)``.

    The year is the LSOA or LAD year stated in the header, e.g. 2011 for
    ``"LSOA code (2011)"`` or ``lsoa11cd``; ``None`` if the header states none.
    Unrecognised headers give ``(None, None)``.

    >>> canonical_name("Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)")
    ('imd_rank', None)
    >>> canonical_name("LSOA code (2021)")
    ('lsoa_code', 2021)
    >>> canonical_name("lsoa11cd")
    ('lsoa_code', 2011)
    """
    h = normalise_header(header)
    # official identifiers: "LSOA code (2011)", "Local Authority District name (2019)"
    m = re.match(r"^(lsoa code|lsoa name|local authority district code|local authority district name)"
                 r"(?: \((\d{4})\))?$", h)
    if m:
        return _ID_COLUMNS[m.group(1)], int(m.group(2)) if m.group(2) else None
    m = _CANONICAL_ID.match(h)
    if m:
        kind = {"cd": "code", "nm": "name"}.get(m.group(3), m.group(3))
        year = 2000 + int(m.group(2)) if m.group(2) else None
        return f"{m.group(1)}_{kind}", year
    for pattern, name in _POPULATION:
        if pattern.match(h):
            return name, None
    m = _CANONICAL_POP.match(h)
    if m:
        return m.group(1), None
    m = _AGE.match(h)
    if m:
        lo, hi, plus = int(m.group(1)), m.group(2), m.group(3)
        return (f"pop_age_{lo}plus" if plus else f"pop_age_{lo}_{int(hi)}" if hi else f"pop_age_{lo}"), None
    # official measures: "<index label> Score[ (rate)]" / "Rank (where ...)" / "Decile (where ...)"
    for label in _INDEX_ORDER:
        if h.startswith(label + " "):
            rest = h[len(label) + 1:]
            m = re.match(r"^(score|rank|decile)\b", rest)
            if m:
                return D.column(_INDEX_LABELS[label], m.group(1)), None
    m = _CANONICAL_MEASURE.match(h)
    if m and m.group(1) in D.BY_KEY:
        return h, None
    return None, None


def _row(i: int) -> int:
    """File row number of data row ``i`` (the header is row 1)."""
    return row_number(i)


def _fail_rows(path, column: str, rows: pd.Series, what: str, expected: str) -> SchemaError:
    return cells_error(path, column, rows, what, expected)


def _map_columns(frame: pd.DataFrame, path) -> tuple[dict[str, str], set[int]]:
    mapping: dict[str, str] = {}
    years: set[int] = set()
    seen: dict[str, str] = {}
    for col in frame.columns:
        name, year = canonical_name(col)
        if name is None:
            continue
        if name in seen:
            raise SchemaError(f"{path}: columns {seen[name]!r} and {col!r} both hold {name!r}; expected only one")
        seen[name] = col
        mapping[col] = name
        if year is not None and name.startswith("lsoa"):
            years.add(year)
    return mapping, years


def _detect_vintage(frame: pd.DataFrame, path, lsoa_years: set[int], vintage) -> Vintage:
    stated = get_vintage(vintage) if vintage is not None else None
    if len(lsoa_years) > 1:
        raise SchemaError(f"{path}: LSOA columns of more than one year {sorted(lsoa_years)}; expected one")
    from_header = None
    if lsoa_years:
        year = lsoa_years.pop()
        matches = [v for v in VINTAGES.values() if v.lsoa_year == year]
        if not matches:
            raise SchemaError(f"{path}: LSOA year {year} in the header; expected 2011 (IoD2019) or 2021 (IoD2025)")
        from_header = matches[0]
    if stated and from_header and stated != from_header:
        raise SchemaError(
            f"{path}: vintage={stated.name} was given but the file's LSOA code column is for LSOA "
            f"{from_header.lsoa_year}, the geography of {from_header.name}"
        )
    if stated or from_header:
        return stated or from_header
    if has_lsoa21_only_codes(frame["lsoa_code"]):
        return VINTAGES[2025]
    raise SchemaError(
        f"{path}: cannot tell whether this is IoD2019 (LSOA 2011) or IoD2025 (LSOA 2021): the LSOA code column "
        "does not state its year; pass vintage=2019 or vintage=2025"
    )


def _validate_codes(frame: pd.DataFrame, path, original: str) -> None:
    codes = frame["lsoa_code"]
    bad = codes[~codes.str.match(LSOA_CODE_RE)]
    if len(bad):
        raise _fail_rows(path, original, bad, "not a valid LSOA code",
                         "an English LSOA code: E01 followed by 6 digits, e.g. 'E01011949'")
    dup = codes[codes.duplicated(keep=False)]
    if len(dup):
        first = dup.index[0]
        others = [_row(i) for i in dup.index[dup == dup.loc[first]]]
        raise SchemaError(
            f"{path}, column {original!r}: LSOA code {dup.loc[first]!r} appears {len(others)} times "
            f"(rows {', '.join(f'{r:,}' for r in others)}); expected one row per LSOA"
            + (f" ({dup.nunique() - 1} other codes are duplicated too)" if dup.nunique() > 1 else "")
        )


#: Indices whose score is a rate (share of people): 0 to 1.
RATE_SCORES = frozenset({"income", "employment", "idaci", "idaopi", "adult_skills"})
#: Indices whose score runs from 0 to 100.
PERCENT_SCORES = frozenset({"imd", "education", "barriers", "living_env"})
#: Bound on standardised scores (health, crime, sub-domains: about -11 to 11 in IoD2019 and IoD2025).
STANDARDISED_BOUND = 100.0
#: The largest population an LSOA may hold (LSOAs hold 1,000 to 3,000 people; the largest in England
#: about 10,000): a figure beyond it is a wrong column or a total for a larger area.
MAX_LSOA_POPULATION = 100_000


def score_range(key: str) -> tuple[float, float, str]:
    """Return ``(low, high, description)`` of the scores of index ``key``."""
    if key in RATE_SCORES:
        return 0.0, 1.0, "a rate from 0 to 1 (the share of people deprived)"
    if key in PERCENT_SCORES:
        return 0.0, 100.0, "a score from 0 to 100"
    return -STANDARDISED_BOUND, STANDARDISED_BOUND, (f"a standardised score from {-STANDARDISED_BOUND:g} to "
                                                      f"{STANDARDISED_BOUND:g}")


def _to_numbers(frame: pd.DataFrame, path, originals: dict[str, str], vintage: Vintage) -> pd.DataFrame:
    out = frame.copy()
    for col in frame.columns:
        if not (col.endswith(("_score", "_rank", "_decile")) or col.startswith("pop_")):
            continue
        text = frame[col].astype(str).str.strip()
        values = read_numbers(frame[col], source=path, column=originals[col], thousands=True)
        if col.endswith("_score"):
            lo, hi, what = score_range(col.removesuffix("_score"))
            bad = (values < lo) | (values > hi)
            if bad.any():
                raise _fail_rows(path, originals[col], text[bad], "score out of range", what)
        if col.endswith("_decile"):
            bad = ~values.isin(range(1, 11))
            if bad.any():
                raise _fail_rows(path, originals[col], text[bad], "decile out of range",
                                 "a whole number from 1 (most deprived 10%) to 10")
        if col.endswith("_rank"):
            bad = (values < 1) | (values > vintage.n_lsoas) | (values != np.floor(values))
            if bad.any():
                raise _fail_rows(path, originals[col], text[bad], "rank out of range",
                                 f"a whole number from 1 (most deprived) to {vintage.n_lsoas:,} "
                                 f"(the number of LSOAs in England in {vintage.name})")
        if col.startswith("pop_"):
            bad = (values < 0) | (values != np.floor(values)) | (values > MAX_LSOA_POPULATION)
            if bad.any():
                raise _fail_rows(path, originals[col], text[bad], "not a population count",
                                 f"a whole number of people from 0 to {MAX_LSOA_POPULATION:,} (the most an LSOA "
                                 "may hold)")
        if col.endswith(("_rank", "_decile")) or col.startswith("pop_"):
            values = values.astype("int64")
        out[col] = values
    _check_ranks(out, path, originals, vintage)
    return out


def _other_vintage(v: Vintage) -> Vintage:
    return next(o for o in VINTAGES.values() if o != v)


def _check_ranks(frame: pd.DataFrame, path, originals: dict[str, str], v: Vintage) -> None:
    """Ranks agree with deciles (MHCLG: decile = ceil(rank / (N/10))), ties share a score, scores fall with rank.

    A file of the other release under this release's header is caught here: its deciles were cut at
    the other N.
    """
    other = _other_vintage(v)
    if "imd_rank" in frame.columns and len(frame) == other.n_lsoas != v.n_lsoas \
            and int(frame["imd_rank"].max()) == other.n_lsoas:
        raise SchemaError(
            f"{path}: {len(frame):,} LSOAs ranked 1 to {other.n_lsoas:,}: the {other.name} national file (LSOA "
            f"{other.lsoa_year}), but it is read as {v.name} (LSOA {v.lsoa_year}; {v.n_lsoas:,} LSOAs); check the "
            f"file and the vintage its header or `vintage` states")
    for rank_col in [c for c in frame.columns if c.endswith("_rank")]:
        key = rank_col.removesuffix("_rank")
        rank = frame[rank_col]
        dec_col, score_col = f"{key}_decile", f"{key}_score"
        if dec_col in frame.columns:
            expected = expected_decile(rank, v)
            bad = frame[dec_col] != expected
            if bad.any():
                i = bad.idxmax()
                hint = ""
                if (frame.loc[bad, dec_col] == expected_decile(rank[bad], other)).all() and \
                        rank.max() <= other.n_lsoas:
                    hint = (f"; these deciles agree with {other.name} (N = {other.n_lsoas:,}): is this an "
                            f"{other.name} file under an {v.name} header?")
                raise SchemaError(
                    f"{path}, row {_row(i):,}: {originals[rank_col]!r} is {int(rank[i]):,} but "
                    f"{originals[dec_col]!r} is {int(frame.loc[i, dec_col])}; expected decile {int(expected[i])} "
                    f"for {v.name} (decile = ceil(rank / ({v.n_lsoas:,} / 10)), as MHCLG cuts them)"
                    + (f" ({int(bad.sum()):,} rows disagree)" if bad.sum() > 1 else "") + hint)
        uniq, counts = np.unique(rank.to_numpy(), return_counts=True)
        # a tie of k at rank r leaves ranks r+1 .. r+k-1 unused (standard competition ranking, "1224")
        clash = np.flatnonzero(uniq[1:] < uniq[:-1] + counts[:-1])
        split = pd.Series(dtype=int)
        if score_col in frame.columns:
            split = frame.groupby(rank_col)[score_col].nunique()
            split = split[split > 1]
        if len(clash) or len(split):
            r = int(uniq[clash[0]]) if len(clash) else int(split.index[0])
            if len(clash) and len(split):
                r = min(r, int(split.index[0]))
            k = int((rank == r).sum())
            rows = ", ".join(f"{_row(i):,}" for i in rank.index[rank == r][:5])
            raise SchemaError(
                f"{path}, column {originals[rank_col]!r}: rank {r:,} appears {k} times (rows {rows}); expected each "
                "rank once, or LSOAs tied on the same score sharing a rank with the ranks after them skipped "
                f"(rank {r:,} held {k} times: next rank {r + k:,}), as in the official national ranks")
        if score_col in frame.columns:
            order = rank.sort_values(kind="stable").index
            s, rr = frame.loc[order, score_col].to_numpy(float), rank.loc[order].to_numpy()
            up = np.flatnonzero((np.diff(s) > 0) & (np.diff(rr) > 0))
            if len(up):
                a, b = order[up[0]], order[up[0] + 1]
                raise SchemaError(
                    f"{path}, rows {_row(a):,} and {_row(b):,}: {originals[rank_col]!r} {int(rank[a]):,} has "
                    f"{originals[score_col]!r} {frame.loc[a, score_col]:g} but rank {int(rank[b]):,} has the "
                    f"higher {frame.loc[b, score_col]:g}; expected scores to fall as ranks rise (rank 1 = the "
                    "highest score, most deprived): are the rank and score columns of the same index?")


def _read_table(path, vintage, *, what: str, required: list[str]) -> tuple[pd.DataFrame, Vintage]:
    raw = read_text_table(require_file(path, what))
    mapping, lsoa_years = _map_columns(raw, path)
    if "lsoa_code" not in mapping.values():
        raise SchemaError(
            f"{path}: no LSOA code column; expected a column such as 'LSOA code (2021)', 'LSOA code (2011)', "
            f"'lsoa21cd' or 'lsoa11cd'. Columns found: {', '.join(map(repr, raw.columns[:8]))}"
            + (" ..." if len(raw.columns) > 8 else "")
        )
    missing = [c for c in required if c not in mapping.values()]
    if missing:
        raise SchemaError(
            f"{path}: missing column(s) {', '.join(missing)}; expected e.g. "
            + "; ".join(repr(_official_header(c)) for c in missing)
        )
    frame = raw[list(mapping)].rename(columns=mapping)
    originals = {v: k for k, v in mapping.items()}
    frame["lsoa_code"] = frame["lsoa_code"].str.strip()
    _validate_codes(frame, path, originals["lsoa_code"])
    v = _detect_vintage(frame, path, lsoa_years, vintage)
    if v.lsoa_year == 2011:
        new = frame["lsoa_code"] > LAST_LSOA11_CODE
        if new.any():
            raise _fail_rows(path, originals["lsoa_code"], frame.loc[new, "lsoa_code"],
                             "an LSOA 2021 code in an LSOA 2011 file",
                             f"LSOA 2011 codes (E01000001 to {LAST_LSOA11_CODE}) for {v.name}; codes above "
                             f"{LAST_LSOA11_CODE} exist only in the LSOA 2021 geography (IoD2025)")
    frame = _to_numbers(frame, path, originals, v)
    if v.lsoa_year == 2021:
        old = frame["lsoa_code"].isin(retired_lsoa11_codes())
        if old.any():
            raise _fail_rows(path, originals["lsoa_code"], frame.loc[old, "lsoa_code"],
                             "an LSOA 2011 code that LSOA 2021 does not have (split or merged in 2021)",
                             f"LSOA 2021 codes for {v.name}; is this an IoD2019 (LSOA 2011) file? The ONS LSOA 2011 to "
                             "2021 lookup maps between them")
    frame = frame.set_index("lsoa_code")
    frame.attrs = {"source": os.fspath(path)}
    return frame, v


@functools.cache
def retired_lsoa11_codes() -> frozenset[str]:
    """Return the LSOA 2011 codes that the LSOA 2021 geography no longer has (split or merged), where known.

    Read from the bundled ONS LSOA 2011 -> 2021 lookups (``data/lookups/lsoa11_lsoa21_*.csv``: the bundled
    places); empty if none is bundled. Codes above :data:`~geotarget.core.vintages.LAST_LSOA11_CODE` mark
    LSOA 2021 codes everywhere; these mark LSOA 2011 ones.
    """
    from geotarget.core.places import ROOT

    codes: set[str] = set()
    for p in sorted((ROOT / "data" / "lookups").glob("lsoa11_lsoa21_*.csv")):
        t = read_text_table(p)
        if {"lsoa11cd", "lsoa21cd"} <= set(t.columns):
            codes |= set(t["lsoa11cd"]) - set(t["lsoa21cd"])
    return frozenset(codes)


def _official_header(col: str) -> str:
    if col.startswith("pop_total"):
        return "Total population: mid 2022"
    key, _, measure = col.rpartition("_")
    d = D.BY_KEY.get(key)
    if d is None:
        return col
    return {"score": f"{d.label} Score", "rank": f"{d.label} Rank (where 1 is most deprived)",
            "decile": f"{d.label} Decile (where 1 is most deprived 10% of LSOAs)"}[measure]


def read_imd(path: str | os.PathLike, *, vintage: int | str | None = None) -> tuple[pd.DataFrame, Vintage]:
    """Read an IoD file (official File 7 layout or geotarget's canonical CSV).

    Parameters
    ----------
    path
        CSV file, optionally gzipped, UTF-8 or Windows-1252.
    vintage
        2019 or 2025. Only needed when the file's LSOA code column does not state its
        year (official files say "LSOA code (2011)" / "(2021)"; canonical files use
        ``lsoa11cd`` / ``lsoa21cd``).

    Returns
    -------
    (pandas.DataFrame, Vintage)
        The frame, indexed by ``lsoa_code``, and the IoD release it is (from the header, the
        codes or ``vintage``). The frame has columns ``lsoa_name``, ``lad_code``, ``lad_name`` where
        present, ``<index>_score/_rank/_decile`` for the IMD and every domain, sub-domain and
        supplementary index in the file, and population denominators (``pop_total``,
        ``pop_working_age``, ...) if the file holds them. Ranks and deciles are **national** (1 = most deprived) and are
        never recomputed.

    Raises
    ------
    SchemaError
        Missing columns, bad or duplicated LSOA codes, blank or non-numeric values, ranks
        or deciles out of range; the message names the file, column, row and value.
    """
    frame, v = _read_table(path, vintage, what="IoD", required=["imd_score", "imd_rank", "imd_decile"])
    found = [d.key for d in D.DOMAINS if f"{d.key}_rank" in frame.columns]
    log.info("%s: %s, %d LSOAs, domains: %s", path, v.name, len(frame), ", ".join(found) or "none")
    return frame, v


#: The Employment Deprivation domain's denominator in each IoD release, as weights by single year of age
#: (persons; 1 = counted). IoD2025 File 7: "Working age population 18-66 (for use with Employment Deprivation
#: Domain)". IoD2019 File 6: women 18-59 and men 18-64; from persons-only counts ages 60-64 count one half
#: (men), an approximation.
WORKING_AGE = {
    2025: ({a: 1.0 for a in range(18, 67)}, "ages 18-66"),
    2019: ({**{a: 1.0 for a in range(18, 60)}, **{a: 0.5 for a in range(60, 65)}},
           "ages 18-59 plus half of ages 60-64 (IoD2019: women 18-59, men 18-64; persons-only counts)"),
}


def _age_span(col: str) -> tuple[int, int | None]:
    """``pop_age_18`` -> (18, 18); ``pop_age_15_19`` -> (15, 19); ``pop_age_90plus`` -> (90, None)."""
    parts = col.removeprefix("pop_age_").split("_")
    if parts[0].endswith("plus"):
        return int(parts[0].removesuffix("plus")), None
    return int(parts[0]), int(parts[-1])


def working_age_from_ages(ages: pd.DataFrame, year: int) -> tuple[pd.Series, str]:
    """Return the IoD's working-age population (Employment domain denominator) from counts by age.

    ``ages`` has ``pop_age_<a>`` (single years), ``pop_age_<a>_<b>`` (bands) or ``pop_age_<a>plus``
    columns. A band counts the mean weight of its single years (people spread evenly across the
    band's years): from five-year bands IoD2025's 18-66 is ``2/5 x (15-19) + (20-64) + 2/5 x (65-69)``.
    Returns the population and a sentence saying how it was derived.
    """
    weights, label = WORKING_AGE[year]
    total = pd.Series(0.0, index=ages.index)
    banded = []
    for col in ages.columns:
        lo, hi = _age_span(col)
        if hi is None:  # an open band (85+, 90+): never working age
            if any(weights.get(a, 0) for a in range(lo, 121)):
                raise SchemaError(f"column {col!r}: an open age band overlaps the working ages ({label})")
            continue
        w = np.mean([weights.get(a, 0.0) for a in range(lo, hi + 1)])
        if hi > lo and 0 < w < 1:
            banded.append(col.removeprefix("pop_age_").replace("_", "-"))
        total = total + w * ages[col].astype(float)
    how = f"working-age population = {label}, summed from counts by age"
    if banded:
        how += (f"; the age bands {', '.join(banded)} straddle the working ages and count in proportion to the "
                "years inside (people spread evenly within a band): an approximation to the official figure")
    return total, how


def read_population(path: str | os.PathLike, *, vintage: int | str | None = None) -> pd.DataFrame:
    """Read population denominators: IoD File 6/7 headers, canonical ``pop_total_mid2022``..., or ONS counts by age.

    Returns a frame indexed by ``lsoa_code`` with ``pop_total`` and any of ``pop_0_15``,
    ``pop_16_59``, ``pop_60plus``, ``pop_working_age`` found. Pass the IoD's ``vintage`` to check
    that a header stating its LSOA year matches it.

    The Employment domain is weighted by ``pop_working_age``. When the file has no such column
    but has counts by single year (``age_0 ... age_90_plus``, ONS mid-year estimates) or by age
    band (``age_0_4 ... age_85_plus``, Census 2021 TS007A), the working-age population of the
    IoD release is derived from them (:func:`working_age_from_ages`; IoD2025 18-66). A Census
    ``usual_residents_total`` column is read as ``pop_total``.

    ``attrs["denominators"]`` says what each column is, e.g. ``{"pop_working_age": "...derived..."}``.
    """
    frame, v = _read_table(path, vintage, what="population", required=["pop_total"])
    keep = [c for c in frame.columns if c.startswith("pop_") and not c.startswith("pop_age_")]
    ages = [c for c in frame.columns if c.startswith("pop_age_")]
    out = frame[keep].copy()
    notes = {"pop_total": f"total population ({os.path.basename(os.fspath(path))})"}
    if "pop_working_age" in out.columns:
        notes["pop_working_age"] = "working-age population as given in the file"
    elif ages:
        out["pop_working_age"], how = working_age_from_ages(frame[ages], v.year)
        notes["pop_working_age"] = f"{how} ({os.path.basename(os.fspath(path))})"
        log.info("%s: %s", path, how)
    out.attrs = {**frame.attrs, "denominators": notes}
    return out


def add_population(imd: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Return ``imd`` with the population columns of ``population`` (every LSOA of ``imd``).

    The vintages are checked where the files are read: ``read_population(path, vintage=v)``.
    ``attrs["denominators"]`` of the result says what each population column is.
    """
    missing = imd.index.difference(population.index)
    if len(missing):
        raise SchemaError(
            f"{population.attrs.get('source', 'population')}: no population for {len(missing):,} LSOAs "
            f"in the IoD data, e.g. {', '.join(missing[:5])}; expected a population for every LSOA (a file of the "
            "same LSOA year and place), or proceed without them with `partial` (a study's [data] partial = true)"
        ).naming("partial")
    out = imd.drop(columns=[c for c in population.columns if c in imd.columns])
    out = out.join(population)
    notes = {**imd.attrs.get("denominators", {}), **population.attrs.get("denominators", {})}
    out.attrs = {**imd.attrs, **({"denominators": notes} if notes else {})}
    return out


def add_working_age(lsoas: pd.DataFrame, population: pd.DataFrame, *, as_share: bool = True) -> pd.DataFrame:
    """Return ``lsoas`` with ``pop_working_age`` from ``population`` (:func:`read_population` of an age file).

    For IoD data whose population file has totals only (e.g. ONS mid-2022 totals): the totals
    stay, the Employment domain gets a working-age population. Every LSOA must be found.

    With ``as_share`` (default) the age file gives each LSOA's working-age **share**, applied to
    the LSOA's ``pop_total`` in ``lsoas``: Census 2021 counts by age then stand for the working-age
    population of the same date and total as the other domains' denominators (mid-2022 for
    IoD2025). On IoD2025 this reproduces 159 of the 296 published district employment ranks of
    average score exactly (117 with the Census counts as they are, 44 with total population),
    every one within 8 places.
    """
    if "pop_working_age" not in population.columns:
        raise SchemaError(f"{population.attrs.get('source', 'population')}: no working-age population and no counts "
                          "by age to derive it from; expected a 'Working age population' column or age columns "
                          "(age_18 ... or age_15_19 ...)")
    wa = population[["pop_working_age"]].copy().pipe(_with_attrs, population)
    if as_share and "pop_total" in lsoas.columns:
        missing = lsoas.index.difference(population.index)
        if len(missing):
            return add_population(lsoas, wa)  # raises, naming the LSOAs
        total = population["pop_total"].reindex(lsoas.index).astype(float)
        share = (population["pop_working_age"].reindex(lsoas.index) / total.where(total > 0)).fillna(0.0)
        wa = pd.DataFrame({"pop_working_age": lsoas["pop_total"].astype(float) * share}, index=lsoas.index)
        how = population.attrs.get("denominators", {}).get("pop_working_age", "working-age population")
        wa.attrs = {"source": population.attrs.get("source"),
                    "denominators": {"pop_working_age": f"{how}; used as each LSOA's working-age share of its "
                                                        "total population (pop_total), so both refer to one date"}}
    return add_population(lsoas, wa)


def _with_attrs(frame: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    frame.attrs = {"source": like.attrs.get("source"),
                   "denominators": {k: v for k, v in like.attrs.get("denominators", {}).items()
                                    if k in frame.columns}}
    return frame
