"""Corpus cases for output safety (issue 15, classes 3 and 4): outputs over inputs, locks, folders, verify.

Each case's ``argv(tmp)`` builds what it needs in ``tmp`` (copies of bundled files, a crafted output
folder) and returns the ``geotarget`` arguments; the command must exit with ``exit`` and print
``message`` (a regular expression; here each is a literal text, escaped) on stderr, without a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

from tests.corpus_cases import Case

ROOT = Path(__file__).resolve().parent.parent
IMD = ROOT / "data" / "imd" / "iod2025_lsoa21_tees_valley.csv"
POP = ROOT / "data" / "population" / "iod2025_population_denominators_lsoa21_tees_valley.csv"
LOOKUP = ROOT / "data" / "lookups" / "lsoa21_msoa21_ward25_lad25_tees_valley.csv"


def _inputs(tmp: Path) -> dict[str, Path]:
    """Copy the bundled IoD, population and lookup files in ``tmp/in`` (never the repository's own)."""
    d = tmp / "in"
    d.mkdir(exist_ok=True)
    return {k: Path(shutil.copy(src, d / src.name)) for k, src in (("imd", IMD), ("population", POP),
                                                                    ("lookup", LOOKUP))}


def _aggregate(tmp: Path, out: Path) -> list[str]:
    f = _inputs(tmp)
    return ["aggregate", "-q", "--imd", str(f["imd"]), "--population", str(f["population"]), "--lookup",
            str(f["lookup"]), "--to", "ward", "--out", str(out)]


def _onto_input(tmp: Path) -> list[str]:
    return _aggregate(tmp, tmp / "in" / IMD.name)


def _symlink_to_input(tmp: Path) -> list[str]:
    argv = _aggregate(tmp, tmp / "out.csv")
    (tmp / "out.csv").symlink_to(tmp / "in" / IMD.name)
    return argv


def _hardlink_to_input(tmp: Path) -> list[str]:
    argv = _aggregate(tmp, tmp / "out.csv")
    os.link(tmp / "in" / POP.name, tmp / "out.csv")
    return argv


def _aggregate_out_folder(tmp: Path) -> list[str]:
    (tmp / "folder.csv").mkdir()
    return _aggregate(tmp, tmp / "folder.csv")


def _out_is_file(tmp: Path) -> list[str]:
    (tmp / "out").write_text("not a folder\n")
    return ["target", "-q", "--out", str(tmp / "out")]


def _out_under_a_file(tmp: Path) -> list[str]:
    (tmp / "notes.txt").write_text("a file\n")
    return ["target", "-q", "--out", str(tmp / "notes.txt" / "out")]


def _out_has_user_files(tmp: Path) -> list[str]:
    (tmp / "out").mkdir()
    (tmp / "out" / "my notes.txt").write_text("mine\n")
    return ["target", "-q", "--out", str(tmp / "out")]


def _out_locked(tmp: Path) -> list[str]:
    import socket

    (tmp / ".out.geotarget.lock").write_text(json.dumps({"pid": 1, "host": socket.gethostname(),
                                                          "started": "2026-01-01T00:00:00+00:00"}))
    return ["target", "-q", "--out", str(tmp / "out")]


def _out_locked_elsewhere(tmp: Path) -> list[str]:
    (tmp / ".out.geotarget.lock").write_text(json.dumps({"pid": 4242, "host": "another-machine",
                                                          "started": "2026-01-01T00:00:00+00:00"}))
    return ["target", "-q", "--out", str(tmp / "out")]


def _study_folder_dot(tmp: Path) -> list[str]:
    f = _inputs(tmp)
    (tmp / "in" / "study.toml").write_text(
        'vintage = 2025\n[place]\ncouncils = ["Hartlepool"]\n[data]\nsource = "files"\n'
        f'imd = "{f["imd"].name}"\npopulation = "{f["population"].name}"\n'
        f'boundaries = "{ROOT / "boundaries" / "tees_valley.gpkg"}"\nboundaries_layer = "lsoa21"\n'
        f'lookup = "{f["lookup"].name}"\n[output]\nfolder = "."\n')
    return ["run", "-q", "--config", str(tmp / "in" / "study.toml")]


def _map_onto_layer(tmp: Path) -> list[str]:
    layer = Path(shutil.copy(ROOT / "boundaries" / "tees_valley.gpkg", tmp / "tv.gpkg"))
    return ["map", "-q", "--layers", f"{layer}#lad2025", "--out", str(layer)]


def _folder(tmp: Path, *, status: str = "ok") -> Path:
    """Make a small output folder with a correct manifest (two files)."""
    d = tmp / "outputs"
    (d / "sub").mkdir(parents=True)
    (d / "a.csv").write_text("x\n1\n")
    (d / "sub" / "b.txt").write_text("b\n")
    entries = [{"path": p, "sha256": hashlib.sha256((d / p).read_bytes()).hexdigest(), "bytes": (d / p).stat().st_size}
               for p in ("a.csv", "sub/b.txt")]
    (d / "manifest.json").write_text(json.dumps({"manifest_version": 1, "command": "test", "status": status,
                                                 "outputs": entries}))
    return d


def _verify_changed(tmp: Path) -> list[str]:
    d = _folder(tmp)
    (d / "a.csv").write_text("x\n2\n")
    return ["verify", str(d)]


def _verify_missing(tmp: Path) -> list[str]:
    d = _folder(tmp)
    (d / "sub" / "b.txt").unlink()
    return ["verify", str(d)]


def _verify_extra(tmp: Path) -> list[str]:
    d = _folder(tmp)
    (d / "stray.html").write_text("<p>from another run</p>\n")
    return ["verify", str(d)]


def _verify_failed(tmp: Path) -> list[str]:
    return ["verify", str(_folder(tmp, status="failed"))]


def _verify_no_manifest(tmp: Path) -> list[str]:
    (tmp / "empty").mkdir()
    return ["verify", str(tmp / "empty")]


def _verify_corrupt_manifest(tmp: Path) -> list[str]:
    d = _folder(tmp)
    (d / "manifest.json").write_text('{"outputs": [')
    return ["verify", str(d)]


_INPUT = re.escape("is an input of this run and would be overwritten")
_SAME = re.escape("but is one of the input files of this run")

CASES = [
    Case("aggregate-out-is-input", _onto_input, 2, _SAME),
    Case("aggregate-out-symlink-to-input", _symlink_to_input, 2, _INPUT),
    Case("aggregate-out-hardlink-to-input", _hardlink_to_input, 2, _INPUT),
    Case("aggregate-out-is-folder", _aggregate_out_folder, 2, re.escape("which is a folder: give a file name")),
    Case("out-is-a-file", _out_is_file, 2, re.escape("which is a file, not a folder")),
    Case("out-under-a-file", _out_under_a_file, 2, re.escape("notes.txt is a file, not a folder"),
         absent=(".out.geotarget.lock",)),
    Case("out-holds-user-files", _out_has_user_files, 2,
         re.escape("holds files that are not outputs of a geotarget run (my notes.txt)")),
    Case("out-locked-by-live-run", _out_locked, 2,
         re.escape("is being written by another geotarget run (pid 1) since 2026-01-01T00:00:00+00:00"),
         absent=("out",)),
    Case("out-locked-on-another-host", _out_locked_elsewhere, 2, re.escape("(pid 4242 on another-machine)"),
         absent=("out",)),
    Case("study-folder-dot-holds-inputs", _study_folder_dot, 2,
         re.escape("[output] folder: folder was '") + ".*" + _INPUT),
    Case("map-out-is-layer", _map_onto_layer, 2, _SAME, absent=("tv.gpkg.manifest.json",)),
    Case("verify-changed-file", _verify_changed, 1, re.escape("a.csv: changed since the manifest was written")),
    Case("verify-missing-file", _verify_missing, 1, re.escape("b.txt: listed in the manifest but missing")),
    Case("verify-extra-file", _verify_extra, 1, re.escape("stray.html: not in the manifest")),
    Case("verify-status-failed", _verify_failed, 1, re.escape("status is 'failed', not 'ok'")),
    Case("verify-no-manifest", _verify_no_manifest, 1, re.escape("no manifest")),
    Case("verify-corrupt-manifest", _verify_corrupt_manifest, 1, re.escape("not a readable geotarget manifest")),
]
