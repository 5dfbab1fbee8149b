"""Licences and attributions: the one place their wording lives.

The IoD (MHCLG) and ONS boundaries, lookups and centroids are published under the Open Government
Licence v3.0; boundaries derived from Ordnance Survey data must carry OS's copyright line; the
Community Needs Index asks for its own attribution. Maps, reports, action-area summaries, notes
and the fetch catalogue all take their lines from here, so a change of wording is made once.

>>> ATTRIBUTION
'Contains public sector information licensed under the Open Government Licence v3.0. Contains OS data ...'
>>> iod_source(2025)
'English Indices of Deprivation 2025, Ministry of Housing, Communities and Local Government'
"""

from __future__ import annotations

#: The licence's name, as the catalogue and source lists give it.
OGL_NAME = "Open Government Licence v3.0"
#: The OGL attribution statement for public sector information (the IoD, ONS products).
OGL = f"Contains public sector information licensed under the {OGL_NAME}."
#: Ordnance Survey's line, required wherever boundaries derived from OS data are shown.
OS_LICENCE = "Contains OS data © Crown copyright and database right."
#: What every map and notes file carries: the OGL for the IoD, OS for the boundaries.
ATTRIBUTION = f"{OGL} {OS_LICENCE}"
#: ONS's own source line for its geography products (boundaries, lookups, centroids).
ONS_SOURCE = f"Source: Office for National Statistics licensed under the {OGL_NAME}."
#: ONS geography products: source line and OS line.
ONS_OGL = f"{ONS_SOURCE} {OS_LICENCE}"
#: Postcode products (OS Code-Point Open and the ONS postcode lookup), 2025 editions.
POSTCODE_LICENCE = ("Contains OS data © Crown copyright and database right 2025. Contains Royal Mail data © Royal Mail "
                    "copyright and database right 2025. Contains National Statistics data © Crown copyright and "
                    "database right 2025.")
#: The Community Needs Index (OCSI for Local Trust).
CNI_ATTRIBUTION = "Community Needs Index 2023, OCSI for Local Trust."


def iod_source(year: int | str) -> str:
    """Return the source line of an edition of the English Indices of Deprivation (its publisher named in full)."""
    return f"English Indices of Deprivation {year}, Ministry of Housing, Communities and Local Government"


__all__ = ["ATTRIBUTION", "CNI_ATTRIBUTION", "OGL", "OGL_NAME", "ONS_OGL", "ONS_SOURCE", "OS_LICENCE",
           "POSTCODE_LICENCE", "iod_source"]
