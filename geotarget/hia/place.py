"""Which councils a screening needs: the councils a site and its largest buffer reach.

A screening compares a site with its council and counts the residents around it, so the data must hold
every council the site or its largest buffer touches. :func:`site_councils` finds them *before* the data
is loaded, from the council boundaries of the source (``lads``: point/polygon in polygon), or, without
them, from the LSOA boundaries and the LSOA -> council lookup (``boundaries``, ``lookup``). ``geotarget
hia`` with files or the cache uses it when no council is given. Stockton High Street is in
Stockton-on-Tees, and Middlesbrough is within 2 km of it but not within 800 m:

>>> from geotarget.io.sites import Site
>>> import shapely
>>> high_street = Site("Stockton High Street", shapely.Point(444600, 518900), "easting,northing")
>>> site_councils(high_street, lads=_demo_lads())
('E06000004', 'E06000002')
>>> site_councils(high_street, lads=_demo_lads(), buffers=(800,))
('E06000004',)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import shapely

from geotarget.core.errors import DataNotFoundError
from geotarget.core.vintages import get_vintage
from geotarget.data.source import DataSource
from geotarget.hia.evidence import DEFAULT_BUFFERS
from geotarget.io.boundaries import read_boundaries
from geotarget.io.lookups import read_lsoa_lookup
from geotarget.io.sites import Site, require_in_england

log = logging.getLogger(__name__)


def site_councils(*sites: Site, source: DataSource | None = None, lads: gpd.GeoDataFrame | None = None,
                  buffers: Sequence[float] = DEFAULT_BUFFERS) -> tuple[str, ...]:
    """Return the codes of the councils the ``sites`` and their largest buffer reach, the sites' own first.

    Parameters
    ----------
    *sites
        The sites (EPSG:27700). A site outside England is refused
        (:func:`~geotarget.io.sites.require_in_england`).
    source
        Where the council boundaries come from: ``source.lads`` (council boundaries, e.g. ONS LAD 2024;
        UK-wide files are kept to England), else ``source.boundaries`` with ``source.lookup`` (each
        LSOA's council). A cache source should be completed first
        (:func:`geotarget.data.load.cached_source`).
    lads
        Council polygons indexed by ``lad_code`` (instead of ``source``).
    buffers
        The screening buffers (metres); the largest is the reach.

    Notes
    -----
    Councils are matched by intersection with the generalised boundaries the source has; a buffer
    grazing a neighbour by a few metres brings that council in, which costs only loading time.
    """
    if not sites:
        return ()
    for s in sites:
        require_in_england(s)
    reach = max(float(b) for b in buffers)
    areas = [s.geometry.buffer(reach) for s in sites]
    if lads is None:
        if source is None:
            raise DataNotFoundError("site_councils needs council boundaries: give `lads` or a source")
        lads = _council_areas(source, shapely.union_all(areas))
    lads = lads[lads.index.astype(str).str.startswith("E")]
    own: list[str] = []
    near: dict[str, float] = {}
    for s, area in zip(sites, areas, strict=True):
        hit = lads.iloc[np.sort(lads.sindex.query(area, predicate="intersects"))]
        dist = hit.distance(s.geometry)
        for code, d in dist.items():
            if d == 0 and code not in own:
                own.append(str(code))
            near[str(code)] = min(near.get(str(code), np.inf), float(d))
    if not own and near:  # a site on the coast, just outside the generalised boundaries
        own.append(min(near, key=near.get))
    rest = sorted((c for c in near if c not in own), key=lambda c: (near[c], c))
    codes = (*own, *rest)
    log.info("site(s) and %g m buffer reach %d council(s): %s", reach, len(codes), ", ".join(codes))
    return codes


def _council_areas(source: DataSource, area: shapely.Geometry) -> gpd.GeoDataFrame:
    """Council polygons near ``area``: the source's council boundaries, else its LSOAs labelled by council."""
    bbox = tuple(area.bounds)
    if source.lads is not None:
        return read_boundaries(source.lads, level="lad", layer=source.lads_layer,
                               where=_english(source.lads, source.lads_layer))
    if source.boundaries is None or source.lookup is None:
        raise DataNotFoundError("choosing the councils from the site needs council boundaries (lads) or LSOA "
                                "boundaries and a lookup (boundaries, lookup); or name the councils (councils)"
                                ).naming("lads", "councils")
    v = get_vintage(source.vintage or 2025)
    lsoas = read_boundaries(source.boundaries, layer=source.boundaries_layer,
                            level=f"lsoa{v.lsoa_year % 100}" if source.boundaries_layer is None else None)
    lsoas = lsoas.iloc[lsoas.sindex.query(shapely.box(*bbox), predicate="intersects")]
    lk = read_lsoa_lookup(source.lookup)
    codes = lk["lad_code"].reindex(lsoas.index)
    return gpd.GeoDataFrame(geometry=lsoas.geometry.to_numpy(), index=codes.to_numpy(), crs=lsoas.crs)


def _english(path, layer) -> str | None:
    """Return an OGR filter keeping England's councils of a UK-wide file (None when the file has no code column)."""
    import pyogrio

    from geotarget.core.codes import find_area_columns

    found = find_area_columns(pyogrio.read_info(path, layer=layer)["fields"])
    return f"\"{found['lad_code'][0]}\" LIKE 'E%'" if "lad_code" in found else None


def _demo_lads() -> gpd.GeoDataFrame:
    """Return the bundled Tees Valley councils (for the example)."""
    from geotarget.core.places import get_place, sample_path

    return read_boundaries(sample_path(get_place("tees_valley").boundaries), layer="lad2025")


__all__ = ["site_councils"]
