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

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from geotarget.io.network import StreetNetwork

log = logging.getLogger(__name__)


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


__all__ = ["NetworkRouter"]
