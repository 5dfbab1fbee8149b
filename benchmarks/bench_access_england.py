"""Nearest GP practice for every live residential postcode in England, against a 5 s target.

    python benchmarks/bench_access_england.py [--shared ../shared/data] [--workers 1] [--dask]

Reads (timed apart from the computation, with plain pandas): OS Code-Point Open 2025 (every English
postcode with its grid reference and 2025 council), the ONS postcode lookup of May 2022 (live =
``doterm`` blank, residential = ``usertype`` 0) and the NHS ODS epraccur file as published (active GP
practices, located by postcode in Code-Point). Then, in memory: the distance from each residential
postcode to its nearest GP, the practices within 800 m and 1,600 m, and the postcode-weighted mean
distance per council for all England. The target is the computation (nearest and counts) in 5 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from record import default_source, save  # noqa: E402

from geotarget.analysis.nearest import mean_distance_by, nearest_from_points  # noqa: E402
from geotarget.io.assets import read_assets  # noqa: E402

TARGET_S = 5.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(default_source()))
    ap.add_argument("--workers", type=int, default=1, help="threads per k-d tree query (-1: every core)")
    ap.add_argument("--dask", action="store_true", help="also time engine='dask' (and check it is identical)")
    a = ap.parse_args()
    root = Path(a.shared)
    cp_path = root / "postcodes" / "codepoint_open_2025_england.csv.gz"
    ons_path = root / "postcodes" / "ons_pcd_oa11_lsoa11_msoa11_lad_may2022_england.csv.gz"
    gp_path = root / "assets" / "epraccur_england.csv"

    t0 = time.perf_counter()
    cp = pd.read_csv(cp_path, usecols=["postcode", "easting", "northing", "admin_district_code"],
                     dtype={"postcode": str, "admin_district_code": str}, index_col="postcode")
    ons = pd.read_csv(ons_path, usecols=["pcds", "doterm", "usertype", "ladcd"],
                      dtype={"pcds": str, "doterm": str, "ladcd": str}, index_col="pcds")
    t_read = time.perf_counter() - t0
    live = ons.index[ons["doterm"].isna() & (ons["usertype"] == 0)]
    located = cp[(cp["easting"] > 0) | (cp["northing"] > 0)]
    homes = located.loc[located.index.intersection(live)]
    t1 = time.perf_counter()
    gp = read_assets(gp_path, postcodes=located[["easting", "northing"]])
    t_gp = time.perf_counter() - t1
    practices = gp.assets

    t2, c2 = time.perf_counter(), time.process_time()
    near = nearest_from_points(homes, practices, radii=(800, 1600), workers=a.workers)
    t_near, c_near = time.perf_counter() - t2, time.process_time() - c2
    # the council as at 2025 (Code-Point); the ONS 2022 one where Code-Point has none
    lad = homes["admin_district_code"].fillna(ons["ladcd"].reindex(homes.index)).rename("lad_code")
    t3, c3 = time.perf_counter(), time.process_time()
    by_lad = mean_distance_by(near, lad)
    t_lad, c_lad = time.perf_counter() - t3, time.process_time() - c3
    compute = t_near + t_lad
    load = os.getloadavg()[0]

    print(f"Read Code-Point ({len(cp):,} postcodes) and the ONS lookup ({len(ons):,} rows): {t_read:,.1f} s")
    print(f"  live residential postcodes (ONS May 2022, doterm blank, usertype 0): {len(live):,}; located in "
          f"Code-Point 2025: {len(homes):,} ({len(live) - len(homes):,} terminated since or without a grid "
          "reference)")
    print(f"Read epraccur ({gp.n_rows:,} rows): {t_gp:,.2f} s -> {gp.summary()}")
    print(f"Nearest GP and counts within 800/1,600 m for {len(homes):,} postcodes: {t_near:,.2f} s "
          f"({c_near:,.2f} s CPU)")
    print(f"Postcode-weighted mean distance for {len(by_lad):,} councils: {t_lad:,.2f} s ({c_lad:,.2f} s CPU)")
    print(f"Computation in all: {compute:,.2f} s wall, {c_near + c_lad:,.2f} s CPU -- target {TARGET_S:g} s: "
          f"{'met' if compute <= TARGET_S else 'MISSED'} (load average {load:.1f} on {os.cpu_count()} cores: "
          "the wall time grows with other work on the machine)")
    print(f"England: mean distance to the nearest GP {near['dist_m'].mean():,.0f} m, median "
          f"{near['dist_m'].median():,.0f} m; within 800 m {(near['n_800m'] > 0).mean():.1%}, within 1,600 m "
          f"{(near['n_1600m'] > 0).mean():.1%} of residential postcodes")
    show = by_lad.sort_values("mean_dist_m")
    fmt = lambda r: f"{r.Index} {r.mean_dist_m:,.0f} m ({r.n:,} postcodes)"  # noqa: E731
    print("  nearest on average: " + "; ".join(fmt(r) for r in show.head(3).itertuples()))
    print("  farthest on average: " + "; ".join(fmt(r) for r in show.tail(3).itertuples()))
    if a.dask:
        t4 = time.perf_counter()
        dk = nearest_from_points(homes, practices, radii=(800, 1600), engine="dask", npartitions=8,
                                 workers=a.workers)
        t_dask = time.perf_counter() - t4
        try:
            pd.testing.assert_frame_equal(dk.loc[near.index], near, check_exact=True)
            same = True
        except AssertionError:
            same = False
        print(f"engine='dask' (8 partitions): {t_dask:,.2f} s, identical to memory: {same}")
    save("access_england", {"postcodes": len(homes), "read_s": t_read, "nearest_s": t_near,
                            "nearest_cpu_s": c_near, "compute_s": compute,
                            "mean_dist_m": float(near["dist_m"].mean()), "load_average": load}, argv=sys.argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
