"""Take the README's screenshot: the Tees Valley map ``geotarget run`` writes.

The map shows the deciles, targeted action areas with their names, and the other analysis layers; it is
drawn in headless Chromium (Debian's package, driven by playwright), with the tooltip of one LSOA open.
Map tiles are not fetched (the blank base layer is shown), so the picture is reproducible offline.

    python tools/screenshot.py [--out maps/screenshot.png]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import geotarget as gt
from geotarget.core.crs import WGS84

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "maps" / "screenshot.png")
    ap.add_argument("--lsoa", default="E01012060", help="LSOA whose tooltip is shown")
    args = ap.parse_args()
    s = gt.load(vintage=2025)
    from geotarget.jobs.run import run

    tmp_out = Path(tempfile.mkdtemp())
    page_source = run(out=tmp_out).outputs["map"]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(), sync_playwright() as p:
        page_path = page_source
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, device_scale_factor=1)
        page.goto(page_path.as_uri())
        page.wait_for_function("window.geotarget && window.geotarget.state")
        point = s.lsoas.loc[[args.lsoa]].geometry.representative_point().to_crs(WGS84).iloc[0]
        x, y = page.evaluate("([lat, lon]) => { const m = window.geotarget.state.map;"
                             " const p = m.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
                             [point.y, point.x])
        page.mouse.move(x - 2, y - 2)
        page.mouse.move(x, y)
        page.locator(".gt-tooltip").wait_for(state="visible")
        page.wait_for_timeout(300)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
