"""Benchmark: targeted action areas for every council in England in one call.

    python benchmarks/bench_target.py [--source ../shared/data]

Reads IoD2025 (File 7 layout) and the England LSOA 2021 boundaries, then runs
``target_areas`` for all councils with the defaults (IMD decile 1, n = 3 per council,
stability over the alternative rules). Prints wall time per step and peak memory.
Target: targeting <= 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from record import default_source, save

from geotarget.analysis.target import target_areas
from geotarget.data import load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=default_source())
    ap.add_argument("--min-population", type=float, default=1500)
    ap.add_argument("--max-population", type=float, default=15000)
    args = ap.parse_args()
    src = args.source
    t0 = time.perf_counter()
    data = load(source="files", imd=src / "imd/iod2025_lsoa21_england.csv.gz",
                population=src / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                boundaries=src / "boundaries/england_boundaries_generalised.gpkg",
                boundaries_layer="lsoa21", lookup=src / "lookups/lsoa21_ward24_lad24_ew.csv.gz")
    lsoas = data.lsoas
    t1, c1 = time.perf_counter(), time.process_time()
    res = target_areas(lsoas, min_population=args.min_population, max_population=args.max_population, n=3,
                       vintage=data.vintage)
    t2, c2 = time.perf_counter(), time.process_time()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"read IoD2025 + population + {len(lsoas):,} LSOA boundaries + ward lookup: {t1 - t0:6.2f} s")
    print(f"targeting, all {len(res.councils):,} councils, n=3, floor {args.min_population:,.0f}, "
          f"ceiling {args.max_population:,.0f}, with stability: {t2 - t1:6.2f} s ({c2 - c1:.2f} s CPU)  "
          "(target <= 30 s)")
    print(f"  {res.qualifying:,} qualifying LSOAs -> {len(res.areas):,} areas in "
          f"{res.areas['la_code'].nunique():,} councils; {len(res.set_aside):,} candidates set aside")
    print(f"  {res.contiguity_note}")
    print(f"peak memory (max RSS): {rss:,.0f} MB")
    top = res.areas.sort_values("deprived_population", ascending=False).head(5)
    for aid, r in top.iterrows():
        print(f"  {aid} {r['name']} ({r.la_name}): {r.population:,.0f} residents, stability {r.stability:.0%}")
    save("target", {"read_s": t1 - t0, "target_s": t2 - t1,
                    "target_cpu_s": c2 - c1, "councils": len(res.councils), "areas": len(res.areas),
                    "peak_mb": rss}, argv=sys.argv)


if __name__ == "__main__":
    main()
