"""Deprivation profiles of a study's LSOAs: what ``geotarget aggregate`` runs."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geotarget.analysis.aggregate import aggregate, in_most_deprived
from geotarget.core.councils import resolve_councils
from geotarget.core.errors import ParameterError, SchemaError
from geotarget.data.study_data import StudyData
from geotarget.io.files import write_csv
from geotarget.jobs.params import AggregateParams as A

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Profiles:
    """The result of :func:`profile_areas`."""

    table: pd.DataFrame
    to: str
    vintage: int
    national: bool  #: ranks are among all areas of this type in England
    counts: pd.DataFrame | None = None  #: per council, areas in the most deprived 10% (wards/MSOAs)
    notes: list[str] = field(default_factory=list)


def profile_areas(
    data: StudyData | None = None,
    *,
    to: str = A.to[0],
    lookup: pd.DataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    method: str = A.method,
    councils: Sequence[str] | None = None,
) -> Profiles:
    """Profile LADs, MSOAs, wards or custom areas of the study's LSOAs.

    ``data`` is the study (:func:`geotarget.data.load`; default the bundled Tees Valley). ``lookup``
    (an LSOA -> ward/MSOA table, :func:`geotarget.io.lookups.read_lsoa_lookup`) maps LSOAs to wards
    or MSOAs when the LSOAs carry none; ``areas`` (:func:`geotarget.io.areas.read_areas`)
    are the custom areas (``to="custom"``), which need LSOA boundaries, and ``method="apportion"``
    uses the data's residential postcodes where it has them. ``councils`` keeps those councils'
    areas *after* ranking (ranks stay among every area of the data). Defaults:
    :class:`~geotarget.jobs.params.AggregateParams`.
    """
    method = method.replace("-", "_")  # "best-fit" (the CLI and study spelling) or "best_fit"
    if data is None:
        from geotarget.data.load import load

        data = load()
    notes: list[str] = []
    lsoas = data.lsoas
    centroids = data.centroids
    points = None
    national = len(lsoas) == data.vintage.n_lsoas if not data.bundled else False
    if data.bundled:
        if method == "apportion":
            points = data.postcodes
        notes.append(f"Bundled {data.place} sample ({data.label}).")
    if to == "custom":
        if areas is None:
            raise ParameterError("areas was None but is expected with `to`='custom': custom area polygons, "
                                 "read with their id column (`area_id`)", parameter="areas", related=("area_id", "to"))
        if not data.has_geometry:
            raise ParameterError("boundaries was None but is expected with `to`='custom': LSOA boundaries to place "
                                 "the LSOAs in the custom areas (with an IoD file)", parameter="boundaries",
                                 related=("to",))
        table = aggregate(lsoas, to="custom", areas=areas, method=method, centroids=centroids, points=points,
                          vintage=data.vintage.year, partial=data.source.partial)
        notes.append("LSOAs assigned to custom areas by " + (
            "population-weighted centroid (best fit)." if method == "best_fit" else
            "apportionment of their population by residential postcodes." if points is not None else
            "apportionment of their population by area."))
    else:
        lk = lookup[lookup.index.isin(lsoas.index)] if lookup is not None else None
        table = aggregate(lsoas, to=to, lookup=lk, vintage=data.vintage.year)
    counts = None
    if to in ("ward", "msoa") and "lad_code" in table.columns:
        counts = in_most_deprived(table)  # over every area in the file, before selecting councils
        if not national:
            notes.append(f"Ranks are among the {len(table):,} {to}s in this result, not national: national "
                         f"{to} ranks need the England-wide IoD file (e.g. imd = iod2025_lsoa21_england.csv.gz, "
                         "with population and lookup = lsoa21_ward24_lad24_ew.csv.gz).")
    if councils and to != "custom":
        # ranks are over everything in the data; then keep the councils asked for
        if "lad_name" not in lsoas.columns:
            raise SchemaError(f"{data.source.imd}: no council names in the file to select `councils` by"
                              ).naming("councils")
        keep = resolve_councils(councils, lsoas.groupby("lad_code")["lad_name"].first())
        table = table[(table.index if to == "lad" else table["lad_code"]).isin(keep)]
        counts = counts[counts.index.isin(keep)] if counts is not None else None
    return Profiles(table, to, data.vintage.year, national, counts, notes)


def write_profiles_csv(table: pd.DataFrame, path: str | os.PathLike, *, inputs: Sequence[str] = ()) -> Path:
    """Write a profile table as CSV (area_code first), atomically; never over an input file."""
    target = Path(path)
    for p in inputs:
        if p and p != "sample" and Path(p).exists() and Path(p).resolve() == target.resolve():
            raise ParameterError(f"path was {str(target)!r} but is one of the input files; choose another name",
                                 parameter="path")
    write_csv(target, table.reset_index())
    return target


__all__ = ["Profiles", "profile_areas", "write_profiles_csv"]
