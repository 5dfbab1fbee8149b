"""Deprivation profiles from files or the bundled sample: what ``geotarget aggregate`` runs."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geotarget.analysis.aggregate import aggregate, in_most_deprived
from geotarget.analysis.crosswalk import read_areas
from geotarget.core.councils import resolve_councils
from geotarget.core.errors import GeotargetError, SchemaError
from geotarget.core.vintages import VINTAGES
from geotarget.data.join import attach_imd
from geotarget.data.sample import load_postcode_points, load_sample
from geotarget.io.boundaries import read_boundaries
from geotarget.io.files import atomic_path
from geotarget.io.imd import add_population, read_imd, read_population
from geotarget.io.lookups import read_lsoa_lookup
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
    *,
    imd: str | os.PathLike = "sample",
    to: str = A.to[0],
    vintage: int | str | None = None,
    population: str | os.PathLike | None = None,
    lookup: str | os.PathLike | None = None,
    lookup_columns: dict[str, str] | None = None,
    areas: str | os.PathLike | None = None,
    area_id: str | None = None,
    area_name: str | None = None,
    boundaries: str | os.PathLike | None = None,
    method: str = A.method,
    councils: Sequence[str] | None = None,
) -> Profiles:
    """Profile LADs, MSOAs, wards or custom areas from the sample or from official files.

    ``imd="sample"`` uses the bundled Tees Valley data (its lookups, population-weighted
    centroids and residential postcodes for apportionment). Otherwise ``imd`` is an IoD
    file (File 7 or canonical); ``population`` adds denominators when the file has none;
    ``lookup`` maps LSOAs to wards/MSOAs; ``boundaries`` (LSOA polygons) is needed for
    custom areas. Parameters and defaults: :class:`~geotarget.jobs.params.AggregateParams`.
    """
    method = method.replace("-", "_")  # "best-fit" (the CLI and study spelling) or "best_fit"
    notes: list[str] = []
    centroids = points = None
    national = False
    if str(imd) == "sample":
        s = load_sample(vintage or 2025, councils=councils)
        lsoas = s.lsoas
        centroids = s.centroids
        if method == "apportion":
            points = load_postcode_points(s.vintage.year)
        notes.append(f"Bundled Tees Valley sample ({s.vintage.label}).")
    else:
        frame = read_imd(imd, vintage=vintage)
        if population is not None:
            frame = add_population(frame, read_population(population))
        elif "pop_total" not in frame.columns:
            raise SchemaError(f"{imd}: the file has no population denominators; pass the IoD File 7 or a "
                              "population file (e.g. ONS mid-year LSOA estimates) with --population")
        lsoas = attach_imd(read_boundaries(boundaries), frame) if boundaries is not None else frame
        national = len(frame) == VINTAGES[frame.attrs["vintage"]].n_lsoas
    if to == "custom":
        if areas is None or area_id is None:
            raise SchemaError("to='custom' needs an areas file and its id column (--areas PATH --area-id COL)")
        if not hasattr(lsoas, "geometry"):
            raise SchemaError("custom areas need LSOA boundaries: pass --boundaries PATH with an IoD file")
        shapes = read_areas(areas, id_column=area_id, name_column=area_name)
        table = aggregate(lsoas, to="custom", areas=shapes, method=method, centroids=centroids, points=points)
        notes.append("LSOAs assigned to custom areas by " + (
            "population-weighted centroid (best fit)." if method == "best_fit" else
            "apportionment of their population by residential postcodes." if points is not None else
            "apportionment of their population by area."))
    else:
        lk = read_lsoa_lookup(lookup, columns=lookup_columns) if lookup is not None else None
        if lk is not None:
            lk = lk[lk.index.isin(lsoas.index)]
        table = aggregate(lsoas, to=to, lookup=lk)
    counts = None
    if to in ("ward", "msoa") and "lad_code" in table.columns:
        counts = in_most_deprived(table)  # over every area in the file, before selecting councils
        if not national:
            notes.append(f"Ranks are among the {len(table):,} {to}s in this result, not national: national "
                         f"{to} ranks need the England-wide IoD file (e.g. --imd iod2025_lsoa21_england.csv.gz "
                         "--population ... --lookup lsoa21_ward24_lad24_ew.csv.gz).")
    if str(imd) != "sample" and councils and to != "custom":
        # ranks are over everything in the file; then keep the councils asked for
        if "lad_name" not in lsoas.columns:
            raise SchemaError(f"{imd}: no council names in the file to select --la by")
        keep = resolve_councils(councils, lsoas.groupby("lad_code")["lad_name"].first())
        table = table[(table.index if to == "lad" else table["lad_code"]).isin(keep)]
        counts = counts[counts.index.isin(keep)] if counts is not None else None
    v = lsoas.attrs.get("vintage")
    return Profiles(table, to, v, national, counts, notes)


def write_profiles_csv(table: pd.DataFrame, path: str | os.PathLike, *, inputs: Sequence[str] = ()) -> Path:
    """Write a profile table as CSV (area_code first), atomically; never over an input file."""
    target = Path(path)
    for p in inputs:
        if p and p != "sample" and Path(p).exists() and Path(p).resolve() == target.resolve():
            raise GeotargetError(f"--out {target} is one of the input files; choose another name")
    flat = table.reset_index()
    with atomic_path(target) as tmp:
        flat.to_csv(tmp, index=False, lineterminator="\n")
    return target


__all__ = ["Profiles", "profile_areas", "write_profiles_csv"]
