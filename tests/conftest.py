from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_data() -> Path:
    """Return the folder of the raw England-wide public data; absent on most machines.

    It is beside the repository (``../shared/data``), or beside the folder of git worktrees that holds
    it (``../../shared/data``).
    """
    candidates = [ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data"]
    return next((c for c in candidates if (c / "imd").is_dir()), candidates[0])


#: The raw England-wide public data, beside the repository (absent on most machines).
SHARED = _shared_data()

TEES_COUNTS_2025 = {"Hartlepool": 57, "Middlesbrough": 90, "Redcar and Cleveland": 88,
                    "Stockton-on-Tees": 124, "Darlington": 66}
TEES_COUNTS_2019 = {"Hartlepool": 58, "Middlesbrough": 86, "Redcar and Cleveland": 88,
                    "Stockton-on-Tees": 120, "Darlington": 65}


def pytest_collection_modifyitems(config, items):
    """Mark tests that use the England-wide data ``england`` (and skip cleanly where it is absent)."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.england)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "imd" / "iod2025_lsoa21_england.csv.gz").exists():
        pytest.skip(f"England-wide raw data not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def sample25():
    from geotarget import load

    return load(vintage=2025)


@pytest.fixture(scope="session")
def sample19():
    from geotarget import load

    return load(vintage=2019)


@pytest.fixture(scope="session")
def tees_run(tmp_path_factory) -> Path:
    """Return the output folder of ``geotarget run`` on the whole bundled Tees Valley sample (IoD2025).

    Run once per session and shared: **read it, never write into it** (one test compares its files byte
    for byte).
    """
    from geotarget.cli.main import main

    out = tmp_path_factory.mktemp("tees_run")
    assert main(["run", "--out", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="session")
def tees_run_hartlepool(tmp_path_factory) -> Path:
    """Return the output folder of ``geotarget run --la Hartlepool`` (57 LSOAs, 12 wards).

    Run once per session; read only.
    """
    from geotarget.cli.main import main

    out = tmp_path_factory.mktemp("tees_run_hartlepool")
    assert main(["run", "--la", "Hartlepool", "--out", str(out), "-q"]) == 0
    return out


@pytest.fixture(scope="session")
def national_cache(shared_data, tmp_path_factory) -> Path:
    """Return a data cache holding the national files (IoD2025 with population, LSOA boundaries, lookups, File 8, CNI).

    Filled once per session from the shared data under the catalogue names of
    :data:`geotarget.data.load.CACHED` (as ``geotarget data fetch`` would), so ``--place`` can name any
    council. The IoD is written with its population denominators, as the official File 7 has them;
    the gpkg's ``lsoa21`` and ``lad24_uk`` layers are written as files of their own. Read only; point
    ``GEOTARGET_CACHE`` at it with ``monkeypatch.setenv`` (or pass ``cache=``).
    """
    import geopandas as gpd
    import pandas as pd

    from geotarget.io.fetch import CATALOGUE, cached_path

    cache = tmp_path_factory.mktemp("national_cache")

    def place(name: str) -> Path:
        path = cached_path(name, cache=cache)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    imd = pd.read_csv(shared_data / "imd" / "iod2025_lsoa21_england.csv.gz", dtype={"lsoa21cd": str})
    pop = pd.read_csv(shared_data / "population" / "ons_sape_mid2022_lsoa21_total_england.csv.gz",
                      usecols=["lsoa21cd", "pop_total_mid2022"])
    imd.merge(pop, on="lsoa21cd", how="left", validate="1:1").to_csv(place("iod2025"), index=False)
    gpkg = shared_data / "boundaries" / "england_boundaries_generalised.gpkg"
    gpd.read_file(gpkg, layer="lsoa21").to_file(place("lsoa21-boundaries"), driver="GeoJSON")
    pd.read_csv(shared_data / "lookups" / "lsoa21_ward24_lad24_ew.csv.gz", dtype=str).to_csv(
        place("lsoa21-ward24-lookup"), index=False)
    pd.read_csv(shared_data / "lookups" / "lad24_region24_england.csv", dtype=str).to_csv(
        place("lad24-regions"), index=False)
    if "lad24-boundaries" in CATALOGUE:
        gpd.read_file(gpkg, layer="lad24_uk").to_file(place("lad24-boundaries"), driver="GeoJSON")
    for name, path in (("iod2025-indicators", "imd/iod2025_lsoa21_indicators_england.csv.gz"),
                       ("cni2023", "cni/cni2023_lsoa21_england.csv.gz")):  # for HIA screening
        if name in CATALOGUE:
            pd.read_csv(shared_data / path, dtype=str).to_csv(place(name), index=False)
    return cache
