"""Library errors name Python parameters; only the CLI speaks of ``--flags`` (issue 13, item 2).

The library's messages name the parameter (``site was '' but is expected to be ...``); the CLI
rewrites the names it knows as its flags (:func:`geotarget.cli.options.flag_message`), data
options included (``councils`` -> ``--la``); a study file names its ``[section] key``.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from geotarget import ConfigError, SchemaError, load
from geotarget.cli.main import main
from geotarget.cli.options import flag_message, flag_names
from geotarget.core.errors import ParameterError
from geotarget.hia.screen import parse_buffers
from geotarget.io.sites import parse_site
from geotarget.jobs.params import AggregateParams, HiaParams, InequalityParams, TargetParams
from geotarget.jobs.profiles import write_profiles_csv
from geotarget.study.pipeline import run_study
from tests.conftest import ROOT

PACKAGE = ROOT / "geotarget"
FLAG = re.compile(r"(?<![\w-])--[a-z{]")
#: A command quoted as code (`python data/build_sample.py --source ...`) is another tool's, not geotarget's CLI.
QUOTED = re.compile(r"`[^`]*`")
IMD = ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv"
POP = ROOT / "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv"


def _texts(node: ast.AST):
    """Every string in ``node``; an f-string also whole, with ``{`` for each value (to see ``--{key}``)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            yield n.value
        elif isinstance(n, ast.JoinedStr):
            yield "".join(v.value if isinstance(v, ast.Constant) else "{" for v in n.values)


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _message_nodes(tree: ast.AST):
    """Raise statements, calls of ``...Error(...)``, ``notes.append(...)`` and ``log.warning(...)``-like calls."""
    for n in ast.walk(tree):
        if isinstance(n, ast.Raise) and n.exc is not None:
            yield n
        elif isinstance(n, ast.Call):
            name = _name(n.func)
            owner = _name(n.func.value) if isinstance(n.func, ast.Attribute) else ""
            if name.endswith("Error") or (name == "append" and "notes" in owner) or \
                    (owner in ("log", "logger", "logging") and name in ("debug", "info", "warning", "error")):
                yield n


def test_library_messages_name_no_cli_flags():
    """No message raised, noted or logged below geotarget/cli/ names a ``--flag``."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if (PACKAGE / "cli") in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _message_nodes(tree):
            for text in _texts(node):
                if FLAG.search(QUOTED.sub("", text)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text!r}")
    assert not found, "CLI flags in library messages (name the Python parameter instead):\n" + "\n".join(
        sorted(set(found)))


def test_the_scan_finds_a_flag():
    tree = ast.parse('def f(notes):\n    notes.append("use --out")\n    raise SchemaError(f"{x}: pass --imd PATH")\n'
                     '    log.warning(f"name it with --{key}")\n')
    lines = {node.lineno for node in _message_nodes(tree) for t in _texts(node) if FLAG.search(QUOTED.sub("", t))}
    assert lines == {2, 3, 4}
    assert not FLAG.search(QUOTED.sub("", "rebuild it with `python build.py --source DIR`"))


# ----------------------------------------------------------------------------- the library names parameters

def test_library_messages_name_the_python_parameter(tmp_path):
    with pytest.raises(ParameterError, match="^site was 'the old gasworks' but is expected to be a file") as e:
        parse_site("the old gasworks")
    assert e.value.parameter == "site"
    with pytest.raises(ParameterError, match=r"^buffers was \(\) but is expected to be distances in metres, "
                                             r"e\.g\. \(800, 2000\)$"):
        parse_buffers(())
    p = tmp_path / "a.csv"
    p.write_text("x\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="^path was .* but is one of the input files"):
        write_profiles_csv(pd.DataFrame({"a": [1]}), p, inputs=[str(p)])


def _imd_without_council_names(tmp_path) -> Path:
    p = tmp_path / "imd.csv"
    pd.read_csv(IMD).drop(columns=["lad24nm"]).to_csv(p, index=False)
    return p


def test_a_data_option_is_named_by_its_field(tmp_path):
    imd = _imd_without_council_names(tmp_path)
    with pytest.raises(SchemaError, match="no council names in the file to select `councils` by") as e:
        load(source="files", imd=imd, population=POP, councils=["Hartlepool"])
    assert "--la" not in str(e.value) and e.value.related == ("councils",)


# ----------------------------------------------------------------------------- the CLI names flags

def test_flag_names_know_fields_job_arguments_and_data_options():
    names = flag_names(HiaParams)
    assert names["site"] == "--site" and names["buffer"] == names["buffers"] == "--buffer"
    assert names["map"] == names["with_map"] == "--no-map" and names["out"] == "--out"
    target = flag_names(TargetParams)
    assert target["councils"] == "--la" and target["imd"] == "--imd" and target["max_decile"] == "--max-decile"
    assert flag_message(AggregateParams, SchemaError("x: select `councils` by").naming("councils")) == \
        "x: select --la by"
    # a marked name is renamed, the same word in prose is not
    e = SchemaError("a.gpkg: 3 layers in layer.gpkg; name one with `layer`").naming("layer")
    assert flag_message(InequalityParams, e, {"layer": "--layer"}) == "a.gpkg: 3 layers in layer.gpkg; name one " \
        "with --layer"


def test_cli_names_the_flag_of_a_parameter(tmp_path, capsys):
    assert main(["hia", "--site", "the old gasworks", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "geotarget hia: error: --site was 'the old gasworks' but is expected to be a file, WKT" in err


def test_cli_names_the_flag_of_a_data_option(tmp_path, capsys):
    imd = _imd_without_council_names(tmp_path)
    assert main(["inequality", "--imd", str(imd), "--population", str(POP), "--la", "Hartlepool",
                 "--indicator", "imd_score", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no council names in the file to select --la by" in err and "`" not in err


def test_cli_names_out_for_the_output_path(tmp_path, capsys):
    imd = tmp_path / "imd.csv"
    imd.write_bytes(IMD.read_bytes())
    assert main(["aggregate", "--imd", str(imd), "--population", str(POP), "--to", "lad", "--out", str(imd)]) == 2
    assert f"error: --out was '{imd}' but is one of the input files" in capsys.readouterr().err
    assert imd.read_bytes() == IMD.read_bytes()


# ----------------------------------------------------------------------------- a study names its keys

def test_study_names_the_key_not_the_flag(tmp_path, capsys):
    study = tmp_path / "study.toml"
    study.write_text(textwrap.dedent("""
        [place]
        councils = ["Stockton-on-Tees"]

        [output]
        map = false

        [hia]
        site = "the old gasworks"
        """).lstrip(), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^study.toml, line 8: \[hia\] site: site was 'the old gasworks' but is "
                                          "expected to be a file") as e:
        run_study(study, out=tmp_path / "out")
    assert e.value.parameter is None and not e.value.related  # located in the file: the CLI renames nothing
    assert main(["run", "--config", str(study), "--out", str(tmp_path / "out2"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "[hia] site: site was 'the old gasworks'" in err and "--site" not in err
