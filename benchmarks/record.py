"""Where benchmarks keep their figures: ``benchmarks/results/NAME.json``, read by ``readme_figures.py``.

A benchmark that feeds the README ends with::

    from record import save
    save("maps", {"tees_mb": 1.25, ...}, argv=sys.argv)

which writes ``benchmarks/results/maps.json`` (atomically: a temporary file renamed into place)::

    {"benchmark": "maps", "command": "python benchmarks/bench_maps.py ...", "measured": "2026-...Z",
     "machine": {"cpus": 2, "python": "3.11.2", "platform": "Linux-...", "load_average": 1.9},
     "figures": {"tees_mb": 1.25, ...}}

``figures`` holds plain numbers (and short strings); how they read in the README is
``readme_figures.py``'s job. The file is committed with the code, so the README can be checked
against it without running anything.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shlex
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def default_source() -> Path:
    """Return the raw public data, ``shared/data`` beside the repository (or beside its worktree folder)."""
    here = Path(__file__).resolve()
    candidates = [here.parents[i] / "shared" / "data" for i in (2, 3)]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def path_of(name: str) -> Path:
    """Return the results file of benchmark ``name``."""
    return RESULTS / f"{name}.json"


def load(name: str) -> dict:
    """Return the saved results of benchmark ``name`` (``FileNotFoundError`` if it was never saved)."""
    return json.loads(path_of(name).read_text(encoding="utf-8"))


def save(name: str, figures: Mapping[str, float | int | str], *, argv: Sequence[str] | None = None,
         merge: bool = False) -> Path:
    """Write ``figures`` to ``benchmarks/results/NAME.json`` atomically; return the path.

    Parameters
    ----------
    name
        The benchmark's name (the file's stem).
    figures
        Numbers measured by the run.
    argv
        The command line that produced them (default ``sys.argv``), recorded as ``command``.
    merge
        Keep figures already saved under other keys (a benchmark run in parts, e.g. with and
        without ``--map``); each part's command is kept in ``commands``.
    """
    argv = list(sys.argv if argv is None else argv)
    script = Path(argv[0])
    command = shlex.join(["python", f"benchmarks/{script.name}", *argv[1:]])
    old = load(name) if merge and path_of(name).is_file() else {}
    record = {
        "benchmark": name,
        "command": command,
        "measured": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average": _load()},
        "figures": {**old.get("figures", {}), **{k: _plain(v) for k, v in figures.items()}},
    }
    if merge:
        record["commands"] = {**old.get("commands", {}), **{k: command for k in figures}}
    RESULTS.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=RESULTS, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=2, sort_keys=False)
            f.write("\n")
        os.replace(tmp, path_of(name))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"results: {path_of(name)}")
    return path_of(name)


def _load() -> float | None:
    """Return the 1-minute load average when the run ended (other work on the machine slows it), if known."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _plain(v):
    """Numbers as JSON numbers (numpy scalars included), rounded to 4 significant places past the point."""
    if isinstance(v, str):
        return v
    if float(v).is_integer() and not isinstance(v, float):
        return int(v)
    return round(float(v), 4)
