"""Regenerate the sample committee documents in examples/action_areas/ from the bundled data.

    python tools/action_area_samples.py

Runs ``geotarget target`` (:func:`geotarget.jobs.target.run_target`, its defaults: IMD decile 1, at most
15,000 residents, 3 areas) for Stockton-on-Tees and Middlesbrough (bundled Tees Valley sample) and Trafford
(bundled, outside Tees Valley), and copies each document -- ``action_areas.md`` with its maps, the HTML and the
PDF -- into ``examples/action_areas/<council>/``. Prints each file's size and the time to write the documents.
Never edit the samples by hand: change the code and rerun this script.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from geotarget.data.load import load
from geotarget.jobs.target import run_target

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "examples" / "action_areas"
SAMPLES = (("stockton-on-tees", "tees_valley", "Stockton-on-Tees"), ("middlesbrough", "tees_valley", "Middlesbrough"),
           ("trafford", "trafford", "Trafford"))
DOCUMENT = ("action_areas.md", "action_areas.html", "action_areas.pdf")


def main() -> None:
    """Write the samples and print their sizes."""
    for folder, place, council in SAMPLES:
        data = load(place=place)
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            res = run_target(data, councils=[council], out=Path(tmp) / "out")
            seconds = time.perf_counter() - t0
            dest = OUT / folder
            if dest.exists():
                shutil.rmtree(dest)
            dest.mkdir(parents=True)
            for path in res.outputs.values():
                if path.name in DOCUMENT or path.suffix == ".png":
                    shutil.copy2(path, dest / path.name)
        print(f"{council}: {len(res.result.areas)} areas, target job incl. documents {seconds:.1f} s")
        for f in sorted(dest.iterdir()):
            print(f"  {f.relative_to(ROOT)}  {f.stat().st_size / 1000:,.0f} kB")


if __name__ == "__main__":
    main()
