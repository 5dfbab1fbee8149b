"""Benchmark: how long the England map takes to become interactive in headless Chromium.

    python benchmarks/bench_browser.py [--source ../shared/data] [--repeat 2]

Writes the map of all 33,755 England LSOAs (as ``benchmarks/bench_maps.py`` builds it), opens it
from disk in Debian's chromium driven by Playwright (tiles answered locally with a grey image), and
prints the seconds from navigation until ``window.geotarget.state`` exists, for each repeat.
Budget: <= 5 s on a 2-core machine. (This figure used to be asserted in ``tests/test_browser.py``;
timings belong here, not in the tests.)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    candidates = [HERE.parents[i] / "shared" / "data" for i in (2, 3)]
    ap.add_argument("--source", type=Path, default=next((c for c in candidates if c.is_dir()), candidates[0]))
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    from benchmarks.bench_maps import england_lsoas
    from geotarget.render.maps import deprivation_map
    from tests.conftest import ARGS, CHROMIUM
    from tests.test_browser import MapPage

    with tempfile.TemporaryDirectory() as tmp:
        path = deprivation_map(england_lsoas(args.source), title="Deprivation in England",
                               vintage="IoD2025, LSOA 2021").save(Path(tmp) / "england.html")
        path_size = path.stat().st_size / 1e6
        print(f"England map: {path_size:.2f} MB")
        ready = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for i in range(args.repeat):
                page = MapPage(browser, path, timeout_ms=120_000)
                print(f"run {i + 1}: interactive after {page.ready_after:.2f} s (budget 5 s); "
                      f"console errors: {len(page.errors)}")
                ready.append(page.ready_after)
                page.close()
            browser.close()
    from record import save  # benchmarks/record.py (this folder is on the path when run as a script)

    save("browser", {"england_mb": path_size, "ready_min_s": min(ready), "ready_max_s": max(ready),
                     "repeat": len(ready)}, argv=sys.argv)


if __name__ == "__main__":
    main()
