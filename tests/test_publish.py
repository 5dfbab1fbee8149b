"""Outputs are published whole, under a lock, never over an input, and checked by ``geotarget verify``.

Issue 15, defect classes 3 (inputs overwritten) and 4 (half-finished runs that look finished).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geotarget.cli.main import main
from geotarget.core.errors import ParameterError
from geotarget.io.provenance import Provenance, read_manifest, verify_outputs, without_time
from geotarget.io.publish import TEST_PAUSE, OutputBusyError, clean_stale, lock_path, publishing
from tests.corpus_publish import CASES, IMD, ROOT

RUN = ["run", "-q", "--place", "tees_valley", "--la", "Hartlepool", "--no-map"]


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def test_study_with_output_folder_dot_names_input_and_folder(tmp_path, capsys):
    argv = CASES[[c.id for c in CASES].index("study-folder-dot-holds-inputs")].argv(tmp_path)
    digests = _digests(tmp_path / "in")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"--out was '{tmp_path / 'in'}'" in err or f"'{tmp_path / 'in'}'" in err
    assert "study.toml is an input" in err or IMD.name in err
    assert _digests(tmp_path / "in") == digests
    assert _leftovers(tmp_path / "in") == []


def test_provenance_refuses_folder_holding_link_to_input(tmp_path):
    src = Path(shutil.copy(IMD, tmp_path / "imd.csv"))
    prov = Provenance(tmp_path / "out", command="test")
    prov.add_input(src, role="imd")
    (tmp_path / "out").mkdir()
    os.link(src, tmp_path / "out" / "hard.csv")
    with pytest.raises(ParameterError, match=r"out was '.*out' but .*imd.csv is an input of this run"):
        prov.check_output(tmp_path / "out")
    (tmp_path / "out" / "hard.csv").unlink()
    (tmp_path / "out" / "soft.csv").symlink_to(src)
    with pytest.raises(ParameterError, match="imd.csv is an input"):
        prov.check_output(tmp_path / "out")
    (tmp_path / "elsewhere").symlink_to(tmp_path, target_is_directory=True)  # a folder that holds the input
    with pytest.raises(ParameterError, match="imd.csv is an input"):
        prov.check_output(tmp_path / "elsewhere")
    # an input recorded after the output folder is declared is refused as it is recorded
    prov2 = Provenance(tmp_path / "x", command="test")
    prov2.protect(tmp_path)
    with pytest.raises(ParameterError, match="imd.csv is an input"):
        prov2.add_input(src, role="imd")


def test_run_publishes_whole_and_reproduces(tmp_path):
    out = tmp_path / "maps"
    assert main([*RUN, "--out", str(out)]) == 0
    first, m1 = _digests(out), read_manifest(out)
    assert verify_outputs(out) == []
    listed = {e["path"] for e in m1["outputs"]}
    assert listed == set(first) - {"manifest.json"}  # every file, and only those, with its SHA-256
    assert all(len(e["sha256"]) == 64 for e in m1["outputs"])
    assert main([*RUN, "--out", str(out)]) == 0  # replaced as a whole, byte for byte the same
    assert {k: v for k, v in _digests(out).items() if k != "manifest.json"} == \
        {k: v for k, v in first.items() if k != "manifest.json"}
    assert without_time(read_manifest(out)) == without_time(m1)
    assert _leftovers(out) == []


def test_failure_mid_write_keeps_previous_outputs(tmp_path, monkeypatch):
    out = tmp_path / "maps"
    assert main([*RUN, "--out", str(out)]) == 0
    before = _digests(out)

    def broken(*a, **k):
        raise OSError(28, "No space left on device")

    import geotarget.jobs.run as job

    monkeypatch.setattr(job, "write_csv", broken)
    with pytest.raises(OSError, match="No space left"):
        job.run(out=out, make_map=False)
    assert _digests(out) == before and verify_outputs(out) == []
    assert _leftovers(out) == []  # staging folder removed, lock released


def test_lock_held_by_live_process_refuses_then_stale_lock_taken_over(tmp_path, caplog):
    out = tmp_path / "out"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock_path(out).write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname(),
                                              "started": "2026-12-01T23:00:00+00:00"}))
        with pytest.raises(OutputBusyError, match=rf"out is being written by another geotarget run "
                                                  rf"\(pid {sleeper.pid}\) since 2026-12-01T23:00:00"):
            with publishing(out, command="test"):
                pass
    finally:
        sleeper.kill()
        sleeper.wait()
    (tmp_path / ".out.geotarget-staging.999999").mkdir()  # left by the killed run
    with publishing(out, command="test") as pub:
        (pub.dir / "a.txt").write_text("a\n")
    assert "no longer running" in caplog.text
    assert _leftovers(out) == [] and verify_outputs(out) == []


def test_killed_between_renames_puts_previous_outputs_back(tmp_path):
    out = tmp_path / "out"
    with publishing(out, command="test") as pub:
        (pub.dir / "a.txt").write_text("a\n")
    os.rename(out, tmp_path / ".out.geotarget-old.999999")  # as a run killed after its first rename leaves it
    clean_stale(out)
    assert (out / "a.txt").read_text() == "a\n" and verify_outputs(out) == []


def test_current_folder_is_not_an_output_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["target", "-q", "--out", "."]) == 2
    assert "which is the current folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _wait_for(predicate, seconds: float = 90) -> None:
    end = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.2)


def test_sigkill_mid_run_keeps_previous_outputs(tmp_path, caplog):
    out = tmp_path / "maps"
    assert main([*RUN, "--out", str(out)]) == 0
    before, manifest = _digests(out), read_manifest(out)
    env = {**os.environ, TEST_PAUSE: "120", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "geotarget", *RUN, "--out", str(out)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        staged = tmp_path / f".maps.geotarget-staging.{proc.pid}"
        _wait_for(lambda: (staged / "manifest.json").exists() or proc.poll() is not None)
        assert proc.poll() is None
        # a second run into the folder while the first holds it: refused at once, naming the first
        with pytest.raises(OutputBusyError, match=rf"maps is being written by another geotarget run "
                                                  rf"\(pid {proc.pid}\) since "):
            from geotarget.jobs.run import run

            run(out=out, make_map=False)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert _digests(out) == before and read_manifest(out) == manifest
    assert verify_outputs(out) == []
    assert main(["verify", str(out)]) == 0
    assert _leftovers(out) == [f".maps.geotarget-staging.{proc.pid}", ".maps.geotarget.lock"]
    assert main([*RUN, "--out", str(out)]) == 0  # the next run takes over and cleans up
    assert "no longer running" in caplog.text
    assert _leftovers(out) == [] and verify_outputs(out) == []


def test_verify_command(tmp_path, capsys):
    out = tmp_path / "maps"
    assert main([*RUN, "--out", str(out)]) == 0
    capsys.readouterr()
    n = len(read_manifest(out)["outputs"])
    assert main(["verify", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"verified: {n} files")
    csv = next(out.glob("*_wards.csv"))
    csv.write_text(csv.read_text() + "\n")
    (out / "action_areas.md").unlink()
    (out / "extra.csv").write_text("a\n")
    assert main(["verify", str(out)]) == 1
    captured = capsys.readouterr()
    err = captured.out
    assert f"{csv}: changed since the manifest was written" in err
    assert f"{out / 'action_areas.md'}: listed in the manifest but missing" in err
    assert f"{out / 'extra.csv'}: not in the manifest" in err
    assert "3 problem(s)" in captured.err and len(captured.err.splitlines()) == 1


def test_aggregate_single_file_manifest_verifies(tmp_path, capsys):
    out = tmp_path / "wards.csv"
    assert main(["aggregate", "-q", "--imd", "sample", "--to", "ward", "--out", str(out)]) == 0
    assert main(["verify", str(tmp_path / "wards.csv.manifest.json")]) == 0
    assert not lock_path(out).exists()
