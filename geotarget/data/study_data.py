"""What :func:`geotarget.data.load` returns: every layer a study needs, in one frozen object.

All frames are in EPSG:27700 and indexed by their area code. The IoD vintage is a field
(:attr:`StudyData.vintage`), never a frame's ``attrs``. Layers a source does not have are
``None``; :meth:`StudyData.require` names what is missing and how to get it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geotarget.core.errors import DataNotFoundError
from geotarget.core.vintages import Vintage
from geotarget.data.source import DataSource


@dataclass(frozen=True)
class Source:
    """One file a study's data was read from (for the manifest)."""

    role: str  #: "imd", "population", "boundaries", "lookup", ...
    path: Path
    vintage: str | None = None  #: e.g. "IoD2025, LSOA 2021 (MHCLG)"


#: How to get each optional layer, for :meth:`StudyData.require`.
_HOW = {
    "lsoas geometry": "LSOA boundaries (boundaries)",
    "wards": "an LSOA -> ward lookup and LSOA boundaries (lookup, boundaries)",
    "lads": "LSOA boundaries (boundaries), or council boundaries (lads)",
    "centroids": "LSOA boundaries (boundaries) or population-weighted centroids (centroids)",
    "postcodes": "OS Code-Point Open and the ONS postcode lookup (codepoint, postcode_lookup), or a bundled place "
                 "(source = \"sample\")",
    "hia_indicators": "the IoD File 8 underlying indicators (indicators), or a bundled place (source = \"sample\")",
    "hia_reference": "England-wide IoD and File 8 files (imd, indicators), or a bundled place (source = \"sample\")",
    "regions": "a council -> region lookup (regions)",
}


@dataclass(frozen=True, eq=False)  # frames do not compare with ==
class StudyData:
    """The areas of a study and everything known about them.

    Attributes
    ----------
    vintage
        The IoD release (:class:`~geotarget.core.vintages.Vintage`).
    lsoas
        The study LSOAs, indexed by ``lsoa_code``: IoD (national ranks and deciles), population
        denominators (``pop_*``), MSOA, ward and council codes and names where known, and
        geometry (a GeoDataFrame without geometry when no boundaries were given).
    wards, lads, msoas
        Ward, council and MSOA polygons of the study, indexed by their codes (``None`` when the
        source has none).
    centroids
        One population point per LSOA (ONS population-weighted centroids, or a stand-in).
    postcodes
        Residential postcode points with ``postcode``, ``lsoa_code`` and ``weight`` (bundled places).
    postcode_index
        Every postcode of a bundled place as points with ``lsoa_code`` (a map's search box).
    postcode_locations
        Postcode -> ``easting, northing`` (the :func:`geotarget.io.postcodes.read_postcodes` layout) for
        locating asset and site postcodes: all of England's postcodes with ``codepoint``; see
        :meth:`postcode_table`.
    assets
        Community assets: the bundled place's ``community_assets`` layer (all of the place, so
        access can cross council boundaries) or the asset files named, kept inside the councils.
    parks, park_access_points
        Green space sites (polygons with ``site_type``) and their entrances, where bundled (Trafford).
    vintage, councils, place, place_key
        The chosen council codes, the place's display name ("Tees Valley", "England") and its
        bundled key (``None`` for data from files).
    national
        Every LSOA in England (IoD, population, ``region_code``) when read from England-wide
        files, for national references and deciles; else ``None``.
    reference
        Bundled England and region reference values (gaps) for a bundled place; else ``None``.
    regions
        Council -> region (``region_code``, ``region_name``), indexed by ``lad_code``.
    hia_indicators, cni, hia_reference
        For HIA screening: IoD File 8 indicators and the Community Needs Index by ``lsoa_code``,
        and England comparators indexed by ``(measure, statistic)`` (bundled places).
    sources, notes
        Files read (with vintages) and how gaps in the data were filled, for the manifest.
    ward_vintage
        The ward geography ("May 2025").
    file_lsoas
        How many LSOAs the IoD file held (files and cache; 0 for a bundled place).
    source
        The :class:`~geotarget.data.source.DataSource` this was loaded from.
    """

    vintage: Vintage
    lsoas: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame | None
    lads: gpd.GeoDataFrame | None
    msoas: gpd.GeoDataFrame | None
    centroids: gpd.GeoDataFrame | None
    assets: gpd.GeoDataFrame
    councils: tuple[str, ...]
    place: str
    place_key: str | None = None
    postcodes: gpd.GeoDataFrame | None = None
    postcodes_note: str = ""
    postcode_index: gpd.GeoDataFrame | None = None
    postcode_locations: pd.DataFrame | None = None
    parks: gpd.GeoDataFrame | None = None
    park_access_points: gpd.GeoDataFrame | None = None
    national: pd.DataFrame | None = None
    reference: pd.DataFrame | None = None
    regions: pd.DataFrame | None = None
    hia_indicators: pd.DataFrame | None = None
    cni: pd.DataFrame | None = None
    hia_reference: pd.Series | None = None
    sources: tuple[Source, ...] = ()
    notes: tuple[str, ...] = ()
    ward_vintage: str = "May 2025"
    file_lsoas: int = 0
    source: DataSource = field(default_factory=DataSource)
    #: LSOAs of the place left out because a file misses them (``DataSource.partial``; else ``None``): one row
    #: each, columns :data:`geotarget.data.join.MISSING_COLUMNS`.
    missing_lsoas: pd.DataFrame | None = None

    @property
    def label(self) -> str:
        """e.g. ``"IoD2025, LSOA 2021"``."""
        return self.vintage.label

    @property
    def bundled(self) -> bool:
        """True for a bundled place (``source="sample"``)."""
        return self.place_key is not None

    def postcode_table(self) -> pd.DataFrame:
        """Postcode locations for locating assets and sites by postcode.

        ``postcode_locations`` when loaded; else the Code-Point file of the source (``codepoint``); else
        the bundled Tees Valley and Trafford postcodes.
        """
        if self.postcode_locations is not None:
            return self.postcode_locations
        from geotarget.io.postcodes import read_postcodes

        return read_postcodes(self.source.codepoint)

    @property
    def has_geometry(self) -> bool:
        """True if the LSOAs have boundaries."""
        return _has_active_geometry(self.lsoas)

    def require(self, *layers: str, what: str) -> None:
        """Raise :class:`~geotarget.DataNotFoundError` naming the layers ``what`` needs and this data lacks."""
        missing = []
        for name in layers:
            if name == "lsoas geometry":
                ok = self.has_geometry
            else:
                ok = getattr(self, name) is not None
            if not ok:
                missing.append(name)
        if missing:
            how = "; ".join(f"{m}: give {_HOW.get(m, m)}" for m in missing)
            raise DataNotFoundError(f"{what} needs {', '.join(missing)}, which the data for "
                                    f"{self.place or 'the study'} ({self.source.source}) does not have. {how}.")


def _has_active_geometry(frame) -> bool:
    if not isinstance(frame, gpd.GeoDataFrame):
        return False
    try:
        frame.geometry  # noqa: B018 - raises without an active geometry column
    except AttributeError:
        return False
    return True


__all__ = ["Source", "StudyData"]
