"""Portability: no Unix-only modules imported, and matplotlib's global backend left alone.

geotarget imports without Unix-only modules, and drawing leaves matplotlib's global backend alone.
Both run in a subprocess, so the interpreter's state is known and nothing leaks into the other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT


def run_python(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter (from the repository root); it prints one JSON line last."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_imports_without_the_resource_module_and_memory_degrades_to_none():
    # As on Windows: `resource` does not exist and there is no /proc.
    out = run_python("""
        import sys
        sys.modules["resource"] = None  # `import resource` now raises ImportError
        import importlib, json, pkgutil
        import geotarget
        from geotarget.core import progress
        progress.PROC_STATUS = "/nonexistent/proc/self/status"
        failed = {}
        for m in pkgutil.walk_packages(geotarget.__path__, "geotarget."):
            if m.name.endswith("__main__"):  # runs the CLI
                continue
            try:
                importlib.import_module(m.name)
            except Exception as e:
                failed[m.name] = repr(e)
        with progress.StageLog(memory=True) as stages:
            with progress.stage("a step"):
                sum(range(1000))
        print(json.dumps({"failed": failed, "resource": progress.resource is None, "rss": progress.rss_mb(),
                          "stages": [[s.name, s.seconds >= 0, s.peak_mb] for s in stages.stages],
                          "has_run": hasattr(geotarget, "load")}))
    """)
    assert out["failed"] == {}
    assert out["resource"] is True and out["has_run"] is True
    assert out["rss"] is None
    assert out["stages"] == [["a step", True, None]]


@pytest.mark.skipif(sys.platform == "win32", reason="no /proc or resource module: memory is None there")
def test_memory_is_measured_where_it_can_be():
    from geotarget.core.progress import StageLog, stage

    with StageLog(memory=True) as stages, stage("allocate"):
        block = bytearray(20 * 1024 * 1024)
    assert len(block) and stages.stages[0].peak_mb is not None and stages.stages[0].peak_mb > 20


def test_drawing_leaves_the_matplotlib_backend_unchanged():
    # A notebook or app chooses its backend (here "svg" via MPLBACKEND); a static map and a cluster
    # chart must not switch it (e.g. with matplotlib.use("Agg")) nor open pyplot figures.
    out = run_python("""
        import json, sys, tempfile
        from pathlib import Path
        import matplotlib
        before = matplotlib.rcParams._get("backend")
        import geotarget as gt
        from geotarget.analysis.typology import cluster_areas
        from geotarget.render.charts import profile_chart
        from geotarget.render.maps import deprivation_map
        from geotarget.render.maps.static import static_map
        from tests.test_typology import planted

        s = gt.load(vintage=2025, councils=["Hartlepool"])
        mb = deprivation_map(s.lsoas, wards=s.wards, title="Hartlepool", vintage=s.vintage.label)
        with tempfile.TemporaryDirectory() as tmp:
            png = static_map(mb, Path(tmp) / "map.png", dpi=50)
            gaps, _, pop = planted()
            chart = profile_chart(cluster_areas(gaps, pop), Path(tmp) / "chart.png")
            sizes = [png.stat().st_size, chart.stat().st_size]
        plt = sys.modules.get("matplotlib.pyplot")
        print(json.dumps({"before": before, "after": matplotlib.rcParams._get("backend"), "sizes": sizes,
                          "pyplot_figures": plt.get_fignums() if plt else []}))
    """, MPLBACKEND="svg")
    assert out["before"] == "svg"
    assert out["after"] == "svg"
    assert out["pyplot_figures"] == []
    assert min(out["sizes"]) > 1000
