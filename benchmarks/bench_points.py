"""Benchmark: population points (live residential postcodes) for one council and for a region, from the national files.

    python benchmarks/bench_points.py [--source ../shared/data] [--places leeds north-east]

For each place, in fresh processes (so each peak memory is its own):

1. the readers alone: ``read_postcodes`` and ``read_codepoint`` of the national OS Code-Point Open
   file (1.49 million rows) and ``read_postcode_lookup`` of the ONS May 2022 postcode lookup
   (2.23 million rows);
2. ``load(source="files", ...)`` of the place (IoD2025 File 7, LSOA 2021 boundaries, lookup) without
   the postcode files, and the same with ``codepoint`` and ``postcode_lookup`` (which reads both
   national files, places the residential postcodes and derives the LSOA centroids from them).
   The difference is what the population points cost.

Prints wall time and peak memory (max RSS) per step and the population-points note. Target: one
council in a few seconds over the plain load.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

PLACES = {"leeds": {"councils": ("E08000035",)}, "north-east": {"region": "E12000001"}}
CODEPOINT = "postcodes/codepoint_open_2025_england.csv.gz"
LOOKUP = "postcodes/ons_pcd_oa11_lsoa11_msoa11_lad_may2022_england.csv.gz"


def _files(src: Path) -> dict:
    return dict(source="files", imd=src / "imd/iod2025_lsoa21_england.csv.gz",
                population=src / "population/ons_sape_mid2022_lsoa21_total_england.csv.gz",
                boundaries=src / "boundaries/england_boundaries_generalised.gpkg", boundaries_layer="lsoa21",
                lookup=src / "lookups/lsoa21_ward24_lad24_ew.csv.gz",
                regions=src / "lookups/lad24_region24_england.csv")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode: str, place: str, src: Path) -> dict:
    """One measurement in this process: ``readers``, ``plain`` or ``points``."""
    t = time.perf_counter()
    import geotarget  # noqa: F401

    out: dict = {"import_s": time.perf_counter() - t}
    if mode == "readers":
        from geotarget.io.postcodes import read_codepoint, read_postcode_lookup, read_postcodes

        for name, fn, path in (("read_postcodes", read_postcodes, CODEPOINT),
                               ("read_codepoint", read_codepoint, CODEPOINT),
                               ("read_postcode_lookup", read_postcode_lookup, LOOKUP)):
            t, c = time.perf_counter(), time.process_time()
            frame = fn(src / path)
            out[name] = {"s": time.perf_counter() - t, "cpu": time.process_time() - c, "rows": len(frame),
                         "peak_mb": _peak_mb()}
            del frame
        return out
    from geotarget.data import load

    extra = dict(codepoint=src / CODEPOINT, postcode_lookup=src / LOOKUP) if mode == "points" else {}
    t, c = time.perf_counter(), time.process_time()
    d = load(**_files(src), **PLACES[place], **extra)
    out.update(load_s=time.perf_counter() - t, load_cpu=time.process_time() - c, peak_mb=_peak_mb(), lsoas=len(d.lsoas))
    if mode == "points":
        out.update(note=d.postcodes_note, points=len(d.postcodes), index=len(d.postcode_index),
                   centroid_methods=d.centroids["method"].value_counts().to_dict())
    return out


def _run(mode: str, place: str, src: Path) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", mode, place, "--source", str(src)],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _default_source() -> Path:
    here = Path(__file__).resolve()
    candidates = [here.parents[i] / "shared" / "data" for i in (2, 3)]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=_default_source(), help="the raw public data (../shared/data)")
    ap.add_argument("--places", nargs="*", choices=sorted(PLACES), default=list(PLACES))
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PLACE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    src = args.source.resolve()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], src), default=str))
        return
    with open("/proc/loadavg") as f:
        print(f"load average at start: {f.read().split()[0]} (2 cores: wall times grow with other work; CPU times "
              "do not)")
    r = _run("readers", "-", src)
    print(f"{'step':<46}{'wall s':>8}{'CPU s':>8}{'rows':>12}{'peak MB':>9}")
    for name in ("read_postcodes", "read_codepoint", "read_postcode_lookup"):
        x = r[name]
        print(f"{name + ' (national file)':<46}{x['s']:8.2f}{x['cpu']:8.2f}{x['rows']:12,}{x['peak_mb']:9.0f}")
    for place in args.places:
        plain, pts = _run("plain", place, src), _run("points", place, src)
        print(f"\n{place}: {plain['lsoas']:,} LSOAs")
        print(f"{'load(), no postcode files':<46}{plain['load_s']:8.2f}{plain['load_cpu']:8.2f}{'':>12}"
              f"{plain['peak_mb']:9.0f}")
        print(f"{'load(), codepoint + postcode_lookup':<46}{pts['load_s']:8.2f}{pts['load_cpu']:8.2f}"
              f"{pts['points']:12,}{pts['peak_mb']:9.0f}")
        print(f"{'  population points cost (difference)':<46}{pts['load_s'] - plain['load_s']:8.2f}"
              f"{pts['load_cpu'] - plain['load_cpu']:8.2f}{'':>12}{pts['peak_mb'] - plain['peak_mb']:9.0f}")
        print(f"  search index: {pts['index']:,} postcodes; centroids: {pts['centroid_methods']}")
        print(f"  {pts['note']}")


if __name__ == "__main__":
    main()
