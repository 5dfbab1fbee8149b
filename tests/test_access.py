"""Access measures against brute force, hand computations and an independent source."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geotarget import GeotargetError, SchemaError
from geotarget.analysis.access import StraightLine, access_table, park_targets
from geotarget.data.load import load
from geotarget.data.sample import sample_layer
from geotarget.io.assets import assets_from_frame
from geotarget.io.network import StreetNetwork, read_street_network

BNG = "EPSG:27700"


@pytest.fixture(scope="module")
def tees():
    s = load(vintage=2025)
    a = assets_from_frame(s.assets, category_column="asset_type", name_column="name", id_column="asset_id").assets
    origins = s.centroids[["geometry"]].join(s.lsoas[["pop_total"]])
    return s, a, origins


def _brute(origins, geoms):
    """Every origin-to-asset distance, the slow way (shapely, one pair at a time in C)."""
    pts = origins.geometry.to_numpy()
    return shapely.distance(pts[:, None], np.asarray(geoms)[None, :])


def test_nearest_and_counts_match_brute_force_tees(tees):
    """Done-when: nearest distances match a brute-force computation to the metre (here to a micrometre)."""
    s, a, origins = tees
    acc = access_table(origins, a, population="pop_total")
    for cat in ("gp", "pharmacy", "library"):
        sub = a[a["category"] == cat]
        d = _brute(origins, sub.geometry.to_numpy())
        assert np.abs(acc[f"dist_{cat}_m"].to_numpy() - d.min(axis=1)).max() < 1e-6
        names = sub["name"].to_numpy()[d.argmin(axis=1)]
        tie = np.sort(d, axis=1)[:, :2]
        clear = tie[:, 1] - tie[:, 0] > 1e-6
        assert (acc[f"nearest_{cat}"].to_numpy()[clear] == names[clear]).all()
        key = sub["duplicate_of"].fillna(sub["asset_id"]).to_numpy()
        for r in (400, 800, 1600):
            want = [len(set(key[row <= r])) for row in d]
            assert acc[f"n_{cat}_{r}m"].tolist() == want
    # a figure to recognise: Tees Valley residents' population-weighted mean distance to a GP
    w = s.lsoas["pop_total"].reindex(acc.index)
    assert round(float((acc["dist_gp_m"] * w).sum() / w.sum())) == 1119  # main practice sites, no branches


def test_polygon_targets_match_brute_force():
    s = load(vintage=2025, place="trafford")
    sites = sample_layer("greenspace_sites", place="trafford")
    parks = park_targets(sites, None)  # edges only: polygons
    origins = s.centroids[["geometry"]]
    acc = access_table(origins, parks, radii=(0, 250, 800))
    d = _brute(origins, parks.geometry.to_numpy())
    assert np.abs(acc["dist_park_m"].to_numpy() - d.min(axis=1)).max() < 1e-6
    for r in (0, 250, 800):
        assert acc[f"n_park_{r}m"].tolist() == (d <= r).sum(axis=1).tolist()
    inside = (d.min(axis=1) == 0).sum()
    assert inside == (acc["dist_park_m"] == 0).sum() and inside > 0  # a centroid inside a park is 0 m away
    assert "size_park_ha" in acc and (acc["size_park_ha"] > 0).all()


def test_two_step_floating_catchment_by_hand():
    # origins A (pop 100) at 0, B (pop 300) at 1000 m; assets X at 400 m (capacity 10), Y at 1500 m (capacity 20)
    origins = gpd.GeoDataFrame({"pop": [100, 300]}, geometry=shapely.points([[0, 0], [1000, 0]]), crs=BNG,
                               index=pd.Index(["A", "B"], name="lsoa_code"))
    assets = gpd.GeoDataFrame({"asset_id": ["X", "Y"], "name": ["X", "Y"], "category": ["gp", "gp"],
                               "capacity": [10.0, 20.0]}, geometry=shapely.points([[400, 0], [1500, 0]]), crs=BNG)
    acc = access_table(origins, assets, population="pop", catchment=700, radii=(500, 700),
                       capacity_column="capacity")
    # within 700 m: A-X (400), B-X (600), B-Y (500). Demand X = 400, Y = 300.
    # A: 10/400 = 0.025; B: 10/400 + 20/300 = 0.091666...
    assert acc.loc["A", "sfca_gp"] == pytest.approx(0.025)
    assert acc.loc["B", "sfca_gp"] == pytest.approx(0.025 + 20 / 300)
    # unit supply, per 1,000 residents: A 1000/400 = 2.5, B 2.5 + 1000/300
    assert acc.loc["A", "per1k_gp"] == pytest.approx(2.5) and acc.loc["B", "per1k_gp"] == pytest.approx(2.5 + 10 / 3)
    assert acc["n_gp_500m"].tolist() == [1, 1] and acc["n_gp_700m"].tolist() == [1, 2]
    assert acc["dist_gp_m"].tolist() == [400, 500] and acc["nearest_gp"].tolist() == ["X", "Y"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 5000), st.integers(1, 3000)), min_size=1, max_size=25),
       st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 5000)), min_size=1, max_size=15),
       st.sampled_from([300.0, 800.0, 1600.0]))
def test_floating_catchment_conserves_supply(origins, assets, catchment):
    """Sum of population x accessibility = total supply of the assets anyone can reach (2SFCA identity)."""
    o = gpd.GeoDataFrame({"pop": [p for _, _, p in origins]}, geometry=shapely.points([(x, y) for x, y, _ in origins]),
                         crs=BNG)
    a = gpd.GeoDataFrame({"asset_id": [f"a{i}" for i in range(len(assets))], "category": "gp"},
                         geometry=shapely.points(assets), crs=BNG)
    acc = access_table(o, a, population="pop", catchment=catchment, radii=(catchment,))
    reached = _brute(o, a.geometry.to_numpy()) <= catchment
    assert (o["pop"] * acc["per1k_gp"]).sum() == pytest.approx(1000 * reached.any(axis=0).sum())
    assert (acc["dist_gp_m"] >= 0).all() and (acc[f"n_gp_{catchment:g}m"] == reached.sum(axis=1)).all()


def test_near_duplicates_count_once_but_distances_stand(tees):
    s, a, origins = tees
    h = a[a["category"] == "other"]  # hospitals: two listed twice
    acc = access_table(origins, h, radii=(100_000,))
    raw = access_table(origins, h, radii=(100_000,), dedupe=False)
    assert (acc["dist_other_m"] == raw["dist_other_m"]).all()
    assert set(raw["n_other_100000m"] - acc["n_other_100000m"]) == {2}


def test_kpis_count_near_duplicates_once(tees):
    """README: assets with the same name within 10 m are flagged as possible duplicates and counted once."""
    from geotarget.analysis.deserts import access_kpis

    s, a, origins = tees
    dups = a[a["duplicate_of"].notna()]
    assert dups["category"].tolist() == ["pharmacy", "other", "other"]  # the bundled list repeats three sites
    acc = access_table(origins, a)
    k = access_kpis(acc, s.lsoas, by="lad", assets=a)
    distinct = a[a["duplicate_of"].isna()]
    for c in sorted(set(a["category"])):
        assert k[f"n_{c}"].sum() == (distinct["category"] == c).sum(), c
    assert k["n_other"].sum() == (a["category"] == "other").sum() - 2
    assert k["n_pharmacy"].sum() == (a["category"] == "pharmacy").sum() - 1
    assert k["duplicates_removed"].sum() == 3 and k["duplicates_removed"].dtype.kind == "i"
    # a frame without the duplicate flag counts every row, and says none were removed
    plain = access_kpis(acc, s.lsoas, by="lad", assets=a.drop(columns=["duplicate_of"]))
    assert plain["n_other"].sum() == (a["category"] == "other").sum() and plain["duplicates_removed"].sum() == 0


def test_park_distance_to_entrances_not_edges():
    sites = sample_layer("greenspace_sites", place="trafford")
    ap = sample_layer("greenspace_access_points", place="trafford")
    t = park_targets(sites, ap)
    parks = sites[sites["site_type"].isin(["Public Park Or Garden", "Playing Field"])]
    assert t["asset_id"].nunique() == len(parks) == 96
    assert set(t["target"]) == {"access point", "site edge"}
    with_ap = t.loc[t["target"] == "access point", "asset_id"].nunique()
    assert with_ap + (t["target"] == "site edge").sum() == 96
    s = load(vintage=2025, place="trafford")
    origins = s.centroids[["geometry"]].join(s.lsoas[["pop_total"]])
    via_entrances = access_table(origins, t, population="pop_total")
    to_edges = access_table(origins, park_targets(sites, None), population="pop_total")
    # entrances lie on the edge, so walking to one is never shorter than reaching the edge
    assert (via_entrances["dist_park_m"] >= to_edges["dist_park_m"] - 1e-6).all()
    assert (via_entrances["dist_park_m"] > to_edges["dist_park_m"] + 1).sum() > 50
    # each park counts once however many entrances are in reach, and only if an entrance is in reach
    assert (via_entrances["n_park_1600m"] <= 96).all()
    assert (via_entrances["n_park_800m"] <= to_edges["n_park_800m"]).all()
    with pytest.raises(SchemaError, match=r"no green space site has site_type in \['Lido'\]; types found: "):
        park_targets(sites, ap, site_types=["Lido"])


def test_dask_engine_gives_identical_results(tees):
    pytest.importorskip("dask_geopandas")
    s, a, origins = tees
    mem = access_table(origins, a, population="pop_total", capacity_column=None)
    for n in (1, 3, 7):
        dsk = access_table(origins, a, population="pop_total", engine="dask", npartitions=n)
        pd.testing.assert_frame_equal(mem, dsk, check_exact=True)
    import dask_geopandas

    lazy = dask_geopandas.from_geopandas(origins, npartitions=5)
    pd.testing.assert_frame_equal(mem, access_table(lazy, a, population="pop_total"), check_exact=True)
    with pytest.raises(GeotargetError, match="give population as a column name"):
        access_table(origins, a, population=origins["pop_total"], engine="dask")


def test_access_errors(tees):
    s, a, origins = tees
    with pytest.raises(GeotargetError, match="engine was 'spark' but is expected to be 'memory' or 'dask'"):
        access_table(origins, a, engine="spark")
    with pytest.raises(SchemaError, match="assets must be in EPSG:27700"):
        access_table(origins, a.to_crs(4326))
    with pytest.raises(SchemaError, match=r"origins must be points .*\['MultiPolygon'\]"):
        access_table(s.lsoas[["geometry"]], a)
    with pytest.raises(SchemaError, match="no population for 1 origins, e.g. E01011949"):
        access_table(origins, a, population=origins["pop_total"].drop("E01011949"))


# -- street network -----------------------------------------------------------------------------
#
#   A(0,0) ---1000--- B(1000,0) ---1000--- D(2000,0)
#                        |
#                      1000
#                        |
#                     C(1000,1000)        (no street between A and C: a railway in the way)
#
def _toy_network() -> StreetNetwork:
    f = np.array([[0, 0], [1000, 0], [1000, 0]], float)
    t = np.array([[1000, 0], [1000, 1000], [2000, 0]], float)
    return StreetNetwork.from_edges(f, t, np.hypot(*(t - f).T))


def test_network_distances_by_hand():
    net = _toy_network()
    origins = gpd.GeoDataFrame({"pop": [100, 50]}, geometry=shapely.points([[0, 20], [1900, 30]]), crs=BNG,
                               index=pd.Index(["o1", "o2"], name="lsoa_code"))
    assets = gpd.GeoDataFrame({"asset_id": ["g1", "g2"], "name": ["GP by C", "GP by D"], "category": "gp"},
                              geometry=shapely.points([[1010, 990], [2000, 5]]), crs=BNG)
    acc = access_table(origins, assets, network=net, population="pop", radii=(1500, 2100, 3000), catchment=2100)
    # o1 joins at A (20 m); g1 at C (14.14 m), g2 at D (5 m): A-B-C = 2000, A-B-D = 2000
    assert acc.loc["o1", "dist_gp_m"] == pytest.approx(20 + 2000 + 5)
    assert acc.loc["o1", "nearest_gp"] == "GP by D"
    # o2 joins at D (101.98 m): g2 is at D itself
    assert acc.loc["o2", "dist_gp_m"] == pytest.approx(np.hypot(100, 30) + 5)
    assert acc.loc["o1", ["n_gp_1500m", "n_gp_2100m", "n_gp_3000m"]].tolist() == [0, 2, 2]
    assert acc.loc["o2", ["n_gp_1500m", "n_gp_2100m", "n_gp_3000m"]].tolist() == [1, 1, 2]
    # straight line ignores the railway: g1 is 1,394 m from o1 as the crow flies
    line = access_table(origins, assets, radii=(1500,))
    assert line.loc["o1", "dist_gp_m"] == pytest.approx(np.hypot(1010, 970))
    # 2SFCA on the network, catchment 2,100 m: demand g1 = o1 (2,034 m) = 100; g2 = o1 + o2 = 150
    assert acc.loc["o1", "per1k_gp"] == pytest.approx(1000 / 100 + 1000 / 150)
    assert acc.loc["o2", "per1k_gp"] == pytest.approx(1000 / 150)


def test_network_polygon_asset_and_unreachable_part():
    f = np.array([[0, 0], [5000, 0]], float)
    t = np.array([[1000, 0], [6000, 0]], float)  # two separate streets
    net = StreetNetwork.from_edges(f, t, np.hypot(*(t - f).T))
    park = shapely.box(900, 10, 1200, 300)  # 10 m north of the first street's end
    assets = gpd.GeoDataFrame({"asset_id": ["p"], "name": ["Park"], "category": "park"}, geometry=[park], crs=BNG)
    origins = gpd.GeoDataFrame(geometry=shapely.points([[0, 0], [6000, 0]]), crs=BNG,
                               index=pd.Index(["near", "cut_off"], name="lsoa_code"))
    acc = access_table(origins, assets, network=net, radii=(1100,))
    # the park joins the street at B (1000,0), 10 m away: 1000 + 10
    assert acc.loc["near", "dist_park_m"] == pytest.approx(1010)
    assert np.isnan(acc.loc["cut_off", "dist_park_m"]) and acc.loc["cut_off", "n_park_1100m"] == 0
    assert acc.loc["near", "n_park_1100m"] == 1


def test_read_street_network_lines_and_graphml(tmp_path):
    lines = gpd.GeoDataFrame({"name": ["a", "b", "c"]}, geometry=[
        shapely.LineString([(0, 0), (500, 0), (1000, 0)]), shapely.LineString([(1000, 0), (1000, 1000)]),
        shapely.LineString([(1000, 0), (2000, 0)])], crs=BNG)
    p = tmp_path / "streets.gpkg"
    lines.to_file(p)
    net = read_street_network(p)
    assert len(net.nodes) == 4 and net.graph.nnz == 6
    assert sorted(np.unique(net.graph.data)) == [1000.0]
    nx = pytest.importorskip("networkx")
    g = nx.Graph(crs="EPSG:27700")
    for n, (x, y) in {1: (0, 0), 2: (1000, 0), 3: (1000, 1000), 4: (2000, 0)}.items():
        g.add_node(n, x=x, y=y)
    g.add_edge(1, 2, length=1000.0)
    g.add_edge(2, 3, length=1200.0)  # a winding street: longer than the straight line
    g.add_edge(2, 4, length=1000.0)
    gml = tmp_path / "streets.graphml"
    nx.write_graphml(g, gml)
    net = read_street_network(gml)
    o = gpd.GeoDataFrame(geometry=shapely.points([[0, 0]]), crs=BNG)
    a = gpd.GeoDataFrame({"asset_id": ["x"], "category": "gp"}, geometry=shapely.points([[1000, 1000]]), crs=BNG)
    assert access_table(o, a, network=net)["dist_gp_m"].iloc[0] == pytest.approx(2200)
    with pytest.raises(SchemaError, match="a street network must be lines"):
        read_street_network(_points_file(tmp_path))


def _points_file(tmp_path):
    p = tmp_path / "pts.gpkg"
    gpd.GeoDataFrame(geometry=shapely.points([[0, 0]]), crs=BNG).to_file(p)
    return p


def test_straight_line_router_points_and_polygons_agree():
    rng = np.random.default_rng(6)
    xy = rng.uniform(0, 10_000, (50, 2))
    pts = shapely.points(rng.uniform(0, 10_000, (30, 2)))
    far = shapely.box(-1e6, -1e6, -9e5, -9e5)
    a, b = StraightLine(pts), StraightLine(np.append(pts, far))  # a polygon forces the STRtree path
    assert a.points_only and not b.points_only
    da, ja = a.nearest(xy)
    db, jb = b.nearest(xy)
    assert np.allclose(da, db) and (ja == jb).all()
    ia, ta, dda = a.pairs(xy, 1500)
    ib, tb, ddb = b.pairs(xy, 1500)
    assert (ia == ib).all() and (ta == tb).all() and np.allclose(dda, ddb)


# -- the independent check ----------------------------------------------------------------------
def test_gp_distance_correlates_with_iod2019_road_distance(shared_data):
    """Compare straight-line distance to the nearest GP practice with the IoD2019 road distance.

    From each Tees LSOA 2011 centroid, against the indicator 'road distance to a GP surgery' (File 8):
    Spearman 0.79, Pearson 0.73.
    """
    from scipy.stats import pearsonr, spearmanr

    s = load(vintage=2019)
    gp = sample_layer("community_assets")
    gp = assets_from_frame(gp[gp["asset_type"] == "gp_practice"], category="gp", name_column="name").assets
    acc = access_table(s.centroids[["geometry"]], gp)
    ind = pd.read_csv(shared_data / "imd/iod2019_lsoa11_indicators_england.csv.gz",
                      usecols=["lsoa11cd", "road_distance_to_a_gp_surgery_indicator_km"]).set_index("lsoa11cd")
    road = ind["road_distance_to_a_gp_surgery_indicator_km"].reindex(acc.index)
    assert road.notna().all() and len(acc) == 417
    rho = spearmanr(acc["dist_gp_m"], road).statistic
    r = pearsonr(acc["dist_gp_m"], road).statistic
    assert rho > 0.75 and r > 0.70
    # road distances are longer than straight lines (and the IoD counts branch surgeries too)
    assert 1.2 < float(np.median(road * 1000 / acc["dist_gp_m"])) < 1.8


def test_more_error_messages(tmp_path, tees):
    from geotarget import DataNotFoundError
    from geotarget.io.assets import read_category_map
    from geotarget.io.postcodes import read_postcodes

    s, a, origins = tees
    sites = sample_layer("greenspace_sites", place="trafford")
    with pytest.raises(SchemaError, match="green space sites have no column 'kind'; columns are"):
        park_targets(sites, None, type_column="kind")
    with pytest.raises(SchemaError, match="assets have no column 'list_size' for the capacity-weighted"):
        access_table(origins, a, population="pop_total", capacity_column="list_size")
    with pytest.raises(GeotargetError, match="engine='dask' does not support street-network distances"):
        access_table(origins, a, engine="dask", network=_toy_network())
    with pytest.raises(DataNotFoundError, match="streets.gpkg: street network file not found"):
        read_street_network(tmp_path / "streets.gpkg")
    bad = tmp_path / "one.csv"
    bad.write_text("value\nSurgery\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="one.csv: expected two columns, the value found in your data and a category"):
        read_category_map(bad)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataNotFoundError, match="empty: no CSV files in this postcode folder"):
        read_postcodes(tmp_path / "empty")
    gml = tmp_path / "noxy.graphml"
    nx = pytest.importorskip("networkx")
    g = nx.Graph()
    g.add_edge(1, 2)
    nx.write_graphml(g, gml)
    with pytest.raises(SchemaError, match="GraphML nodes need 'x' and 'y' attributes"):
        read_street_network(gml)
