"""Profiles of groupings of councils (regions, ICBs, LRFs, combined authorities, user groups).

Also the working-age population of the Employment domain. What ``geotarget aggregate --to
region|icb|lrf|cauth|groups`` and a study's ``[aggregate] to`` run.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import pandas as pd

from geotarget.analysis.aggregate import GROUPING_LABELS, GROUPINGS, aggregate
from geotarget.core.errors import ParameterError
from geotarget.data.study_data import StudyData
from geotarget.io.groups import read_groups
from geotarget.io.imd import add_working_age, read_population
from geotarget.jobs.profiles import Profiles


def with_working_age(data: StudyData, path: str | os.PathLike) -> StudyData:
    """Return ``data`` with the Employment domain's working-age population from ``path``.

    ``path`` is a population file with the working-age population or counts by age (Census 2021
    TS007A, ONS single-year estimates): see :func:`geotarget.io.imd.add_working_age`.
    """
    lsoas = add_working_age(data.lsoas, read_population(path, vintage=data.vintage.year))
    return dataclasses.replace(data, lsoas=lsoas)


def profile_groups(
    data: StudyData,
    *,
    to: str,
    groups: str | os.PathLike | pd.DataFrame | None = None,
    councils: Sequence[str] | None = None,
) -> Profiles:
    """Profile a grouping of councils, from the LSOAs of ``data`` (MHCLG's Files 11-14 definitions).

    ``groups`` is a grouping file or frame (:func:`geotarget.io.groups.read_groups`); regions default
    to the data's council -> region lookup. ``councils`` cannot be given: a group is summarised over
    all its councils.
    """
    if to not in GROUPINGS:
        raise ParameterError(f"to was {to!r} but is expected to be one of {list(GROUPINGS)}", parameter="to")
    if councils:
        raise ParameterError(f"councils cannot be combined with to={to!r}: a grouping is summarised over all its "
                             "councils (give the councils in a groups file instead)", parameter="councils")
    if groups is not None and not isinstance(groups, pd.DataFrame):
        groups = read_groups(groups, to=to)
    if groups is None and to == "region" and data.regions is not None:
        groups = pd.DataFrame({"group_code": data.regions["region_code"],
                               "group_name": data.regions["region_name"]})
        groups.index.name = "lad_code"
    if groups is None and to == "icb" and data.vintage.year == 2025:  # the ONS lookup, if it is in the data cache
        from geotarget.io.fetch import cached_path

        cached = cached_path("lsoa21-icb24-lookup", cache=data.source.cache)
        if cached.is_file():
            groups = read_groups(cached, to=to)
    if groups is None and to != "region" and f"{to}_code" not in data.lsoas.columns:
        raise ParameterError(
            f"groups was None but is expected with to={to!r}: a lookup of councils (or LSOAs) to "
            f"{GROUPING_LABELS[to]}s, a CSV lad_code,group_code,group_name"
            + (" or the ONS LSOA -> Sub-ICB -> ICB lookup (e.g. lsoa21_icb24_en.csv.gz)" if to == "icb"
               else "; geotarget bundles no such table"), parameter="groups")
    table = aggregate(data.lsoas, to=to, groups=groups, vintage=data.vintage.year)
    national = not data.bundled and len(data.lsoas) == data.vintage.n_lsoas
    notes = list(table.attrs.get("notes", []))
    if not national:
        notes.append(f"Only the {len(data.lsoas):,} LSOAs of the data are summarised: a grouping extending beyond "
                     "them is summarised over its LSOAs in the data only, and ranks are among these groups.")
    return Profiles(table, to, data.vintage.year, national, None, notes)


def denominator_notes(table: pd.DataFrame) -> list[str]:
    """Which population weighted each domain and how it was obtained, for the manifest and the summary."""
    den = table.attrs.get("denominators", {})
    if not den:
        return []
    by: dict[str, list[str]] = {}
    for domain, population in den.items():
        by.setdefault(population, []).append(domain)
    notes = ["Denominators: " + "; ".join(f"{pop} for {', '.join(ds)}" for pop, ds in by.items()) + "."]
    for col, how in table.attrs.get("population_notes", {}).items():
        notes.append(f"{col}: {how}.")
    return notes


__all__ = ["denominator_notes", "profile_groups", "with_working_age"]
