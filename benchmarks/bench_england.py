"""Benchmark: a study of all England from the official files, stage by stage.

    python benchmarks/bench_england.py [--source ../shared/data] [--map | --map-councils NAME ...] [--out DIR]

Runs ``geotarget run --config`` on all 33,755 LSOAs (IoD2025, ONS mid-2022 population, LSOA 2021
boundaries, the LSOA -> ward 2024 -> council lookup, council and MSOA boundaries) with ward,
council and MSOA profiles, and prints wall time and peak memory (resident set size, sampled
every 20 ms) per stage, the total, and the size of every output.
Target: <= 120 s and <= 8 GB on a 2-core machine. ``--map`` adds the interactive map of every
LSOA in England (large: see the README); ``--map-councils`` maps only those councils.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

STUDY = """
title = "Deprivation in England"
vintage = 2025
[place]
england = true
[data]
source = "files"
imd = "{s}/imd/iod2025_lsoa21_england.csv.gz"
population = "{s}/population/ons_sape_mid2022_lsoa21_total_england.csv.gz"
boundaries = "{s}/boundaries/england_boundaries_generalised.gpkg"
boundaries_layer = "lsoa21"
lookup = "{s}/lookups/lsoa21_ward24_lad24_ew.csv.gz"
lads = "{s}/boundaries/england_boundaries_generalised.gpkg"
lads_layer = "lad24_uk"
msoas = "{s}/boundaries/england_boundaries_generalised.gpkg"
msoas_layer = "msoa21"
regions = "{s}/lookups/lad24_region24_england.csv"
[output]
map = {map}
{map_councils}
[aggregate]
to = ["ward", "lad", "msoa"]
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--map", action="store_true", help="also write the map of all England")
    ap.add_argument("--map-councils", nargs="+", metavar="NAME", help="map only these councils")
    ap.add_argument("--out", type=Path, help="output folder (default: a temporary folder)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    from geotarget.core.progress import StageLog, rss_mb
    from geotarget.study.pipeline import run_study
    from geotarget.study.schema import load_study

    t_import, rss_import = time.perf_counter() - t0, rss_mb()
    councils = ("map_councils = [" + ", ".join(f'"{c}"' for c in args.map_councils) + "]"
                if args.map_councils else "")
    text = STUDY.format(s=args.source.resolve().as_posix(), map="true" if args.map or args.map_councils else "false",
                        map_councils=councils)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "england"
        (Path(tmp) / "england.toml").write_text(text, encoding="utf-8")
        study = load_study(Path(tmp) / "england.toml")
        with StageLog(memory=True) as stages:
            t1 = time.perf_counter()
            res = run_study(study, out=out, stages=stages)
            total = time.perf_counter() - t1
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"England study: {len(res.run.lsoas):,} LSOAs, {len(res.run.summary):,} councils, "
              f"{len(res.run.ward_profiles):,} wards")
        print(f"{'stage':<58}{'wall s':>8}{'peak MB':>9}")
        print(f"{'import geotarget':<58}{t_import:8.2f}{rss_import:9.0f}")
        for s in stages.stages:
            print(f"{s.name:<58}{s.seconds:8.2f}{s.peak_mb or 0:9.0f}")
        print(f"{'total (run_study)':<58}{total:8.2f}{peak:9.0f}")
        print(f"peak memory of the process (max RSS): {peak:,.0f} MB; target <= 120 s and <= 8,192 MB")
        print("outputs:")
        for role, path in sorted(res.outputs.items()):
            print(f"  {path.name:<28}{path.stat().st_size / 1e6:8.1f} MB  [{role}]")
        print(f"  {res.manifest.name:<28}{res.manifest.stat().st_size / 1e6:8.3f} MB")


if __name__ == "__main__":
    main()
