"""The main job: IoD joined to LSOAs, an interactive deprivation map, and a council summary."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._io import atomic_path, write_csv, write_geopackage
from .aggregate import aggregate
from .maps import deprivation_map, write_map
from .sample import load_postcode_points, load_sample
from .summary import council_summary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What :func:`run` produced."""

    lsoas: gpd.GeoDataFrame
    summary: pd.DataFrame
    ward_profiles: pd.DataFrame
    outputs: dict[str, Path] = field(default_factory=dict)
    title: str = ""
    vintage_label: str = ""


def _place_name(lad_names: Sequence[str]) -> str:
    names = sorted(lad_names)
    if len(names) == 5 and {"Hartlepool", "Middlesbrough", "Darlington"} <= set(names):
        return "Tees Valley"
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


def write_lsoas(lsoas: gpd.GeoDataFrame, directory: Path, stem: str, *, extra_layers=None) -> dict[str, Path]:
    """Write the joined LSOAs as GeoPackage (EPSG:27700) and CSV, atomically."""
    gpkg = directory / f"{stem}.gpkg"
    csv = directory / f"{stem}.csv"
    write_geopackage(gpkg, {"lsoas": lsoas, **(extra_layers or {})})
    write_csv(csv, pd.DataFrame(lsoas.reset_index().drop(columns="geometry")))
    return {"gpkg": gpkg, "csv": csv}


def run(*, vintage: int | str = 2025, councils: Sequence[str] | None = None,
        out: str | os.PathLike = "maps") -> RunResult:
    """Run the main job on the bundled Tees Valley sample.

    Writes to ``out``: ``imd<year>_map.html`` (interactive map), ``imd<year>_lsoas.gpkg``
    (LSOAs with every IoD column, plus ward and council layers) and ``.csv``, and
    ``imd<year>_councils.csv`` (LSOAs and population in the most deprived 10% nationally) and
    ``imd<year>_wards.csv`` (ward profiles: MHCLG's summary measures for every ward, ranked
    among the wards in the run).
    """
    sample = load_sample(vintage, councils=councils)
    v = sample.vintage
    lsoas = sample.lsoas
    summary = council_summary(lsoas)
    ward_profiles = aggregate(lsoas, to="ward")
    place = _place_name(list(sample.lads["lad_name"]))
    title = f"Deprivation in {place}"
    notes = (f"English Indices of Deprivation {v.year}; national deciles (1 = most deprived 10% of LSOAs in "
             f"England); {len(lsoas):,} LSOAs in {len(sample.councils)} council(s); population {v.population}; "
             "wards May 2025.")
    directory = Path(out)
    stem = f"imd{v.year}"
    ward_layer = sample.wards[["geometry"]].join(ward_profiles, how="inner")
    outputs = write_lsoas(lsoas, directory, f"{stem}_lsoas",
                          extra_layers={"wards": sample.wards, "councils": sample.lads, "ward_profiles": ward_layer})
    with atomic_path(directory / f"{stem}_wards.csv") as tmp:
        ward_profiles.reset_index().to_csv(tmp, index=False, lineterminator="\n")
    outputs["wards"] = directory / f"{stem}_wards.csv"
    with atomic_path(directory / f"{stem}_councils.csv") as tmp:
        summary.reset_index().to_csv(tmp, index=False, lineterminator="\n")
    outputs["summary"] = directory / f"{stem}_councils.csv"
    m = deprivation_map(lsoas, wards=sample.wards, lads=sample.lads, ward_profiles=ward_profiles,
                        title=title, vintage=v.label, notes=notes)
    postcodes = load_postcode_points(v.year)
    m.add_search(postcodes[postcodes["lsoa_code"].isin(lsoas.index)], "postcode", kind="Postcode")
    outputs["map"] = write_map(m, directory / f"{stem}_map.html")
    log.info("wrote %s", ", ".join(str(p) for p in outputs.values()))
    return RunResult(lsoas, summary, ward_profiles, outputs, title, v.label)


__all__ = ["RunResult", "run", "write_lsoas"]
