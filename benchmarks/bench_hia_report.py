"""Benchmark: the HIA report as a document -- static map, HTML and PDF -- for two bundled Tees Valley sites.

    python benchmarks/bench_hia_report.py [--repeat 3]

Sites: the postcode TS17 8BP (Thornaby) and a 5 ha polygon in central Stockton. For each: the time
to draw the static map (PNG) and its size, the time to render the HTML (interactive and static map)
and the PDF (``render_report(sc, "pdf")``: static map, WeasyPrint), the PDF's size and page count,
and the PDF without a map (``with_map=False``) as the in-run baseline. Times are the median of
``--repeat`` runs, wall clock and this process's CPU time (on a shared machine the CPU time is the
steadier figure).

Baseline before the printed report had a map (commit 620eb3e, TS18 1AU, same machine): PDF 2.4 s
(CPU 1.7-2.4 s), 84 kB, 18 pages (the 18-column LSOA table cut off at A4 width).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time

from geotarget import load
from geotarget.hia.report import render_report, static_map_png
from geotarget.hia.screen import hia_data, screen_site
from geotarget.io.sites import parse_site

SITES = {"TS17 8BP (postcode)": "TS17 8BP",
         "central Stockton (polygon)": "POLYGON ((444400 518800, 444900 518800, 444900 519200, 444400 519200, "
                                       "444400 518800))"}
BASELINE = "before (620eb3e, TS18 1AU): PDF 2.4 s (CPU 1.7-2.4 s), 84 kB, 18 pages, no map"


def _timed(fn, repeat: int):
    """Return ``fn()``, the median wall time and the median CPU time of this process over ``repeat`` runs."""
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return out, statistics.median(wall), statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from pypdf import PdfReader

    data = hia_data(load())
    render_report(screen_site(parse_site("TS18 1AU"), data), "pdf")  # warm up: imports, fonts
    print(f"baseline: {BASELINE}")
    for label, where in SITES.items():
        sc = screen_site(parse_site(where), data, generated="2025-11-01")
        png, t_png, c_png = _timed(lambda sc=sc: static_map_png(sc), args.repeat)
        page, t_html, c_html = _timed(lambda sc=sc: render_report(sc, "html"), args.repeat)
        pdf, t_pdf, c_pdf = _timed(lambda sc=sc: render_report(sc, "pdf"), args.repeat)
        bare, t_bare, c_bare = _timed(lambda sc=sc: render_report(sc, "pdf", with_map=False), args.repeat)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        print(f"{label}: static map PNG {len(png) / 1000:.0f} kB in {t_png:.2f} s (CPU {c_png:.2f} s); "
              f"HTML {len(page) / 1e6:.2f} MB in {t_html:.2f} s (CPU {c_html:.2f} s); PDF {len(pdf) / 1000:.0f} kB, "
              f"{pages} pages, in {t_pdf:.2f} s (CPU {c_pdf:.2f} s); without the map: PDF {len(bare) / 1000:.0f} kB, "
              f"{len(PdfReader(io.BytesIO(bare)).pages)} pages, in {t_bare:.2f} s (CPU {c_bare:.2f} s)")

if __name__ == "__main__":
    main()
