"""Progress: tqdm bars on a terminal, the one-line start/end log lines otherwise, nothing with -q."""

from __future__ import annotations

import io
import logging
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geotarget.cli.main import main
from geotarget.core.progress import StageLog, bars_shown, progress, show_bars, stage

ROOT = Path(__file__).resolve().parents[1]
LOG_LINE = re.compile(r"^geotarget: (?P<name>.+?)(?: \.\.\.|: \d+\.\d s)$")
STUDY = """
title = "Progress"
[place]
councils = ["Hartlepool"]
[data]
source = "sample"
[output]
map = false
[aggregate]
to = ["ward"]
"""


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_bars_drawn_on_a_terminal_stream():
    term = FakeTerminal()
    with show_bars(term), StageLog() as stages:
        assert bars_shown()
        with stage("a step"):
            time.sleep(0.6)  # at least one redraw of the elapsed time
        assert list(progress(range(5), desc="a loop", unit="site")) == [0, 1, 2, 3, 4]
    assert not bars_shown()
    out = term.getvalue()
    assert "\rgeotarget: a step ... " in out and re.search(r"\rgeotarget: a step: \d+\.\d s *\n", out)
    assert "a loop: 100%" in out and "5/5" in out and "site/s" in out
    assert [s.name for s in stages.stages] == ["a step"]  # timings are recorded with bars too


def test_without_bars_the_loop_is_untouched_and_steps_log(caplog):
    items = [1, 2, 3]
    assert progress(items, desc="x") is items
    with caplog.at_level(logging.INFO, logger="geotarget.progress"):
        with stage("a step"):
            pass
        with stage("a quiet step", log=False):
            pass
    lines = [r.getMessage() for r in caplog.records if r.name == "geotarget.progress"]
    assert lines[0] == "a step ..." and re.fullmatch(r"a step: \d+\.\d s", lines[1]) and len(lines) == 2


def test_no_bars_off_the_main_thread():
    import threading

    seen = []
    term = FakeTerminal()
    with show_bars(term):
        t = threading.Thread(target=lambda: seen.append(bars_shown()))
        t.start()
        t.join()
    assert seen == [False] and term.getvalue() == ""


def test_nested_bars_leave_only_the_outer_one():
    term = FakeTerminal()
    with show_bars(term), stage("outer", log=False):
        for _ in progress(range(2), desc="inner"):
            pass
    out = term.getvalue()
    assert "inner:" in out and re.search(r"geotarget: outer: \d+\.\d s *\n$", out)


@pytest.fixture
def study(tmp_path):
    p = tmp_path / "study.toml"
    p.write_text(STUDY, encoding="utf-8")
    return p


def _names(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    assert all(LOG_LINE.match(line) for line in lines), lines
    return [LOG_LINE.match(line)["name"] for line in lines]


def test_cli_pipe_keeps_the_log_lines(study, tmp_path, capsys):
    assert main(["run", "--config", str(study), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "\x1b" not in err and "%|" not in err
    names = _names(err)
    assert names == ["joined data, council summary, ward profiles"] * 2 + ["[aggregate]"] * 2
    assert err.splitlines()[0].endswith(" ...") and err.splitlines()[1].endswith(" s")


def test_cli_terminal_draws_bars_and_quiet_draws_nothing(study, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main(["run", "--config", str(study), "--out", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "\rgeotarget: joined data, council summary, ward profiles ... " in err
    assert re.search(r"\rgeotarget: \[aggregate\]: \d+\.\d s *\n", err)
    assert "\rgeotarget: ward profiles ... " in err  # a step inside the main job, shown only as a bar
    assert not any(LOG_LINE.match(line) for line in err.split("\n") if "\r" not in line and line)

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main(["run", "--config", str(study), "--out", str(tmp_path / "b"), "-q"]) == 0
    assert capsys.readouterr().err == ""


def _on_a_pty(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (a fresh one reports 0 x 0: bars must still show)."""
    master, slave = os.openpty()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "geotarget.cli.main", *args], stdout=subprocess.DEVNULL,
                         stderr=slave, cwd=cwd, env=env)
    os.close(slave)
    buf = b""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # Linux: EIO once the child has closed its side
                break
            if not chunk:
                break
            buf += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    return p.wait(timeout=60), buf.decode("utf-8", "replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_real_terminal_shows_bars_for_hia_sites(tmp_path):
    """``geotarget hia --sites`` on a real pseudo-terminal: a bar per site loop, no plain log lines."""
    sites = tmp_path / "sites.csv"
    sites.write_text("name,easting,northing\nA,444600,518900\nB,441500,515000\n", encoding="utf-8")
    status, err = _on_a_pty(["hia", "--sites", str(sites), "--out", str(tmp_path / "hia")], tmp_path)
    assert status == 0, err
    assert "screening sites: 100%" in err and "2/2" in err
    status, err = _on_a_pty(["hia", "--sites", str(sites), "--out", str(tmp_path / "hia2"), "-q"], tmp_path)
    assert status == 0 and "screening sites" not in err and "\r" not in err.replace("\r\n", "\n")
