"""Releases of the English Indices of Deprivation and the geography each is published on."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from geotarget.core.errors import GeotargetError


@dataclass(frozen=True)
class Vintage:
    """One IoD release."""

    year: int  #: release year, 2019 or 2025
    name: str  #: "IoD2025"
    lsoa_year: int  #: LSOA geography the release is published on (2011 or 2021)
    n_lsoas: int  #: number of LSOAs in England, the N of the national ranks
    population: str  #: the vintage of its population denominators
    lad_year: int  #: LAD codes used in the release

    @property
    def label(self) -> str:
        """e.g. ``"IoD2025, LSOA 2021"``."""
        return f"{self.name}, LSOA {self.lsoa_year}"


IOD2019 = Vintage(2019, "IoD2019", 2011, 32_844, "mid-2015", 2019)
IOD2025 = Vintage(2025, "IoD2025", 2021, 33_755, "mid-2022", 2024)
VINTAGES: dict[int, Vintage] = {2019: IOD2019, 2025: IOD2025}
BY_LSOA_YEAR: dict[int, Vintage] = {v.lsoa_year: v for v in VINTAGES.values()}

#: The highest LSOA 2011 code; codes above it exist only in the 2021 geography.
LAST_LSOA11_CODE = "E01033768"


def has_lsoa21_only_codes(codes) -> bool:
    """Return True if any code exists only in the LSOA 2021 geography (above E01033768)."""
    return bool((pd.Index(codes).astype(str) > LAST_LSOA11_CODE).any())


def expected_decile(rank, vintage: Vintage):
    """National decile of ``rank`` (a number or a Series) as MHCLG cuts them: ``ceil(rank / (N / 10))``.

    Exact in whole numbers: ``ceil(10 * rank / N)``. IoD2025 (N = 33,755): rank 3,375 is decile 1, rank 3,376
    decile 2.

    >>> expected_decile(3375, IOD2025), expected_decile(3376, IOD2025), expected_decile(3376, IOD2019)
    (1, 2, 2)
    """
    n = vintage.n_lsoas
    return (rank * 10 + n - 1) // n


def get_vintage(vintage: int | str | Vintage) -> Vintage:
    """Return the :class:`Vintage` for ``2019``, ``"2025"``, ``"IoD2025"`` or a Vintage."""
    if isinstance(vintage, Vintage):
        return vintage
    key = str(vintage).strip().lower().removeprefix("iod")
    try:
        return VINTAGES[int(key)]
    except (ValueError, KeyError):
        raise GeotargetError(
            f"vintage was {vintage!r} but is expected to be one of {sorted(VINTAGES)} (IoD2019 or IoD2025)"
        ) from None
