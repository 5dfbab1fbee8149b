"""Benchmark: ``geotarget run`` on the bundled Tees Valley sample -- time, and the size of what it writes.

    python benchmarks/bench_run.py [--repeat 3]

Runs the main job as ``geotarget run`` does (``geotarget.jobs.run.run(load())``: the map with every
default layer, action areas, hot spots, area types and access to the bundled assets) into a
temporary folder, ``--repeat`` times, and prints the best wall time, the size of each output and,
for the map, what is in it (LSOAs, assets, searchable postcodes) beside its budget (2 MB). Also
the size of the bundled sample (``boundaries/`` and ``data/``) that the package carries. Saves
``benchmarks/results/run.json``; ``tests/test_readme_figures.py`` recomputes the sizes from its
own run and compares them with the README.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP_BUDGET_MB = 2.0


def bundled_sample_bytes(root: Path = ROOT) -> int:
    """Return the bytes of the bundled sample's data files (``boundaries/`` and ``data/``, scripts excluded)."""
    files = [p for d in ("boundaries", "data") for p in (root / d).rglob("*")
             if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts]
    return sum(p.stat().st_size for p in files)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs; the best time is reported (default 3)")
    args = ap.parse_args()

    from record import save  # benchmarks/record.py: on the path when run as a script

    from geotarget.data.load import load
    from geotarget.jobs.run import run

    times, result = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            data = load()
            t0 = time.perf_counter()
            result = run(data, out=Path(tmp) / f"run{i}")
            times.append(time.perf_counter() - t0)
        sizes = {role: path.stat().st_size for role, path in result.outputs.items()}
        searchable = data.postcode_index
        n_postcodes = 0 if searchable is None else int(searchable["lsoa_code"].isin(result.lsoas.index).sum())
        n_assets = len(data.assets)
    best = min(times)
    map_mb = sizes["map"] / 1e6
    sample_mb = bundled_sample_bytes() / 1e6
    print(f"geotarget run, bundled Tees Valley ({len(result.lsoas):,} LSOAs): best of {args.repeat} "
          f"{best:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})")
    print(f"map: {map_mb:.2f} MB with {n_assets:,} assets and {n_postcodes:,} searchable postcodes "
          f"(budget {MAP_BUDGET_MB:.0f} MB: {'ok' if map_mb <= MAP_BUDGET_MB else 'OVER'})")
    for role, n in sorted(sizes.items()):
        print(f"  {role:<32}{n / 1e6:8.3f} MB")
    print(f"bundled sample (boundaries/ + data/): {sample_mb:.2f} MB")
    save("run", {"seconds": best, "map_bytes": sizes["map"], "map_mb": map_mb, "gpkg_mb": sizes["gpkg"] / 1e6,
                 "lsoas": len(result.lsoas), "assets": n_assets, "postcodes": n_postcodes,
                 "sample_mb": sample_mb}, argv=sys.argv)


if __name__ == "__main__":
    main()
