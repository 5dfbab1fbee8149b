"""The README's walk-through for a council that is not bundled, run command by command as written.

The fenced block after ``<!-- walkthrough ... -->`` in README.md is read here, its variables
(``$GEOTARGET_CACHE``, ``$D``, ``$HOME``) set to a temporary store and the shared raw data, and every
``geotarget`` line run through the CLI in order. Then the outputs are checked: national ward ranks
on the map, Sunderland's LSOAs in the access table, the HIA report naming Sunderland. Skipped
when ``../shared/data`` is absent.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from geotarget.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


def walkthrough() -> tuple[dict[str, str], list[list[str]]]:
    """Return the block's variables (from its ``export`` line) and its ``geotarget`` commands as argv lists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough[^>]*-->\s*```bash\n(.*?)```", text, re.S)
    assert block, "README.md has no walk-through block"
    env: dict[str, str] = {}
    commands = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] == "export":
            env.update(w.split("=", 1) for w in words[1:])
        else:
            assert words[0] == "geotarget", line
            commands.append(words[1:])
    return env, commands


def test_the_block_is_what_a_user_would_type():
    env, commands = walkthrough()
    assert set(env) == {"GEOTARGET_CACHE", "D"}
    assert [c[0] for c in commands] == ["data", "data", "run", "target", "access", "hia", "run"]
    assert all("--place" in c or "--config" in c for c in commands if c[0] in ("run", "target", "access"))


@pytest.mark.slow  # the national files added and four jobs run: about a minute (CI runs it with `-m slow`)
def test_readme_walkthrough_runs_as_written(shared_data, tmp_path, monkeypatch, capsys):
    env, commands = walkthrough()
    values = {"HOME": str(tmp_path / "home"), "D": str(shared_data)}
    values["GEOTARGET_CACHE"] = env["GEOTARGET_CACHE"].replace("$HOME", values["HOME"])
    monkeypatch.setenv("GEOTARGET_CACHE", values["GEOTARGET_CACHE"])
    monkeypatch.chdir(tmp_path)

    def expand(word: str) -> str:
        word = str(ROOT / word) if word.startswith("examples/") else word  # the repository's example files
        return re.sub(r"\$(\w+)", lambda m: values[m.group(1)], word)

    outputs = {}
    for argv in commands:
        argv = [expand(w) for w in argv]
        code = main(argv)
        captured = capsys.readouterr()
        assert code == 0, f"geotarget {' '.join(argv)} -> {code}\n{captured.err[-2000:]}"
        assert "Traceback" not in captured.err
        key = f"data {argv[1]}" if argv[0] == "data" else "study" if "--config" in argv else argv[0]
        outputs[key] = captured.out
    # the store holds every file, recognised, and says what it can do
    assert "ods-epraccur: added" in outputs["data add"] and "codepoint-open: added" in outputs["data add"]
    listing = outputs["data list"]
    for capability in ("deprivation map / action areas for any council: yes", "GP access: yes", "HIA screening: yes",
                       "population points from postcodes: yes"):
        assert capability in listing
    # the main job: Sunderland from the national files, ward ranks among every ward in England
    out = tmp_path / "sunderland"
    assert "Sunderland" in outputs["run"] and "among 6,784 wards in England" in outputs["run"]
    lsoas = pd.read_csv(out / "imd2025_lsoas.csv")
    assert len(lsoas) == 185 and set(lsoas["lad_code"]) == {"E08000024"}
    html = (out / "imd2025_map.html").read_text(encoding="utf-8")
    assert "rank among 6,784 wards in England" in html
    assert (out / "action_areas.md").read_text(encoding="utf-8").count("Sunderland") >= 1
    assert (out / "targets" / "action_areas.csv").exists()
    # GP access from the national list: every LSOA, practices over the border counted
    acc = pd.read_csv(out / "access" / "access.csv")
    assert len(acc) == 185 and acc["dist_gp_m"].notna().all()
    rejects = pd.read_csv(out / "access" / "rejects.csv")
    assert {"closed", "dormant", "not_gp_practice"} <= set(rejects["reason"])
    # the HIA screening found Sunderland from the postcode
    report = json.loads((out / "hia" / "sr1-3sd.json").read_text(encoding="utf-8"))
    assert report["council"]["code"] == "E08000024"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any("residential postcodes" in n for n in manifest["notes"])
    # the study file does the same in one run, its sections included
    study = out / "study"
    assert (study / "access" / "access.csv").exists() and (study / "hia" / "sr1-3sd.json").exists()
    assert pd.read_csv(study / "access" / "access.csv")["dist_gp_m"].equals(acc["dist_gp_m"])


pytestmark = pytest.mark.england
