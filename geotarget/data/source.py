"""Where a study's data comes from: the one declaration of the data options.

:class:`DataSource` is read by :func:`geotarget.data.load`, generated into every command's
data options (``--place``, ``--la``, ``--vintage``, ``--imd`` ...) and into the study file's
``[place]``/``[data]`` sections. Field metadata carries the help text and bounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: The sources :func:`geotarget.data.load` understands.
SOURCES = ("sample", "files", "cache")


def _opt(help: str, **meta) -> dict:  # noqa: A002 - "help" is the argparse word
    return {"help": help, **meta}


@dataclass(frozen=True)
class DataSource:
    """Where the LSOAs, boundaries, population, lookups and assets of a study come from.

    ``source="sample"`` (the default) is a bundled place, offline; ``"files"`` reads the
    official files named below; ``"cache"`` reads the national files in the local data cache.
    The place is ``place`` (a bundled place key, council names/codes, a region or
    ``"england"``), narrowed by ``councils``/``region``.
    """

    source: str = field(default="sample", metadata=_opt("sample (bundled, offline), files or cache",
                                                        choices=SOURCES))
    place: str = field(default="tees_valley", metadata=_opt(
        "bundled place (tees_valley, trafford), or with files/cache: a council, a region or england"))
    councils: tuple[str, ...] = field(default=(), metadata=_opt(
        "councils to keep, by code or name (case-insensitive); ranks stay national", cli="--la"))
    region: str | None = field(default=None, metadata=_opt("a region code (E12...) or name"))
    vintage: int | None = field(default=None, metadata=_opt(
        "IoD vintage: 2025 (LSOA 2021) or 2019 (LSOA 2011); default 2025, or from a file's headers",
        choices=(2019, 2025)))
    imd: Path | None = field(default=None, metadata=_opt("IoD file (official File 7 or canonical CSV)"))
    population: Path | None = field(default=None, metadata=_opt("population denominators when the IoD has none"))
    boundaries: Path | None = field(default=None, metadata=_opt("LSOA boundaries (any GIS format)"))
    boundaries_layer: str | None = field(default=None, metadata=_opt("layer of boundaries"))
    lookup: Path | None = field(default=None, metadata=_opt("ONS best-fit LSOA -> ward -> council lookup"))
    lads: Path | None = field(default=None, metadata=_opt("council boundaries"))
    lads_layer: str | None = field(default=None, metadata=_opt("layer of lads"))
    wards: Path | None = field(default=None, metadata=_opt("ward boundaries"))
    wards_layer: str | None = field(default=None, metadata=_opt("layer of wards"))
    msoas: Path | None = field(default=None, metadata=_opt("MSOA boundaries"))
    msoas_layer: str | None = field(default=None, metadata=_opt("layer of msoas"))
    centroids: Path | None = field(default=None, metadata=_opt("LSOA population-weighted centroids"))
    regions: Path | None = field(default=None, metadata=_opt("council -> region lookup"))
    assets: tuple[Path, ...] = field(default=(), metadata=_opt("community asset files"))
    asset_margin: float = field(default=5000.0, metadata=_opt(
        "assets within this many metres of the study councils count (services over a council border)", min=0))
    codepoint: Path | None = field(default=None, metadata=_opt(
        "OS Code-Point Open postcodes (the zip, its CSV folder or a CSV): postcode locations"))
    postcode_lookup: Path | None = field(default=None, metadata=_opt(
        "ONS postcode lookup (ONSPD, NSPL or postcode to OA/LSOA): live and residential postcodes"))
    indicators: Path | None = field(default=None, metadata=_opt(
        "IoD File 8, the underlying indicators (HIA screening)"))
    cni: Path | None = field(default=None, metadata=_opt("Community Needs Index 2023 by LSOA (HIA screening)"))
    cache: Path | None = field(default=None, metadata=_opt("data cache folder (default: GEOTARGET_CACHE)"))
    partial: bool = field(default=False, metadata=_opt(
        "proceed when the IoD, population, boundaries or lookup miss LSOAs of the place (by default an error): "
        "the missing LSOAs are left out and listed in the notes, the manifest and missing_lsoas.csv"))


__all__ = ["SOURCES", "DataSource"]
