"""Benchmark: the size of the sdist and the wheel, and of the bundled sample they carry.

    python benchmarks/bench_wheel.py

Builds both as ``python -m build --no-isolation`` does (``build`` and ``setuptools`` come from the
test extras) into a temporary folder and prints their sizes beside the wheel's budget (5 MB, as
``tests/test_wheel.py`` holds it to), and the size of the sample's data files (``boundaries/`` and
``data/``) that the wheel copies in. Saves ``benchmarks/results/wheel.json``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_run import bundled_sample_bytes
from record import save

ROOT = Path(__file__).resolve().parents[1]
WHEEL_BUDGET_MB = 5.0


def main() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", tmp, str(ROOT)], check=True,
                       capture_output=True, env=env, timeout=900)
        seconds = time.perf_counter() - t0
        (sdist,), (wheel,) = Path(tmp).glob("*.tar.gz"), Path(tmp).glob("*.whl")
        sdist_mb, wheel_mb = sdist.stat().st_size / 1e6, wheel.stat().st_size / 1e6
    sample_mb = bundled_sample_bytes() / 1e6
    print(f"built in {seconds:.1f} s: sdist {sdist_mb:.2f} MB, wheel {wheel_mb:.2f} MB "
          f"(budget {WHEEL_BUDGET_MB:.0f} MB: {'ok' if wheel_mb <= WHEEL_BUDGET_MB else 'OVER'})")
    print(f"bundled sample (boundaries/ + data/, uncompressed): {sample_mb:.2f} MB")
    save("wheel", {"sdist_mb": sdist_mb, "wheel_mb": wheel_mb, "sample_mb": sample_mb}, argv=sys.argv)


if __name__ == "__main__":
    main()
