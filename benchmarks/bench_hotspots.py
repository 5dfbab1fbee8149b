"""Benchmark: Getis-Ord Gi* hot spots of the IMD score over every LSOA in England, 9,999 permutations.

    python benchmarks/bench_hotspots.py [--source ../shared/data] [--permutations 9999] [--jobs 1]
                                        [--method gi|moran] [--no-numba]

Prints wall time per step, whether esda runs its numba-compiled kernels (numba installed) or plain
numpy, and the result. Target: hot spots with 9,999 permutations <= 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--permutations", type=int, default=9_999)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--method", choices=["gi", "moran"], default="gi")
    ap.add_argument("--no-numba", action="store_true", help="hide numba so esda uses plain numpy")
    a = ap.parse_args()
    if a.no_numba:
        sys.modules["numba"] = None  # esda falls back to its numpy implementation
    src = a.source
    t0 = time.perf_counter()
    from geotarget.analysis.areadata import area_geometries
    from geotarget.analysis.hotspots import hotspots
    from geotarget.data import load

    study = load(source="files", imd=src / "imd/iod2025_lsoa21_england.csv.gz",
                       population=src / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                       boundaries=src / "boundaries/england_boundaries_generalised.gpkg", boundaries_layer="lsoa21")
    areas = area_geometries(study, "lsoa")
    t1 = time.perf_counter()
    res = hotspots(areas, study.lsoas["imd_score"], method=a.method, permutations=a.permutations, n_jobs=a.jobs)
    t2 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    numba = not a.no_numba and importlib.util.find_spec("numba") is not None
    print(f"read IoD2025, population and {len(areas):,} LSOA boundaries:   {t1 - t0:6.2f} s")
    print(f"{a.method} hot spots, {res.permutations:,} permutations, {a.jobs} job(s), "
          f"{'numba' if numba else 'numpy (no numba)'}: {t2 - t1:6.2f} s")
    print(f"peak memory (max RSS):                                  {rss:6.0f} MB")
    print("result: " + ", ".join(f"{k} {v:,}" for k, v in res.counts.items()))
    for note in res.notes:
        print("  " + note)


if __name__ == "__main__":
    main()
