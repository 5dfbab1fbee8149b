"""Benchmark: a study of all England from the official files, against the I/O floor, stage by stage.

    python benchmarks/bench_england.py [--source ../shared/data] [--map | --map-councils NAME ...] [--out DIR]
                                       [--sections aggregate target hotspots cluster] [--permutations N]

Measures, in the same process:

1. **The I/O floor**: a plain geopandas read of the England LSOA 2021 boundaries
   (``gpd.read_file(..., engine="pyogrio", use_arrow=True)``) and ``pd.read_csv`` of the IoD2025
   File 7 CSV -- what any program must pay to get the data in.
2. **The study**: ``geotarget run --config`` on all 33,755 LSOAs (IoD2025, ONS mid-2022 population,
   LSOA 2021 boundaries, the LSOA -> ward 2024 -> council lookup, council and MSOA boundaries) with
   every section: ``[aggregate]`` to wards, councils and MSOAs, ``[target]`` (action areas for every
   council), ``[hotspots]`` (Gi* of the IMD score) and ``[cluster]`` (typology of the LSOAs).

It prints wall time and peak memory (resident set size, sampled every 20 ms) per stage, the floor,
the study's total and the ratio study / floor. Target: ratio <= 20 and <= 8 GB on a 2-core machine.

``[hotspots]`` defaults to ``permutations = "auto"``: 99,999 for 33,755 LSOAs. Without numba, esda
draws every permutation and tests every area in Python (about 25-30 LSOAs a second on this machine),
so that section alone takes some 20 minutes; ``--permutations 999`` gives a run of about a minute
that exercises the same code (the figures in the README and the issue use it, and say so).
``--map`` adds the interactive map of every LSOA in England (large: see the README);
``--map-councils`` maps only those councils.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from record import save

SECTIONS = ("aggregate", "target", "hotspots", "cluster")

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
"""

SECTION_TEXT = {
    "aggregate": '[aggregate]\nto = ["ward", "lad", "msoa"]\n',
    "target": "[target]\n",
    "hotspots": "[hotspots]\nindicator = \"imd_score\"\n{permutations}",
    "cluster": "[cluster]\n",
}


def io_floor(source: Path) -> float:
    """Seconds for a plain read of the England LSOA 2021 boundaries and the IoD2025 File 7 CSV."""
    import geopandas as gpd
    import pandas as pd

    t = time.perf_counter()
    g = gpd.read_file(source / "boundaries" / "england_boundaries_generalised.gpkg", layer="lsoa21",
                      engine="pyogrio", use_arrow=True)
    d = pd.read_csv(source / "imd" / "iod2025_lsoa21_england.csv.gz")
    elapsed = time.perf_counter() - t
    assert len(g) == len(d) == 33_755, (len(g), len(d))
    return elapsed


def _default_source() -> Path:
    here = Path(__file__).resolve()
    candidates = [here.parents[i] / "shared" / "data" for i in (2, 3)]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=_default_source(),
                    help="the raw public data (default: ../shared/data beside the repository or its worktree)")
    ap.add_argument("--map", action="store_true", help="also write the map of all England")
    ap.add_argument("--map-councils", nargs="+", metavar="NAME", help="map only these councils")
    ap.add_argument("--out", type=Path, help="output folder (default: a temporary folder)")
    ap.add_argument("--sections", nargs="*", choices=SECTIONS, default=list(SECTIONS),
                    help="study sections to run (default: all)")
    ap.add_argument("--permutations", help="[hotspots] permutations (default: the section's default, auto)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    import geopandas  # noqa: F401  (the floor pays for these imports too; time them with geotarget's)
    import pandas  # noqa: F401

    from geotarget.core.progress import StageLog, rss_mb
    from geotarget.study.pipeline import run_study
    from geotarget.study.schema import load_study

    t_import, rss_import = time.perf_counter() - t0, rss_mb()
    source = args.source.resolve()
    floor = io_floor(source)
    councils = ("map_councils = [" + ", ".join(f'"{c}"' for c in args.map_councils) + "]"
                if args.map_councils else "")
    text = STUDY.format(s=source.as_posix(), map="true" if args.map or args.map_councils else "false",
                        map_councils=councils)
    perms = f"permutations = {args.permutations}\n" if args.permutations else ""
    text += "".join(SECTION_TEXT[s].format(permutations=perms) for s in args.sections)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "england"
        (Path(tmp) / "england.toml").write_text(text, encoding="utf-8")
        study = load_study(Path(tmp) / "england.toml")
        with StageLog(memory=True) as stages:
            t1, c1 = time.perf_counter(), time.process_time()
            res = run_study(study, out=out, stages=stages)
            total, total_cpu = time.perf_counter() - t1, time.process_time() - c1
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"England study ({', '.join(args.sections) or 'main job only'}): {len(res.run.lsoas):,} LSOAs, "
              f"{len(res.run.summary):,} councils, {len(res.run.ward_profiles):,} wards")
        print(f"{'stage':<58}{'wall s':>8}{'peak MB':>9}{'CPU s':>8}")
        print(f"{'import geotarget':<58}{t_import:8.2f}{rss_import:9.0f}")
        print(f"{'I/O floor (read_file lsoa21 + read_csv IoD2025)':<58}{floor:8.2f}")
        for s in sorted(stages.stages, key=lambda s: s.start):  # as they started
            name = "  " * s.depth + s.name
            print(f"{name:<58}{s.seconds:8.2f}{s.peak_mb or 0:9.0f}{s.cpu_seconds or 0:8.2f}")
        print(f"{'total (run_study)':<58}{total:8.2f}{peak:9.0f}{total_cpu:8.2f}")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: other work on the machine stretches "
              "the wall time, not the CPU time")
        print(f"floor {floor:.2f} s; study {total:.2f} s; ratio study/floor {total / floor:.1f}x (target <= 20x)")
        print(f"peak memory of the process (max RSS): {peak:,.0f} MB; target <= 8,192 MB")
        print("outputs:")
        for role, path in sorted(res.outputs.items()):
            print(f"  {path.name:<28}{path.stat().st_size / 1e6:8.1f} MB  [{role}]")
        print(f"  {res.manifest.name:<28}{res.manifest.stat().st_size / 1e6:8.3f} MB")
        sizes = {role: path.stat().st_size / 1e6 for role, path in res.outputs.items()}
        figures = {"lsoas": len(res.run.lsoas), "councils": len(res.run.summary),
                   "wards": len(res.run.ward_profiles), "floor_s": floor, "total_s": total, "ratio": total / floor,
                   "total_cpu_s": total_cpu,
                   "peak_mb": peak, "gpkg_mb": sizes["gpkg"]}
        if "map" in sizes:
            figures["map_mb"] = sizes["map"]
            figures["map_s"] = sum(s.seconds for s in stages.stages if s.name == "map")
            figures["map_cpu_s"] = sum(s.cpu_seconds or 0 for s in stages.stages if s.name == "map")
        mapped = "_map" if args.map else "_map_councils" if args.map_councils else ""
        save(f"england{mapped}" + ("" if list(args.sections) == ["aggregate"] else "_" + "_".join(args.sections)),
             figures)


if __name__ == "__main__":
    main()
