"""Contiguity: known answers on hand-made grids, snapping, islands, faults, PySAL conversions."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from geotarget import CRSError, SchemaError
from geotarget.analysis.contiguity import contiguity
from tests.grids import square_grid


def grid(nx: int, ny: int, size: float = 100.0, gap: float = 0.0) -> gpd.GeoDataFrame:
    return square_grid(nx, ny, size=size, gap=gap, code="c{y}{x}", index_name="lsoa_code")


def test_queen_and_rook_on_a_3x3_grid():
    g = grid(3, 3)
    queen, rook = contiguity(g), contiguity(g, point_contacts=False)
    # centre cell: 8 queen neighbours, 4 rook; a corner: 3 and 2; an edge cell: 5 and 3
    assert len(queen.neighbours("c11")) == 8 and len(rook.neighbours("c11")) == 4
    assert sorted(rook.neighbours("c00")) == ["c01", "c10"]
    assert sorted(queen.neighbours("c00")) == ["c01", "c10", "c11"]
    assert len(queen.neighbours("c01")) == 5 and len(rook.neighbours("c01")) == 3
    # pair counts by hand: rook 12 edges; queen adds 2 diagonals per inner vertex (4) = 20
    assert len(rook.focal) == 2 * 12 and len(queen.focal) == 2 * 20
    assert (queen.matrix() != queen.matrix().T).nnz == 0


def test_snapping_joins_small_gaps_and_reports_them():
    g = grid(2, 1, gap=3.0)
    assert contiguity(g, snap=0).islands == ["c00", "c01"]
    c = contiguity(g, snap=5)
    assert c.neighbours("c00") == ["c01"] and not c.islands
    assert c.gaps["gap_m"].round(6).tolist() == [3.0]
    # a shared edge across the gap still counts as an edge (rook)
    assert contiguity(g, snap=5, point_contacts=False).neighbours("c00") == ["c01"]


def test_point_contact_across_a_gap_is_not_an_edge():
    g = grid(2, 2, gap=2.0)
    rook = contiguity(g, snap=5, point_contacts=False)
    assert sorted(rook.neighbours("c00")) == ["c01", "c10"]
    assert sorted(contiguity(g, snap=5).neighbours("c00")) == ["c01", "c10", "c11"]


def test_overlaps_reported_and_kept_as_neighbours():
    a = box(0, 0, 100, 100)
    b = box(90, 0, 190, 100)  # 10 m x 100 m overlap
    g = gpd.GeoDataFrame(geometry=[a, b], index=pd.Index(["a", "b"], name="lsoa_code"), crs=27700)
    c = contiguity(g, point_contacts=False)
    assert c.neighbours("a") == ["b"]
    assert c.overlaps["overlap_m2"].round(3).tolist() == [1000.0]
    assert "overlapping" in c.report()


def test_islands_reported_and_linked_to_nearest():
    g = pd.concat([grid(2, 1), gpd.GeoDataFrame(geometry=[box(1000, 0, 1100, 100)],
                                                index=pd.Index(["far"], name="lsoa_code"), crs=27700)])
    c = contiguity(g)
    assert c.islands == ["far"]
    assert c.components().nunique() == 2
    linked = contiguity(g, connect_islands=True)
    assert not linked.islands
    assert linked.links.to_dict("records") == [{"island": "far", "nearest": "c01", "distance_m": 800.0}]
    assert linked.components().nunique() == 1


def test_pysal_conversions_agree():
    g = pd.concat([grid(3, 2), gpd.GeoDataFrame(geometry=[box(1000, 0, 1100, 100)],
                                                index=pd.Index(["far"], name="lsoa_code"), crs=27700)])
    c = contiguity(g, point_contacts=False)
    graph, w = c.to_graph(), c.to_w()
    assert graph.n == w.n == 7
    assert list(graph.isolates) == ["far"] and w.islands == ["far"]
    for code in g.index.drop("far"):
        assert sorted(graph[code].index) == sorted(w.neighbors[code]) == sorted(c.neighbours(code))


def test_subset_keeps_only_inner_pairs():
    c = contiguity(grid(3, 1))
    sub = c.subset(["c00", "c02"])
    assert list(sub.ids) == ["c00", "c02"] and sub.islands == ["c00", "c02"] and len(sub.focal) == 0


def test_real_multipolygon_and_sample(sample25):
    c = contiguity(sample25.lsoas)
    assert c.n == 425 and not c.islands
    # Tees Valley LSOAs are one connected coverage (the Tees estuary does not split them)
    assert c.components().nunique() == 1


def test_bad_input():
    g = grid(2, 1)
    with pytest.raises(CRSError, match="projected CRS"):
        contiguity(g.to_crs(4326))
    with pytest.raises(SchemaError, match="snap must be"):
        contiguity(g, snap=-1)
    with pytest.raises(SchemaError, match="duplicate codes: c00"):
        contiguity(pd.concat([g, g.iloc[:1]]))
    with pytest.raises(SchemaError, match="no geometry"):
        contiguity(gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), Polygon()], index=["a", "b"], crs=27700))
    with pytest.raises(SchemaError, match="GeoDataFrame"):
        contiguity(pd.DataFrame({"a": [1]}))
