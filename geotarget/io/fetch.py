"""Fetch official data from its publishers into a local cache, with checksums and resumable downloads.

``geotarget data fetch iod2025 lsoa21-boundaries ...`` downloads the datasets of
:data:`CATALOGUE` into the cache (``$GEOTARGET_CACHE``, else the system cache folder from
:func:`pooch.os_cache`, ``~/.cache/geotarget`` on Linux), one folder per dataset. ``geotarget data list`` shows what is
cached, what is bundled with geotarget, and what can be fetched.

* **Files** (MHCLG's IoD CSVs) are fetched with :func:`pooch.retrieve` (SHA-256 checked where the
  catalogue pins one) through a downloader of geotarget's own, since pooch cannot resume: bytes
  arrive in ``<file>.part``, an interrupted download resumes with an HTTP ``Range`` request
  (``If-Range`` guards against the file having changed on the server meanwhile), and pooch moves
  the file into place only when complete and checked: as long as ``Content-Length`` says, not an
  HTML page, gzip decoded, and its content whole (:mod:`geotarget.io.transfer`).
* **ONS Open Geography Portal layers** are read from their ArcGIS FeatureServer ``query``
  endpoint page by page (2,000 features a page, ordered by the area code so pages are
  stable); each page is kept as it arrives, so an interrupted fetch resumes at the next page.
  Paging stops with an error past a cap derived from the layer's expected size (:func:`page_limit`).
* Each file and each page must arrive within :data:`DEADLINE` seconds in all (``deadline``), besides
  the socket :data:`TIMEOUT`, which restarts with every byte.
  Layers are written as one GeoJSON (WGS84; geotarget reprojects on reading), lookup tables
  as one CSV.
* Every cached file gets a ``<file>.json`` record: URL, SHA-256, size and time of download.
  Publishers do not publish checksums, so the catalogue can pin one only where it is known;
  otherwise the SHA-256 is recorded at download and checked whenever the cached file is used
  again (:func:`verify_cached`), and it goes into every run's manifest. A download that fails a
  check is never recorded.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import difflib
import gzip
import http.client
import io
import json
import logging
import math
import os
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pooch

from geotarget.core.errors import FetchError, GeotargetError, ParameterError
from geotarget.core.licences import CNI_ATTRIBUTION, OGL_NAME, ONS_OGL, POSTCODE_LICENCE
from geotarget.io.files import atomic_path, sha256_file, write_text_atomic
from geotarget.io.transfer import CHUNK, GZIP_MAGIC, check_content, kind_of, markup, read_body, refuse_html

log = logging.getLogger("geotarget.progress")

ARCGIS = "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services"
NHS_ODS = ("Contains information from NHS England (Organisation Data Service), licensed under the Open Government "
           "Licence v3.0.")


@dataclass(frozen=True)
class Dataset:
    """One fetchable dataset."""

    name: str
    title: str
    publisher: str
    page: str  #: the publisher's page for the dataset
    url: str  #: the file (``kind="file"``), the FeatureServer layer (``kind="arcgis"``) or a page (``"manual"``)
    filename: str
    kind: str = "file"  #: "file", "arcgis", or "manual": no stable address; download it and ``data add`` it
    vintage: str = ""
    licence: str = OGL_NAME
    sha256: str | None = None  #: pinned checksum, where known
    order_by: str | None = None  #: ArcGIS: field that orders the pages (the area code)
    table: bool = False  #: ArcGIS: a lookup table (attributes only, written as CSV)
    features: int | None = None  #: ArcGIS: about how many features the layer has (bounds the paging)
    checked: str = ""  #: how the URL was confirmed, and caveats


CATALOGUE: dict[str, Dataset] = {d.name: d for d in [
    Dataset("iod2025", "English Indices of Deprivation 2025, File 7: all ranks, deciles, scores and population "
            "denominators (LSOA 2021)", "MHCLG",
            "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025",
            "https://assets.publishing.service.gov.uk/media/691ded56d140bbbaa59a2a7d/"
            "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv",
            "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv",
            vintage="IoD2025, LSOA 2021, population mid-2022",
            checked="URL used by several independent public projects; not fetched from here (no internet)."),
    Dataset("iod2019", "English Indices of Deprivation 2019, File 7: all ranks, deciles, scores and population "
            "denominators (LSOA 2011)", "MHCLG",
            "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019",
            "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/attachment_data/file/845345/"
            "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv",
            "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv",
            vintage="IoD2019, LSOA 2011, population mid-2015",
            checked="URL used by many independent public projects since 2019; not fetched from here."),
    Dataset("lsoa21-boundaries", "Lower layer Super Output Areas (December 2021) Boundaries EW BGC (V5)", "ONS",
            "https://geoportal.statistics.gov.uk/datasets/68515293204e43ca8ab56fa13ae8a547_0",
            f"{ARCGIS}/Lower_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V5/FeatureServer/0",
            "lsoa21_boundaries_ew_bgc_v5.geojson", kind="arcgis", features=35_672, order_by="LSOA21CD",
            vintage="LSOA December 2021",
            licence=ONS_OGL, checked="Service name and portal item confirmed by several public projects; England "
            "and Wales (35,672 LSOAs): geotarget keeps the English ones."),
    Dataset("lsoa11-boundaries", "Lower layer Super Output Areas (December 2011) Boundaries Generalised Clipped "
            "EW (BGC) V3", "ONS", "https://geoportal.statistics.gov.uk/",
            f"{ARCGIS}/LSOA_Dec_2011_Boundaries_Generalised_Clipped_BGC_EW_V3/FeatureServer/0",
            "lsoa11_boundaries_ew_bgc_v3.geojson", kind="arcgis", features=34_753, order_by="LSOA11CD",
            vintage="LSOA December 2011",
            licence=ONS_OGL, checked="Service name used by several public projects; not fetched from here."),
    Dataset("msoa21-boundaries", "Middle layer Super Output Areas (December 2021) Boundaries EW BGC (V3)", "ONS",
            "https://geoportal.statistics.gov.uk/",
            f"{ARCGIS}/Middle_layer_Super_Output_Areas_December_2021_Boundaries_EW_BGC_V3/FeatureServer/0",
            "msoa21_boundaries_ew_bgc_v3.geojson", kind="arcgis", features=7_264, order_by="MSOA21CD",
            vintage="MSOA December 2021",
            licence=ONS_OGL, checked="Service name used by several public projects; not fetched from here."),
    Dataset("wards24-boundaries", "Wards (May 2024) Boundaries UK BGC", "ONS", "https://geoportal.statistics.gov.uk/",
            f"{ARCGIS}/Wards_May_2024_Boundaries_UK_BGC/FeatureServer/0", "wards_may2024_boundaries_uk_bgc.geojson",
            kind="arcgis", features=9_000, order_by="WD24CD", vintage="wards May 2024", licence=ONS_OGL,
            checked="Service name used by several public projects; UK-wide: geotarget keeps the English wards."),
    Dataset("lad24-boundaries", "Local Authority Districts (December 2024) Boundaries UK BGC", "ONS",
            "https://geoportal.statistics.gov.uk/",
            f"{ARCGIS}/Local_Authority_Districts_December_2024_Boundaries_UK_BGC/FeatureServer/0",
            "lad_dec2024_boundaries_uk_bgc.geojson", kind="arcgis", features=361, order_by="LAD24CD",
            vintage="local authority districts December 2024", licence=ONS_OGL,
            checked="Service name used by several public projects; UK-wide: geotarget keeps the English councils."),
    Dataset("lsoa21-ward24-lookup", "LSOA (2021) to Electoral Ward (2024) to LAD (2024) Best Fit Lookup in EW",
            "ONS", "https://geoportal.statistics.gov.uk/datasets/lsoa-2021-to-electoral-ward-2024-to-lad-2024-best-"
            "fit-lookup-in-ew", f"{ARCGIS}/LSOA21_WD24_LAD24_EW_LU/FeatureServer/0", "LSOA21_WD24_LAD24_EW_LU.csv",
            kind="arcgis", features=35_672, order_by="LSOA21CD", table=True,
            vintage="LSOA 2021 to wards May 2024 (best fit)", licence=ONS_OGL,
            checked="Service name used by several public projects; not fetched from here."),
    Dataset("lad24-regions", "Local Authority District to Region (December 2024) Lookup in EN", "ONS",
            "https://www.data.gov.uk/dataset/3fbe9109-f329-4c4a-85cb-3b78ea4fbce3/local-authority-district-to-region-"
            "december-2024-lookup-in-en", f"{ARCGIS}/LAD24_RGN24_EN_LU/FeatureServer/0", "LAD24_RGN24_EN_LU.csv",
            kind="arcgis", features=296, order_by="LAD24CD", table=True, vintage="councils and regions December 2024",
            licence=ONS_OGL, checked="Service name used by several public projects (296 councils, 9 regions)."),
    Dataset("lsoa21-centroids", "LSOA (December 2021) Population Weighted Centroids for England and Wales (2022)",
            "ONS", "https://geoportal.statistics.gov.uk/",
            f"{ARCGIS}/LLSOA_Dec_2021_PWC_for_England_and_Wales_2022/FeatureServer/0",
            "lsoa21_population_weighted_centroids_ew.geojson", kind="arcgis", features=35_672, order_by="LSOA21CD",
            vintage="LSOA 2021 population-weighted centroids", licence=ONS_OGL,
            checked="Service name used by several public projects; its code field is assumed to be LSOA21CD "
                    "(not confirmed)."),
    Dataset("lsoa21-population", "Lower layer Super Output Area population estimates, mid-2022 (LSOA 2021), "
            "total persons (SAPE)", "ONS",
            "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates/datasets/"
            "lowersuperoutputareamidyearpopulationestimates",
            "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates/datasets/"
            "lowersuperoutputareamidyearpopulationestimates", "sape_mid2022_lsoa21.csv", kind="manual",
            vintage="mid-2022, LSOA 2021", licence=ONS_OGL,
            checked="Dataset page known; ONS publishes the estimates as an Excel workbook whose file name changes "
                    "with each release: save the mid-2022 LSOA 2021 sheet as CSV and `geotarget data add` it. Only "
                    "needed when the IoD file has no population denominators (the official File 7 has them)."),
    Dataset("codepoint-open", "OS Code-Point Open (GB postcode units, CSV)", "OS",
            "https://osdatahub.os.uk/downloads/open/CodePointOpen",
            "https://api.os.uk/downloads/v1/products/CodePointOpen/downloads?area=GB&format=CSV&redirect",
            "codepo_gb.zip", vintage="Code-Point Open, current quarterly edition", licence=POSTCODE_LICENCE,
            checked="OS Downloads API address of the documented form (products/CodePointOpen/downloads, "
                    "format=CSV); not fetched from here. The zip holds Data/CSV/<area>.csv, headerless, 10 columns."),
    Dataset("ons-postcode-lookup", "ONS Postcode to Output Area to LSOA to MSOA to LAD lookup (or the ONS Postcode "
            "Directory, ONSPD)", "ONS", "https://geoportal.statistics.gov.uk/search?q=PRD_ONSPD",
            "https://geoportal.statistics.gov.uk/search?q=PCD_OA_LSOA_MSOA_LAD", "pcd_oa_lsoa_msoa_lad.csv",
            kind="manual", vintage="postcodes as at the release date", licence=POSTCODE_LICENCE,
            checked="Open Geography Portal search pages; each release is a new portal item with its own address, "
                    "so download the current zip and `geotarget data add` it (PCD_OA_LSOA_MSOA_LAD_*.csv, "
                    "ONSPD_*.csv or NSPL_*.csv)."),
    Dataset("iod2025-indicators", "English Indices of Deprivation 2025, File 8: underlying indicators (LSOA 2021)",
            "MHCLG", "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025",
            "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025",
            "File_8_IoD2025_Underlying_Indicators.csv", kind="manual", vintage="IoD2025, LSOA 2021",
            checked="Statistics page known; File 8 is an Excel workbook (one sheet per domain): save the indicators "
                    "as one CSV keyed by LSOA code and `geotarget data add` it. Not fetched from here."),
    Dataset("iod2019-indicators", "English Indices of Deprivation 2019, File 8: underlying indicators (LSOA 2011)",
            "MHCLG", "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019",
            "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019",
            "File_8_IoD2019_Underlying_Indicators.csv", kind="manual", vintage="IoD2019, LSOA 2011",
            checked="Statistics page known; File 8 is an Excel workbook (one sheet per domain): save the indicators "
                    "as one CSV keyed by LSOA code and `geotarget data add` it. Not fetched from here."),
    Dataset("cni2023", "Community Needs Index 2023 (LSOA 2021)", "OCSI for Local Trust",
            "https://localtrust.org.uk/policy/left-behind-neighbourhoods/",
            "https://localtrust.org.uk/policy/left-behind-neighbourhoods/", "cni2023_lsoa21.csv", kind="manual",
            vintage="CNI 2023, LSOA 2021", licence=CNI_ATTRIBUTION,
            checked="Local Trust's page on left-behind neighbourhoods (the CNI is OCSI's, published with Local "
                    "Trust); the data are released on request/under Local Trust's terms, not at a stable address: "
                    "`geotarget data add` the CSV you were sent. Not fetched from here."),
    Dataset("ods-epraccur", "NHS ODS GP practices (epraccur), England and Wales", "NHS England",
            "https://digital.nhs.uk/services/organisation-data-service/export-data-files/csv-downloads/"
            "gp-and-gp-practice-related-data", "https://files.digital.nhs.uk/assets/ods/current/epraccur.zip",
            "epraccur.zip", vintage="current ODS monthly release", licence=NHS_ODS,
            checked="Long-standing ODS download address used by many public projects; not fetched from here. The zip "
                    "holds epraccur.csv (headerless, 27 columns); `geotarget data add` the zip or the CSV."),
    Dataset("ods-edispensary", "NHS ODS dispensaries/pharmacies (edispensary)", "NHS England",
            "https://digital.nhs.uk/services/organisation-data-service/export-data-files/csv-downloads/"
            "other-nhs-organisations", "https://files.digital.nhs.uk/assets/ods/current/edispensary.zip",
            "edispensary.zip", vintage="current ODS release", licence=NHS_ODS,
            checked="ODS download address of the same form as epraccur.zip; not fetched from here. Headerless "
                    "27-column CSV inside; pharmacy codes start with F."),
    Dataset("ods-egdpprac", "NHS ODS general dental practices (egdpprac)", "NHS England",
            "https://digital.nhs.uk/services/organisation-data-service/export-data-files/csv-downloads/"
            "gp-and-gp-practice-related-data", "https://files.digital.nhs.uk/assets/ods/current/egdpprac.zip",
            "egdpprac.zip", vintage="current ODS release", licence=NHS_ODS,
            checked="ODS download address of the same form as epraccur.zip; not fetched from here. Headerless "
                    "27-column CSV inside; dental practice codes start with V (assumed V + 5 or 6 digits)."),
    Dataset("os-greenspace", "OS Open Greenspace (GB), GeoPackage", "OS",
            "https://osdatahub.os.uk/downloads/open/OpenGreenspace",
            "https://api.os.uk/downloads/v1/products/OpenGreenspace/downloads?area=GB&format=GeoPackage&redirect",
            "opgrsp_gb.zip", vintage="OS Open Greenspace, current edition", licence="OS OpenData (Open Government "
            "Licence v3.0). Contains OS data © Crown copyright and database right.",
            checked="OS Downloads API address of the documented form; not fetched from here. `geotarget data add` "
                    "the GeoPackage (layer greenspace_site, fields id, function, distName1 ...)."),
    Dataset("lsoa21-icb24-lookup", "LSOA (2021) to Sub-ICB Location to Integrated Care Board to LAD (July 2024) "
            "Lookup in England", "ONS", "https://geoportal.statistics.gov.uk/",
            f"{ARCGIS}/LSOA21_SICBL24_ICB24_LAD24_EN_LU/FeatureServer/0", "LSOA21_SICBL24_ICB24_LAD24_EN_LU.csv",
            kind="arcgis", features=33_755, order_by="LSOA21CD", table=True,
            vintage="LSOA 2021 to ICBs July 2024", licence=ONS_OGL,
            checked="Service name follows ONS's naming of this lookup; not confirmed from here. Columns LSOA21CD, "
                    "SICBL24CD, SICBL24CDH, ICB24CD, ICB24CDH ..."),
    Dataset("lsoa11-lsoa21-lookup", "LSOA (2011) to LSOA (2021) to LAD (2022) Best Fit Lookup for England and Wales",
            "ONS", "https://geoportal.statistics.gov.uk/", f"{ARCGIS}/LSOA11_LSOA21_LAD22_EW_LU/FeatureServer/0",
            "LSOA11_LSOA21_LAD22_EW_LU.csv", kind="arcgis", features=36_000, order_by="ObjectId", table=True,
            vintage="LSOA 2011 to LSOA 2021 (with change codes U/S/M/X)", licence=ONS_OGL,
            checked="Service name follows ONS's naming of this lookup (a V2 exists); not confirmed from here. "
                    "Ordered by ObjectId: an LSOA 2011 code repeats where it was split."),
]}

_PAGE = 2000
#: Features geotarget reads at most from an ArcGIS layer whose size the catalogue does not give
#: (England and Wales have 188,880 output areas, the finest geography ONS publishes boundaries for).
_MAX_FEATURES = 200_000
#: Seconds to wait for the server to answer or to send more bytes. A socket timeout: it restarts with
#: every byte received, so it cannot stop a transfer that trickles; :data:`DEADLINE` does.
TIMEOUT = 60.0
#: Seconds one file, or one page of an ArcGIS layer, may take in all. A stalled or trickling transfer
#: stops after this, keeping what arrived for the next attempt. 30 minutes: the largest file fetched,
#: the IoD File 7 (about 30 MB), takes about 4 minutes at 1 Mbit/s.
DEADLINE = 1800.0


def cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """Return the download cache folder.

    ``cache`` if given, else ``$GEOTARGET_CACHE``, else the system's cache folder for geotarget
    (:func:`pooch.os_cache`: ``$XDG_CACHE_HOME/geotarget`` or ``~/.cache/geotarget`` on Linux,
    ``~/Library/Caches/geotarget`` on macOS). The environment is read when called, never at import.
    """
    if cache is not None:
        return Path(cache).expanduser()
    if os.environ.get("GEOTARGET_CACHE"):
        return Path(os.environ["GEOTARGET_CACHE"]).expanduser()
    return Path(pooch.os_cache("geotarget"))


def get_dataset(name: str) -> Dataset:
    """Return the catalogue entry called ``name``.

    Raises
    ------
    GeotargetError
        If there is no such dataset (suggesting the closest name, and listing the known ones).
    """
    if name in CATALOGUE:
        return CATALOGUE[name]
    close = difflib.get_close_matches(name, list(CATALOGUE), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise GeotargetError(f"no dataset named {name!r}{hint} Known datasets: {', '.join(CATALOGUE)}")


def cached_path(name: str, *, cache: str | os.PathLike | None = None) -> Path:
    """Where a dataset of the catalogue is (or would be) in the cache.

    The catalogue's file name, unless the dataset was added (``geotarget data add``) in another
    format than the publisher's download (a ``.csv.gz``, a layer as GeoJSON, the CSV out of a zip):
    then the one file in the dataset's folder that has a ``<file>.json`` record.
    """
    d = get_dataset(name)
    dest = cache_dir(cache) / d.name / d.filename
    if dest.exists() or not dest.parent.is_dir():
        return dest
    recorded = [r.with_name(r.name[:-5]) for r in dest.parent.glob("*.json")
                if not r.name.endswith(".part.json") and r.with_name(r.name[:-5]).is_file()]
    return recorded[0] if len(recorded) == 1 else dest


def record_path(dest: str | os.PathLike) -> Path:
    """Return the ``<file>.json`` record of a cached file: where it came from, its SHA-256, size and time."""
    dest = Path(dest)
    return dest.with_name(dest.name + ".json")


_record_path = record_path


def write_record(dest: Path, dataset: Dataset, *, source: str, **extra: Any) -> dict[str, Any]:
    """Write the ``<file>.json`` record of ``dest`` (a file of ``dataset`` now in the cache) and return it.

    ``source`` is where it came from (a URL, or the path of an added file); ``extra`` adds fields
    (``fetched``/``added`` time, ``added_from``, ``recognised``).
    """
    info = {"name": dataset.name, "title": dataset.title, "publisher": dataset.publisher, "url": source,
            "vintage": dataset.vintage, "licence": dataset.licence, "file": dest.name, "sha256": sha256_file(dest),
            "bytes": dest.stat().st_size, **extra}
    write_text_atomic(record_path(dest), json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    _VERIFIED[_stat_key(dest)] = info["sha256"]
    return info


def now() -> str:
    """Return the time now (UTC, to the second) as records give it."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


_VERIFIED: dict[tuple, str] = {}


def _stat_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def verify_cached(path: str | os.PathLike) -> Path:
    """Check a cached file against the SHA-256 in its record (if it has one) and return its path.

    Every use of a cached file goes through here: :func:`fetch` (already cached),
    :func:`list_data`, ``geotarget data add`` (the same file again) and the data front door
    (:func:`geotarget.data.load.load`, for the cache and for files named explicitly, such as the
    cache paths ``geotarget init --files`` writes). A file without a ``<file>.json`` record is not
    checked. Each file is hashed once per process while its size and modification time stay the same.

    Raises
    ------
    FetchError
        The file has changed since it was fetched or added, or its record is damaged (naming the
        file, both checksums and the commands that replace it).
    """
    p = Path(path)
    rec = record_path(p)
    if not p.is_file() or not rec.is_file():
        return p
    fix = f"replace it with `geotarget data add FILE --force` or `geotarget data fetch {p.parent.name} --force`"
    try:
        info = json.loads(rec.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        raise FetchError(f"{rec}: the record of the cached file {p} is not readable JSON; {fix}").naming(
            "force") from None
    if not isinstance(info, dict) or ("sha256" not in info and info.get("file") != p.name):
        return p  # a JSON file of someone else's that happens to sit beside the file: not a geotarget record
    want = info.get("sha256")
    if not isinstance(want, str) or not re.fullmatch(r"[0-9a-f]{64}", want):
        raise FetchError(f"{rec}: the record of the cached file {p} has no valid SHA-256 ({want!r}); {fix}").naming(
            "force")
    key = _stat_key(p)
    got = _VERIFIED.get(key) or sha256_file(p)
    if got != want:
        raise FetchError(f"{p}: the cached file has changed since it was fetched or added (SHA-256 {got[:16]}… but "
                         f"its record {rec.name} says {want[:16]}…); {fix}").naming("force")
    _VERIFIED[key] = got
    return p


def _user_agent() -> str:
    from geotarget.core.version import __version__

    return f"geotarget/{__version__} (official data fetch)"


def _offline(url: str, dest: Path, reason: Any, *, partial: Path | None = None) -> FetchError:
    keep = (f" The partial download ({partial.stat().st_size:,} bytes) is kept at {partial}: run the same command "
            "again to resume." if partial is not None and partial.exists() and partial.stat().st_size else "")
    return FetchError(f"could not download {url}: {reason}. Check that this computer is online and can reach "
                      f"{urllib.parse.urlsplit(url).netloc} (or pass `url`, a mirror's address). Cache: {dest}.{keep}"
                      ).naming("url")


class _ResumingDownloader:
    """A pooch downloader that resumes an interrupted download with an HTTP ``Range`` request.

    pooch's own :class:`pooch.HTTPDownloader` starts every download from the first byte; the
    files here are tens of megabytes and councils' connections drop, so the bytes received so far
    are kept in ``<dest>.part`` (with the server's ``ETag``/``Last-Modified`` in ``<dest>.part.json``)
    and the next attempt asks only for the rest (``If-Range`` guards against a changed file). When
    complete, the body is decoded if it is gzip (``Content-Encoding: gzip``, or a gzip stream under
    a name that is not ``.gz``), its content checked (:func:`geotarget.io.transfer.check_content`: not an HTML page, a
    CSV not cut short, a GeoJSON that parses, a zip or gzip whose CRCs match), and handed to pooch,
    which checks the hash and moves it into place. A body that fails a check is discarded with its
    ``.part``; a transfer cut short or stopped at the deadline keeps its ``.part`` for the next attempt.
    """

    def __init__(self, dest: Path, *, timeout: float, deadline: float = DEADLINE):
        self.dest = dest
        self.part = dest.with_name(dest.name + ".part")
        self.state_path = dest.with_name(dest.name + ".part.json")
        self.timeout = timeout
        self.deadline = deadline
        self.sha256: str | None = None  #: SHA-256 of the last complete download
        self.decoded: str | None = None  #: how the last body was decoded ("gzip"), if it was

    def __call__(self, url: str, output_file, pooch_obj=None, check_only: bool = False):
        if check_only:
            return True
        info = self._download(url, started=time.monotonic())
        try:
            checked = self._decode(url, Path(output_file), info)
            check_content(checked, url=url, name=self.dest.name, length_known=info["length_known"])
        except FetchError:
            self._discard()
            raise
        if checked == self.part:
            os.replace(self.part, output_file)  # pooch's temporary file, in the same folder
        self._discard()
        self.sha256 = sha256_file(Path(output_file))
        return None

    def _discard(self) -> None:
        self.part.unlink(missing_ok=True)
        self.state_path.unlink(missing_ok=True)

    def _decode(self, url: str, output_file: Path, info: dict) -> Path:
        """Return the file holding the body as the dataset's format: the ``.part``, or ``output_file`` ungzipped."""
        encoding = (info.get("encoding") or "identity").lower()
        if encoding not in ("identity", "gzip", "x-gzip"):
            raise FetchError(f"{url}: the server sent the body with Content-Encoding {encoding!r}, which geotarget "
                             "cannot decode (it asks for the plain file); nothing was saved")
        with self.part.open("rb") as f:
            magic = f.read(2)
        if encoding != "identity" and magic != GZIP_MAGIC:
            raise FetchError(f"{url}: the server said Content-Encoding {encoding} but the body is not gzip; nothing "
                             "was saved")
        if magic != GZIP_MAGIC or self.dest.name.lower().endswith(".gz"):
            return self.part
        how = ("gzip-encoded (Content-Encoding gzip)" if encoding != "identity" else
               f"a gzip stream, not the plain {kind_of(self.dest.name)} its name says")
        try:
            with gzip.open(self.part, "rb") as src, output_file.open("wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise FetchError(f"{url}: the body is {how} and is truncated or damaged ({e}): the gzip CRC/length check "
                             "failed; nothing was saved, try again") from None
        except OSError as e:
            raise FetchError(f"could not write {output_file}: {e.strerror or e}") from None
        log.info("%s: the body was %s; decompressed", self.dest.name, how)
        self.decoded = "gzip"
        return output_file

    def _download(self, url: str, *, started: float) -> dict[str, Any]:
        dest, part, state_path = self.dest, self.part, self.state_path
        try:
            state = json.loads(state_path.read_text()) if state_path.exists() and part.exists() else {}
        except (ValueError, OSError):
            state = {}
        if not isinstance(state, dict) or state.get("url") != url:
            part.unlink(missing_ok=True)
            state = {}
        offset = part.stat().st_size if part.exists() else 0
        headers = {"User-Agent": _user_agent(), "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if state.get("etag") or state.get("last_modified"):
                headers["If-Range"] = state.get("etag") or state["last_modified"]
        try:
            resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                          timeout=min(self.timeout, self.deadline))
        except urllib.error.HTTPError as e:
            if e.code == 416 and offset:
                total = (e.headers.get("Content-Range") or "").rpartition("/")[2]
                if total.isdigit() and int(total) == offset:  # the partial file is the whole file
                    return {"encoding": state.get("encoding"), "length_known": True}
                self._discard()
                return self._download(url, started=started)
            raise FetchError(f"could not download {url}: HTTP {e.code} {e.reason}. Cache: {dest}") from None
        except (TimeoutError, urllib.error.URLError, ConnectionError, http.client.HTTPException, OSError) as e:
            raise _offline(url, dest, getattr(e, "reason", e), partial=part) from None
        with resp:
            refuse_html(resp, url=url, name=dest.name)
            if resp.status == 206:
                content_range = resp.headers.get("Content-Range", "")
                if not content_range.startswith(f"bytes {offset}-"):
                    raise FetchError(f"{url}: the server answered the resume request for bytes {offset}- with "
                                     f"{content_range!r}; delete {part} and try again")
                mode = "ab"
                log.info("%s: resuming at byte %s", dest.name, f"{offset:,}")
            else:
                mode, offset = "wb", 0
                state = {}
            length = resp.headers.get("Content-Length")
            expected = offset + int(length) if length and length.isdigit() else None
            encoding = resp.headers.get("Content-Encoding") or state.get("encoding")
            write_text_atomic(state_path, json.dumps({"url": url, "etag": resp.headers.get("ETag"),
                                                      "last_modified": resp.headers.get("Last-Modified"),
                                                      "encoding": encoding}))
            try:
                f = part.open(mode)
            except OSError as e:
                raise FetchError(f"could not write {part}: {e.strerror or e}") from None
            with f:
                got = read_body(resp, f.write, url=url, timeout=self.timeout, deadline=self.deadline, started=started,
                                done=offset,
                                 expected=expected, keep=part, label=dest.name)
        if expected is not None and got != expected:
            raise FetchError(f"download of {url} ended after {got:,} of {expected:,} bytes. The partial file is kept "
                             f"at {part}: run the same command again to resume.")
        return {"encoding": encoding, "length_known": expected is not None}


@contextlib.contextmanager
def _quiet_pooch():
    """Silence pooch's logging below warnings.

    pooch logs every download to stderr itself; geotarget reports progress through its own logger.
    """
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _check_limits(timeout: float, deadline: float) -> None:
    for name, value in (("timeout", timeout), ("deadline", deadline)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ParameterError(f"{name} was {value!r} but is expected to be a positive number of seconds",
                                 parameter=name)


def download_file(url: str, dest: str | os.PathLike, *, sha256: str | None = None, timeout: float = TIMEOUT,
                  deadline: float = DEADLINE) -> Path:
    """Download ``url`` to ``dest`` with :func:`pooch.retrieve`, resuming a partial download with HTTP Range.

    The file appears at ``dest`` only when complete and checked: as long as the server's
    ``Content-Length`` (or, without one, a content check: see :func:`geotarget.io.transfer.check_content`), not an HTML
    page, gzip decoded (``Content-Encoding``, or a gzip stream under a plain name) and matching
    ``sha256`` when given. A file already at ``dest`` is replaced only by a complete, checked download.

    Parameters
    ----------
    timeout
        Seconds to wait for the server to answer or send more bytes (restarts with every byte).
    deadline
        Seconds the whole transfer may take (:data:`DEADLINE`); past it the transfer stops and the
        partial file is kept for the next attempt.

    Raises
    ------
    FetchError
        Offline or unreachable (naming the URL and the cache path), an HTTP error, an
        interrupted or stalled transfer (the partial file is kept for the next attempt), a body
        that is not the file expected or is incomplete, a checksum mismatch (the download is discarded).
    """
    _check_limits(timeout, deadline)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    downloader = _ResumingDownloader(dest, timeout=timeout, deadline=deadline)
    # pooch reuses a file already at ``dest``; set it aside so that it is downloaded again, and put
    # it back if the new download fails.
    stale = dest.with_name(dest.name + ".old") if dest.exists() else None
    if stale is not None:
        os.replace(dest, stale)
    try:
        with _quiet_pooch():
            pooch.retrieve(url, known_hash=f"sha256:{sha256.lower()}" if sha256 else None, fname=dest.name,
                           path=dest.parent, downloader=downloader, progressbar=False)
    except ValueError:  # pooch: hash mismatch (the temporary file is already deleted)
        if stale is not None:
            os.replace(stale, dest)
        raise FetchError(f"{url}: checksum mismatch: the download has SHA-256 {downloader.sha256} but {sha256} was "
                         f"expected; the file was discarded and {dest} left unchanged") from None
    except BaseException:
        if stale is not None:
            os.replace(stale, dest)
        raise
    if stale is not None:
        stale.unlink()
    return dest


def _get_json(url: str, params: dict[str, Any], *, dest: Path, timeout: float, deadline: float = DEADLINE) -> dict:
    """One page of an ArcGIS query: complete (Content-Length), within the deadline, JSON (not an HTML page)."""
    full = f"{url}?{urllib.parse.urlencode(params)}"
    started = time.monotonic()
    req = urllib.request.Request(full, headers={"User-Agent": _user_agent(), "Accept-Encoding": "identity"})
    buf = bytearray()
    try:
        resp = urllib.request.urlopen(req, timeout=min(timeout, deadline))
    except urllib.error.HTTPError as e:
        raise FetchError(f"could not download {full}: HTTP {e.code} {e.reason}. Cache: {dest}") from None
    except (TimeoutError, urllib.error.URLError, ConnectionError, http.client.HTTPException, OSError) as e:
        raise _offline(full, dest, getattr(e, "reason", e)) from None
    with resp:
        ctype = resp.headers.get_content_type()
        encoding = (resp.headers.get("Content-Encoding") or "identity").lower()
        length = resp.headers.get("Content-Length")
        got = read_body(resp, buf.extend, url=full, timeout=timeout, deadline=deadline, started=started,
                        label=dest.name)
    if length and length.isdigit() and got != int(length):
        raise FetchError(f"{full}: the page ended after {got:,} of {int(length):,} bytes. Run the same command "
                         "again: the pages already received are kept.")
    body = bytes(buf)
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise FetchError(f"{full}: the server sent the page with Content-Encoding {encoding!r}, which geotarget "
                         "cannot decode")
    if encoding != "identity" or body.startswith(GZIP_MAGIC):
        try:
            body = gzip.decompress(body)
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise FetchError(f"{full}: the gzip-compressed page is truncated or damaged ({e}). Run the same command "
                             "again: the pages already received are kept.") from None
    what = markup(body[:4096])
    if what or ctype in ("text/html", "application/xhtml+xml"):
        raise FetchError(f"{full} sent {what or 'an HTML page'} (Content-Type {ctype}), not the JSON page "
                         "expected: the service name is wrong or the server answered with an error page. Nothing was "
                         "saved.")
    try:
        data = json.loads(body)
    except ValueError as e:
        raise FetchError(f"{full}: the page is not complete JSON ({getattr(e, 'msg', e)} at byte "
                         f"{getattr(e, 'pos', 0):,} of {len(body):,}; it ends {body[-40:]!r}): the body was cut short "
                         "or is not JSON. Run the same command again.") from None
    if not isinstance(data, dict):
        raise FetchError(f"{full}: the server answered with JSON that is not a query result (got {body[:80]!r})")
    if "error" in data:
        err = data["error"] if isinstance(data["error"], dict) else {"message": data["error"]}
        raise FetchError(f"{full}: the ArcGIS server reported an error: {err.get('code', '')} "
                         f"{err.get('message', err)} {err.get('details', '')}".rstrip())
    return data


def page_limit(dataset: Dataset, page_size: int = _PAGE) -> tuple[int, int]:
    """Return the most features and pages geotarget reads from an ArcGIS layer: ``(features, pages)``.

    Derived from the layer's expected size (:attr:`Dataset.features`, else :data:`_MAX_FEATURES`):
    25% more features than expected plus one page, in pages a quarter of ``page_size`` or more
    (a server may cap its pages below the size asked for). A server that keeps saying
    ``exceededTransferLimit`` past this is an error, not an endless loop.
    """
    expected = dataset.features or _MAX_FEATURES
    features = math.ceil(expected * 1.25) + page_size
    return features, 4 * math.ceil(features / page_size)


def _kept_page(page_file: Path) -> dict | None:
    """Return a page kept from an earlier attempt, or ``None`` (none, or damaged: it is fetched again)."""
    if not page_file.is_file():
        return None
    try:
        data = json.loads(page_file.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        data = None
    if not isinstance(data, dict):
        log.warning("%s: a kept page is damaged; fetching it again", page_file)
        page_file.unlink(missing_ok=True)
        return None
    return data


def _read_pages(dataset: Dataset, query: str, pages: Path, *, dest: Path, timeout: float, deadline: float,
                page_size: int) -> list[dict]:
    """Return every feature of a layer, page by page; pages are kept in ``pages`` as they arrive."""
    max_features, max_pages = page_limit(dataset, page_size)
    offset, i, features, previous = 0, 0, [], None

    def fail(message: str) -> FetchError:
        shutil.rmtree(pages, ignore_errors=True)  # the pages are of no use to a resume
        return FetchError(message)

    while True:
        if offset > max_features or i >= max_pages:
            raise fail(f"{query}: the server was still paging after {i:,} pages and {offset:,} features, more than "
                       f"this layer can have (about {dataset.features or _MAX_FEATURES:,} expected; geotarget stops "
                       f"at {max_features:,} features or {max_pages:,} pages) and never said "
                       "exceededTransferLimit=false. Nothing was saved: check the address (another layer?).")
        page_file = pages / f"{i:05d}.json"
        data = _kept_page(page_file)
        if data is None:
            params = {"where": "1=1", "outFields": "*", "f": "geojson", "outSR": 4326, "resultOffset": offset,
                      "resultRecordCount": page_size, "returnGeometry": "false" if dataset.table else "true"}
            if dataset.order_by:
                params["orderByFields"] = dataset.order_by
            data = _get_json(query, params, dest=dest, timeout=timeout, deadline=deadline)
            write_text_atomic(page_file, json.dumps(data))
        got = data.get("features") or []
        props = data.get("properties")
        if not isinstance(got, list) or not all(isinstance(f, dict) for f in got):
            raise fail(f"{query}: page {i + 1} is not a list of features (got {json.dumps(got)[:80]}). Nothing was "
                       "saved.")
        ends = (got[0], got[-1]) if got else None
        if ends is not None and ends == previous:
            raise fail(f"{query}: the server sent the same page again for resultOffset={offset:,} (it ignores "
                       "paging) and would never finish. Nothing was saved.")
        previous = ends
        features.extend(got)
        offset += len(got)
        i += 1
        exceeded = data.get("exceededTransferLimit") or (isinstance(props, dict) and props.get("exceededTransferLimit"))
        log.info("%s: %s features", dest.name, f"{offset:,}")
        if not got or (len(got) < page_size and not exceeded):
            break
    if not features:
        raise fail(f"{query}: the layer returned no features; is the service name right? Cache: {dest}")
    return features


def download_arcgis(dataset: Dataset, dest: str | os.PathLike, *, url: str | None = None, timeout: float = TIMEOUT,
                    deadline: float = DEADLINE, page_size: int = _PAGE) -> Path:
    """Download an ArcGIS FeatureServer layer page by page into one GeoJSON (or CSV for a table).

    Pages already downloaded (``<dest>.pages/``) are kept, so an interrupted fetch resumes. Each
    page must arrive whole within ``deadline`` seconds; paging stops with an error past
    :func:`page_limit` or when the server sends the same page again (it ignores ``resultOffset``).
    """
    _check_limits(timeout, deadline)
    dest = Path(dest)
    base = (url or dataset.url).rstrip("/")
    query = base if base.endswith("/query") else base + "/query"
    pages = dest.with_name(dest.name + ".pages")
    pages.mkdir(parents=True, exist_ok=True)
    try:
        features = _read_pages(dataset, query, pages, dest=dest, timeout=timeout, deadline=deadline,
                               page_size=page_size)
    except FetchError:
        if pages.is_dir() and not any(pages.iterdir()):  # nothing a resume could use
            pages.rmdir()
        raise
    with atomic_path(dest) as tmp:
        if dataset.table:
            columns = list(dict.fromkeys(k for f in features for k in (f.get("properties") or {})))
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
            w.writeheader()
            for f in features:
                w.writerow(f.get("properties") or {})
            tmp.write_text(buf.getvalue(), encoding="utf-8")
        else:
            tmp.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    shutil.rmtree(pages, ignore_errors=True)
    return dest


def fetch(name: str, *, cache: str | os.PathLike | None = None, url: str | None = None, force: bool = False,
          timeout: float = TIMEOUT, deadline: float = DEADLINE) -> Path:
    """Download a dataset of :data:`CATALOGUE` into the cache (if not there yet) and return its path.

    ``url`` fetches from another address (a mirror, a local copy). A dataset already cached is
    checked against the SHA-256 recorded when it was downloaded; ``force`` downloads it again.
    ``timeout`` (:data:`TIMEOUT`) is how long to wait for the server to send anything;
    ``deadline`` (:data:`DEADLINE`) how long one file or one ArcGIS page may take in all.
    The ``<file>.json`` record is written only for a download that passed every check
    (:func:`download_file`, :func:`download_arcgis`).
    """
    _check_limits(timeout, deadline)
    d = get_dataset(name)
    dest = cached_path(name, cache=cache)
    if dest.exists() and not force:
        verify_cached(dest)
        log.info("%s: already cached at %s", name, dest)
        return dest
    if d.kind == "manual" and url is None:
        raise FetchError(f"{name} has no stable download address: download it from {d.page} and run "
                         f"`geotarget data add FILE` ({d.checked})").naming("url")
    dest = cache_dir(cache) / d.name / d.filename
    source = url or d.url
    log.info("%s: downloading %s", name, source)
    try:
        info = _fetch_into(d, dest, source=source, url=url, timeout=timeout, deadline=deadline)
    except FetchError:
        raise
    except OSError as e:  # the cache folder cannot be written: read-only, full, a file where a folder should be
        where = e.filename or dest.parent
        raise FetchError(f"could not write to the data cache at {where}: {e.strerror or e}; free some space or "
                         "choose another folder with `cache`").naming("cache") from None
    log.info("%s: %s (%s bytes, SHA-256 %s)", name, dest, f"{info['bytes']:,}", info["sha256"])
    return dest


def _fetch_into(d: Dataset, dest: Path, *, source: str, url: str | None, timeout: float,
                deadline: float) -> dict[str, Any]:
    if d.kind == "arcgis":
        download_arcgis(d, dest, url=url, timeout=timeout, deadline=deadline)
        if d.sha256 and sha256_file(dest) != d.sha256.lower():
            bad = sha256_file(dest)
            dest.unlink()
            record_path(dest).unlink(missing_ok=True)
            raise FetchError(f"{source}: checksum mismatch: the download has SHA-256 {bad} but {d.sha256} was "
                             "expected; the file was discarded")
    else:
        download_file(source, dest, sha256=d.sha256, timeout=timeout, deadline=deadline)
    for other in dest.parent.glob("*.json"):  # a file added earlier in another format is replaced
        added = other.with_name(other.name[:-5])
        if added != dest and added.is_file() and not other.name.endswith(".part.json"):
            added.unlink()
            other.unlink()
    return write_record(dest, d, source=source, fetched=now())


@dataclass(frozen=True)
class Listing:
    """One row of ``geotarget data list``."""

    name: str
    status: str  #: "cached", "changed" (fails its checksum), "partial", "not cached", "bundled"
    path: Path | None
    bytes: int | None
    detail: str


def list_data(*, cache: str | os.PathLike | None = None) -> list[Listing]:
    """List what is cached (with its record), partly downloaded, fetchable, and bundled with geotarget."""
    from geotarget.core.places import PLACES, ROOT

    rows: list[Listing] = []
    for d in CATALOGUE.values():
        dest = cached_path(d.name, cache=cache)
        part = dest.with_name(dest.name + ".part")
        pages = dest.with_name(dest.name + ".pages")
        if dest.exists():
            try:  # the file is checked against its record, as on every use
                verify_cached(dest)
            except FetchError as e:
                rows.append(Listing(d.name, "changed", dest, dest.stat().st_size, str(e)))
                continue
            rec = _record_path(dest)
            info = json.loads(rec.read_text(encoding="utf-8")) if rec.exists() else {}
            info = info if isinstance(info, dict) else {}
            how = (f"added {info['added']} from {info.get('added_from', '?')}" if "added" in info
                   else f"fetched {info.get('fetched', '?')}" if info else "placed there by hand (no record)")
            detail = f"{d.vintage}; {how}; SHA-256 {str(info.get('sha256', '?'))[:16]}…"
            rows.append(Listing(d.name, "cached", dest, dest.stat().st_size, detail))
        elif part.exists() or pages.exists():
            n = part.stat().st_size if part.exists() else sum(p.stat().st_size for p in pages.iterdir())
            rows.append(Listing(d.name, "partial", part if part.exists() else pages, n,
                                "interrupted download: `geotarget data fetch " + d.name + "` resumes it"))
        else:
            rows.append(Listing(d.name, "not cached", None, None, f"{d.publisher}: {d.title}"))
    seen: set[str] = set()
    for pl in PLACES.values():
        files = [f for fs in pl.files.values() for f in fs.values() if "/" in str(f)]
        for rel in [pl.boundaries, *files, pl.assets, pl.postcodes]:
            p = ROOT / rel
            if rel in seen or not p.exists():
                continue
            seen.add(rel)
            rows.append(Listing(rel, "bundled", p, p.stat().st_size, f"{pl.name} sample (see data/PROVENANCE.md)"))
    return rows


__all__ = ["CATALOGUE", "DEADLINE", "TIMEOUT", "Dataset", "Listing", "cache_dir", "cached_path", "download_arcgis",
           "download_file", "fetch", "get_dataset", "list_data", "now", "page_limit", "record_path",
           "verify_cached", "write_record"]
