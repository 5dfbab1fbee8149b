"""Benchmark: one HIA screening (``screen_site`` + the JSON evidence) in-process, per postcode.

    python benchmarks/bench_screen.py [--n 50] [--place tees_valley] [--baseline-path DIR]
    python benchmarks/bench_screen.py --snapshot DIR     # write every output, to compare two versions

Loads the bundled place once (``hia_data(load(place=...))``), then screens ``--n`` distinct residential
postcodes spread evenly over the place's sorted postcodes (each a cold screening: nothing is cached between
sites) and prints the median, 95th percentile and maximum wall time per screening, and the CPU time, of

* ``screen_site(parse_site(postcode, postcodes=lookup), data)`` and
* ``render_report(sc, "json")`` (what ``POST /api/screenings`` returns).

``--baseline-path DIR`` runs this same script against another checkout (``PYTHONPATH=DIR``, e.g. a
worktree of the commit before the speed work) in a subprocess and prints its figures beside these.

``--snapshot DIR`` writes, for 30 Tees Valley postcodes, a coordinate site, polygons (one straddling two
councils), Trafford postcodes (green space, schools), IoD2019 and other buffers and rules: the JSON evidence, the
Markdown report and every frame of the screening (dtypes, index and values, geometries as WKB), so
``diff -r`` of two snapshots proves a change left every result as it was.

The issue's target is the web service's: a postcode screening answers in <= 1 s at the 95th percentile
with 20 concurrent clients on 2 cores (``benchmarks/bench_serve.py``); with two cores, 20 clients queue
behind each other, so one screening has to cost well under 100 ms of CPU.

Measured on this machine (2 cores, shared with other work), 50 Tees Valley postcodes, CPU medians of
screen_site: 151 ms before the speed work (commit 620eb3e, load average 0.6), 256 ms before and 83 ms after
side by side at load average 9 (``--baseline-path`` a checkout of 620eb3e).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geotarget import load
from geotarget.hia.report import render_report, report_blocks, to_markdown
from geotarget.hia.screen import ScreeningRules, hia_data, screen_site
from geotarget.io.sites import Site, load_postcodes, parse_site

GENERATED = "2025-11-01"


def pick_postcodes(data, n: int) -> list[str]:
    """Return ``n`` distinct residential postcodes spread evenly over the place's sorted postcodes."""
    codes = np.sort(data.postcodes["postcode"].unique())
    idx = np.unique(np.linspace(0, len(codes) - 1, n).round().astype(int))
    return [str(codes[i]) for i in idx]


def _pct(values, q) -> float:
    return float(np.percentile(np.asarray(values), q))


def measure(place: str, n: int) -> dict:
    """Time ``n`` cold screenings of distinct postcodes; return the figures."""
    t0 = time.perf_counter()
    study = load(place=place)
    data = hia_data(study)
    lookup = load_postcodes(None)
    t_load = time.perf_counter() - t0
    codes = pick_postcodes(study, n)
    screen_site(parse_site(codes[0], postcodes=lookup), data, generated=GENERATED)  # warm-up (imports)
    wall, cpu, wall_json, cpu_total = [], [], [], []
    for pc in codes:
        w0, c0 = time.perf_counter(), time.process_time()
        sc = screen_site(parse_site(pc, postcodes=lookup), data, generated=GENERATED)
        w1, c1 = time.perf_counter(), time.process_time()
        render_report(sc, "json")
        w2, c2 = time.perf_counter(), time.process_time()
        wall.append(w1 - w0)
        cpu.append(c1 - c0)
        wall_json.append(w2 - w1)
        cpu_total.append(c2 - c0)
    total = [a + b for a, b in zip(wall, wall_json, strict=True)]
    return {"place": place, "n": len(codes), "load_s": t_load,
            "screen_median": statistics.median(wall), "screen_p95": _pct(wall, 95), "screen_max": max(wall),
            "screen_cpu_median": statistics.median(cpu),
            "json_median": statistics.median(wall_json), "json_p95": _pct(wall_json, 95),
            "total_median": statistics.median(total), "total_p95": _pct(total, 95),
            "total_cpu_median": statistics.median(cpu_total), "load_average": os.getloadavg()[0]}


def _fmt(m: dict) -> list[str]:
    return [f"  load once (load + hia_data + postcode lookup): {m['load_s']:.2f} s",
            f"  screen_site:           median {m['screen_median'] * 1000:7.1f} ms  p95 {m['screen_p95'] * 1000:7.1f} ms"
            f"  max {m['screen_max'] * 1000:7.1f} ms  (CPU median {m['screen_cpu_median'] * 1000:.1f} ms)",
            f"  render_report(json):   median {m['json_median'] * 1000:7.1f} ms  p95 {m['json_p95'] * 1000:7.1f} ms",
            f"  screening + JSON:      median {m['total_median'] * 1000:7.1f} ms  p95 {m['total_p95'] * 1000:7.1f} ms"
            f"  (CPU median {m['total_cpu_median'] * 1000:.1f} ms; load average {m['load_average']:.1f})"]


# -- snapshot: every output, for proving a speed change left results unchanged ---------------------
def _frame_text(name: str, frame) -> str:
    if frame is None:
        return f"## {name}: None\n"
    f = pd.DataFrame(frame).copy()
    for c in f.columns:
        if isinstance(f[c].dtype, pd.api.extensions.ExtensionDtype) and f[c].dtype.name == "geometry":
            f[c] = shapely.to_wkb(np.asarray(f[c].array), hex=True)
    head = (f"## {name}: {type(frame).__name__} {f.shape}, index {f.index.name!r} {f.index.dtype}, "
            f"crs {getattr(frame, 'crs', None)}\n")
    return head + f.dtypes.to_string() + "\n" + f.to_csv()


def snapshot_sites(lookup) -> list[tuple[str, str, Site, dict]]:
    """Return (slug, place, site, screen_site options) for the snapshot."""
    tv = load(place="tees_valley")
    sites = [(f"tv_{pc.replace(' ', '_')}", "tees_valley", parse_site(pc, postcodes=lookup), {})
             for pc in pick_postcodes(tv, 30)]
    sites += [
        ("tv_stockton_high_street", "tees_valley", parse_site("TS18 1AU", postcodes=lookup), {}),
        ("tv_coordinate", "tees_valley", parse_site("441500,515000", name="Eaglescliffe"), {}),
        ("tv_polygon", "tees_valley", parse_site("POLYGON ((444400 518700, 444900 518700, 444900 519200, "
                                                 "444400 519200, 444400 518700))", name="Stockton block"), {}),
        # straddles Stockton-on-Tees and Middlesbrough
        ("tv_polygon_two_councils", "tees_valley",
         parse_site("POLYGON ((446150 516250, 447350 516250, 447350 517450, 446150 517450, 446150 516250))",
                    name="Across the boundary"), {}),
        ("tv_coast_edge", "tees_valley", parse_site("452500,534000", name="Hartlepool headland"), {}),
        ("tv_buffers_rules", "tees_valley", parse_site("TS1 1AA", postcodes=lookup),
         {"buffers": (400, 1000, 3000), "rules": ScreeningRules(flag_scope="site", flag_indices=("imd", "income"),
                                                                flag_max_decile=3, topic_share=0.3)}),
    ]
    sites += [(f"tv2019_{pc.replace(' ', '_')}", "tees_valley_2019", parse_site(pc, postcodes=lookup), {})
              for pc in pick_postcodes(tv, 4)]
    tr = load(place="trafford")
    sites += [(f"tr_{pc.replace(' ', '_')}", "trafford", parse_site(pc, postcodes=lookup), {})
              for pc in pick_postcodes(tr, 6)]
    sites.append(("tr_polygon", "trafford", parse_site(
        "POLYGON ((377000 394000, 378200 394000, 378200 395000, 377000 395000, 377000 394000))",
        name="Trafford block"), {}))
    return sites


def write_snapshot(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    lookup = load_postcodes(None)
    data = {p: hia_data(load(place=p)) for p in ("tees_valley", "trafford")}
    data["tees_valley_2019"] = hia_data(load(place="tees_valley", vintage=2019))
    n = 0
    for slug, place, site, opts in snapshot_sites(lookup):
        sc = screen_site(site, data[place], generated=GENERATED, **opts)
        (out / f"{slug}.json").write_bytes(render_report(sc, "json"))
        (out / f"{slug}.md").write_text(to_markdown(report_blocks(sc)), encoding="utf-8")
        parts = [_frame_text(k, getattr(sc, k)) for k in ("lsoas", "wards", "profile", "indicators", "access",
                                                           "nearby_assets", "nearby_parks", "council_lsoas",
                                                           "councils")]
        parts.append("## rest\n" + json.dumps({"council": sc.council, "rule_lsoas": list(sc.rule_lsoas),
                                               "cni": sc.cni, "flags": sc.flags, "topics": sc.topics,
                                               "notes": sc.notes, "parameters": sc.parameters,
                                               "sources": sc.sources, "buffers": sc.buffers},
                                              indent=1, default=str, sort_keys=True))
        (out / f"{slug}.frames.txt").write_text("\n".join(parts), encoding="utf-8")
        n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="distinct postcodes to screen (default 50)")
    ap.add_argument("--place", default="tees_valley", help="bundled place (default tees_valley)")
    ap.add_argument("--baseline-path", type=Path, help="another checkout to measure the same way, for comparison")
    ap.add_argument("--snapshot", type=Path, help="write every output for the snapshot sites into this folder")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON (used for --baseline-path)")
    args = ap.parse_args()
    if args.snapshot:
        n = write_snapshot(args.snapshot)
        print(f"wrote {n} screenings (JSON, Markdown, frames) to {args.snapshot}")
        return
    m = measure(args.place, args.n)
    if args.json:
        print(json.dumps(m))
        return
    print(f"HIA screening in-process, {m['n']} distinct {m['place']} postcodes, one at a time "
          f"({os.cpu_count()} cores):")
    print("this checkout:")
    print("\n".join(_fmt(m)))
    if args.baseline_path:
        env = dict(os.environ, PYTHONPATH=str(args.baseline_path.resolve()))
        res = subprocess.run([sys.executable, __file__, "--n", str(args.n), "--place", args.place, "--json"],
                             env=env, capture_output=True, text=True, check=True)
        b = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"baseline ({args.baseline_path}):")
        print("\n".join(_fmt(b)))
        print(f"speed-up of screening + JSON: median x{b['total_median'] / m['total_median']:.1f}, "
              f"p95 x{b['total_p95'] / m['total_p95']:.1f}, "
              f"CPU median x{b['total_cpu_median'] / m['total_cpu_median']:.1f} "
              "(CPU time depends less than wall time on what else runs on the machine)")
    print("target (issue 18, bench_serve.py): p95 <= 1 s with 20 concurrent clients on 2 cores")


if __name__ == "__main__":
    main()
