"""Street networks (OSMnx GraphML or line files) read into a :class:`StreetNetwork` for routing."""

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

from geotarget.core.crs import BNG
from geotarget.core.errors import DataNotFoundError, GeotargetError, SchemaError
from geotarget.io.boundaries import read_vector

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
    g = read_vector(p, layer)
    if not isinstance(g, gpd.GeoDataFrame):  # e.g. a CSV without geometry
        raise SchemaError(f"{p}: no geometry; a street network must be a file of lines (GeoPackage, GeoJSON, "
                          "Shapefile) or OSMnx GraphML")
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

    try:
        G = nx.read_graphml(p)
    except Exception as e:  # noqa: BLE001 - ElementTree's ParseError, networkx's own errors: not readable GraphML
        raise SchemaError(f"{p}: not readable GraphML ({e}); expected a street network saved by OSMnx") from None
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


__all__ = ["StreetNetwork", "read_street_network"]
