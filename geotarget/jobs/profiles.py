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


#: What each geography's areas are called, in words ("rank among 6,784 wards in England").
AREA_WORDS = {"ward": ("ward", "wards"), "lad": ("council", "councils"), "msoa": ("MSOA", "MSOAs"),
              "custom": ("area", "areas")}


@dataclass(frozen=True)
class Profiles:
    """The result of :func:`profile_areas`: the profiles, and what their ranks are among.

    ``national`` says whether the ranks are among every area of this type in England (``n_ranked``
    of them) or among the areas of the study (``ranked_in``, e.g. "Tees Valley"); :attr:`among`
    says so in words, for maps, summaries and notes.
    """

    table: pd.DataFrame
    to: str
    vintage: int
    national: bool  #: ranks are among all areas of this type in England
    counts: pd.DataFrame | None = None  #: per council, areas in the most deprived 10% (wards/MSOAs)
    notes: list[str] = field(default_factory=list)
    n_ranked: int = 0  #: how many areas the ranks are among
    ranked_in: str = ""  #: where those areas are: "England", or the study's place

    @property
    def among(self) -> str:
        """``"6,784 wards in England"``, ``"103 wards in Tees Valley"``: what the ranks are among."""
        one, many = AREA_WORDS.get(self.to, ("area", "areas"))
        return f"{self.n_ranked:,} {one if self.n_ranked == 1 else many} in {self.ranked_in or 'the study'}"


def place_label(data: StudyData) -> str:
    """Say what a study covers, in words: a file bundle's place ("England", "Leeds"), else its councils' names.

    A bundled place taken whole is its name ("Tees Valley"); some of its councils are their names
    ("Hartlepool and Middlesbrough").
    """
    if not data.bundled and data.place:
        return data.place
    from geotarget.core.places import PLACES

    if data.place_key in PLACES and set(data.councils) == set(PLACES[data.place_key].councils):
        return data.place
    if data.lads is not None and len(data.lads):
        names = sorted(data.lads["lad_name"])
    elif "lad_name" in data.lsoas.columns:
        names = sorted(data.lsoas["lad_name"].dropna().unique())
    else:
        return data.place
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


def national_table(data: StudyData, *, to: str, lookup: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Profiles of every ``to`` area of England, when the study's data came from the England-wide IoD.

    Every English LSOA (:attr:`StudyData.national`) is aggregated, with ``lookup`` or the study's own
    lookup file (for wards and MSOAs), so the ranks are national. ``None`` when the data has no
    national IoD, or no lookup covering every LSOA of England with ``<to>_code``.
    """
    nat = data.national
    if nat is None or to == "custom":
        return None
    lk = None
    if to != "lad":
        col = f"{to}_code"
        lk = lookup if lookup is not None and col in lookup.columns else None
        if lk is None and data.source.lookup is not None:
            from geotarget.io.lookups import read_lsoa_lookup

            lk = read_lsoa_lookup(data.source.lookup)
        if lk is None or col not in lk.columns:
            return None
        missing = nat.index.difference(lk.index)
        if len(missing):
            log.warning("%d English LSOAs are not in the lookup (e.g. %s): %s ranks are among the study's %ss",
                        len(missing), ", ".join(missing[:3]), to, to)
            return None
        lk = lk.loc[lk.index.isin(nat.index)]
    return aggregate(nat, to=to, lookup=lk, vintage=data.vintage.year)


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

    When the data came from the England-wide IoD (:attr:`StudyData.national`), wards, MSOAs and
    councils are ranked among every such area of England (:func:`national_table`), then the study's
    are kept; else among the study's own. :attr:`Profiles.among` says which.
    """
    method = method.replace("-", "_")  # "best-fit" (the CLI and study spelling) or "best_fit"
    if data is None:
        from geotarget.data.load import load

        data = load()
    notes: list[str] = []
    lsoas = data.lsoas
    centroids = data.centroids
    points = None
    everywhere = None  # every area of England, when the data has the national IoD
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
        everywhere = None if national else national_table(data, to=to, lookup=lookup)
        if everywhere is not None:  # the study's areas, ranked among England's
            col = f"{to}_code"
            own = lk if lk is not None and col in lk.columns else lsoas
            study = pd.Index(own[col].reindex(lsoas.index).dropna().unique()) if col in own.columns else None
            national = bool(study is not None and study.isin(everywhere.index).all())
            if national:
                table = everywhere.loc[everywhere.index.isin(study)]
        if everywhere is None or not national:
            table = aggregate(lsoas, to=to, lookup=lk, vintage=data.vintage.year)
    ranked = everywhere if everywhere is not None and national else table
    n_ranked, ranked_in = len(ranked), "England" if national else place_label(data)
    counts = None
    if to in ("ward", "msoa") and "lad_code" in table.columns:
        counts = in_most_deprived(ranked)  # over every area ranked, before selecting councils
        counts = counts[counts.index.isin(table["lad_code"])]
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
    return Profiles(table, to, data.vintage.year, national, counts, notes, n_ranked, ranked_in)


def write_profiles_csv(table: pd.DataFrame, path: str | os.PathLike, *, inputs: Sequence[str] = ()) -> Path:
    """Write a profile table as CSV (area_code first), atomically; never over an input file."""
    target = Path(path)
    for p in inputs:
        if p and p != "sample" and Path(p).exists() and Path(p).resolve() == target.resolve():
            raise ParameterError(f"path was {str(target)!r} but is one of the input files; choose another name",
                                 parameter="path")
    write_csv(target, table.reset_index())
    return target


__all__ = ["AREA_WORDS", "Profiles", "national_table", "place_label", "profile_areas", "write_profiles_csv"]
