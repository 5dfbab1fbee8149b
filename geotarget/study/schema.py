"""Study files: the place, the data, the vintage and every analysis with its rules, in one TOML file.

A study file is read with :func:`load_study` into a frozen :class:`Study` and run with
:func:`geotarget.study.pipeline.run_study` (``geotarget run --config study.toml``).
``geotarget init`` writes a commented one (:func:`study_template`).

Validation is strict: an unknown section or key, a value of the wrong type or out of range,
a missing input file, or keys that contradict each other are a :class:`~geotarget.ConfigError`
naming the file, the line, the ``[section]`` and the key, with the closest valid key when a
name looks misspelt. (``tomllib`` does not report where a key is; :func:`key_lines` finds
the line by reading the text.)

Every section and key is declared in :data:`SECTIONS`, built once when this module is imported:
the analysis sections and ``[output]`` are generated from the params models of
:mod:`geotarget.jobs.params` (the same declarations the CLI options and the job functions' defaults
come from), so a study file accepts exactly the parameters ``geotarget <command>`` does. Sections
for analyses are declared even when the capability that runs them is not installed: the file is
validated in full first, and running a section without a registered runner is a clear error
(:mod:`geotarget.study.pipeline`). Registering a runner never changes the schema.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from geotarget.core.errors import ConfigError, ParameterError
from geotarget.data.source import DataSource
from geotarget.jobs.params import (
    AccessParams,
    AggregateParams,
    ClusterParams,
    HiaParams,
    HotspotsParams,
    InequalityParams,
    RunParams,
    TargetParams,
    describe,
)

# ----------------------------------------------------------------------------- the schema


@dataclass(frozen=True)
class Key:
    """One allowed key: its kind, default, allowed values and help text.

    Kinds: ``str``, ``int``, ``float``, ``bool``, ``path`` (an input file that must exist;
    ``output`` for a folder that need not), ``str_list``, ``path_list``, ``int_list``,
    ``float_list``, ``int_or_auto``, and ``table`` (an inline table whose keys are ``table_keys``
    and whose values are numbers, or text with ``table_item="str"``).
    """

    kind: str
    default: Any = None
    choices: tuple = ()
    min: float | None = None
    max: float | None = None
    help: str = ""
    table_keys: tuple[str, ...] = ()
    table_item: str = "number"  #: what a table's values are: "number" or "str"


def key_for(model: type, name: str) -> Key:
    """Return the study-file :class:`Key` of parameter ``name`` of a params model (:mod:`geotarget.jobs.params`)."""
    d = describe(model, name)
    f = next(f for f in dataclasses.fields(model) if f.name == name)
    meta = f.metadata
    kind = d["kind"]
    if kind == "tuple":
        kind = {str: "str_list", Path: "path_list", int: "int_list", float: "float_list"}[d["item"]]
    return Key(kind, f.default if f.default is not dataclasses.MISSING else None, choices=d["choices"],
               min=d["min"], max=d["max"], help=meta.get("help", ""), table_keys=tuple(meta.get("keys", ())),
               table_item="number" if d["item"] in (int, float) or kind != "table" else "str")


def study_keys(model: type) -> dict[str, Key]:
    """Return a study section's keys, generated from a params model (fields marked ``study=False`` left out)."""
    return {f.name: key_for(model, f.name) for f in dataclasses.fields(model) if f.metadata.get("study", True)}


#: The study-file section of each :class:`~geotarget.data.source.DataSource` field: where the study is in
#: ``[place]``, the vintage at the top level (""), every other field (the source and its files) in ``[data]``.
DATA_SECTIONS: Mapping[str, str] = MappingProxyType({"place": "place", "councils": "place", "region": "place",
                                                    "vintage": ""})


def data_keys(section: str) -> dict[str, Key]:
    """Generate the keys of ``section`` from the :class:`DataSource` fields :data:`DATA_SECTIONS` puts there."""
    return {f.name: key_for(DataSource, f.name) for f in dataclasses.fields(DataSource)
            if DATA_SECTIONS.get(f.name, "data") == section}


def _sections() -> dict[str, dict[str, Key]]:
    run = study_keys(RunParams)
    # a study names its vintage (default 2025) and checks an IoD file's against it; DataSource's default
    # (None) means "2025, or from the file's headers"
    top = {"title": run.pop("title"), "vintage": dataclasses.replace(data_keys("")["vintage"], default=2025)}
    return {
        "": top,
        "place": {**data_keys("place"), "england": Key("bool", False, help="every council in England")},
        "data": data_keys("data"),
        "output": {"folder": Key("output", "maps", help="output folder (relative to this file)"), **run},
        **{name: study_keys(model) for name, model in MODELS.items()},
    }


#: The params model of each analysis section (:mod:`geotarget.jobs.params`).
MODELS: Mapping[str, type] = MappingProxyType({
    "aggregate": AggregateParams, "target": TargetParams, "cluster": ClusterParams, "hotspots": HotspotsParams,
    "inequality": InequalityParams, "access": AccessParams, "hia": HiaParams})

#: Every section of a study file and its keys; "" is the top level. Generated once, from the params
#: models (analysis sections, [output]) and the hand-declared data sections; never changed afterwards.
SECTIONS: Mapping[str, Mapping[str, Key]] = MappingProxyType(
    {name: MappingProxyType(keys) for name, keys in _sections().items()})

#: Analysis sections, in the order a study runs them.
ANALYSES = ("aggregate", "target", "cluster", "hotspots", "inequality", "access", "hia")


# ----------------------------------------------------------------------------- where keys are

_BARE = r"[A-Za-z0-9_\-]+"
_QUOTED = r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"
_PART = rf"(?:{_BARE}|{_QUOTED})"
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]\]?\s*(?:#.*)?$")
_KEYLINE = re.compile(rf"^\s*({_DOTTED})\s*=")


def _split_dotted(text: str) -> tuple[str, ...]:
    parts = re.findall(_PART, text)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Line number (1-based) of every table header and key in TOML ``text``, by dotted path.

    ``[place]`` gives ``("place",)``; ``councils = [...]`` under it gives
    ``("place", "councils")``. Lines inside multi-line strings are skipped; keys inside
    inline tables take the line of the table's key.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_string: str | None = None  # inside a multi-line string opened by this quote
    depth = 0  # unclosed brackets of a multi-line array
    for n, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        code = re.sub(r"#.*$", "", re.sub(_QUOTED, '""', line.replace('"""', "").replace("'''", "")))
        if depth == 0:
            m = _HEADER.match(line)
            if m:
                table = _split_dotted(m.group(1))
                lines.setdefault(table, n)
                continue
            m = _KEYLINE.match(line)
            if m:
                lines.setdefault(table + _split_dotted(m.group(1)), n)
                code = code.split("=", 1)[1] if "=" in code else ""
            else:
                code = ""
        depth = max(0, depth + code.count("[") - code.count("]"))
        for quote in ('"""', "'''"):
            if line.count(quote) % 2 == 1:
                in_string = quote
    return lines


# ----------------------------------------------------------------------------- the study


def _section_class(name: str, section: str, doc: str) -> type:
    """Generate a frozen dataclass with one field per key of ``section`` (with its default)."""
    cls = dataclasses.make_dataclass(name, [(k, Any, field(default=spec.default)) for k, spec in
                                            SECTIONS[section].items()], frozen=True)
    cls.__doc__, cls.__module__ = doc, __name__
    return cls


#: A study's ``[place]``: its :class:`DataSource` fields (``councils``, ``region``, ``place``) and ``england``.
Place = _section_class("Place", "place", "The [place] of a study (fields generated from DataSource, and england).")
#: A study's ``[data]``: the :class:`DataSource` fields of the source and its files.
DataSpec = _section_class("DataSpec", "data", "The [data] of a study (fields generated from DataSource).")


@dataclass(frozen=True)
class OutputSpec:
    """The study's ``[output]``: the output folder, whether to draw the map, and the councils it shows."""

    folder: Path = Path("maps")
    map: bool = True
    map_councils: tuple[str, ...] = ()


@dataclass(frozen=True)
class Study:
    """A validated study file.

    ``analyses`` maps each analysis section present (``aggregate`` always) to its
    parameters: every key the file sets, plus the defaults declared in :data:`SECTIONS`.
    """

    path: Path | None
    title: str | None
    vintage: int
    place: Place
    data: DataSpec
    output: OutputSpec
    analyses: Mapping[str, Mapping[str, Any]]
    lines: Mapping[tuple[str, ...], int] = field(default_factory=dict, repr=False)

    def where(self, section: str, key: str | None = None) -> str:
        """``"study.toml, line 12: [place] councils"``: where a key (or section) is in the file."""
        return _where(self.path, self.lines, section, key)

    def as_dict(self) -> dict[str, Any]:
        """Return the study as plain data (paths as text), for the manifest."""
        out: dict[str, Any] = {"vintage": self.vintage}
        if self.title:
            out["title"] = self.title
        out["place"] = {k: v for k, v in _fields(self.place).items() if v != SECTIONS["place"][k].default}
        out["data"] = {k: v for k, v in _fields(self.data).items() if v not in (None, ())}
        out["output"] = _fields(self.output)
        out.update({name: dict(params) for name, params in self.analyses.items()})
        return _plain(out)


def _fields(obj) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}


def _plain(value):
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _where(path: Path | None, lines: Mapping, section: str, key: str | None = None) -> str:
    name = path.name if path else "study"
    at = (section,) if section else ()
    target = at + (tuple(key.split(".")) if key else ())
    line = None
    for n in range(len(target), 0, -1):
        line = lines.get(target[:n])
        if line:
            break
    loc = f"{name}, line {line}" if line else name
    what = f"[{section}] {key}" if section and key else f"[{section}]" if section else key or ""
    return f"{loc}: {what}".rstrip(": ")


class _Checker:
    def __init__(self, path: Path | None, lines, base: Path):
        self.path, self.lines, self.base = path, lines, base

    def fail(self, section: str, key: str | None, problem: str) -> ConfigError:
        return ConfigError(f"{_where(self.path, self.lines, section, key)}: {problem}")

    def unknown(self, section: str, key: str, allowed: Sequence[str], what: str = "key") -> ConfigError:
        close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        where = f"in [{section}]" if section else "at the top level"
        if what == "section":
            return ConfigError(f"{_where(self.path, self.lines, key)}: unknown section [{key}]{hint} Sections are: "
                               f"{', '.join(f'[{s}]' for s in SECTIONS if s)}")
        return ConfigError(f"{_where(self.path, self.lines, section, key)}: unknown key {key!r} {where}{hint} "
                           f"Allowed keys: {', '.join(allowed)}")

    def value(self, section: str, key: str, spec: Key, value: Any) -> Any:
        """Return the checked value of ``key`` in ``[section]``; raise a ConfigError.

        Paths are resolved against the study's folder; lists become tuples, tables read-only mappings.
        """
        return _KeyValue(self, section, key, spec, value).check()


class _KeyValue:
    """One key of a study file: its declaration (:class:`Key`), the value given, and a check per kind."""

    def __init__(self, chk: _Checker, section: str, key: str, spec: Key, value: Any):
        self.chk, self.section, self.key, self.spec, self.value = chk, section, key, spec, value

    def bad(self, expected: str) -> ConfigError:
        """Return the error for a value that is not ``expected``."""
        value = self.value
        return self.chk.fail(self.section, self.key, f"{value!r} is not {expected}")

    def number(self, v, integer: bool):
        """Return ``v`` if it is a number (a whole number if ``integer``) within the key's range."""
        spec = self.spec
        if isinstance(v, bool) or not isinstance(v, (int, float) if not integer else int):
            raise self.bad("a whole number" if integer else "a number")
        if spec.min is not None and v < spec.min or spec.max is not None and v > spec.max:
            rng = (f"between {spec.min:g} and {spec.max:g}" if spec.min is not None and spec.max is not None
                   else f"at least {spec.min:g}" if spec.min is not None else f"at most {spec.max:g}")
            raise self.chk.fail(self.section, self.key, f"{v!r} is out of range; expected {rng}")
        return v

    def choice(self, v):
        """Return ``v`` if the key has no choices or ``v`` is one of them (else suggest the closest)."""
        spec = self.spec
        if spec.choices and v not in spec.choices:
            close = difflib.get_close_matches(str(v), [str(c) for c in spec.choices], n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise self.chk.fail(self.section, self.key, f"{v!r} is not allowed; expected one of "
                                f"{', '.join(repr(c) for c in spec.choices)}{hint}")
        return v

    def path(self, v, must_exist: bool = True):
        """Return ``v`` as a path (``~`` expanded, relative to the study's folder); it must exist if ``must_exist``."""
        if not isinstance(v, str) or not v.strip():
            raise self.bad("a file path (text)")
        p = Path(os.path.expanduser(v.strip()))
        p = Path(os.path.normpath(p if p.is_absolute() else self.chk.base / p))
        if must_exist and not p.exists():
            raise self.chk.fail(self.section, self.key, f"file not found: {p}")
        return p

    def check(self) -> Any:
        """Return the checked value, by the key's kind."""
        k, value = self.spec.kind, self.value
        if k == "str":
            if not isinstance(value, str) or not value.strip():
                raise self.bad("non-empty text")
            return self.choice(value.strip())
        if k == "int":
            return self.choice(self.number(value, True))
        if k == "float":
            return self.number(value, False)
        if k == "bool":
            if not isinstance(value, bool):
                raise self.bad("true or false")
            return value
        if k == "int_or_auto":
            if isinstance(value, str):
                if value != "auto":
                    raise self.bad("a whole number or 'auto'")
                return value
            return self.number(value, True)
        if k in ("path", "output"):
            return self.path(value, must_exist=k == "path")
        if k in ("str_list", "path_list", "int_list", "float_list"):
            return self.list_value()
        if k == "table":
            return self.table_value()
        raise AssertionError(f"unknown kind {k}")  # pragma: no cover - schema error

    def list_value(self) -> tuple:
        """Check a list key (a single value counts as a list of one); return a tuple of checked items."""
        k, value = self.spec.kind, self.value
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            value = [value]  # a single value where a list is expected
        if not isinstance(value, list) or not value and k != "path_list":
            raise self.bad("a non-empty list")
        if k == "str_list":
            if not all(isinstance(v, str) and v.strip() for v in value):
                raise self.bad("a list of text values")
            return tuple(self.choice(v.strip()) for v in value)
        if k in ("int_list", "float_list"):
            return tuple(self.number(v, k == "int_list") for v in value)
        return tuple(self.path(v) for v in value)

    def table_value(self) -> MappingProxyType:
        """Check a table key (known names; text or numbers by declaration); return it read-only."""
        section, key, spec, value = self.section, self.key, self.spec, self.value
        if not isinstance(value, dict) or not value:
            raise self.bad("a table such as { name = 1.0 }")
        out = {}
        for name, v in value.items():
            if spec.table_keys and name not in spec.table_keys:
                raise self.chk.unknown(section, f"{key}.{name}", [f"{key}.{t}" for t in spec.table_keys])
            if spec.table_item == "str":
                if not isinstance(v, str) or not v.strip():
                    raise self.chk.fail(section, f"{key}.{name}", f"{v!r} is not non-empty text")
                out[name] = v.strip()
            else:
                out[name] = self.number(v, False)
        return MappingProxyType(out)


def _read_sections(raw: Mapping[str, Any], chk: _Checker) -> dict[str, dict[str, Any]]:
    """Return the checked keys the file sets, by section (``""``: the top level); raise on unknown names."""
    values: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for name, value in raw.items():
        if isinstance(value, dict):
            if name not in SECTIONS or not name:
                raise chk.unknown("", name, [s for s in SECTIONS if s], what="section")
            for key, v in value.items():
                if key not in SECTIONS[name]:
                    raise chk.unknown(name, key, list(SECTIONS[name]))
                values[name][key] = chk.value(name, key, SECTIONS[name][key], v)
        else:
            if name not in SECTIONS[""]:
                if name in SECTIONS:
                    raise chk.fail("", name, f"[{name}] is a section; write it as a table header [{name}]")
                raise chk.unknown("", name, list(SECTIONS[""]))
            values[""][name] = chk.value("", name, SECTIONS[""][name], value)
    return values


def _get(values: Mapping[str, Mapping[str, Any]], section: str, key: str) -> Any:
    """Return the value of ``key`` in ``[section]``: the file's, else the declared default."""
    return values[section].get(key, SECTIONS[section][key].default)


def _check_place_and_data(values: Mapping[str, Mapping[str, Any]], chk: _Checker) -> None:
    """Check the rules across [place], [data] and [output]: one place, files that fit the source."""
    def get(section: str, key: str):
        return _get(values, section, key)

    place_keys = [k for k in ("councils", "region", "england") if k in values["place"]
                  and values["place"][k] not in (False,)]
    if len(place_keys) > 1:
        raise chk.fail("place", place_keys[1],
                       f"give one of councils, region or england, not {' and '.join(place_keys)}")
    source = get("data", "source")
    file_keys = [k for k in SECTIONS["data"] if k != "source"]  # (cache too: only with files or cache)
    if source == "sample":
        extra = [k for k in file_keys if k in values["data"]]
        if extra:
            raise chk.fail("data", extra[0], f'{extra[0]} is only used with source = "files" (the bundled sample '
                           "brings its own data); set source = \"files\" or remove it")
        # a region, england or councils outside the bundled places are read from the data cache (data.load)
    else:
        for k in ("imd", "boundaries", "lookup") if source == "files" else ():  # "cache": from the data cache
            if k not in values["data"]:
                raise chk.fail("data", None, f'source = "files" needs {k} = "..." (missing)')
        if not place_keys and "place" not in values["place"]:
            raise chk.fail("place", None, "say which place: place = \"...\", councils = [...], region = \"...\" or "
                           "england = true")
        # a region without [data] regions: the bundled council -> region table
    if values["output"].get("map_councils") and not get("output", "map"):
        raise chk.fail("output", "map_councils", "map_councils has no effect with map = false")


def _aggregate_params(values: Mapping[str, Mapping[str, Any]], chk: _Checker) -> dict[str, Any]:
    """Return the [aggregate] parameters (set or defaulted), checking that custom areas come with their file."""
    agg = {k: _get(values, "aggregate", k) for k in SECTIONS["aggregate"] if _get(values, "aggregate", k) is not None}
    if "custom" in agg["to"]:
        for k in ("areas", "area_id"):
            if k not in agg:
                raise chk.fail("aggregate", "to", f"to = 'custom' needs {k} = \"...\" in [aggregate]")
    elif "areas" in agg:
        raise chk.fail("aggregate", "areas", "areas is only used with to = [..., \"custom\"]")
    return agg


def parse_study(text: str, *, path: str | os.PathLike | None = None, base: str | os.PathLike | None = None) -> Study:
    """Validate study-file ``text`` (``path`` names it in messages; relative paths are under ``base``)."""
    p = Path(path) if path is not None else None
    base_dir = Path(base) if base is not None else (p.parent if p is not None else Path.cwd())
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p.name if p else 'study'}: not valid TOML: {e}") from None
    lines = key_lines(text)
    chk = _Checker(p, lines, base_dir)
    values = _read_sections(raw, chk)

    def get(section: str, key: str):
        return _get(values, section, key)

    _check_place_and_data(values, chk)
    agg = _aggregate_params(values, chk)

    for name, model in MODELS.items():  # the model's own rules, e.g. keys that need each other
        try:
            model(**values[name])
        except ParameterError as e:
            raise chk.fail(name, e.parameter, str(e)) from None

    analyses: dict[str, Mapping[str, Any]] = {"aggregate": MappingProxyType(agg)}
    for name in ANALYSES[1:]:
        if name in raw:
            params = {k: get(name, k) for k in SECTIONS[name] if get(name, k) is not None}
            analyses[name] = MappingProxyType(params)

    data = DataSpec(**{k: v for k, v in values["data"].items()})
    return Study(
        path=p, title=values[""].get("title"), vintage=get("", "vintage"),
        place=Place(**values["place"]), data=data,
        output=OutputSpec(folder=get("output", "folder") if "folder" in values["output"] else base_dir / "maps",
                          map=get("output", "map"), map_councils=tuple(get("output", "map_councils"))),
        analyses=MappingProxyType(analyses), lines=MappingProxyType(lines),
    )


def load_study(path: str | os.PathLike) -> Study:
    """Read and validate a study file (see :func:`parse_study`)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: study file not found")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not UTF-8 text ({e})") from None
    return parse_study(text, path=p)


# ----------------------------------------------------------------------------- the template

def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_str(i) for i in items) + "]"


def study_template(*, councils: Sequence[str] | None = None, england: bool = False, files: bool = False,
                   cache: str | os.PathLike | None = None, vintage: int = 2025) -> str:
    """Return a commented study file: the bundled sample by default, or official files (``files``/``england``).

    With official files, the data paths point at the cache that ``geotarget data fetch``
    fills (``cache``, default ``~/.cache/geotarget``), so ``geotarget data fetch ...`` then
    ``geotarget run --config study.toml`` works as written.
    """
    files = files or england
    if vintage not in (2019, 2025):
        raise ConfigError(f"vintage was {vintage!r} but is expected to be 2019 or 2025")
    tees = ["Hartlepool", "Middlesbrough", "Redcar and Cleveland", "Stockton-on-Tees", "Darlington"]
    chosen = list(councils or ([] if england or files else tees))
    place_name = "England" if england else chosen[0] if len(chosen) == 1 else "Tees Valley" if chosen == tees else ""
    out: list[str] = [
        "# geotarget study file: the place, the data, the vintage and the rules of every analysis.",
        "# Run it with:   geotarget run --config study.toml",
        "# Every key is optional unless marked (required); an unknown key or a bad value is an error",
        "# that names its line. Relative paths are relative to the folder of this file.",
        "",
    ]
    title = f"Deprivation in {place_name}" if place_name else None
    out.append((f"title = {_toml_str(title)}" if title else '# title = "Deprivation in ..."')
               + "   # shown on the map; default: Deprivation in <place>")
    out.append(f"vintage = {vintage}   # 2025 = IoD2025 on LSOA 2021; 2019 = IoD2019 on LSOA 2011")
    out += ["", "[place]", "# One of: councils (codes or names), region (needs [data] regions), or england = true."]
    if england:
        out += ["# councils = [\"Stockton-on-Tees\"]", "# region = \"North East\"", "england = true"]
    else:
        out += [f"councils = {_toml_list(chosen)}" if chosen else 'councils = ["Stockton-on-Tees"]   # (required)',
                '# region = "North East"', "# england = true"]

    cache_dir = Path(cache) if cache else Path("~/.cache/geotarget")
    out += ["", "[data]"]
    if not files:
        out += ['source = "sample"   # the bundled Tees Valley data (IoD, boundaries, lookups, assets)',
                '# To use the official files for any English council instead, set source = "files" and',
                "# fill in the paths below (`geotarget data fetch` downloads them; `geotarget init --files`",
                "# writes them for you):"]
        prefix = "# "
    else:
        out += ['source = "files"   # the official files below ("sample" = the bundled Tees Valley data)',
                f"# Download them with:  geotarget data fetch iod{vintage} "
                + ("lsoa21-boundaries lsoa21-ward24-lookup lad24-boundaries wards24-boundaries lad24-regions"
                   if vintage == 2025 else "lsoa11-boundaries")]
        if vintage == 2019:
            out.append("# (IoD2019 is on LSOA 2011: use an LSOA 2011 to ward lookup; see the README.)")
        prefix = ""
    from geotarget.io.fetch import CATALOGUE

    def entry(key: str, name: str, note: str, *, commented: bool = False, layer: str | None = None):
        e = CATALOGUE[name]
        lead = "# " if commented or prefix else ""
        out.append(f"{lead}{key} = {_toml_str((cache_dir / e.name / e.filename).as_posix())}   # {note}")

    lsoa = "lsoa21" if vintage == 2025 else "lsoa11"
    entry("imd", f"iod{vintage}", "IoD File 7, with population denominators (required)")
    entry("boundaries", f"{lsoa}-boundaries", f"LSOA {2021 if vintage == 2025 else 2011} boundaries (required)")
    if vintage == 2025:
        entry("lookup", "lsoa21-ward24-lookup", "LSOA -> ward -> council best-fit lookup (required)")
    else:
        out.append(f'{prefix}lookup = "lsoa11_ward_lookup.csv"   # an ONS LSOA 2011 -> ward -> council lookup; not in '
                   "the fetch catalogue (required)")
    later = vintage == 2019  # IoD2019 uses 2019 council codes: the 2024 files do not match every council
    entry("lads", "lad24-boundaries", "council boundaries; default: LSOAs dissolved by council", commented=later)
    entry("wards", "wards24-boundaries", "ward boundaries; default: LSOAs dissolved by best-fit ward (approximate)",
          commented=later)
    entry("regions", "lad24-regions", "council -> region lookup, for [place] region", commented=later)
    entry("centroids", "lsoa21-centroids", "LSOA population-weighted centroids; default: a point inside each LSOA",
          commented=True)
    out += ["# population = \"...\"     # only when the IoD file has no population denominators",
            "# msoas = \"...\"          # MSOA boundaries (+ msoas_layer for a multi-layer file)",
            "# boundaries_layer = \"...\"   # layer of a multi-layer boundary file (also lads_layer, wards_layer)",
            "# assets = [\"gp_practices.geojson\"]   # community asset point files"]

    out += ["", "[output]", 'folder = "maps"   # output folder, relative to this file; gets manifest.json (provenance)']
    if england:
        out += ["map = false   # a map of all 33,755 LSOAs is large: map a few councils instead with map_councils",
                '# map_councils = ["Stockton-on-Tees"]']
    else:
        out += ["map = true    # the interactive map (imd<year>_map.html)",
                '# map_councils = ["Stockton-on-Tees"]   # map only these councils']

    out += ["", "[aggregate]",
            'to = ["ward"]   # MHCLG summary measures: ward profiles are always written; add "lad", "msoa", "custom"',
            '# areas = "neighbourhoods.geojson"   # custom areas, for to = [..., "custom"] (+ area_id, area_name)',
            '# area_id = "id"',
            '# method = "best-fit"   # or "apportion": split LSOAs that straddle custom areas',
            "",
            "# Analyses below run when their section is present; uncomment a section to use it.",
            "# (A section whose capability is not installed in this version of geotarget is an error.)",
            "",
            "# [target]                  # priority neighbourhoods (geotarget target)",
            '# rule = "imd-decile"       # or "composite" (with weights) or "local-percentile"',
            '# index = "imd"             # or a domain: income, employment, health, ...',
            "# max_decile = 1",
            "# min_population = 0",
            "# max_population = 15000    # bigger groups are split into contiguous parts; 0 = no ceiling",
            "# n = 3                     # areas per council",
            '# rank_by = "deprived-population"   # or "score", "extent"',
            "# bridging = false",
            "# hotspots = false          # also require a significant Gi* hot spot of the index",
            "# weights = { jobs = 2, learning = 1, housing_environment = 1, health = 1, crime = 1, access = 1 }",
            "",
            "# [cluster]                 # area typologies (geotarget cluster)",
            '# level = "lsoa"',
            '# k = "auto"',
            "# seed = 0",
            "",
            "# [hotspots]                # Getis-Ord Gi* / Local Moran's I (geotarget hotspots)",
            '# indicator = "imd_score"',
            '# method = "gi"',
            "# alpha = 0.05",
            "",
            "# [inequality]              # slope and relative index of inequality (geotarget inequality)",
            '# indicator = "health_score"',
            '# deciles = "national"',
            "",
            "# [access]                  # distance to community assets (geotarget access)",
            "# radius = [400, 800, 1600]",
            "# desert_decile = 2",
            "# thresholds = { gp = 800, pharmacy = 800 }",
            "",
            "# [hia]                     # health impact assessment screening (geotarget hia)",
            '# sites = "local_plan_sites.geojson"',
            "# buffer = [800, 2000]",
            "# flag_max_decile = 2       # the most-severe-health-inequalities rule (flag_indices, flag_scope)",
            ""]
    return "\n".join(out)


__all__ = [
    "ANALYSES",
    "MODELS",
    "SECTIONS",
    "DataSpec",
    "Key",
    "OutputSpec",
    "Place",
    "Study",
    "key_for",
    "key_lines",
    "load_study",
    "parse_study",
    "study_keys",
    "study_template",
]
