"""The distributions carry the bundled sample.

Build the sdist and the wheel (from the sdist, as ``python -m build`` does), install the wheel -- not
editable -- into a fresh virtual environment and run ``geotarget run`` from a folder that is not the
repository.

Slow (about a minute): deselected by a plain ``pytest``; ``pytest -m slow`` and CI run it. It works
offline: the build runs without isolation (``build`` and ``setuptools`` come from the test extras)
and the fresh environment borrows the already-installed dependencies through a ``.pth`` file, so
only the wheel itself is installed.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

TEES_VALLEY = ("Hartlepool", "Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees", "Darlington")
#: The wheel should stay small enough to publish and to install on a council laptop.
WHEEL_BUDGET = 5_000_000


def sample_files() -> set[str]:
    """Return the sample's files in the checkout (``data/`` and ``boundaries/``, not the build script or caches)."""
    return {p.relative_to(ROOT).as_posix() for top in ("data", "boundaries") for p in (ROOT / top).rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}


def run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=900, **kwargs)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT])
    (sdist,), (wheel,) = out.glob("*.tar.gz"), out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_sdist_carries_the_sample_and_its_build_script(dists):
    with tarfile.open(dists["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert sample_files() <= names
    assert {"data/build_sample.py", "data/PROVENANCE.md", "setup.py", "MANIFEST.in"} <= names


def test_wheel_carries_only_the_sample_files(dists):
    with zipfile.ZipFile(dists["wheel"]) as whl:
        bundled = {n.removeprefix("geotarget/_bundled/") for n in whl.namelist() if n.startswith("geotarget/_bundled/")}
        names = whl.namelist()
    assert bundled == sample_files()
    assert not [n for n in names if n.endswith("build_sample.py") or "__pycache__" in n]
    assert "geotarget/render/maps/vendor/leaflet/leaflet.js" in names  # package data still there
    size = dists["wheel"].stat().st_size
    print(f"wheel {dists['wheel'].name}: {size:,} bytes")
    assert size <= WHEEL_BUDGET


def test_installed_wheel_runs_geotarget_run_outside_the_repository(dists, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    python = scripts / ("python.exe" if os.name == "nt" else "python")
    # Borrow the dependencies already installed for the tests (a path line in a .pth file adds the
    # folder but does not run its .pth files, so the editable geotarget there stays inactive).
    target_site = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    borrowed = dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"]])
    (target_site / "_geotarget_test_deps.pth").write_text("\n".join(borrowed) + "\n", encoding="utf-8")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", dists["wheel"]])

    work = tmp_path / "elsewhere"
    work.mkdir()
    where = run([python, "-c", "import geotarget, geotarget.core.places as p; print(geotarget.__file__); "
                 "print(p.ROOT)"], cwd=work).stdout.split("\n")
    assert Path(where[0]).is_relative_to(target_site), where  # the wheel, not the checkout
    assert Path(where[1]) == target_site / "geotarget" / "_bundled", where

    proc = run([scripts / "geotarget", "run", "--out", "OUT"], cwd=work)
    out = work / "OUT"
    assert (out / "imd2025_map.html").stat().st_size > 100_000
    assert (out / "imd2025_lsoas.gpkg").stat().st_size > 100_000
    for council in TEES_VALLEY:
        assert council in proc.stdout, proc.stdout
