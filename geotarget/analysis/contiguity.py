"""Which areas are neighbours: contiguity with a snapping tolerance, islands and boundary faults reported.

Published boundaries are generalised (BGC/BSC), so neighbours that share a border on the ground can
miss each other by a few metres, and digitising faults leave slivers of gap or overlap. Here two
areas are neighbours when they come within ``snap`` metres of each other (queen contiguity, the
default) or, with ``point_contacts=False``, when they share more than a point: the length of one
area's boundary lying within ``snap`` of the other must exceed ``min_edge`` metres (rook
contiguity).

The result is a :class:`Contiguity`: the neighbour pairs, the islands (areas with no neighbour),
the boundary faults found on the way (pairs that only touch after snapping, pairs that overlap),
with the neighbours held as a libpysal ``Graph`` (``.graph``: what esda and spopt take; ``to_w()``
gives the older ``W``). Islands can be linked to their nearest area (``connect_islands=True``) where
an analysis needs every area connected (hot spots).

>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> grid = gpd.GeoDataFrame(geometry=[box(x, y, x + 100, y + 100) for y in (0, 100) for x in (0, 100)],
...                         index=pd.Index(["a", "b", "c", "d"], name="lsoa_code"), crs=27700)
>>> sorted(contiguity(grid).neighbours("a"))
['b', 'c', 'd']
>>> sorted(contiguity(grid, point_contacts=False).neighbours("a"))
['b', 'c']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from geotarget.core.errors import CRSError, SchemaError

log = logging.getLogger(__name__)

#: Default snapping tolerance in metres: generalised boundaries that come this close are neighbours.
SNAP = 5.0
#: Overlaps smaller than this (m²) are rounding noise, not faults worth reporting.
MIN_OVERLAP = 1.0


def _graph(ids: pd.Index, focal: np.ndarray, neighbour: np.ndarray):
    """Build a binary :class:`libpysal.graph.Graph` over ``ids`` from ordered pairs of integer positions.

    Areas without a neighbour are kept as libpysal islands (a self-pair of weight 0), so the Graph
    lists every area, in the order of ``ids``.
    """
    from libpysal.graph import Graph

    has = np.zeros(len(ids), bool)
    has[focal] = True
    lone = np.flatnonzero(~has)
    f = np.concatenate([focal, lone])
    nb = np.concatenate([neighbour, lone])
    w = np.concatenate([np.ones(len(focal)), np.zeros(len(lone))])
    order = np.lexsort((nb, f))
    return Graph.from_arrays(ids[f[order]], ids[nb[order]], w[order])


@dataclass(frozen=True)
class Contiguity:
    """Neighbours of a set of areas as a libpysal :class:`~libpysal.graph.Graph`, with what was found on the way.

    ``graph`` is the binary, symmetric contiguity Graph over ``ids`` (islands kept as libpysal
    islands); ``focal``/``neighbour`` give its pairs (both directions) as integer positions into
    ``ids``; ``islands`` lists ids with no neighbour; ``gaps`` the pairs (i < j, as ids, with the
    gap in metres) that are neighbours only thanks to snapping; ``overlaps`` the pairs whose
    polygons overlap (with the area in m²); ``links`` the island links added by
    ``connect_islands`` (with their distance in metres).
    """

    ids: pd.Index
    graph: object  # libpysal.graph.Graph (imported lazily: libpysal is slow to import)
    islands: list = field(default_factory=list)
    gaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    overlaps: pd.DataFrame = field(default_factory=pd.DataFrame)
    links: pd.DataFrame = field(default_factory=pd.DataFrame)
    snap: float = SNAP
    point_contacts: bool = True

    @classmethod
    def from_pairs(cls, ids: pd.Index, focal: np.ndarray, neighbour: np.ndarray, islands: list, **found) -> Contiguity:
        """Build a Contiguity from ordered pairs of integer positions into ``ids`` (both directions given)."""
        return cls(ids, _graph(ids, np.asarray(focal, np.int64), np.asarray(neighbour, np.int64)), islands, **found)

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray]:
        adj = self.graph.adjacency
        real = adj.to_numpy() != 0  # drop libpysal's zero-weight island self-pairs
        f = self.ids.get_indexer(adj.index.get_level_values(0)[real])
        nb = self.ids.get_indexer(adj.index.get_level_values(1)[real])
        order = np.lexsort((nb, f))
        return f[order].astype(np.int64), nb[order].astype(np.int64)

    @property
    def focal(self) -> np.ndarray:
        """Focal position (into ``ids``) of each ordered neighbour pair, sorted by focal then neighbour."""
        return self._pairs[0]

    @property
    def neighbour(self) -> np.ndarray:
        """Neighbour position (into ``ids``) of each ordered neighbour pair."""
        return self._pairs[1]

    @property
    def n(self) -> int:
        """Number of areas."""
        return len(self.ids)

    def matrix(self) -> sparse.csr_matrix:
        """Symmetric 0/1 adjacency matrix in the order of ``ids``."""
        data = np.ones(len(self.focal), dtype=np.int8)
        return sparse.csr_matrix((data, (self.focal, self.neighbour)), shape=(self.n, self.n))

    def neighbours(self, area) -> list:
        """Return the ids of the neighbours of the area with id ``area``."""
        i = self.ids.get_loc(area)
        return list(self.ids[self.neighbour[self.focal == i]])

    def subset(self, ids) -> Contiguity:
        """Return the contiguity among a subset of the areas (pairs with both ends in ``ids``)."""
        keep = self.ids.isin(pd.Index(ids))
        pos = np.full(self.n, -1)
        pos[keep] = np.arange(keep.sum())
        both = keep[self.focal] & keep[self.neighbour]
        f, nb = pos[self.focal[both]], pos[self.neighbour[both]]
        sub_ids = self.ids[keep]
        has = np.zeros(len(sub_ids), bool)
        has[f] = True
        return Contiguity.from_pairs(sub_ids, f, nb, list(sub_ids[~has]), snap=self.snap,
                                     point_contacts=self.point_contacts)

    def components(self) -> pd.Series:
        """Connected-component label (0, 1, ...) of each area, indexed by id."""
        _, labels = connected_components(self.matrix(), directed=False)
        return pd.Series(labels, index=self.ids, name="component")

    def to_graph(self):
        """Return the neighbours as a :class:`libpysal.graph.Graph` (binary weights, islands kept): ``graph``."""
        return self.graph

    def to_w(self):
        """Return the neighbours as a :class:`libpysal.weights.W` (for libraries that want the older API)."""
        from libpysal.weights import W

        neighbours: dict = {i: [] for i in self.ids}
        for f, nb in zip(self.ids[self.focal], self.ids[self.neighbour], strict=True):
            neighbours[f].append(nb)
        # libpysal's own island/disconnected-component warnings are off because this object already
        # knows them: ``islands`` (reported by :meth:`report`, linked or excluded by the caller) and
        # :meth:`components`. This switches off libpysal's checks for this W only, not any warning filter.
        return W(neighbours, silence_warnings=True, id_order=list(self.ids))

    def report(self) -> str:
        """One paragraph on what was found: for logs and method notes."""
        parts = [f"{self.n:,} areas, {len(self.focal) // 2:,} neighbour pairs "
                 f"({'queen' if self.point_contacts else 'rook'} contiguity, snapping {self.snap:g} m)"]
        if len(self.gaps):
            parts.append(f"{len(self.gaps):,} pairs joined across gaps of up to {self.gaps['gap_m'].max():.1f} m")
        if len(self.overlaps):
            largest = self.overlaps["overlap_m2"].max()
            parts.append(f"{len(self.overlaps):,} overlapping pairs (largest {largest:,.0f} m²)")
        if self.islands:
            shown = ", ".join(map(str, self.islands[:5])) + (" ..." if len(self.islands) > 5 else "")
            parts.append(f"{len(self.islands):,} island(s) with no neighbour: {shown}")
        if len(self.links):
            parts.append(f"{len(self.links):,} island(s) linked to their nearest area "
                         f"(up to {self.links['distance_m'].max():,.0f} m)")
        return "; ".join(parts) + "."


#: The last few results of :func:`_snapped_pairs`, keyed by snap and the identity of the geometry objects.
#: A study asks for the neighbours of the same polygons several times (targeting, hot spots): the
#: search, the overlap test and the gap distances are the costly part, and they depend only on the
#: polygons and ``snap``. Shapely geometries are immutable, and an entry keeps its geometries alive,
#: so equal identities mean equal polygons in the same order: a hit returns exactly what a fresh
#: computation would. Bounded to :data:`_CACHE_SIZE` entries.
_PAIR_CACHE: list[tuple[float, np.ndarray, np.ndarray, tuple]] = []
_CACHE_SIZE = 2


def _snapped_pairs(geoms: np.ndarray, snap: float) -> tuple:
    """Pairs (i < j) of polygons within ``snap`` of each other, with their gaps and overlaps.

    Returns the STRtree, ``i``, ``j``, ``touching`` (per pair), the gap distance of each pair that does
    not touch, ``ov`` (per pair: interiors intersect) and the overlap area of each overlapping pair.
    The result is memoised on the geometry objects' identities (see :data:`_PAIR_CACHE`).
    """
    ident = np.fromiter(map(id, geoms), dtype=np.int64, count=len(geoms))
    for key_snap, _held, held_ident, found in _PAIR_CACHE:
        if key_snap == snap and len(held_ident) == len(ident) and np.array_equal(held_ident, ident):
            return found
    tree = shapely.STRtree(geoms)
    if snap > 0:
        i, j = tree.query(geoms, predicate="dwithin", distance=snap)
    else:
        i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    gi, gj = geoms[i], geoms[j]

    touching = shapely.intersects(gi, gj)
    gap_pairs = ~touching
    gap_m = shapely.distance(gi[gap_pairs], gj[gap_pairs])
    # Overlaps: interiors intersect. Checked with the prepared-geometry predicate on touching pairs only.
    shapely.prepare(gi)
    ov = touching.copy()
    ov[touching] = shapely.relate_pattern(gi[touching], gj[touching], "T********")
    ov_area = shapely.area(shapely.intersection(gi[ov], gj[ov]))
    found = (tree, i, j, touching, gap_m, ov, ov_area)
    for a in found[1:]:
        a.setflags(write=False)  # shared between callers: nobody may change them in place
    _PAIR_CACHE.insert(0, (snap, np.array(geoms, dtype=object), ident, found))
    del _PAIR_CACHE[_CACHE_SIZE:]
    return found


def contiguity(areas: gpd.GeoDataFrame, *, snap: float = SNAP, point_contacts: bool = True,
               min_edge: float | None = None, connect_islands: bool = False) -> Contiguity:
    """Neighbours of ``areas`` (a GeoDataFrame of polygons in metres, indexed by area code).

    ``snap`` (metres) lets boundaries that nearly touch count as touching; ``point_contacts=False``
    asks for a shared edge longer than ``min_edge`` (default ``max(3 * snap, 1)`` m) rather than a
    point; ``connect_islands`` links each area without neighbours to its nearest area.
    """
    if not isinstance(areas, gpd.GeoDataFrame):
        raise SchemaError(f"contiguity needs a GeoDataFrame of areas, got {type(areas).__name__}")
    if areas.crs is None or not areas.crs.is_projected:
        raise CRSError(f"contiguity needs areas in a projected CRS in metres (EPSG:27700), got {areas.crs}")
    if snap < 0 or not np.isfinite(snap):
        raise SchemaError(f"snap must be a distance in metres >= 0, got {snap}")
    if areas.index.has_duplicates:
        dup = areas.index[areas.index.duplicated()].unique()[:5]
        raise SchemaError(f"areas have duplicate codes: {', '.join(map(str, dup))}")
    geoms = areas.geometry.values
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if empty.any():
        raise SchemaError(f"{int(empty.sum())} area(s) have no geometry: "
                          f"{', '.join(map(str, areas.index[empty][:5]))}")
    tree, i, j, touching, gap_m, ov, ov_area = _snapped_pairs(geoms, snap)
    gap_pairs = ~touching
    gaps = pd.DataFrame({"area_a": areas.index[i[gap_pairs]], "area_b": areas.index[j[gap_pairs]],
                         "gap_m": gap_m})
    big = ov_area >= MIN_OVERLAP
    overlaps = pd.DataFrame({"area_a": areas.index[i[ov][big]], "area_b": areas.index[j[ov][big]],
                             "overlap_m2": ov_area[big]})

    if not point_contacts:
        edge = max(3 * snap, 1.0) if min_edge is None else float(min_edge)
        gi, gj = geoms[i], geoms[j]
        reach = shapely.buffer(gj, max(snap, 0.01)) if snap > 0 else gj
        shared = shapely.length(shapely.intersection(shapely.boundary(gi), reach))
        edged = (shared > edge) | ov  # overlapping areas share more than a point
        i, j = i[edged], j[edged]
        gaps = gaps[gaps.set_index(["area_a", "area_b"]).index.isin(
            pd.MultiIndex.from_arrays([areas.index[i], areas.index[j]]))].reset_index(drop=True)

    focal = np.concatenate([i, j])
    neighbour = np.concatenate([j, i])
    has = np.zeros(len(areas), bool)
    has[focal] = True
    islands = list(areas.index[~has])
    links = pd.DataFrame(columns=["island", "nearest", "distance_m"])
    if connect_islands and islands and len(areas) > 1:
        lone = np.flatnonzero(~has)
        src, dst, dist = [], [], []
        for k in lone:  # islands are few; each is linked to its nearest other area (lowest position on ties)
            idx, d = tree.query_nearest(geoms[k], exclusive=True, return_distance=True)
            src.append(int(k))
            dst.append(int(idx.min()))
            dist.append(float(d.min()))
        links = pd.DataFrame({"island": areas.index[src], "nearest": areas.index[dst], "distance_m": dist})
        focal = np.concatenate([focal, src, dst])
        neighbour = np.concatenate([neighbour, dst, src])
        pairs = pd.DataFrame({"f": focal, "n": neighbour}).drop_duplicates()
        focal, neighbour = pairs["f"].to_numpy(), pairs["n"].to_numpy()
        has[focal] = True
        log.info("linked %d island(s) to their nearest area", len(links))
    result = Contiguity.from_pairs(areas.index, focal, neighbour,
                                   list(areas.index[~has]) if connect_islands else islands,
                                   gaps=gaps, overlaps=overlaps, links=links, snap=snap, point_contacts=point_contacts)
    if islands and not connect_islands:
        log.warning("%d area(s) have no neighbour within %g m: %s", len(islands), snap,
                    ", ".join(map(str, islands[:5])))
    if len(overlaps):
        log.warning("%d pair(s) of areas overlap (largest %.0f m²); proceeding on snapped adjacency",
                    len(overlaps), overlaps["overlap_m2"].max())
    log.info("%s", result.report())
    return result


__all__ = ["Contiguity", "SNAP", "contiguity"]
