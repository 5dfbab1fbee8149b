"""Join IoD data to LSOA boundaries, refusing to mix vintages."""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd

from geotarget.core.codes import codes_in
from geotarget.core.errors import SchemaError, VintageError
from geotarget.core.vintages import BY_LSOA_YEAR, VINTAGES, Vintage, get_vintage, has_lsoa21_only_codes

log = logging.getLogger(__name__)

_LOOKUP_HINT = (
    "The ONS LSOA 2011 to LSOA 2021 lookup (bundled for Tees Valley as "
    "data/lookups/lsoa11_lsoa21_tees_valley.csv) maps between the two geographies."
)


def _boundary_year(boundaries: gpd.GeoDataFrame) -> int | None:
    year = boundaries.attrs.get("lsoa_year")
    if year is None and has_lsoa21_only_codes(boundaries.index):
        year = 2021
    return year


def attach_imd(boundaries: gpd.GeoDataFrame, imd: pd.DataFrame, *, vintage: Vintage | int | None = None,
               allow_missing: bool = False) -> gpd.GeoDataFrame:
    """Join IoD columns to LSOA boundaries on the LSOA code.

    Parameters
    ----------
    boundaries
        LSOA boundaries indexed by ``lsoa_code``, as returned by :func:`read_boundaries`.
    imd
        IoD data indexed by ``lsoa_code``, as returned by :func:`read_imd`.
    vintage
        The IoD release of ``imd`` (the second value :func:`read_imd` returns), checked against the
        boundaries' LSOA year; without it, LSOA 2021-only codes in ``imd`` reveal IoD2025.
    allow_missing
        Keep boundary LSOAs that have no IoD row (their IoD columns are blank and they are
        listed in the log). By default such LSOAs are an error: no area is silently blank.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per boundary LSOA, same index and CRS, with the IoD columns added
        (boundary columns such as ``lsoa_name`` win over IoD ones of the same name).

    Raises
    ------
    VintageError
        IoD2019 (published on LSOA 2011) with LSOA 2021 boundaries, or IoD2025 with LSOA
        2011 boundaries. The message gives the code match rate and what to use instead.
    SchemaError
        Boundary LSOAs without IoD data (unless ``allow_missing``).
    """
    if boundaries.index.name != "lsoa_code" or imd.index.name != "lsoa_code":
        raise SchemaError(
            "attach_imd needs both frames indexed by 'lsoa_code' (as read_boundaries(level='lsoa21'|'lsoa11') "
            f"and read_imd return them); got indexes {boundaries.index.name!r} and {imd.index.name!r}"
        )
    matched = codes_in(boundaries.index, imd.index)
    rate = matched.mean() if len(boundaries) else 0.0
    counts = f"{int(matched.sum()):,} of {len(boundaries):,} boundary LSOA codes ({rate:.1%}) are in the IoD data"

    vintage = get_vintage(vintage) if vintage is not None else None
    if vintage is None and has_lsoa21_only_codes(imd.index):
        vintage = VINTAGES[2025]
    b_year = _boundary_year(boundaries)
    if vintage is not None and b_year is not None and b_year != vintage.lsoa_year:
        right = BY_LSOA_YEAR[b_year]
        raise VintageError(
            f"{vintage.name} is published on LSOA {vintage.lsoa_year} but these boundaries are LSOA {b_year}: "
            f"{counts}, and the codes that match may not be the same areas. Use LSOA {vintage.lsoa_year} "
            f"boundaries with {vintage.name} (e.g. load(vintage={vintage.year}) or level='lsoa"
            f"{vintage.lsoa_year % 100}'), or {right.name} with these boundaries. {_LOOKUP_HINT}"
        )
    if not matched.all():
        missing = boundaries.index[~matched]
        msg = f"{counts}; no IoD row for {len(missing):,} LSOAs, e.g. {', '.join(missing[:5])}"
        if not allow_missing:
            raise SchemaError(
                msg + ". Check that the IoD file covers the same area (England only: Welsh LSOAs have no IoD) "
                "and the same LSOA year, or pass allow_missing=True to keep them blank."
            )
        log.warning("%s (kept with blank IoD values)", msg)

    extra = imd.drop(columns=[c for c in imd.columns if c in boundaries.columns])
    out = boundaries.join(extra, how="left")
    out.attrs = {**boundaries.attrs, "lsoa_year": b_year or (vintage and vintage.lsoa_year)}
    log.info("attached %s to %d LSOAs (match %.1f%%)", vintage.name if vintage else "IoD", len(out), 100 * rate)
    return out


# ----------------------------------------------------------------------------- coverage

#: Columns of the table of LSOAs a partial run leaves out (``missing_lsoas.csv``).
MISSING_COLUMNS = ("lsoa_code", "lad_code", "missing_from", "file", "listed_in")
#: How to proceed anyway, for messages.
PARTIAL_HINT = ("give complete files, or proceed without them with `partial` (a study's [data] partial = true): "
                "they are then left out of every result and listed in missing_lsoas.csv and the manifest")


def missing_lsoas(expected: pd.Series, present, *, what: str, file, listed_in) -> pd.DataFrame:
    """Return the LSOAs of ``expected`` (LSOA code -> council code) not in ``present``, one row each.

    ``what`` says what they lack (``"IoD row"``, ``"population"``, ``"boundary"``, ``"lookup row"``), ``file`` the
    file lacking them and ``listed_in`` the file that names them.
    """
    codes = pd.Index(expected.index).difference(pd.Index(present))
    return pd.DataFrame({"lsoa_code": codes.to_numpy(dtype=object),
                         "lad_code": expected.reindex(codes).to_numpy(dtype=object),
                         "missing_from": what, "file": str(file), "listed_in": str(listed_in)},
                        columns=list(MISSING_COLUMNS))


def check_coverage(missing: pd.DataFrame, expected: pd.Series, *, partial: bool,
                   names: pd.Series | None = None) -> str | None:
    """Raise unless every LSOA of ``expected`` is covered; with ``partial``, return a note listing the gaps.

    Parameters
    ----------
    missing
        From :func:`missing_lsoas` (empty: full coverage, nothing to do).
    expected
        Every LSOA the study should have (LSOA code -> council code), for the counts by council.
    partial
        Proceed without the missing LSOAs (``DataSource.partial``); by default missing coverage is an error.
    names
        Council names by code, for the message.

    Raises
    ------
    SchemaError
        LSOAs are missing and ``partial`` is False; the message names the file, the counts by council and
        the first codes.
    """
    if missing.empty:
        return None
    first = missing.iloc[0]
    total = expected.groupby(expected.fillna("?")).size()
    lost = missing.groupby(missing["lad_code"].fillna("?")).size()
    names = names if names is not None else pd.Series(dtype=object)
    by = "; ".join(f"{names.get(c, c)} ({c}): {n:,} of {int(total.get(c, n)):,}" for c, n in lost.items())
    head = (f"{first['file']}: no {first['missing_from']} for {len(missing):,} LSOAs of the chosen councils "
            f"that {first['listed_in']} lists (of {len(expected):,}; by council: {by}), "
            f"e.g. {', '.join(missing['lsoa_code'][:5])}")
    if not partial:
        raise SchemaError(head + f"; is the file cut short, or for another place or LSOA year? Missing coverage is "
                          f"an error: {PARTIAL_HINT}").naming("partial")
    shown = ", ".join(missing["lsoa_code"][:50]) + (f" and {len(missing) - 50:,} more" if len(missing) > 50 else "")
    note = (f"Partial coverage (partial = true): {head.split(', e.g. ')[0]}; these LSOAs are left out of every "
            f"result (missing_lsoas.csv lists them all): {shown}.")
    log.warning(note)
    return note
