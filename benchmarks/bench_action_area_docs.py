"""Benchmark: how long the action-area document takes to write, and how central Stockton is split.

    python benchmarks/bench_action_area_docs.py

On the bundled Tees Valley sample, Stockton-on-Tees with the defaults of ``geotarget target``. Prints the
time to write the files without the document's maps, HTML and PDF (the baseline: what was written before the
document had maps), with the maps and HTML (what ``geotarget run`` writes), and with the PDF as well (what
``geotarget target`` writes); the sizes of the maps; and the decile-1 group's parts.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from geotarget.analysis.target import target_areas
from geotarget.data.load import load
from geotarget.render.action_areas import write_action_areas


def _timed(res, data, **kw) -> tuple[float, dict]:
    best, files = float("inf"), {}
    for _ in range(3):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            files = write_action_areas(res, Path(tmp), lsoas=data.lsoas, wards=data.wards, lads=data.lads, **kw)
            best = min(best, time.perf_counter() - t0)
            files = {k: p.stat().st_size for k, p in files.items()}
    return best, files


def main() -> None:
    """Print the figures."""
    data = load(vintage=2025)
    t0 = time.perf_counter()
    res = target_areas(data.lsoas, councils=["Stockton-on-Tees"], vintage=data.vintage)
    print(f"target_areas, Stockton-on-Tees: {time.perf_counter() - t0:.2f} s")
    for _, r in res.areas.iterrows():
        part = f", part of a group of {r['group_population']:,.0f} in {r['group_parts']}" \
            if r["group_parts"] > 1 else ""
        print(f"  {r['rank']}. {r['name']}: {r['population']:,.0f} residents, {r['n_lsoas']} LSOAs, "
              f"stability {r['stability']:.0%}{part}")
    print("  before this change (greedy growth from the most deprived LSOA): 14,252 + 2,797 + 1,529 + 1,526")
    base, _ = _timed(res, data, maps=False)
    maps, files = _timed(res, data)
    pdf, files_pdf = _timed(res, data, pdf=True)
    print(f"write, tables + Markdown only (baseline): {base:.2f} s")
    print(f"write, + maps and HTML (geotarget run):   {maps:.2f} s (+{maps - base:.2f} s)")
    print(f"write, + PDF (geotarget target):          {pdf:.2f} s (+{pdf - maps:.2f} s for the PDF)")
    for k, size in files_pdf.items():
        if k.startswith("map") or k in ("html", "pdf", "md"):
            print(f"  {k}: {size / 1000:,.0f} kB")


if __name__ == "__main__":
    main()
