"""Run the bad-input corpus (every ``tests/corpus_*.py`` module's ``CASES``) through the command line.

Each case must exit with its status and print exactly one error line matching its message, never a
Python traceback, and must not leave the outputs it names (issue 15, classes 8 and 9). A sample of
cases also runs in a subprocess, through the real entry point.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tests
from geotarget.cli.main import main
from tests.corpus_cases import Case

ROOT = Path(__file__).resolve().parents[1]


def _collect() -> list[Case]:
    cases: list[Case] = []
    for info in pkgutil.iter_modules(tests.__path__):
        if info.name.startswith("corpus_") and info.name != "corpus_cases":
            cases += importlib.import_module(f"tests.{info.name}").CASES
    return cases


CASES = _collect()
_IDS = [c.id for c in CASES]


def test_case_ids_are_unique_and_many():
    assert len(set(_IDS)) == len(_IDS), [i for i in _IDS if _IDS.count(i) > 1]
    assert len([c for c in CASES if c.argv.__module__ == "tests.corpus_cli"]) >= 45


def _error_lines(err: str) -> list[str]:
    """Return the lines of stderr that report an error (``geotarget COMMAND: error: ...``), not progress or warnings."""
    return [line for line in err.splitlines() if re.match(r"geotarget[\w ]*: (internal )?error\b", line)]


def _check(case: Case, code: int, out: str, err: str, tmp: Path) -> None:
    assert "Traceback" not in err and "Traceback" not in out, err
    assert "internal error" not in err, f"{case.id}: reached the last resort: {err}"
    lines = _error_lines(err)
    assert len(lines) == 1, f"{case.id}: expected one error line, got {lines!r} in {err!r}"
    assert re.search(case.message, lines[0]), f"{case.id}: {lines[0]!r} does not match {case.message!r}"
    assert code == case.exit, f"{case.id}: exit {code}, expected {case.exit}: {err}"
    for rel in case.absent:
        assert not (tmp / rel).exists(), f"{case.id}: {rel} was written although the run failed"


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as e:  # argparse's usage errors
        return e.code if isinstance(e.code, int) else 1


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_case(case: Case, tmp_path, capsys, monkeypatch):
    if case.needs_permissions and hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("running as root: file permissions are not enforced")
    monkeypatch.chdir(tmp_path)  # a case that writes by default writes here
    argv = case.argv(tmp_path)
    hidden = _hidden(tmp_path)  # what the case set up (e.g. another run's lock) is not a leftover
    given = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()}
    if case.patch is not None:
        case.patch(monkeypatch)
    code = _run(argv)
    cap = capsys.readouterr()
    _check(case, code, cap.out, cap.err, tmp_path)
    for p, data in given.items():  # nothing lost: every file the case was given is still there, unchanged
        assert p.exists() and p.read_bytes() == data, f"{case.id}: {p} was changed or removed"
    leftovers = sorted(_hidden(tmp_path) - hidden)
    assert not leftovers, f"{case.id}: temporary files left behind: {leftovers}"


def _hidden(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob(".*")}


_SUBPROCESS = [c for c in CASES if c.subprocess]


@pytest.mark.parametrize("case", _SUBPROCESS, ids=[c.id for c in _SUBPROCESS])
def test_case_in_a_subprocess(case: Case, tmp_path):
    argv = case.argv(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "geotarget", *argv], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
    _check(case, proc.returncode, proc.stdout, proc.stderr, tmp_path)


def test_internal_error_is_one_line_exit_3(monkeypatch, capsys, tmp_path):
    """A bug (not a user-caused condition) is still one line, with exit 3 and a hint to report it."""
    import geotarget.jobs.profiles as profiles

    def broken(*a, **k):
        raise KeyError("lsoa_code")

    monkeypatch.setattr(profiles, "profile_areas", broken)
    code = _run(["aggregate", "--to", "lad", "--out", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err
    assert err.strip().splitlines() == [
        "geotarget: internal error: KeyError: 'lsoa_code' (please report; run with -v for the traceback)"]
    code = _run(["aggregate", "--to", "lad", "--out", str(tmp_path / "o.csv"), "-v"])
    assert code == 3 and "Traceback" in capsys.readouterr().err  # -v shows it


def test_preflight_failure_leaves_an_existing_output_folder_unchanged(tmp_path, capsys):
    """A study-file problem found before work starts changes nothing in the output folder (issue 15, class 9)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.csv").write_text("a\n1\n", encoding="utf-8")
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*")}
    study = tmp_path / "study.toml"
    study.write_text("[hia]\nbuffer = [800]\n", encoding="utf-8")
    assert _run(["run", "--config", str(study), "--out", str(out)]) == 2
    assert "[hia]: give a site" in capsys.readouterr().err
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in out.rglob("*")} == before


def test_preflight_api(tmp_path):
    """:func:`preflight` is what run_study calls first; it reports an input given but not used by its key."""
    from geotarget.core.errors import ConfigError
    from geotarget.study.pipeline import preflight
    from geotarget.study.schema import parse_study
    from tests.corpus_cli import BOUNDARIES, IMD, LOOKUP

    text = (f'[data]\nsource = "files"\nimd = "{IMD}"\nboundaries = "{BOUNDARIES}"\nlookup = "{LOOKUP}"\n'
            f'assets = ["{IMD}"]\n[place]\ncouncils = ["Hartlepool"]\n')
    with pytest.raises(ConfigError, match=r"line 6: \[data\] assets: assets is given but not used"):
        preflight(parse_study(text, path=tmp_path / "s.toml"))
    preflight(parse_study(text + "[access]\n", path=tmp_path / "s.toml"))  # used: fine
