"""Asset deserts and access KPIs: planted answers and the bundled Trafford parks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geotarget import SchemaError
from geotarget.analysis.deserts import DEFAULT_THRESHOLDS, access_kpis, asset_deserts, desert_layer
from geotarget.jobs.access import assess_access, sample_assets

BNG = "EPSG:27700"


@pytest.fixture()
def grid():
    """Six square 'LSOAs' in two wards of one council, with planted deciles, populations and distances."""
    codes = [f"E0100000{i}" for i in range(1, 7)]
    lsoas = gpd.GeoDataFrame({
        "lsoa_name": [f"Test 00{i}" for i in range(1, 7)],
        "imd_decile": [1, 2, 3, 1, 2, 1], "imd_rank": [100, 5000, 9000, 200, 4000, 300],
        "pop_total": [1500, 2000, 1000, 1500, 1200, 1800],
        "lad_code": "E06000099", "lad_name": "Testshire",
        "ward_code": ["E05000001"] * 3 + ["E05000002"] * 3, "ward_name": ["North"] * 3 + ["South"] * 3,
    }, geometry=[shapely.box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(6)], crs=BNG,
        index=pd.Index(codes, name="lsoa_code"))
    access = pd.DataFrame({
        "dist_gp_m": [900.0, 500.0, 2000.0, 801.0, 800.0, np.nan],
        "dist_park_m": [100.0, 1200.0, 50.0, 300.0, 950.0, 400.0],
        "size_park_ha": [2.0, 10.0, 1.0, 4.0, 6.0, 3.0],
    }, index=lsoas.index)
    return lsoas, access


def test_deserts_planted(grid):
    lsoas, access = grid
    d = asset_deserts(access, lsoas)
    got = list(zip(d["lsoa_code"], d["category"], strict=True))
    # deciles 1-2 only (not E01000003); GP beyond 800 m: 001 (900), 004 (801), 006 (none reachable);
    # park beyond 800 m: 002 (1,200), 005 (950). Ranked by population, then IMD rank.
    assert got == [("E01000002", "park"), ("E01000006", "gp"), ("E01000001", "gp"), ("E01000004", "gp"),
                   ("E01000005", "park")]
    assert d["rank"].tolist() == [1, 2, 3, 4, 5] and d["rank_in_category"].tolist() == [1, 1, 2, 3, 2]
    assert d.set_index(["lsoa_code", "category"]).loc[("E01000001", "gp"), "beyond_m"] == 100
    assert np.isnan(d.set_index("lsoa_code").loc["E01000006", "distance_m"])
    # exactly at the threshold is not beyond it
    assert "E01000005" not in set(d.loc[d["category"] == "gp", "lsoa_code"])


def test_deserts_options_and_monotone(grid):
    lsoas, access = grid
    assert set(asset_deserts(access, lsoas, max_decile=1)["lsoa_code"]) == {"E01000001", "E01000004", "E01000006"}
    wide = asset_deserts(access, lsoas, max_decile=3, thresholds={"gp": 1000})
    assert list(zip(wide["lsoa_code"], wide["category"], strict=True)) == [("E01000006", "gp"), ("E01000003", "gp")]
    sizes = [len(asset_deserts(access, lsoas, max_decile=k)) for k in range(1, 11)]
    assert sizes == sorted(sizes)  # more deciles never means fewer deserts
    with pytest.raises(SchemaError, match="max_decile was 0 but is expected to be a whole number from 1 to 10"):
        asset_deserts(access, lsoas, max_decile=0)
    with pytest.raises(SchemaError, match=r"thresholds must be distances of 0 m or more; got gp=-5"):
        asset_deserts(access, lsoas, thresholds={"gp": -5})
    assert DEFAULT_THRESHOLDS["gp"] == 800 and DEFAULT_THRESHOLDS["park"] == 800


def test_desert_layer(grid):
    lsoas, access = grid
    layer = desert_layer(asset_deserts(access, lsoas), lsoas)
    assert len(layer) == 5 and layer.crs.to_epsg() == 27700
    row = layer.set_index("lsoa_code").loc["E01000006"]
    assert row["categories"] == "GP practice" and "none reachable" in row["popup"]
    assert row.geometry.equals(lsoas.geometry["E01000006"])


def test_kpis_by_hand(grid):
    lsoas, access = grid
    k = access_kpis(access, lsoas, by="ward")
    north, south = k.loc["E05000001"], k.loc["E05000002"]
    assert north["population"] == 4500 and north["n_lsoas"] == 3
    assert north["mean_dist_gp_m"] == pytest.approx((900 * 1500 + 500 * 2000 + 2000 * 1000) / 4500, abs=0.05)
    # South: LSOA 006 has no GP in reach -> left out of the mean, counted as beyond
    assert south["mean_dist_gp_m"] == pytest.approx((801 * 1500 + 800 * 1200) / 2700, abs=0.05)
    assert south["pct_pop_beyond_gp"] == pytest.approx(100 * (1500 + 1800) / 4500, abs=0.05)
    assert north["mean_nearest_size_park_ha"] == pytest.approx((2 * 1500 + 10 * 2000 + 1 * 1000) / 4500, abs=0.005)
    assert k.loc["E05000001", "lad_name"] == "Testshire"
    lad = access_kpis(access, lsoas, by="lad")
    assert lad.loc["E06000099", "population"] == 9000
    with pytest.raises(SchemaError, match="by was 'msoa' but is expected to be 'lad' or 'ward'"):
        access_kpis(access, lsoas, by="msoa")


def test_kpis_count_assets_inside_areas(grid):
    lsoas, access = grid
    assets = gpd.GeoDataFrame({"category": ["park", "park", "gp"], "area_ha": [2.0, 4.0, np.nan]},
                              geometry=[shapely.box(100, 100, 200, 200), shapely.Point(4500, 500),
                                        shapely.Point(1500, 500)], crs=BNG)
    k = access_kpis(access, lsoas, by="ward", assets=assets)
    assert k.loc["E05000001", "n_park"] == 1 and k.loc["E05000002", "n_park"] == 1
    assert k.loc["E05000001", "mean_size_park_ha"] == 2 and k.loc["E05000001", "n_gp"] == 1
    assert k.loc["E05000001", "per1k_gp"] == pytest.approx(1000 / 4500, abs=5e-4)


@pytest.fixture(scope="module")
def trafford():
    from geotarget.data import load

    data = load(place="trafford")
    read, sites, ap = sample_assets(data)
    return assess_access(data, read, parks=sites, park_access_points=ap)


def test_trafford_park_kpi(trafford):
    """The South Tees KPI on real OS Open Greenspace parks: mean distance to the nearest park and its size."""
    k = trafford.kpis.set_index(["area_type", "area_code"])
    lad = k.loc[("lad", "E08000009")]
    acc, pop = trafford.access, trafford.sample.lsoas["pop_total"]
    assert lad["mean_dist_park_m"] == pytest.approx((acc["dist_park_m"] * pop).sum() / pop.sum(), abs=0.05)
    assert lad["mean_nearest_size_park_ha"] == pytest.approx((acc["size_park_ha"] * pop).sum() / pop.sum(), abs=0.005)
    assert 200 < lad["mean_dist_park_m"] < 500 and lad["population"] == 236_301
    wards = trafford.kpis[trafford.kpis["area_type"] == "ward"]
    assert len(wards) == 21 and wards["population"].sum() == 236_301
    assert wards["mean_dist_park_m"].notna().all()
    assert {"dist_gp_m", "n_school_800m", "per1k_library", "size_park_ha"} <= set(acc.columns)
    assert len(trafford.access) == 139


def test_trafford_deserts_are_deprived_and_far(trafford):
    d = trafford.deserts
    assert len(d) and (d["imd_decile"] <= 2).all()
    assert ((d["distance_m"] > d["threshold_m"]) | d["distance_m"].isna()).all()
    assert (d["population"].diff().dropna() <= 0).all()
    assert set(trafford.desert_areas["lsoa_code"]) == set(d["lsoa_code"])


def test_map_layers_are_ready_to_draw(trafford):
    layers = trafford.map_layers()
    pts, areas, deserts = layers["asset_points"], layers["asset_areas"], layers["deserts"]
    assert set(pts.geom_type) == {"Point"} and len(pts) == 221 + 96
    assert set(areas["category"]) == {"park"} and len(areas) == 96 and areas["area_ha"].gt(0).all()
    assert {"category", "category_label", "name", "popup"} <= set(pts.columns)
    assert pts["popup"].str.len().gt(0).all() and len(deserts) == trafford.deserts["lsoa_code"].nunique()
