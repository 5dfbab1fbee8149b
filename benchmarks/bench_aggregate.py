"""Benchmark: the whole England IoD file to every LAD and every ward, all measures and domains.

    python benchmarks/bench_aggregate.py [--source ../shared/data]

Prints wall time per step and peak memory (max RSS). Target: aggregation <= 5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import geotarget as gt
from geotarget.analysis.aggregate import aggregate, in_most_deprived


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    src = ap.parse_args().source
    t0 = time.perf_counter()
    imd, v25 = gt.read_imd(src / "imd/iod2025_lsoa21_england.csv.gz")
    imd = gt.add_population(imd, gt.read_population(src / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                                                    vintage=v25.year))
    lookup = gt.read_lsoa_lookup(src / "lookups/lsoa21_ward24_lad24_ew.csv.gz")
    lookup = lookup[lookup.index.isin(imd.index)]
    t1 = time.perf_counter()
    lads = aggregate(imd, to="lad", vintage=v25)
    t2 = time.perf_counter()
    wards = aggregate(imd, to="ward", lookup=lookup, vintage=v25)
    counts = in_most_deprived(wards)
    t3 = time.perf_counter()
    imd19, v19 = gt.read_imd(src / "imd/iod2019_lsoa11_england.csv.gz")
    t4 = time.perf_counter()
    lads19 = aggregate(imd19, to="lad", vintage=v19)
    t5 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"read + validate IoD2025 ({len(imd):,} LSOAs), population and lookup: {t1 - t0:6.2f} s")
    print(f"IoD2025 -> {len(lads):,} LADs, 8 indices x 5 measures + ranks:   {t2 - t1:6.2f} s")
    print(f"IoD2025 -> {len(wards):,} wards (+ councils' top-10% counts):     {t3 - t2:6.2f} s")
    print(f"read + validate IoD2019 ({len(imd19):,} LSOAs):                  {t4 - t3:6.2f} s")
    print(f"IoD2019 -> {len(lads19):,} LADs:                                  {t5 - t4:6.2f} s")
    print(f"aggregation total (LADs + wards, 2025):                 {t3 - t1:6.2f} s")
    print(f"end to end including reading:                           {t5 - t0:6.2f} s")
    print(f"peak memory (max RSS):                                  {rss:6.0f} MB")
    print(f"e.g. Stockton-on-Tees wards in England's 10% most deprived (IMD average score): "
          f"{counts.loc['E06000004', 'average_score']} of {counts.loc['E06000004', 'areas']}")


if __name__ == "__main__":
    main()
