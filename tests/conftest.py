from __future__ import annotations

import base64
import os
import shutil
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
    """Return a data cache holding the national files, added as a user adds them (``geotarget data add``).

    IoD2025 and ONS population, LSOA/MSOA/council boundaries (the layers of the England GeoPackage),
    the ward and region lookups, Code-Point Open, the ONS postcode lookup, the NHS epraccur GP list,
    IoD File 8 and the CNI: what ``--place`` needs for every capability on any council. Filled once per
    session; read only; point ``GEOTARGET_CACHE`` at it with ``monkeypatch.setenv`` (or pass ``cache=``).
    """
    from geotarget.io.store import add

    cache = tmp_path_factory.mktemp("national_cache")
    add([shared_data / rel for rel in NATIONAL_FILES], cache=cache)
    return cache


#: The national files of the README's walk-through (``geotarget data add``), relative to ``../shared/data``.
NATIONAL_FILES = (
    "imd/iod2025_lsoa21_england.csv.gz", "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
    "boundaries/england_boundaries_generalised.gpkg", "lookups/lsoa21_ward24_lad24_ew.csv.gz",
    "lookups/lad24_region24_england.csv", "postcodes/codepoint_open_2025_england.csv.gz",
    "postcodes/ons_pcd_oa11_lsoa11_msoa11_lad_may2022_england.csv.gz", "assets/epraccur_england.csv",
    "imd/iod2025_lsoa21_indicators_england.csv.gz", "cni/cni2023_lsoa21_england.csv.gz",
)


# ----------------------------------------------------------------------------- one browser per session

CHROMIUM = os.environ.get("GEOTARGET_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
#: A 1 x 1 light grey PNG, served for every map tile.
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mPo6OgAAAMEAYFL9t0nAAAAAElFTkSuQmCC"
)


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"chromium not found at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    reason = _unavailable()
    if reason:
        if os.environ.get("GEOTARGET_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required (GEOTARGET_REQUIRE_BROWSER=1) but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


# -- the HIA web service ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fast_hashes():
    """Argon2id with small costs, so test accounts are quick to make and check (the service uses pwdlib's defaults).

    Used by the web tests through ``pytestmark = pytest.mark.usefixtures("fast_hashes")``.
    """
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    from geotarget.web import service

    service.set_hasher(PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)))
    yield
    service.set_hasher(None)


@pytest.fixture(scope="session")
def screener():
    """Load the service's screening data (bundled Tees Valley) once for every web test."""
    from geotarget.web.screener import Screener
    from geotarget.web.settings import Settings

    return Screener(Settings(db_url="sqlite:///:memory:"))
