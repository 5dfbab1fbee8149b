"""The bundled places (Tees Valley, Trafford): their councils and the files of their sample.

Paths here are relative to the data root: the repository checkout, or the copy of ``data/`` and
``boundaries/`` that the wheel carries (``geotarget/_bundled``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from geotarget.core.errors import AreaNotFoundError, DataNotFoundError

#: Where a wheel carries its copy of ``data/`` and ``boundaries/`` (written by ``setup.py`` at build time).
BUNDLED_ROOT = Path(__file__).resolve().parent.parent / "_bundled"
#: The repository checkout that holds ``boundaries/`` and ``data/`` (editable installs, running from a clone).
CHECKOUT_ROOT = Path(__file__).resolve().parent.parent.parent
#: The data roots, searched in this order: the installed wheel's copy first, then the checkout.
DATA_ROOTS = (BUNDLED_ROOT, CHECKOUT_ROOT)
#: The data root in use: the first of :data:`DATA_ROOTS` that has a ``data/`` folder.
ROOT = next((r for r in DATA_ROOTS if (r / "data").is_dir()), CHECKOUT_ROOT)

#: The five Tees Valley councils.
TEES_VALLEY = ("E06000001", "E06000002", "E06000003", "E06000004", "E06000005")

TEES_VALLEY_FILES = {
    2025: {
        "imd": "data/imd/iod2025_lsoa21_tees_valley.csv",
        "population": "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv",
        "lookup": "data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv",
        "centroids": "data/centroids/lsoa21_pwc_tees_valley.csv",
        "lsoa_layer": "lsoa21", "msoa_layer": "msoa21",
    },
    2019: {
        "imd": "data/imd/iod2019_lsoa11_tees_valley.csv",
        "population": "data/population/iod2019_population_denominators_lsoa11_tees_valley.csv",
        "lookup": "data/lookups/lsoa11_msoa11_ward25_lad25_tees_valley.csv",
        "centroids": "data/centroids/lsoa11_pwc_tees_valley.csv",
        "lsoa_layer": "lsoa11", "msoa_layer": "msoa11",
    },
}
BOUNDARIES = "boundaries/tees_valley.gpkg"
ASSETS = "data/assets/assets_tees_valley.gpkg"
POSTCODES = "data/postcodes/postcodes_tees_valley.csv.gz"

#: Trafford (E08000009), the second bundled place: it has OS Open Greenspace sites and access points.
TRAFFORD = ("E08000009",)
TRAFFORD_FILES = {
    2025: {
        "imd": "data/imd/iod2025_lsoa21_trafford.csv",
        "population": "data/population/ons_sape_mid2022_lsoa21_trafford.csv",
        "lookup": "data/lookups/lsoa21_msoa21_ward25_lad25_trafford.csv",
        "centroids": "data/centroids/lsoa21_pwc_trafford.csv",
        "lsoa_layer": "lsoa21", "msoa_layer": "msoa21",
    },
    2019: {
        "imd": "data/imd/iod2019_lsoa11_trafford.csv",
        "population": "data/population/iod2019_population_denominators_lsoa11_trafford.csv",
        "lookup": "data/lookups/lsoa11_msoa11_ward25_lad25_trafford.csv",
        "centroids": "data/centroids/lsoa11_pwc_trafford.csv",
        "lsoa_layer": "lsoa11", "msoa_layer": "msoa11",
    },
}


@dataclass(frozen=True)
class Place:
    """One bundled place: its files and councils."""

    key: str
    name: str
    councils: tuple[str, ...]
    files: dict
    boundaries: str
    assets: str
    postcodes: str


#: The bundled places, by key: ``"tees_valley"`` (the default) and ``"trafford"``.
PLACES: dict[str, Place] = {
    "tees_valley": Place("tees_valley", "Tees Valley", TEES_VALLEY, TEES_VALLEY_FILES, BOUNDARIES, ASSETS, POSTCODES),
    "trafford": Place("trafford", "Trafford", TRAFFORD, TRAFFORD_FILES, "boundaries/trafford.gpkg",
                      "data/assets/assets_trafford.gpkg", "data/postcodes/postcodes_trafford.csv.gz"),
}
#: A light outline of England, for "outside England" checks.
ENGLAND_OUTLINE = "boundaries/england_outline.gpkg"


def get_place(place: str | Place) -> Place:
    """Return the bundled :class:`Place` for ``"tees_valley"`` or ``"trafford"`` (case and ``-``/space tolerant)."""
    if isinstance(place, Place):
        return place
    key = str(place).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in PLACES:
        raise AreaNotFoundError(f"place was {place!r} but is expected to be one of {sorted(PLACES)}")
    return PLACES[key]


def sample_path(relative: str, *, root: Path | None = None) -> Path:
    """Absolute path of a bundled file, e.g. ``sample_path("data/PROVENANCE.md")``.

    Looks under ``root`` if given, else in the installed wheel's copy of the sample and then in the
    repository checkout (:data:`DATA_ROOTS`).
    """
    roots = (root,) if root is not None else DATA_ROOTS
    for r in roots:
        p = Path(r) / relative
        if p.exists():
            return p
    raise DataNotFoundError(
        f"bundled sample file {relative} not found under {' or '.join(str(r) for r in roots)}. The sample "
        "ships in the geotarget wheel and in the repository: reinstall with `pip install .` from a clone "
        "(or `pip install -e .`), or rebuild it with `python data/build_sample.py --source ../shared/data`."
    )
