from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: The raw England-wide public data, beside the repository (absent on most machines).
SHARED = ROOT.parent / "shared" / "data"

TEES_COUNTS_2025 = {"Hartlepool": 57, "Middlesbrough": 90, "Redcar and Cleveland": 88,
                    "Stockton-on-Tees": 124, "Darlington": 66}
TEES_COUNTS_2019 = {"Hartlepool": 58, "Middlesbrough": 86, "Redcar and Cleveland": 88,
                    "Stockton-on-Tees": 120, "Darlington": 65}


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
