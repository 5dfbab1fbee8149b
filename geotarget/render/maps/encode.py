"""Compact encoding of map data: simplified, quantised, shared-border geometry (TopoJSON).

The geometry of every polygon layer on a map goes through three steps:

1. **Simplification that keeps neighbours together.** Each set of polygons (a
   coverage: LSOAs, wards, council areas) is simplified with GEOS's coverage
   simplifier (:func:`shapely.coverage_simplify`), which simplifies every shared
   border once, so neighbours keep a common edge: no gaps, no slivers. It works in
   British National Grid, so the tolerance is in metres.
2. **Quantisation** to a grid of 10^-5 degrees (about 1.1 m north-south, 0.7 m
   east-west in England): 5 decimal places of longitude/latitude.
3. **Topology.** As in TopoJSON, rings are cut where the set of areas on either
   side changes (the *junctions*) and each resulting arc is stored once; areas refer
   to arcs. An interior border costs one copy, not two. (Borders of two different
   geographies, say an LSOA edge on a council boundary, are shared only where their
   simplified, quantised vertices coincide, which is rare: each set is simplified
   on its own.) The encoding is more compact than TopoJSON's: all arcs form
   one stream of coordinate steps (each point relative to the previous one, so an
   arc that starts where the last one ended costs ``0,0``), and an area refers to
   the next unused arc as ``0`` and to an earlier arc by how far back it is. For all
   33,755 England LSOAs this halves the compressed geometry; the page's script
   decodes it (``geotarget.js``), as does :func:`decode_topology`.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

logger = logging.getLogger(__name__)

#: Decimal places of longitude/latitude (10^-5 degrees, about 1 m).
PRECISION = 5
_SCALE = 10**PRECISION


def simplify_coverage(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Simplify polygons (in metres, EPSG:27700) so that shared borders stay shared.

    Uses :func:`shapely.coverage_simplify` (GEOS >= 3.12). Parts of a set that do not
    form a valid coverage (overlaps, tiny gaps in the source) are still simplified,
    each of their edges on its own. With ``tolerance <= 0`` the input is returned.
    """
    if tolerance <= 0 or len(geoms) == 0:
        return geoms
    if not hasattr(shapely, "coverage_simplify"):  # pragma: no cover - shapely < 2.1
        logger.warning("shapely %s has no coverage_simplify (needs >= 2.1 with GEOS >= 3.12); "
                       "simplifying each polygon on its own", shapely.__version__)
        return shapely.simplify(geoms, tolerance, preserve_topology=True)
    out = shapely.coverage_simplify(geoms, tolerance)
    # Tiny polygons may collapse; keep the original for those rather than lose an area.
    lost = shapely.is_empty(out) | ~shapely.is_valid(out)
    if lost.any():
        out = out.copy()
        out[lost] = geoms[lost]
    return out


def quantise(values: np.ndarray) -> np.ndarray:
    """Longitude/latitude in degrees to integers of 10^-5 degrees."""
    return np.rint(np.asarray(values, dtype="float64") * _SCALE).astype(np.int64)


def rounded(value: float) -> float:
    """Return a coordinate rounded to :data:`PRECISION` decimal places."""
    return round(float(value), PRECISION)


def topology(collections: Sequence[np.ndarray]) -> dict[str, Any]:
    """TopoJSON ``Topology`` of polygon collections in WGS84 (one object ``g<i>`` each).

    Each object is a ``GeometryCollection`` with one geometry per input polygon, in
    order (``Polygon``, ``MultiPolygon``, or ``null`` for a polygon smaller than the
    grid). Coordinates are quantised (see module notes); arcs are delta-encoded.
    """
    counts = [len(c) for c in collections]
    geoms = np.concatenate([np.asarray(c, dtype=object) for c in collections]) if collections else np.array([])
    n_features = len(geoms)
    parts, part_feature = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    q = quantise(coords)

    # Drop each ring's closing point and repeated points (quantisation can merge them).
    n_rings = len(rings)
    starts = np.searchsorted(ring_of, np.arange(n_rings))
    ends = np.searchsorted(ring_of, np.arange(n_rings), side="right")
    keep = np.ones(len(q), dtype=bool)
    keep[ends[ends > starts] - 1] = False
    same_as_prev = np.zeros(len(q), dtype=bool)
    same_as_prev[1:] = (q[1:] == q[:-1]).all(axis=1) & (ring_of[1:] == ring_of[:-1])
    keep &= ~same_as_prev
    q, ring_of = q[keep], ring_of[keep]
    starts = np.searchsorted(ring_of, np.arange(n_rings))
    ends = np.searchsorted(ring_of, np.arange(n_rings), side="right")
    # A last point equal to the first (after dropping repeats) closes the ring again.
    has = ends > starts
    wrap = has & (ends - starts > 1)
    wrap[wrap] = (q[ends[wrap] - 1] == q[starts[wrap]]).all(axis=1)
    keep = np.ones(len(q), dtype=bool)
    keep[ends[wrap] - 1] = False
    q, ring_of = q[keep], ring_of[keep]
    starts = np.searchsorted(ring_of, np.arange(n_rings))
    lengths = np.searchsorted(ring_of, np.arange(n_rings), side="right") - starts

    # Point ids, and the junctions: points met with different neighbours.
    key = ((q[:, 0] + 2**31).astype(np.uint64) << np.uint64(32)) | (q[:, 1] + 2**31).astype(np.uint64)
    points, pid = np.unique(key, return_inverse=True)
    pid = pid.ravel()
    point_xy = np.column_stack(
        [(points >> np.uint64(32)).astype(np.int64) - 2**31, (points & np.uint64(2**32 - 1)).astype(np.int64) - 2**31]
    )
    junction = np.zeros(len(points), dtype=bool)
    if len(pid):
        pos = np.arange(len(pid)) - starts[ring_of]
        length = lengths[ring_of]
        prev = pid[starts[ring_of] + (pos - 1) % length]
        nxt = pid[starts[ring_of] + (pos + 1) % length]
        triples = np.unique(np.column_stack([pid, np.minimum(prev, nxt), np.maximum(prev, nxt)]), axis=0)
        junction = np.bincount(triples[:, 0], minlength=len(points)) > 1

    # Cut rings into arcs at junctions; store each arc once, in the direction first met.
    arc_of: dict[bytes, int] = {}  # arc (either direction) -> ref: index, or ~index if reversed
    arcs: list[np.ndarray] = []

    def arc_ref(seq: np.ndarray, closed: bool) -> int:
        if closed:  # a whole ring without junctions: start at its smallest point
            k = int(np.argmin(seq))
            seq = np.concatenate([seq[k:], seq[:k], seq[k : k + 1]])
        ref = arc_of.get(seq.tobytes())
        if ref is None:
            index = len(arcs)
            arcs.append(seq)
            back = seq[::-1]  # (a closed arc starts and ends at its smallest point either way)
            arc_of[seq.tobytes()] = index
            arc_of.setdefault(back.tobytes(), ~index)
            ref = index
        return ref

    ring_arcs: list[list[int] | None] = []
    for r in range(n_rings):
        if lengths[r] < 3:
            ring_arcs.append(None)
            continue
        ids = pid[starts[r] : starts[r] + lengths[r]]
        cuts = np.flatnonzero(junction[ids])
        if len(cuts) == 0:
            ring_arcs.append([arc_ref(ids, closed=True)])
            continue
        ids = np.concatenate([ids[cuts[0] :], ids[: cuts[0]]])
        cuts = np.append(cuts - cuts[0], len(ids))
        ids = np.append(ids, ids[0])
        ring_arcs.append([arc_ref(ids[a : b + 1], closed=False) for a, b in itertools.pairwise(cuts)])

    # Assemble polygons: a part whose exterior vanished is dropped with its holes.
    part_rings: list[list[list[int]]] = [[] for _ in range(len(parts))]
    seen_exterior = np.zeros(len(parts), dtype=bool)
    exterior_ok = np.zeros(len(parts), dtype=bool)
    for r in range(n_rings):
        p = ring_part[r]
        if not seen_exterior[p]:
            seen_exterior[p] = True
            exterior_ok[p] = ring_arcs[r] is not None
        if exterior_ok[p] and ring_arcs[r] is not None:
            part_rings[p].append(ring_arcs[r])
    feature_parts: list[list[list[list[int]]]] = [[] for _ in range(n_features)]
    for p in range(len(parts)):
        if part_rings[p]:
            feature_parts[part_feature[p]].append(part_rings[p])
    dropped = sum(1 for f in feature_parts if not f)
    if dropped:
        logger.info("%d area(s) are smaller than the 10^-5 degree grid and are not drawn", dropped)

    objects = _object_refs(counts, feature_parts)

    # Coordinates: all arcs in order, each point as the step from the previous point.
    origin = point_xy.min(axis=0) if len(point_xy) else np.zeros(2, dtype=np.int64)
    if arcs:
        stream = point_xy[np.concatenate(arcs)] - origin
        stream[1:] = np.diff(stream, axis=0)
        coords = stream.ravel().tolist()
    else:
        coords = []
    return {
        "scale": 1 / _SCALE,
        "origin": [int(origin[0]), int(origin[1])],
        "lengths": [len(a) for a in arcs],
        "coords": coords,
        "objects": objects,
    }


def _object_refs(counts: Sequence[int], feature_parts: list[list[list[list[int]]]]) -> dict[str, Any]:
    """Return the objects ``g<i>`` of a topology: for each collection, its size and its areas' arc references.

    Arc references, in the order the areas are stored: 0 = the next arc not used
    before (it is stored in this direction); otherwise 2 * (how many arcs back) + 1
    if reversed. Arcs are numbered in order of first use, so this holds.
    """
    objects = {}
    offset = 0
    next_new = 0
    for i, n in enumerate(counts):
        first = next_new
        refs: list[int] = []
        for f in feature_parts[offset : offset + n]:
            refs.append(len(f))
            for polygon in f:
                refs.append(len(polygon))
                for ring_refs in polygon:
                    refs.append(len(ring_refs))
                    for ref in ring_refs:
                        index, reverse = (~ref, 1) if ref < 0 else (ref, 0)
                        if index == next_new:
                            refs.append(0)
                            next_new += 1
                        else:
                            refs.append(2 * (next_new - index) + reverse)
        objects[f"g{i}"] = {"n": n, "first": first, "refs": refs}
        offset += n
    return objects


def decode_topology(topo: dict[str, Any], name: str) -> list[Any]:
    """Shapely geometries of object ``name`` of a :func:`topology` (the page's decoder in Python)."""
    xy = np.cumsum(np.asarray(topo["coords"], dtype=np.int64).reshape(-1, 2), axis=0) + topo["origin"]
    ends = np.cumsum(topo["lengths"])
    arcs = np.split(xy * topo["scale"], ends[:-1]) if len(ends) else []
    obj = topo["objects"][name]
    refs = obj["refs"]
    pos, next_new = 0, obj["first"]

    def take() -> int:
        nonlocal pos
        pos += 1
        return refs[pos - 1]

    def ring() -> np.ndarray:
        nonlocal next_new
        pts: list[np.ndarray] = []
        for _ in range(take()):
            code = take()
            if code == 0:
                a = arcs[next_new]
                next_new += 1
            else:
                a = arcs[next_new - code // 2]
                if code % 2:
                    a = a[::-1]
            pts.append(a if not pts else a[1:])
        return np.concatenate(pts)

    out: list[Any] = []
    for _ in range(obj["n"]):
        polygons = []
        for _ in range(take()):
            rings = [ring() for _ in range(take())]
            polygons.append(shapely.Polygon(rings[0], rings[1:]))
        out.append(None if not polygons else polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons))
    return out
