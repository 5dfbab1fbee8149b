"""Walking distance along a street network, for :func:`geotarget.analysis.access.access_table`.

:func:`read_street_network` reads a street network as lines (GeoPackage, Shapefile, GeoJSON:
one feature per street segment, segments meeting at their end points) or as GraphML written
by OSMnx (node ``x``/``y``, edge ``length`` in metres; needs the ``network`` extra,
``pip install geotarget[network]``). Streets are walkable both ways.

Modelling assumptions, stated because they matter for the figures:

* origins and point assets join the network at their **nearest node**, and the straight
  line to it is added to the distance (as OSMnx's ``nearest_nodes`` does); a polygon asset
  (a park) joins at every node within ``entry_distance`` metres of it (or the nearest node
  when none is), with its distance to the polygon added;
* segments are joined only where their end points coincide (within ``snap`` metres); lines
  that cross without a shared vertex (bridges, or a network not split at junctions) are not
  connected;
* an origin with no asset in its part of a disconnected network has no distance (NaN) and is
  counted in a warning.

Shortest paths use Dijkstra's algorithm from SciPy's compressed sparse graph routines: one
run from a virtual source joined to every asset gives every origin's nearest asset at once.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geotarget.core.crs import BNG
from geotarget.core.errors import DataNotFoundError, GeotargetError, SchemaError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreetNetwork:
    """Nodes (EPSG:27700) and a symmetric graph of street lengths in metres."""

    nodes: np.ndarray
    graph: csr_matrix
    source: str = "network"
    entry_distance: float = 50.0

    @classmethod
    def from_edges(cls, xy_from: np.ndarray, xy_to: np.ndarray, length: np.ndarray, *, snap: float = 0.5,
                   source: str = "network", entry_distance: float = 50.0) -> StreetNetwork:
        """Build from segment end points and lengths; end points within ``snap`` metres are one node."""
        ends = np.vstack([xy_from, xy_to])
        grid = np.round(ends / snap).astype(np.int64)
        _, first, inverse = np.unique(grid, axis=0, return_index=True, return_inverse=True)
        nodes = ends[first]
        inverse = inverse.ravel()
        a, b = inverse[: len(xy_from)], inverse[len(xy_from):]
        e = pd.DataFrame({"a": np.minimum(a, b), "b": np.maximum(a, b), "w": np.asarray(length, float)})
        e = e[(e["a"] != e["b"]) & (e["w"] >= 0)].groupby(["a", "b"], as_index=False)["w"].min()
        n = len(nodes)
        rows = np.concatenate([e["a"], e["b"]])
        cols = np.concatenate([e["b"], e["a"]])
        w = np.concatenate([e["w"], e["w"]])
        # an edge of length 0 would vanish from a sparse matrix: give it a tiny positive length
        graph = coo_matrix((np.maximum(w, 1e-9), (rows, cols)), shape=(n, n)).tocsr()
        log.info("%s: street network of %d nodes and %d segments", source, n, len(e))
        return cls(nodes, graph, source, entry_distance)

    def router(self, geoms) -> NetworkRouter:
        """Return a router answering queries to the given asset geometries along this network."""
        return NetworkRouter(self, np.asarray(geoms, dtype=object))


def read_street_network(path: str | os.PathLike, *, layer: str | None = None, length_column: str | None = None,
                        snap: float = 0.5, entry_distance: float = 50.0) -> StreetNetwork:
    """Read a street network file (lines, or OSMnx GraphML) into a :class:`StreetNetwork`.

    ``length_column`` names a column of segment lengths in metres (default: the line length
    in EPSG:27700).
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"{p}: street network file not found")
    if p.suffix.lower() == ".graphml":
        return _read_graphml(p, snap=snap, entry_distance=entry_distance)
    g = gpd.read_file(p, layer=layer)
    if g.crs is None:
        raise SchemaError(f"{p}: the street network has no coordinate reference system; expected one to be declared")
    g = g.to_crs(BNG)
    g = g[g.geometry.notna() & ~g.geometry.is_empty]
    if not g.geom_type.isin(["LineString", "MultiLineString"]).all():
        raise SchemaError(f"{p}: a street network must be lines; found {sorted(set(g.geom_type))}")
    if length_column and length_column not in g:
        raise SchemaError(f"{p}: no column {length_column!r}; columns are {list(g.columns)}")
    g = g.explode(index_parts=False)
    lines = g.geometry.to_numpy()
    length = g[length_column].to_numpy(float) if length_column else shapely.length(lines)
    start = shapely.get_coordinates(shapely.get_point(lines, 0))
    end = shapely.get_coordinates(shapely.get_point(lines, -1))
    return StreetNetwork.from_edges(start, end, length, snap=snap, source=os.fspath(p), entry_distance=entry_distance)


def _read_graphml(p: Path, *, snap: float, entry_distance: float) -> StreetNetwork:
    try:
        import networkx as nx
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise GeotargetError(f"{p}: reading GraphML needs networkx: pip install 'geotarget[network]'") from e
    from pyproj import Transformer

    G = nx.read_graphml(p)
    try:
        xy = {n: (float(d["x"]), float(d["y"])) for n, d in G.nodes(data=True)}
    except KeyError:
        raise SchemaError(f"{p}: GraphML nodes need 'x' and 'y' attributes (as OSMnx writes them)") from None
    crs = G.graph.get("crs", "EPSG:4326")
    if str(crs).upper() not in (BNG, "EPSG:27700"):
        t = Transformer.from_crs(crs, BNG, always_xy=True)
        xy = {n: t.transform(*v) for n, v in xy.items()}
    a, b, w = [], [], []
    for u, v, d in G.edges(data=True):
        a.append(xy[u])
        b.append(xy[v])
        w.append(float(d["length"]) if "length" in d else float(np.hypot(*np.subtract(xy[u], xy[v]))))
    return StreetNetwork.from_edges(np.array(a), np.array(b), np.array(w), snap=snap, source=os.fspath(p),
                                    entry_distance=entry_distance)


class NetworkRouter:
    """Nearest asset and assets within a distance, along the network (same interface as StraightLine)."""

    def __init__(self, net: StreetNetwork, geoms: np.ndarray):
        self.net = net
        self.kd = cKDTree(net.nodes)
        node_pts = shapely.points(net.nodes)
        tree = shapely.STRtree(node_pts)
        entry_t, entry_n, entry_d = [], [], []
        is_point = shapely.get_type_id(geoms) == 0
        if is_point.any():
            d, n = self.kd.query(shapely.get_coordinates(geoms[is_point]))
            entry_t.append(np.flatnonzero(is_point))
            entry_n.append(n)
            entry_d.append(d)
        for t in np.flatnonzero(~is_point):
            near = tree.query(geoms[t], predicate="dwithin", distance=net.entry_distance)
            if not len(near):
                near = tree.query_nearest(geoms[t])
            entry_t.append(np.full(len(near), t))
            entry_n.append(near)
            entry_d.append(shapely.distance(geoms[t], node_pts[near]))
        self.entry_target = _cat(entry_t, np.int64)
        self.entry_node = _cat(entry_n, np.int64)
        self.entry_offset = _cat(entry_d, float)
        self._from_assets: tuple[np.ndarray, np.ndarray] | None = None

    def _snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d, n = self.kd.query(xy)
        return np.asarray(d, float), np.asarray(n, np.int64)

    def _multi_source(self) -> tuple[np.ndarray, np.ndarray]:
        """Distance from every node to its nearest asset, and that asset (one Dijkstra run)."""
        if self._from_assets is None:
            n = self.net.graph.shape[0]
            g = self.net.graph.tocoo()
            v = n  # a virtual source joined to every asset's entry nodes by its offset
            big = _min_duplicates(np.concatenate([g.row, np.full(len(self.entry_node), v)]),
                                  np.concatenate([g.col, self.entry_node]),
                                  np.concatenate([g.data, np.maximum(self.entry_offset, 1e-9)]), n + 1)
            dist, pred = dijkstra(big, directed=True, indices=v, return_predecessors=True)
            # the node each shortest path entered the network at: pointer doubling up the predecessors
            idx = np.arange(n + 1)
            root = np.where((pred >= 0) & (pred != v), pred, idx)
            while True:
                nxt = root[root]
                if np.array_equal(nxt, root):
                    break
                root = nxt
            best = pd.DataFrame({"node": self.entry_node, "off": self.entry_offset, "t": self.entry_target})
            best = best.sort_values(["node", "off", "t"]).drop_duplicates("node").set_index("node")["t"]
            reached = np.isfinite(dist[:n])
            target = np.full(n, -1, np.int64)
            target[reached] = best.reindex(root[:n][reached]).fillna(-1).to_numpy(np.int64)
            self._from_assets = (np.where(reached, dist[:n], np.inf), target)
        return self._from_assets

    def nearest(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the network distance to, and index of, the nearest asset for each origin ``xy`` (n, 2).

        The distance includes the straight-line hop from the origin to its nearest network node.
        """
        off, node = self._snap(xy)
        dist, target = self._multi_source()
        return off + dist[node], target[node]

    def pairs(self, xy: np.ndarray, distance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return every (origin, asset, network distance) with distance <= ``distance``, as three arrays."""
        empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
        if not len(self.entry_node) or not len(xy):
            return empty
        off, node = self._snap(xy)
        order = np.argsort(self.entry_target, kind="stable")
        et, en, eo = self.entry_target[order], self.entry_node[order], self.entry_offset[order]
        starts = np.flatnonzero(np.r_[True, et[1:] != et[:-1]])
        targets = et[starts]
        chunk = max(1, int(2e7 // max(self.net.graph.shape[0], len(en), 1)))
        out = []
        for s in range(0, len(xy), chunk):
            o = np.arange(s, min(s + chunk, len(xy)))
            src, inv = np.unique(node[o], return_inverse=True)
            dm = dijkstra(self.net.graph, directed=True, indices=src, limit=distance)
            per_target = np.minimum.reduceat(dm[:, en] + eo, starts, axis=1)  # (sources, targets)
            d = per_target[inv.ravel()] + off[o][:, None]
            ii, kk = np.nonzero(d <= distance)
            out.append((o[ii], targets[kk], d[ii, kk]))
        if not out:
            return empty
        return tuple(np.concatenate(x) for x in zip(*out, strict=True))


def _cat(parts: list, dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype)


def _min_duplicates(rows, cols, w, n) -> csr_matrix:
    e = pd.DataFrame({"r": rows, "c": cols, "w": w}).groupby(["r", "c"], as_index=False)["w"].min()
    return coo_matrix((e["w"].to_numpy(), (e["r"].to_numpy(), e["c"].to_numpy())), shape=(n, n)).tocsr()


__all__ = ["NetworkRouter", "StreetNetwork", "read_street_network"]
