"""The IoD domains: canonical short names, official labels and weights.

This is the single place that knows the names of the Indices of Deprivation.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    """An IoD domain (or index): its canonical short name, official label, short label and IMD weight."""

    key: str  #: canonical short name used in column names, e.g. ``income`` -> ``income_score``
    label: str  #: the official name, as in the MHCLG files
    short: str  #: a short label for maps and tables
    weight: float | None  #: weight in the IMD (None for the IMD itself and supplementary indices)


IMD = Domain("imd", "Index of Multiple Deprivation (IMD)", "IMD", None)

#: The seven domains, in the official order, with their IMD weights.
DOMAINS: tuple[Domain, ...] = (
    Domain("income", "Income", "Income", 0.225),
    Domain("employment", "Employment", "Employment", 0.225),
    Domain("education", "Education, Skills and Training", "Education", 0.135),
    Domain("health", "Health Deprivation and Disability", "Health", 0.135),
    Domain("crime", "Crime", "Crime", 0.093),
    Domain("barriers", "Barriers to Housing and Services", "Barriers", 0.093),
    Domain("living_env", "Living Environment", "Living env.", 0.093),
)

#: Supplementary indices published in File 7 (not in the IMD).
SUPPLEMENTARY: tuple[Domain, ...] = (
    Domain("idaci", "Income Deprivation Affecting Children Index (IDACI)", "IDACI", None),
    Domain("idaopi", "Income Deprivation Affecting Older People (IDAOPI)", "IDAOPI", None),
)

#: Sub-domains published in File 7.
SUBDOMAINS: tuple[Domain, ...] = (
    Domain("cyp", "Children and Young People Sub-domain", "Children & young people", None),
    Domain("adult_skills", "Adult Skills Sub-domain", "Adult skills", None),
    Domain("geog_barriers", "Geographical Barriers Sub-domain", "Geographical barriers", None),
    Domain("wider_barriers", "Wider Barriers Sub-domain", "Wider barriers", None),
    Domain("indoors", "Indoors Sub-domain", "Indoors", None),
    Domain("outdoors", "Outdoors Sub-domain", "Outdoors", None),
)

ALL_INDICES: tuple[Domain, ...] = (IMD, *DOMAINS, *SUPPLEMENTARY, *SUBDOMAINS)
BY_KEY: dict[str, Domain] = {d.key: d for d in ALL_INDICES}

MEASURES = ("score", "rank", "decile")


def column(key: str, measure: str) -> str:
    """Canonical column name, e.g. ``column("imd", "decile") == "imd_decile"``."""
    return f"{key}_{measure}"
