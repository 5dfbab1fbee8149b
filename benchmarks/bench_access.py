"""Benchmark: access from every LSOA in England to 100,000 assets, all categories.

    python benchmarks/bench_access.py [--source ../shared/data] [--assets 100000] [--dask]

Origins: the 33,755 LSOA 2021 centroids of England (geometric centroids: England-wide LSOA 2021
population-weighted centroids are not in the raw data) with ONS mid-2022 populations, and the
32,844 ONS LSOA 2011 population-weighted centroids with mid-2020 populations. Assets: 100,000
points sampled (seeded) from real England locations -- LSOA 2011 population-weighted centroids
drawn in proportion to population and jittered by 400 m -- in 8 categories. No national asset
file exists in the raw data.

Prints wall time per step and peak memory. Target: nearest neighbour for all LSOAs x 100,000
assets <= 5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from record import default_source, save

from geotarget.analysis.access import access_table
from geotarget.core.crs import BNG, WGS84
from geotarget.io.assets import CATEGORIES

SHARES = {"gp": 0.07, "pharmacy": 0.11, "library": 0.03, "school": 0.20, "park": 0.30, "community_centre": 0.12,
          "leisure": 0.05, "food_support": 0.12}


def _origins(src: Path):
    c21 = pd.read_csv(src / "lookups/lsoa_geometric_centroids_latlong_ew.csv.gz")
    pop21 = pd.read_csv(src / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz").set_index("lsoa21cd")
    c21 = c21[c21["LSOACD"].isin(pop21.index)].set_index("LSOACD")
    o21 = gpd.GeoDataFrame({"pop": pop21.loc[c21.index, "pop_total_mid2022"].to_numpy()},
                           geometry=gpd.points_from_xy(c21["longitude"], c21["latitude"]), crs=WGS84,
                           index=pd.Index(c21.index, name="lsoa_code")).to_crs(BNG)
    c11 = pd.read_csv(src / "centroids/lsoa11_pwc_england.csv.gz").set_index("lsoa11cd")
    pop11 = pd.read_csv(src / "population/ons_sape_mid2020_lsoa11_single_year_england.csv.gz",
                        usecols=["lsoa11cd", "pop_total_mid2020"]).set_index("lsoa11cd")
    o11 = gpd.GeoDataFrame({"pop": pop11["pop_total_mid2020"].reindex(c11.index).to_numpy()},
                           geometry=gpd.points_from_xy(c11["easting"], c11["northing"]), crs=BNG,
                           index=pd.Index(c11.index, name="lsoa_code"))
    return o21, o11


def _assets(o11: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(20251030)
    w = o11["pop"].to_numpy(float)
    pick = rng.choice(len(o11), size=n, p=w / w.sum())
    xy = shapely.get_coordinates(o11.geometry.to_numpy()[pick]) + rng.normal(0, 400, (n, 2))
    cats = rng.choice(list(SHARES), size=n, p=np.array(list(SHARES.values())) / sum(SHARES.values()))
    return gpd.GeoDataFrame({"asset_id": [f"A{i:06d}" for i in range(n)], "name": "", "category": cats},
                            geometry=shapely.points(xy), crs=BNG)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=default_source())
    ap.add_argument("--assets", type=int, default=100_000)
    ap.add_argument("--dask", action="store_true", help="also time engine='dask' (2 partitions) and compare")
    args = ap.parse_args()
    t0 = time.perf_counter()
    o21, o11 = _origins(args.source)
    assets = _assets(o11, args.assets)
    t1 = time.perf_counter()
    print(f"origins: {len(o21):,} LSOA 2021 centroids, {len(o11):,} LSOA 2011 PWCs; {len(assets):,} assets in "
          f"{assets['category'].nunique()} categories ({t1 - t0:.2f} s to prepare)")
    figures = {"assets": len(assets), "categories": int(assets["category"].nunique())}
    for label, origins in (("LSOA 2021", o21), ("LSOA 2011", o11)):
        t, c = time.perf_counter(), time.process_time()
        near = access_table(origins, assets, radii=())
        t2, c2 = time.perf_counter(), time.process_time()
        full = access_table(origins, assets, population="pop")
        t3, c3 = time.perf_counter(), time.process_time()
        cats = [c for c in CATEGORIES if f"dist_{c}_m" in near]
        print(f"{label}: nearest asset of each of {len(cats)} categories, {len(origins):,} x {len(assets):,}: "
              f"{t2 - t:6.2f} s ({c2 - c:.2f} s CPU)")
        print(f"{label}: + counts within 400/800/1,600 m + 2SFCA per 1,000 residents (all categories): "
              f"{t3 - t:6.2f} s ({c3 - c:.2f} s CPU)")
        if label == "LSOA 2021":
            figures.update(origins=len(origins), nearest_s=t2 - t, full_s=t3 - t, nearest_cpu_s=c2 - c,
                           full_cpu_s=c3 - c)
            w = origins["pop"]
            print("   population-weighted mean distance, England (synthetic assets): "
                  + ", ".join(f"{c} {(full[f'dist_{c}_m'] * w).sum() / w.sum():,.0f} m" for c in cats))
        if args.dask:
            t4 = time.perf_counter()
            dsk = access_table(origins, assets, population="pop", engine="dask", npartitions=2)
            t5 = time.perf_counter()
            same = dsk.equals(full)
            print(f"{label}: engine='dask', 2 partitions, same measures: {t5 - t4:6.2f} s (identical: {same})")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {rss:,.0f} MB")
    save("access", {**figures, "peak_mb": rss}, argv=sys.argv)


if __name__ == "__main__":
    main()
