"""Each job's parameters are declared once (geotarget.jobs.params); everything else must agree.

The CLI, the study file and the job function must agree with the declaration -- same names, same
defaults, same choices and bounds.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import subprocess
import sys
import textwrap

import pytest

from geotarget.analysis.target import Rule, target_areas
from geotarget.cli.main import build_parser, main
from geotarget.cli.options import flag
from geotarget.core.errors import ParameterError
from geotarget.data.source import DataSource
from geotarget.hia.report import run_hia
from geotarget.hia.screen import ScreeningRules
from geotarget.jobs.access import assess_access
from geotarget.jobs.analyses import run_cluster, run_hotspots, run_inequality
from geotarget.jobs.params import JOBS, HiaParams, TargetParams, describe
from geotarget.jobs.profiles import profile_areas
from geotarget.jobs.run import run
from geotarget.jobs.target import run_target
from geotarget.study.schema import MODELS, SECTIONS

#: The job function each model's fields are the parameters of (``map`` renders; it has no job function).
FUNCTIONS = {"run": run, "aggregate": profile_areas, "target": run_target, "cluster": run_cluster,
             "hotspots": run_hotspots, "inequality": run_inequality, "access": assess_access, "hia": run_hia}

#: Fields the front ends read or turn into objects before calling the job function (``arg=None``).
#: Listed here so a new field cannot silently bypass the function.
READ_BY_CALLER = {
    "access": {"layer", "postcode_column", "lat_column", "lon_column", "x_column", "y_column", "postcodes",
               "category_column", "category", "category_map", "map_category", "name_column", "id_column",
               "capacity_column", "parks", "park_access_points", "network", "assets", "ods_include"},
    "hia": {"assets_category_column", "flag_indices", "flag_max_decile", "flag_scope"},
    "map": {"png"},
    # read into frames (geotarget.io.areas.read_areas, geotarget.io.lookups.read_lsoa_lookup) first; groupings
    # and the working-age population go to geotarget.jobs.groupings (profile_groups, with_working_age)
    "aggregate": {"areas", "area_id", "area_name", "lookup_columns", "groups", "working_age"},
}

#: What a command must be given on the command line for its options to be parsed.
REQUIRED = {"run": [], "aggregate": ["--to", "ward"], "target": [], "cluster": [], "hotspots": [],
            "inequality": [], "access": ["--assets", "sample"], "hia": ["--site", "441900,512900"],
            "map": ["--layers", "x.gpkg"]}


def _subparser(command: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[command]


def _actions(command: str) -> dict[str, argparse.Action]:
    return {a.dest: a for a in _subparser(command)._actions}


def _fields(model):
    return dataclasses.fields(model)


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return tuple(a) == tuple(b)
    return a == b


@pytest.mark.parametrize("command", list(JOBS))
def test_cli_options_match_the_model(command):
    model, actions = JOBS[command], _actions(command)
    for f in _fields(model):
        d, meta = describe(model, f.name), f.metadata
        action = actions.get(f.name)
        assert action is not None, f"{command}: no CLI option for {f.name}"
        spelled = meta.get("cli") or (f"--no-{f.name.replace('_', '-')}" if f.default is True
                                      else f"--{f.name.replace('_', '-')}")
        assert action.option_strings == [spelled] == [flag(model, f.name)], (command, f.name)
        if not meta.get("cli"):  # CLI --max-decile <-> key max_decile
            assert spelled.removeprefix("--").removeprefix("no-").replace("-", "_") == f.name
        if meta.get("required"):
            assert action.required or meta.get("group"), (command, f.name)
        elif not meta.get("one"):
            assert _same(action.default, f.default), (command, f.name, action.default, f.default)
        if action.choices is not None:
            assert tuple(action.choices) == d["choices"], (command, f.name)
        elif d["choices"] and d["kind"] in ("str", "int") and not meta.get("one"):
            pytest.fail(f"{command} {spelled}: choices {d['choices']} not offered to argparse")
    # the data options are DataSource's, spelled as it says
    for name in model.DATA:
        src = next(f for f in dataclasses.fields(DataSource) if f.name == name)
        assert actions[name].option_strings == [src.metadata.get("cli", f"--{name.replace('_', '-')}")]


@pytest.mark.parametrize("command", list(JOBS))
def test_cli_bounds_and_choices_are_the_models(command, tmp_path, capsys):
    """An out-of-range value is refused by the model and reported with the flag's name, before any work."""
    model = JOBS[command]
    out = ["--out", str(tmp_path / "out")]
    checked = 0
    for f in _fields(model):
        d = describe(model, f.name)
        if d["min"] is None and d["max"] is None:
            continue
        bad = d["max"] + 1 if d["max"] is not None else d["min"] - 1
        if d["kind"] == "int" or d["kind"] == "int_or_auto" or d["item"] is int:
            bad = int(bad)
        if d["kind"] == "table":
            key = (f.metadata.get("keys") or ("gp",))[0]
            value = [f"{key}={bad}"]
        else:
            value = [str(bad)]
        with pytest.raises(ParameterError, match=f"^{f.name} was"):
            model(**{f.name: (bad,) if d["kind"] == "tuple" else {key: bad} if d["kind"] == "table" else bad})
        assert main([command, *REQUIRED[command], flag(model, f.name), *value, *out]) == 2, f.name
        err = capsys.readouterr().err
        assert f"error: {flag(model, f.name)} " in err and "is expected to be" in err, err
        checked += 1
    assert not (tmp_path / "out").exists()
    assert checked or command in ("run", "aggregate", "map")


@pytest.mark.parametrize("section", list(MODELS))
def test_study_keys_match_the_model(section):
    model, keys = MODELS[section], SECTIONS[section]
    names = {f.name for f in _fields(model) if f.metadata.get("study", True)}
    assert set(keys) == names
    for f in _fields(model):
        if f.name not in keys:
            continue
        k, d = keys[f.name], describe(model, f.name)
        assert _same(k.default, f.default), (section, f.name)
        assert tuple(k.choices) == d["choices"] and (k.min, k.max) == (d["min"], d["max"]), (section, f.name)
        assert k.help == f.metadata["help"]


def test_run_params_are_the_output_section_and_the_title():
    model = JOBS["run"]
    assert {f.name for f in _fields(model)} == {"title", "map", "map_councils"}
    assert {"map", "map_councils"} <= set(SECTIONS["output"]) and "title" in SECTIONS[""]
    assert SECTIONS["output"]["map"].default is True and SECTIONS["output"]["map_councils"].default == ()


@pytest.mark.parametrize("command", list(FUNCTIONS))
def test_job_function_parameters_match_the_model(command):
    model, fn = JOBS[command], FUNCTIONS[command]
    params = inspect.signature(fn).parameters
    skipped = set()
    for f in _fields(model):
        arg = f.metadata.get("arg", f.name)
        if arg is None:
            skipped.add(f.name)
            continue
        assert arg in params, f"{fn.__name__} has no parameter {arg} (for {model.__name__}.{f.name})"
        default = params[arg].default
        expected = f.default[0] if f.metadata.get("one") else f.default
        assert _same(default, expected), (command, f.name, default, expected)
        assert params[arg].kind is inspect.Parameter.KEYWORD_ONLY
    assert skipped == READ_BY_CALLER.get(command, set())
    # the data options go to the one front door, geotarget.data.load, by DataSource's names; the job takes its result
    first = next(iter(params.values()))
    assert first.name == "data" and first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, fn.__name__
    source_fields = {f.name for f in dataclasses.fields(DataSource)}
    assert set(model.DATA) <= source_fields, set(model.DATA) - source_fields


def test_the_objects_the_callers_build_share_the_defaults():
    rules, p = ScreeningRules(), HiaParams()
    assert (rules.flag_indices, rules.flag_max_decile, rules.flag_scope) == \
        (p.flag_indices, p.flag_max_decile, p.flag_scope)
    rule, t = Rule(), TargetParams()
    assert (rule.kind, rule.index, rule.max_decile, rule.percentile) == (t.rule, t.index, t.max_decile, t.percentile)
    ta = inspect.signature(target_areas).parameters
    for name in ("min_population", "max_population", "n", "rank_by", "bridging", "snap"):
        assert ta[name].default == getattr(t, name), name


def test_errors_name_the_python_parameter_in_the_library_and_the_flag_on_the_command_line(tmp_path, capsys):
    with pytest.raises(ParameterError, match=r"^max_decile was 11 but is expected to be an integer from 1 to 10$"):
        TargetParams(max_decile=11)
    with pytest.raises(ParameterError, match=r"^max_decile was 11 but"):
        run_target(max_decile=11, out=tmp_path)
    with pytest.raises(ParameterError, match=r"^rank_by was 'size' but is expected to be one of"):
        TargetParams(rank_by="size")
    with pytest.raises(ParameterError, match=r"^weights has key 'wealth'"):
        TargetParams(weights={"wealth": 1})
    assert main(["target", "--max-decile", "11", "--out", str(tmp_path)]) == 2
    assert "geotarget target: error: --max-decile was 11 but is expected to be an integer from 1 to 10" in \
        capsys.readouterr().err
    assert main(["hotspots", "--jobs", "0", "--out", str(tmp_path)]) == 2
    assert "error: --jobs was 0 but is expected to be an integer >= 1" in capsys.readouterr().err
    assert main(["hia", "--site", "441900,512900", "--flag-indices", "imd,wealth", "--out", str(tmp_path)]) == 2
    assert "error: --flag-indices was 'wealth' but is expected to be one of" in capsys.readouterr().err


def _commands(parser: argparse.ArgumentParser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name)
                yield from _commands(sub, (*prefix, name))


def test_every_command_has_help(capsys):
    commands = list(_commands(build_parser()))
    assert set(JOBS) <= {c[0] for c in commands} and ("data", "fetch") in commands
    for command in commands:
        with pytest.raises(SystemExit) as e:
            main([*command, "--help"])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: geotarget {' '.join(command)}") and "--help" in out, command
        assert len(out.splitlines()) > 5


_STUDY = """
[place]
councils = ["Middlesbrough"]

[target]
index = "health"
max_decile = 2
hotspots = true

[hotspots]
permutations = "auto"
n_jobs = 2

[access]
parks = "parks.geojson"
network = "parks.geojson"
engine = "memory"
radius = [400, 800]

[hia]
site = "441900,512900"
flag_max_decile = 1
flag_indices = ["imd"]
flag_scope = "site"
map = false
"""


def test_load_study_does_not_depend_on_what_was_imported(tmp_path):
    """The schema is built once from the models: importing the pipeline (its runners) first changes nothing.

    Each case runs in a clean interpreter, as the order of imports is what used to matter.
    """
    (tmp_path / "parks.geojson").write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    (tmp_path / "study.toml").write_text(_STUDY, encoding="utf-8")
    studies = []
    for pipeline_first in (False, True):
        code = textwrap.dedent(f"""
            import json, sys
            {"import geotarget.study.pipeline" if pipeline_first else ""}
            from geotarget.study.schema import load_study
            s = load_study(sys.argv[1])
            print(json.dumps(s.as_dict(), sort_keys=True))
            print("geotarget.study.pipeline" in sys.modules)
        """)
        res = subprocess.run([sys.executable, "-c", code, str(tmp_path / "study.toml")], capture_output=True,
                             text=True, check=False)
        assert res.returncode == 0, res.stderr
        study, imported = res.stdout.strip().splitlines()
        assert imported == str(pipeline_first)
        studies.append(json.loads(study))
    got = studies[0]
    assert got["target"]["index"] == "health" and got["target"]["hotspots"] is True
    assert got["hia"]["flag_max_decile"] == 1 and got["hia"]["map"] is False
    assert got["access"]["network"].endswith("parks.geojson") and got["hotspots"]["n_jobs"] == 2
    assert studies[0] == studies[1]


@pytest.mark.parametrize(("text", "message"), [
    ("[hotspots]\nn_jobs = 0\n", r"line 2: \[hotspots\] n_jobs: 0 is out of range; expected at least 1"),
    ("[hia]\nsite = \"441900,512900\"\nflag_max_decile = 11\n",
     r"line 3: \[hia\] flag_max_decile: 11 is out of range; expected between 1 and 10"),
    ("[target]\nhotspots = \"yes\"\n", r"line 2: \[target\] hotspots: 'yes' is not true or false"),
    ("[cluster]\nmin_population = 100\n",
     r"line 2: \[cluster\] min_population: min_population was 100 but is expected only with spatial"),
])
def test_study_keys_from_the_models_are_checked_with_their_line(tmp_path, text, message):
    from geotarget.core.errors import ConfigError
    from geotarget.study.schema import parse_study

    with pytest.raises(ConfigError, match=message):
        parse_study(text, path=tmp_path / "study.toml")


# ----------------------------------------------------------------------------- the data options (DataSource)

def _study_value(key, tmp_path, name):
    """Return a value for study key ``name`` of kind ``key.kind`` (a file made for a path) and what it becomes."""
    if key.kind == "path":
        p = tmp_path / f"{name}.csv"
        p.write_text("x\n", encoding="utf-8")
        return f'"{p.as_posix()}"', p
    if key.kind == "path_list":
        p = tmp_path / f"{name}.geojson"
        p.write_text("{}", encoding="utf-8")
        return f'["{p.as_posix()}"]', (p,)
    if key.kind == "str_list":
        return '["Hartlepool"]', ("Hartlepool",)
    if key.choices:
        value = next(c for c in key.choices if c != key.default)
        return repr(value).replace("'", '"'), value
    if key.kind in ("float", "int"):
        return "1234", 1234
    if key.kind == "bool":
        return ("false", False) if key.default else ("true", True)
    return f'"{name}-value"', f"{name}-value"


def test_every_data_source_field_is_a_study_key_with_its_default_and_choices():
    """[place], [data] and the top-level vintage are generated from DataSource: a new field appears by itself."""
    from geotarget.study.schema import DATA_SECTIONS, key_for

    for f in dataclasses.fields(DataSource):
        section = DATA_SECTIONS.get(f.name, "data")
        key = SECTIONS[section].get(f.name)
        assert key is not None, f"DataSource.{f.name} is not a key of [{section}]"
        assert key.choices == describe(DataSource, f.name)["choices"], f.name
        # the one difference: a study names its vintage (default 2025) and checks an IoD file's against it
        assert _same(key.default, 2025 if f.name == "vintage" else f.default), f.name
        assert key == (key_for(DataSource, f.name) if f.name != "vintage" else
                       dataclasses.replace(key_for(DataSource, f.name), default=2025)), f.name
    data_keys = {k for s in ("place", "data") for k in SECTIONS[s]} | {"vintage"}
    assert data_keys - {f.name for f in dataclasses.fields(DataSource)} == {"england"}  # the one study-only key


@pytest.mark.parametrize("source", ["files", "cache", "sample"])
def test_every_data_source_field_set_in_a_study_reaches_the_data_source(source, tmp_path):
    """What a study file sets is what :func:`geotarget.data.load` gets (the study's DataSource)."""
    from geotarget.study.pipeline import data_source
    from geotarget.study.schema import DATA_SECTIONS, parse_study

    settable = {f.name for f in dataclasses.fields(DataSource)} - {"source", "vintage", "region"}
    if source == "sample":
        settable = {"place", "councils"}  # files are refused with the sample (it brings its own)
    lines = {"": ["vintage = 2019"], "place": [], "data": [f'source = "{source}"']}
    expected = {"source": source, "vintage": None if source == "files" else 2019}
    for name in sorted(settable):
        section = DATA_SECTIONS.get(name, "data")
        text, value = _study_value(SECTIONS[section][name], tmp_path, name)
        lines[section].append(f"{name} = {text}")
        expected[name] = value
    toml = "\n".join([*lines[""], "[place]", *lines["place"], "[data]", *lines["data"]]) + "\n"
    ds = data_source(parse_study(toml, path=tmp_path / "study.toml"))
    for name, value in expected.items():
        assert _same(getattr(ds, name), value), (name, getattr(ds, name), value)
    # region is one of councils, region or england: with the other two left out
    if source != "sample":
        regions = tmp_path / "regions.csv"
        regions.write_text("x\n", encoding="utf-8")
        text = "\n".join([f'[place]\nregion = "North East"\n[data]\nsource = "{source}"',
                          *(f'{k} = "{regions.as_posix()}"' for k in ("imd", "boundaries", "lookup", "regions"))])
        assert data_source(parse_study(text + "\n", path=tmp_path / "study.toml")).region == "North East"


def test_every_data_source_field_has_a_cli_option():
    """``data_options`` generates an option for every DataSource field, with its spelling, default and choices.

    A command takes those in its ``DATA``; where the CLI differs from DataSource, the test says why.
    """
    from geotarget.cli.options import data_options

    parser = argparse.ArgumentParser()
    names = tuple(f.name for f in dataclasses.fields(DataSource))
    data_options(parser, names)
    actions = {a.dest: a for a in parser._actions}
    for f in dataclasses.fields(DataSource):
        a = actions[f.name]
        assert a.option_strings == [flag(DataSource, f.name)], f.name
        d = describe(DataSource, f.name)
        if f.name == "imd":  # --imd sample: the bundled data (source="sample"), else a file (source="files")
            assert a.default == "sample"
        elif d["kind"] == "tuple":
            assert a.default is None and a.nargs == "+" and f.default == (), f.name  # None: not given
        elif f.name == "place":  # not given: the default place (the bundled Tees Valley), or all of an --imd file
            assert a.default is None
        else:
            assert a.default == f.default, f.name
        if f.name == "place":  # any English place: resolved by geotarget.data.place.resolve_place, not argparse
            assert a.choices is None
        else:
            assert tuple(a.choices or ()) == d["choices"], f.name
    for command, model in JOBS.items():  # and each command's data options are DataSource fields
        assert set(model.DATA) <= set(names), command
