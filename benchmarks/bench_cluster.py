"""Benchmark: a typology of every LSOA in England from its IoD2025 domain gaps to England.

    python benchmarks/bench_cluster.py [--source ../shared/data] [--method kmeans|spatial] [--k auto|N]

Prints wall time per step (read, gaps, clustering with k chosen from 3-8 by silhouette and
Calinski-Harabasz) and the types found. Target: clustering all England LSOAs <= 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--method", choices=["kmeans", "ward", "spatial"], default="kmeans")
    ap.add_argument("--k", default="auto")
    ap.add_argument("--min-population", type=float, default=None)
    a = ap.parse_args()
    src = a.source
    t0 = time.perf_counter()
    from geotarget.analysis.areadata import area_geometries, study_indicators, to_level
    from geotarget.analysis.gaps import outcome_gaps
    from geotarget.analysis.typology import cluster_areas

    spatial = a.method == "spatial"
    from geotarget.data import load

    study = load(source="files", imd=src / "imd/iod2025_lsoa21_england.csv.gz",
                       population=src / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                       boundaries=src / "boundaries/england_boundaries_generalised.gpkg" if spatial else None,
                       boundaries_layer="lsoa21" if spatial else None)
    areas = area_geometries(study, "lsoa") if spatial else None
    t1 = time.perf_counter()
    ind, table, _ = study_indicators(study)
    values, pop, region = to_level(ind.values, study, "lsoa")
    gaps = outcome_gaps(values, pop, reference="england", table=table, region=region, labels=ind.labels)
    t2 = time.perf_counter()
    k = a.k if a.k == "auto" else int(a.k)
    typ = cluster_areas(gaps.gaps, pop, method=a.method, k=k, areas=areas, min_population=a.min_population,
                        values=values, labels=ind.labels)
    t3 = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"read IoD2025 + population ({len(values):,} LSOAs){' + boundaries' if spatial else ''}: {t1 - t0:6.2f} s")
    print(f"gaps to England, 7 domains (reference computed from the file):  {t2 - t1:6.2f} s")
    print(f"clustering ({a.method}, k {a.k}):                                  {t3 - t2:6.2f} s")
    print(f"peak memory (max RSS):                                         {rss:6.0f} MB")
    print(typ.scores.to_string(index=False))
    for _, r in typ.profiles.iterrows():
        print(f"  {r.cluster}. {r.label} - {r.areas:,} LSOAs, {r.population_share:.0%} of people")
    for n in typ.notes:
        print("  " + n)


if __name__ == "__main__":
    main()
