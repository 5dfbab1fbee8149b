"""Regenerate the README's measured figures from the benchmarks' results, or check that they are current.

    python benchmarks/readme_figures.py [--run SCRIPT ...] [--check] [--list] [--readme README.md]

Every speed or size in ``README.md`` sits between markers, e.g.
``about **<!-- fig:england_s -->14 s<!-- /fig -->**``. Each marker names a figure of :data:`FIGURES`:
the benchmark script that measures it, the results file it saves (``benchmarks/results/NAME.json``,
see ``record.py``) and how its numbers read. This script rewrites the text between the markers from
the results files (the README is replaced atomically, and only if something changed); ``--run``
first runs the named benchmark scripts (e.g. ``--run bench_run.py``; ``--run all`` runs every
script that a figure needs -- some take minutes and need ``../shared/data``); ``--check`` changes
nothing and exits 1, listing each span whose text differs from its results, or whose figure or
results are unknown; ``--list`` prints every figure with its source.

To add a figure: make the benchmark call ``record.save("NAME", {...})``, add a :class:`Figure` here,
run the benchmark, put ``<!-- fig:KEY --><!-- /fig -->`` in the README and run this script.
``tests/test_readme_figures.py`` checks the README against the results, recomputes the cheap figures
and looks for measured figures left outside markers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
README = ROOT / "README.md"
RESULTS = HERE / "results"

#: ``<!-- fig:KEY -->text<!-- /fig -->`` on one line.
MARKER = re.compile(r"<!-- fig:(?P<key>[A-Za-z0-9_.-]+) -->(?P<text>[^\n]*?)<!-- /fig -->")


def mb(v: float) -> str:
    """Read megabytes as the README does: one decimal below 10 MB, whole above."""
    return f"{v:.1f} MB" if v < 10 else f"{v:.0f} MB"


def seconds(v: float) -> str:
    """Read seconds as the README does: one decimal below 10 s, whole above."""
    return f"{v:.1f} s" if v < 10 else f"{v:.0f} s"


def cpu_seconds(v: float) -> str:
    """Read CPU seconds: the time a step costs, which other work on a shared machine does not stretch."""
    return f"{seconds(v)} of CPU time"


@dataclass(frozen=True)
class Figure:
    """A README figure: which benchmark measures it, where it is saved, how it reads."""

    script: str  #: the benchmark in ``benchmarks/`` that measures it
    result: str  #: its results file, ``benchmarks/results/<result>.json``
    keys: tuple[str, ...]  #: the figures of that file it is made of
    text: Callable[..., str]  #: the README's text, from those figures in order
    cheap: bool = False  #: recomputed by tests/test_readme_figures.py without ../shared/data

    def render(self, results: dict) -> str:
        """Return the README text of this figure from the results files' contents (``{name: record}``)."""
        figures = results[self.result]["figures"]
        return self.text(*(figures[k] for k in self.keys))


FIGURES: dict[str, Figure] = {
    # geotarget run on the bundled sample (cheap: the tests recompute them)
    "run_map_mb": Figure("bench_run.py", "run", ("map_mb",), mb, cheap=True),
    "run_assets": Figure("bench_run.py", "run", ("assets",), "{:,}".format, cheap=True),
    "run_postcodes": Figure("bench_run.py", "run", ("postcodes",), lambda n: f"{round(n, -2):,}", cheap=True),
    "sample_mb": Figure("bench_run.py", "run", ("sample_mb",), mb, cheap=True),
    "wheel_mb": Figure("bench_wheel.py", "wheel", ("wheel_mb",), mb),
    # the England map against geopandas .explore()
    "maps_england_mb": Figure("bench_maps.py", "maps", ("england_mb",), mb),
    "maps_explore_mb": Figure("bench_maps.py", "maps", ("explore_mb",), mb),
    "maps_explore_ratio": Figure("bench_maps.py", "maps", ("explore_ratio",), lambda r: f"{r:.0f}x"),
    "browser_ready_s": Figure("bench_browser.py", "browser", ("ready_min_s", "ready_max_s"),
                              lambda lo, hi: seconds(hi) if round(lo) == round(hi) else
                              f"{lo:.0f}–{hi:.0f} s"),
    # the England study (examples/england.toml: the main job and [aggregate])
    "england_s": Figure("bench_england.py", "england", ("total_cpu_s",), cpu_seconds),
    "england_peak_gb": Figure("bench_england.py", "england", ("peak_mb",), lambda m: f"{m / 1024:.1f} GB"),
    "england_gpkg_mb": Figure("bench_england.py", "england", ("gpkg_mb",), mb),
    "england_floor_s": Figure("bench_england.py", "england", ("floor_s",), seconds),
    "england_map_s": Figure("bench_england.py", "england_map", ("map_cpu_s",), cpu_seconds),
    "england_map_mb": Figure("bench_england.py", "england_map", ("map_mb",), mb),
    # analyses over all England
    "target_s": Figure("bench_target.py", "target", ("target_cpu_s",), cpu_seconds),
    "access_nearest_s": Figure("bench_access.py", "access", ("nearest_cpu_s",), seconds),
    "access_full_s": Figure("bench_access.py", "access", ("full_cpu_s",), seconds),
    "access_england_s": Figure("bench_access_england.py", "access_england", ("nearest_cpu_s",), cpu_seconds),
    "access_england_postcodes": Figure("bench_access_england.py", "access_england", ("postcodes",),
                                       lambda n: f"{n / 1e6:.1f} million"),
    # the HIA service under load (20 clients on 127.0.0.1) and one screening in-process
    "serve_p95_s": Figure("bench_serve.py", "serve", ("p95_cold_s",), lambda v: f"{v:.2f} s"),
    "serve_p50_s": Figure("bench_serve.py", "serve", ("p50_cold_s",), lambda v: f"{v:.2f} s"),
    "serve_throughput": Figure("bench_serve.py", "serve", ("throughput",), lambda v: f"{v:.0f}"),
    "serve_workers": Figure("bench_serve.py", "serve", ("workers",), "{:d}".format),
}


def load_results(names) -> dict:
    """Return ``{name: record}`` for each results file that exists."""
    out = {}
    for name in sorted(set(names)):
        p = RESULTS / f"{name}.json"
        if p.is_file():
            out[name] = json.loads(p.read_text(encoding="utf-8"))
    return out


def spans(text: str) -> list[re.Match]:
    """Return every figure marker in ``text``."""
    return list(MARKER.finditer(text))


def expected(key: str, results: dict) -> str:
    """Return the text figure ``key`` should have; raise ``KeyError`` with the reason when it cannot."""
    if key not in FIGURES:
        raise KeyError(f"unknown figure {key!r} (known: see FIGURES in benchmarks/readme_figures.py)")
    fig = FIGURES[key]
    if fig.result not in results:
        raise KeyError(f"no results for {key!r}: run python benchmarks/{fig.script} "
                       f"(it saves benchmarks/results/{fig.result}.json)")
    missing = [k for k in fig.keys if k not in results[fig.result]["figures"]]
    if missing:
        raise KeyError(f"benchmarks/results/{fig.result}.json has no {', '.join(missing)} for {key!r}: rerun "
                       f"python benchmarks/{fig.script}")
    return fig.render(results)


def regenerate(text: str, results: dict) -> tuple[str, list[str]]:
    """Return ``text`` with every span rewritten, and the problems (unknown figures, missing results)."""
    problems: list[str] = []

    def sub(m: re.Match) -> str:
        try:
            new = expected(m["key"], results)
        except KeyError as e:
            problems.append(f"line {text.count(chr(10), 0, m.start()) + 1}: {e.args[0]}")
            return m[0]
        return f"<!-- fig:{m['key']} -->{new}<!-- /fig -->"

    return MARKER.sub(sub, text), problems


def stale(text: str, results: dict) -> list[str]:
    """Return one line per span whose text is not what its results say (or that cannot be checked)."""
    out = []
    for m in spans(text):
        line = text.count("\n", 0, m.start()) + 1
        try:
            want = expected(m["key"], results)
        except KeyError as e:
            out.append(f"line {line}: {e.args[0]}")
            continue
        if m["text"] != want:
            out.append(f"line {line}: fig:{m['key']} reads {m['text']!r}; its results say {want!r}")
    return out


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` by writing a temporary file beside it and renaming it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_scripts(names: list[str]) -> None:
    """Run benchmark scripts (``all``: every script a figure needs), stopping at the first failure."""
    scripts = sorted({f.script for f in FIGURES.values()}) if names == ["all"] else names
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    for s in scripts:
        s = s if s.endswith(".py") else f"{s}.py"
        print(f"running benchmarks/{s} ...", flush=True)
        subprocess.run([sys.executable, str(HERE / Path(s).name)], check=True, env=env, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    """Command line: rewrite the README's figures, or check them (``--check``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readme", type=Path, default=README)
    ap.add_argument("--run", nargs="+", metavar="SCRIPT", help="run these benchmarks first ('all': every one)")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a figure is stale")
    ap.add_argument("--list", action="store_true", help="list the figures and where they come from")
    args = ap.parse_args(argv)
    if args.list:
        for key, f in FIGURES.items():
            print(f"{key:<26} benchmarks/{f.script} -> results/{f.result}.json {', '.join(f.keys)}")
        return 0
    if args.run:
        run_scripts(args.run)
    text = args.readme.read_text(encoding="utf-8")
    results = load_results(f.result for f in FIGURES.values())
    if args.check:
        problems = stale(text, results)
        for p in problems:
            print(f"{args.readme}: {p}")
        print(f"{len(spans(text))} figures, {len(problems)} stale" if problems else
              f"{len(spans(text))} figures, all current")
        return 1 if problems else 0
    new, problems = regenerate(text, results)
    for p in problems:
        print(f"{args.readme}: {p}", file=sys.stderr)
    changed = sum(a["text"] != b["text"] for a, b in zip(spans(text), spans(new), strict=True))
    if new != text:
        write_atomic(args.readme, new)
    print(f"{args.readme}: {len(spans(new))} figures, {changed} rewritten")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
