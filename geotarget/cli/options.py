"""Command-line options generated from the params models (:mod:`geotarget.jobs.params`) and :class:`DataSource`.

:func:`add_options` turns each field of a model into an ``argparse`` option:

* ``bool`` -> ``--x`` (``store_true``) when the default is ``False``, ``--no-x`` when it is ``True``;
* ``tuple`` -> ``nargs="+"`` (values may also be given comma-separated: ``--radius 400,800``), or one
  value with ``one=True``;
* a mapping -> a repeatable ``--x KEY=VALUE`` (pairs may also be comma-separated);
* ``Literal``/``choices`` -> ``choices`` (for a single value);
* ``int``/``float`` -> the number type (its bounds are checked by the model, one place for every
  front end, and reported with the flag's name); ``int | str`` -> a number or ``auto``;
* ``Path`` -> ``metavar PATH``;
* help from the field's metadata, the default from the dataclass and shown in the help.

:func:`params_from_args` builds the model from the parsed arguments; a bad value raises
:class:`~geotarget.core.errors.ParameterError` naming the Python parameter, which
:func:`flag_message` rewrites with the flag (``--max-decile was 11 but ...``).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from geotarget.core.errors import GeotargetError, ParameterError
from geotarget.data.source import DataSource
from geotarget.jobs.params import describe


def flag(model: type, name: str) -> str:
    """Return the CLI spelling of parameter ``name`` of ``model``: its ``cli`` metadata or ``--name-with-dashes``."""
    f = _field(model, name)
    d = describe(model, name) if model is not DataSource else None
    if "cli" in f.metadata:
        return f.metadata["cli"]
    if d is not None and d["kind"] == "bool" and f.default is True:
        return f"--no-{name.replace('_', '-')}"
    return f"--{name.replace('_', '-')}"


def _field(model: type, name: str) -> dataclasses.Field:
    return {f.name: f for f in dataclasses.fields(model)}[name]


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _number(kind: str, flag_name: str):
    def convert(text: str):
        if kind == "int_or_auto" and text == "auto":
            return "auto"
        try:
            return int(text) if kind in ("int", "int_or_auto") else float(text)
        except ValueError:
            what = "'auto' or a whole number" if kind == "int_or_auto" else \
                "a whole number" if kind == "int" else "a number"
            raise argparse.ArgumentTypeError(f"{flag_name} was {text!r}; expected {what}") from None
    return convert


def add_options(parser, model: type, *, skip: tuple[str, ...] = ()) -> None:
    """Add an option for every field of ``model`` (but ``skip``) to ``parser`` (or an argument group)."""
    groups: dict[str, argparse._MutuallyExclusiveGroup] = {}
    for f in dataclasses.fields(model):
        if f.name in skip:
            continue
        meta, d = f.metadata, describe(model, f.name)
        name = flag(model, f.name)
        kw: dict[str, Any] = {"dest": f.name, "help": meta.get("help", "")}
        default = f.default
        if d["kind"] == "bool":
            kw["action"] = "store_false" if default is True else "store_true"
            kw["default"] = default
        else:
            kw["default"] = default
            if "metavar" in meta:
                kw["metavar"] = meta["metavar"]
            elif d["kind"] == "path" or d["item"] is Path:
                kw["metavar"] = "PATH"
            if d["kind"] in ("int", "float", "int_or_auto"):
                kw["type"] = _number(d["kind"], name)
            if d["kind"] == "tuple":
                if meta.get("one"):
                    kw["default"] = None
                    if d["choices"]:
                        kw["choices"] = d["choices"]
                else:
                    kw["nargs"] = "+"
            elif d["kind"] == "table":
                kw["action"] = "append"
            elif d["choices"] and d["kind"] in ("str", "int"):
                kw["choices"] = d["choices"]
            if default is not None and default != () and not meta.get("required"):
                kw["help"] += f" (default {_shown(default)})"
        if meta.get("required"):
            kw["required"] = True
            kw.pop("default", None)
        target = parser
        if "group" in meta:
            if meta["group"] not in groups:
                groups[meta["group"]] = parser.add_mutually_exclusive_group(required=True)
            target = groups[meta["group"]]
            kw.pop("required", None)
        kw["help"] = kw["help"].replace("%", "%%")  # argparse formats help with %
        target.add_argument(name, **kw)


def _split(values, comma: bool) -> list[str]:
    out: list[str] = []
    for v in values:
        out += [x.strip() for x in v.split(",") if x.strip()] if comma else [v]
    return out


def params_from_args(model: type, args: argparse.Namespace):
    """Return the ``model`` instance of the parsed ``args`` (lists split on commas, ``KEY=VALUE`` pairs read)."""
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(model):
        if not hasattr(args, f.name):
            continue
        value = getattr(args, f.name)
        meta, d = f.metadata, describe(model, f.name)
        comma = meta.get("comma", True)
        if value is f.default or value is None and d["kind"] == "tuple" and not d["optional"]:
            continue  # not given: the model's default
        if value is None:
            pass
        elif d["kind"] == "tuple":
            items = _split([value] if isinstance(value, str) else value, comma)
            if d["item"] in (int, float):
                try:
                    items = [d["item"](x) for x in items]
                except ValueError as e:
                    raise ParameterError(f"{f.name} was {value!r} but is expected to be numbers ({e})",
                                         parameter=f.name) from None
            value = tuple(items)
        elif d["kind"] == "table":
            pairs = {}
            for item in _split(value, comma):
                if "=" not in item:
                    raise ParameterError(f"{f.name} {item!r}: expected {meta.get('metavar', 'KEY=VALUE')} pairs "
                                         "separated by commas", parameter=f.name)
                k, _, v = item.partition("=")
                if d["item"] in (int, float):
                    try:
                        v = float(v)
                    except ValueError:
                        raise ParameterError(f"{f.name} {item!r}: expected {meta.get('metavar', 'KEY=VALUE')} "
                                             "with a number", parameter=f.name) from None
                pairs[k.strip()] = v.strip() if isinstance(v, str) else v
            value = pairs
        kw[f.name] = value
    return model(**kw)


def flag_names(model: type | None) -> dict[str, str]:
    """Return the flag of every parameter a command's errors may name.

    Those are its params model's fields (and the job function's names for them, ``arg``), its data
    options (``model.DATA``: ``councils`` -> ``--la``) and ``out``.
    """
    names = {"out": "--out"}
    if model is None:
        return names
    names.update({n: flag(DataSource, n) for n in getattr(model, "DATA", ())})
    for f in dataclasses.fields(model):
        names[f.name] = flag(model, f.name)
        arg = f.metadata.get("arg", f.name)
        if arg and arg not in names:
            names[arg] = names[f.name]
    return names


def flag_message(model: type | None, error: GeotargetError, extra: dict[str, str] | None = None) -> str:
    """Return the message of ``error`` with the parameters it names called by their CLI flags.

    The flags are :func:`flag_names` of ``model`` and ``extra`` (a command's own options).
    """
    return error.renamed({**flag_names(model), **(extra or {})})


#: How the data options read on the command line, where they differ from :class:`DataSource`.
_DATA_CLI = {
    "imd": {"default": "sample", "metavar": "PATH|sample",
            "help": "IoD file (official File 7 or canonical CSV), or 'sample' for the bundled data of --place"},
    "vintage": {"help": "IoD vintage: 2025 (LSOA 2021) or 2019 (LSOA 2011); sample default 2025, a file's "
                        "from its headers"},
    "place": {"default": None, "metavar": "PLACE",
              "help": "the place: a bundled sample (tees_valley, the default, or trafford), any English council by "
                      "name or code (Leeds, E08000035), several comma-separated, a region (North East, E12000001) "
                      "or england. Places outside the bundled sample are read from the national files in the data "
                      "cache (geotarget data fetch); with --imd, from the files given"},
    "source": {"help": "where the data comes from: sample (the bundled places; other places switch to the cache), "
                       "files (with --imd) or cache (the national files in the data cache)"},
    "councils": {"metavar": "COUNCIL"},
    "boundaries_layer": {"metavar": "LAYER"},
}


def _data_number(kind, lo):
    """Return an argparse type: a number of ``kind``, at least ``lo`` (a clear message otherwise)."""
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if v != v or v in (float("inf"), float("-inf")) or (lo is not None and v < lo):
            least = f" >= {lo}" if lo is not None else ""
            raise argparse.ArgumentTypeError(f"{text!r} is expected to be a number{least}")
        return v
    parse.__name__ = kind.__name__
    return parse


def data_options(parser, names: tuple[str, ...], **overrides: dict) -> None:
    """Add the :class:`~geotarget.data.source.DataSource` options ``names`` (``--imd``, ``--la`` ...).

    ``overrides`` maps a field to argparse keywords that differ for this command (e.g. a default).
    """
    for name in names:
        f = _field(DataSource, name)
        kw: dict[str, Any] = {"dest": name, "help": f.metadata.get("help", ""), "default": f.default}
        if f.type in ("Path | None", "tuple[Path, ...]") or "Path" in str(f.type):
            kw["metavar"] = "PATH"
        if str(f.type) == "bool":  # a switch: --partial
            kw["action"] = "store_true"
        if str(f.type).startswith("tuple"):
            kw["nargs"], kw["default"] = "+", None
        if "choices" in f.metadata:
            kw["choices"] = f.metadata["choices"]
            if all(isinstance(c, int) for c in kw["choices"]):
                kw["type"] = int
        elif str(f.type) in ("float", "int"):
            kind = float if str(f.type) == "float" else int
            kw["type"], kw["metavar"] = _data_number(kind, f.metadata.get("min")), "N"
        kw.update(_DATA_CLI.get(name, {}))
        kw.update(overrides.get(name, {}))
        kw["help"] = kw["help"].replace("%", "%%")
        parser.add_argument(f.metadata.get("cli", f"--{name.replace('_', '-')}"), **kw)


def data_kwargs(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    """Return the data options ``names`` of the parsed ``args``, by :class:`DataSource` field name."""
    return {n: getattr(args, n) for n in names if hasattr(args, n)}


__all__ = ["add_options", "data_kwargs", "data_options", "flag", "flag_message", "flag_names",
           "params_from_args"]
