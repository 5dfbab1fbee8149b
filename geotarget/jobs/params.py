"""Each job's parameters, declared once: the job function's defaults, the CLI and the study file come from here.

One frozen dataclass per job (:class:`RunParams`, :class:`AggregateParams`, :class:`TargetParams`,
:class:`ClusterParams`, :class:`HotspotsParams`, :class:`InequalityParams`, :class:`AccessParams`,
:class:`HiaParams`, :class:`MapParams`). Each field's ``metadata`` carries what the other front ends
need: ``help``, ``choices``, ``min``/``max`` (inclusive bounds), ``metavar``, and, only where it
differs from ``--field-name``, the ``cli`` flag spelling; ``arg`` names the job function's parameter
when it has another name (``arg=None``: the caller reads it, e.g. a file, before calling the job
function). ``required``: the command needs it (the study file may not); ``one``: the CLI takes one
value of a list (the job function does one at a time); ``group``: mutually exclusive options;
``study=False``: not a study-file key (the study's ``[data]`` gives it); ``comma=False``: a list
option whose values may hold commas (otherwise ``--radius 400,800`` is split on commas).

From these declarations:

* :mod:`geotarget.cli.options` generates each command's ``argparse`` options;
* :mod:`geotarget.study.schema` generates each study-file section (``[target]`` ...);
* the job functions take their defaults from the class attributes (``TargetParams.n``);
* ``tests/test_params_parity.py`` checks that the three agree.

Why stdlib ``dataclasses`` and not pydantic/attrs/traitlets: geotarget's declarations need no new
dependency; a frozen dataclass is hashable, immutable configuration (house style, principle 7); it can
be introspected with :func:`dataclasses.fields` and :func:`typing.get_type_hints`; and it is the style of
:class:`geotarget.data.source.DataSource`, which declares the *data* options (place, councils, vintage,
files) that are therefore not repeated here.

Validation is in one place, :func:`check`, called by every model's ``__post_init__``: a bad value
raises :class:`~geotarget.core.errors.ParameterError` naming the **Python parameter**
(``"max_decile was 11 but is expected to be an integer from 1 to 10"``); the CLI rewrites the name to
its flag, the study file reader to the file, line and key.
"""

# ruff: noqa: RUF009 - every default is made by _p, a thin wrapper of dataclasses.field (ruff cannot tell)
from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, NoneType, UnionType
from typing import Any, ClassVar, Literal

from geotarget.core.domains import ALL_INDICES
from geotarget.core.errors import ParameterError

#: Index keys (the IMD, domains and sub-domains) a rule or a screening can name.
INDEX_KEYS = tuple(d.key for d in ALL_INDICES)
#: The gaps of the composite targeting rule (Fairer Stockton's six).
GAPS = ("jobs", "learning", "housing_environment", "health", "crime", "access")


def _p(help: str, default: Any = None, **meta) -> Any:
    """Return a field with its help text and metadata (choices, min, max, cli, arg, metavar, keys ...)."""
    return field(default=default, metadata={"help": help, **meta})


# ----------------------------------------------------------------------------- validation


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _parts(tp) -> tuple[Any, bool]:
    """Return ``(the type without None, whether None is allowed)``."""
    if typing.get_origin(tp) in (typing.Union, UnionType):
        args = [a for a in typing.get_args(tp) if a is not NoneType]
        rest = args[0] if len(args) == 1 else typing.Union[tuple(args)]  # noqa: UP007
        return rest, len(args) != len(typing.get_args(tp))
    return tp, False


def describe(cls: type, name: str) -> dict[str, Any]:
    """Describe a field for the generators: ``kind``, ``item`` (of a tuple/table), ``choices``, bounds, ``auto``.

    Kinds: ``bool``, ``int``, ``float``, ``str``, ``path``, ``tuple`` (of ``item``), ``table``
    (a mapping of text to ``item``), ``int_or_auto``.
    """
    f = {f.name: f for f in dataclasses.fields(cls)}[name]
    tp, optional = _parts(_hints(cls)[name])
    meta = dict(f.metadata)
    out: dict[str, Any] = {"optional": optional, "choices": tuple(meta.get("choices", ())),
                           "min": meta.get("min"), "max": meta.get("max"), "item": None}
    origin = typing.get_origin(tp)
    if origin is Literal:
        out["kind"], out["choices"] = "str", typing.get_args(tp)
    elif tp is bool:
        out["kind"] = "bool"
    elif origin in (typing.Union, UnionType) and set(typing.get_args(tp)) == {int, str}:
        out["kind"] = "int_or_auto"
    elif tp in (int, float, str):
        out["kind"] = tp.__name__
    elif tp is Path:
        out["kind"] = "path"
    elif origin is tuple:
        item = typing.get_args(tp)[0]
        out["kind"], out["item"] = "tuple", item
        if typing.get_origin(item) is Literal:
            out["item"], out["choices"] = str, typing.get_args(item)
    elif origin in (Mapping, dict):
        out["kind"], out["item"] = "table", typing.get_args(tp)[1]
    else:  # pragma: no cover - a declaration error, caught by the parity test
        raise TypeError(f"{cls.__name__}.{name}: no kind for {tp!r}")
    return out


def _range(d: dict, integer: bool) -> str:
    what = "an integer" if integer else "a number"
    lo, hi = d["min"], d["max"]
    if lo is not None and hi is not None:
        return f"{what} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"{what} >= {lo:g}"
    if hi is not None:
        return f"{what} <= {hi:g}"
    return what


_GIVEN = object()  #: ``shown`` default of :meth:`_ValueCheck.fail`: quote the value given


class _ValueCheck:
    """One parameter of a params model, its declaration (:func:`describe`) and the value given for it.

    ``check`` dispatches on the declared kind to one method per kind; each returns the value
    (tuples and tables frozen) or raises a :class:`ParameterError`.
    """

    def __init__(self, cls: type, name: str, value: Any):
        self.cls, self.name, self.value = cls, name, value
        self.d = describe(cls, name)

    def fail(self, expected: str, shown: Any = _GIVEN) -> ParameterError:
        """Return the error for a value that is not ``expected``; ``shown`` is the value quoted (default: given)."""
        name = self.name
        if shown is _GIVEN:
            shown = self.value
        return ParameterError(f"{name} was {shown!r} but is expected to be {expected}", parameter=name)

    def number(self, v, integer: bool, shown=None):
        """Return ``v`` if it is a number (an integer if ``integer``) within the declared bounds."""
        d, value = self.d, self.value
        ok = (isinstance(v, int) if integer else isinstance(v, (int, float))) and not isinstance(v, bool)
        if not ok or (not integer and not math.isfinite(v)) \
                or d["min"] is not None and v < d["min"] or d["max"] is not None and v > d["max"]:
            raise self.fail(_range(d, integer), value if shown is None else shown)
        return v

    def choice(self, v):
        """Return ``v`` if the parameter has no choices or ``v`` is one of them."""
        d = self.d
        if d["choices"] and v not in d["choices"]:
            raise self.fail(f"one of {list(d['choices'])}", v)
        return v

    def check(self) -> Any:
        """Return the checked value: None where optional, else the check of the declared kind."""
        d, value = self.d, self.value
        if value is None:
            if d["optional"]:
                return None
            raise self.fail("given (it has no default)" if d["kind"] != "bool" else "True or False")
        return getattr(self, f"check_{d['kind']}")(value)

    def check_bool(self, value):
        """Check a ``bool`` parameter."""
        if not isinstance(value, bool):
            raise self.fail("True or False")
        return value

    def check_int(self, value):
        """Check an ``int`` parameter."""
        return self.number(value, True)

    def check_float(self, value):
        """Check a ``float`` parameter."""
        return self.number(value, False)

    def check_int_or_auto(self, value):
        """Check an ``int | Literal["auto"]`` parameter."""
        d = self.d
        if isinstance(value, str):
            if value != "auto":
                raise self.fail(f"'auto' or {_range(d, True)}")
            return value
        return self.number(value, True)

    def check_str(self, value):
        """Check a text parameter (non-empty, one of the choices if it has any)."""
        d = self.d
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"one of {list(d['choices'])}" if d["choices"] else "a non-empty text")
        return self.choice(value)

    def check_path(self, value):
        """Check a file path parameter."""
        if not isinstance(value, (str, Path)) or not str(value).strip():
            raise self.fail("a file path")
        return value

    def check_tuple(self, value):
        """Check a list parameter (a single item counts as a list of one); return it as a tuple."""
        if isinstance(value, (str, Path, int, float)) and not isinstance(value, bool):
            value = (value,)
        if not isinstance(value, (list, tuple)):
            raise self.fail("a list")
        item = self.d["item"]
        if item in (int, float):
            return tuple(self.number(v, item is int, v) for v in value)
        return tuple(self.choice(v) for v in value)

    def check_table(self, value):
        """Check a table parameter (keys among the declared ones, numbers if declared); return it read-only."""
        name = self.name
        if not isinstance(value, Mapping):
            raise self.fail("a table such as {'name': 1.0}")
        keys = f_meta(self.cls, name).get("keys")
        out = {}
        for key, v in value.items():
            if keys and key not in keys:
                raise ParameterError(f"{name} has key {key!r} but its keys are expected to be among {list(keys)}",
                                     parameter=name)
            out[key] = self.number(v, False, v) if self.d["item"] in (int, float) else v
        return MappingProxyType(out)


def check_value(cls: type, name: str, value: Any) -> Any:
    """Check one parameter of ``cls`` (and return it, tuples and tables frozen); raise a :class:`ParameterError`."""
    return _ValueCheck(cls, name, value).check()


def f_meta(cls: type, name: str) -> Mapping[str, Any]:
    """Return the metadata of field ``name`` of ``cls``."""
    return {f.name: f for f in dataclasses.fields(cls)}[name].metadata


def check(obj) -> None:
    """Validate every field of a params model (called by ``__post_init__``); freeze lists and tables."""
    for f in dataclasses.fields(obj):
        value = check_value(type(obj), f.name, getattr(obj, f.name))
        object.__setattr__(obj, f.name, value)


def _only_with(obj, needed: str, names: tuple[str, ...]) -> None:
    """Refuse parameters that name columns of the table ``needed`` when it is not given: they would not be used."""
    if getattr(obj, needed) is not None:
        return
    for name in names:
        value = getattr(obj, name)
        if value is not None and not (isinstance(value, (tuple, Mapping)) and not value):
            shown = dict(value) if isinstance(value, Mapping) else value
            raise ParameterError(f"{name} was {shown!r} but is expected only with {needed}: it names columns of "
                                 "that table, and without it the IoD is used (give the table or leave it out)",
                                 parameter=name, related=(needed,))


class _Params:
    """Base of the models: validation on construction, ``from_section`` for study-file tables."""

    #: DataSource fields the command takes (its data options), in the order its ``--help`` lists them.
    DATA: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        check(self)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def job_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of the job function.

        They are keyed by the function's parameter names (``arg``); fields with ``arg=None`` are left out.
        """
        out = {}
        for f in dataclasses.fields(self):
            arg = f.metadata.get("arg", f.name)
            if arg is not None:
                out[arg] = getattr(self, f.name)
        return out


# ----------------------------------------------------------------------------- the jobs

_STUDY_DATA = ("imd", "vintage", "councils", "place", "source", "cache", "population", "boundaries", "boundaries_layer",
               "lookup", "partial")


@dataclass(frozen=True)
class RunParams(_Params):
    """``geotarget run`` (:func:`geotarget.jobs.run.run`): the joined data, summaries and the map.

    In a study file, ``title`` is a top-level key and ``map``/``map_councils`` are in ``[output]``.
    """

    DATA: ClassVar[tuple[str, ...]] = ("councils", "vintage", "place", "source", "cache")

    title: str | None = _p("title of the map and reports; default 'Deprivation in <place>'", metavar="TEXT")
    map: bool = _p("write the interactive map", True, arg="make_map")
    map_councils: tuple[str, ...] = _p("map only these councils (by code or name)", (), metavar="COUNCIL")


@dataclass(frozen=True)
class AggregateParams(_Params):
    """``geotarget aggregate`` and ``[aggregate]``: MHCLG's summary measures for bigger areas."""

    DATA: ClassVar[tuple[str, ...]] = ("imd", "vintage", "place", "source", "cache", "population", "lookup",
                                       "boundaries", "councils", "partial")

    to: tuple[Literal["ward", "lad", "msoa", "region", "icb", "lrf", "cauth", "groups", "custom"], ...] = _p(
        "geographies to profile: wards, councils (lad), MSOAs, groupings of councils -- regions, Integrated Care "
        "Boards (icb, from LSOAs), Local Resilience Forums (lrf), combined authorities (cauth), your own (groups) -- "
        "or custom areas (a study's ward profiles are always written; the CLI writes one per CSV)",
        ("ward",), one=True, required=True)
    groups: Path | None = _p(
        "grouping lookup for region/icb/lrf/cauth/groups: a CSV lad_code,group_code,group_name (or LSOA -> group, "
        "e.g. the ONS LSOA -> ICB lookup; official headers such as LAD24CD, ICB24CD, LRF24CD, CAUTH24CD work). "
        "Regions use the council -> region lookup unless this is given and region is the only grouping",
        metavar="FILE", arg=None)
    working_age: Path | None = _p(
        "population file giving the working-age population (or counts by age, e.g. Census 2021 TS007A or ONS "
        "single-year estimates) for the Employment domain, when the population file has totals only",
        metavar="FILE", arg=None)
    areas: Path | None = _p("custom area polygons (GeoJSON, GeoPackage, Shapefile), for to = custom", arg=None)
    area_id: str | None = _p("id column of areas", metavar="COLUMN", arg=None)
    area_name: str | None = _p("name column of areas (optional)", metavar="COLUMN", arg=None)
    method: Literal["best-fit", "apportion"] = _p(
        "custom areas: each LSOA to the area holding its population-weighted centroid (best-fit), or split by "
        "residential postcodes (apportion)", "best-fit")
    lookup_columns: Mapping[str, str] | None = _p(
        "name lookup columns, e.g. ward_code=WD24CD (default: recognised from headers or codes)",
        cli="--lookup-column", metavar="CANON=COLUMN", study=False, arg=None)


@dataclass(frozen=True)
class TargetParams(_Params):
    """``geotarget target`` and ``[target]``: targeted action areas (:func:`geotarget.jobs.target.run_target`)."""

    DATA: ClassVar[tuple[str, ...]] = _STUDY_DATA

    rule: Literal["imd-decile", "composite", "local-percentile"] = _p(
        "national decile of an index, a composite of domain gaps (Fairer Stockton's six by default), or the "
        "most deprived percent within the councils", "imd-decile")
    index: str = _p("index of the imd-decile and local-percentile rules: imd, a domain or a sub-domain", "imd",
                    choices=INDEX_KEYS, metavar="KEY")
    max_decile: int = _p("national decile <= this qualifies (imd-decile, composite)", 1, min=1, max=10,
                         metavar="K")
    percentile: float = _p("local-percentile: the most deprived P% of LSOAs in the councils", 10.0, min=0.001,
                           max=100, metavar="P")
    weights: Mapping[str, float] | None = _p(
        "composite weights, e.g. jobs=2,health=1 (gaps: jobs, learning, housing_environment, health, crime, "
        "access; default equal)", keys=GAPS, min=0, metavar="GAP=WEIGHT")
    min_population: float = _p("population floor per area", 0.0, min=0, metavar="N")
    max_population: float = _p("population ceiling per area (larger groups are split into contiguous parts; "
                               "0 for no ceiling)", 15000.0, min=0, metavar="N")
    n: int = _p("areas per council", 3, min=1, metavar="N")
    rank_by: Literal["deprived-population", "score", "extent"] = _p(
        "ranking: residents of qualifying LSOAs, score or extent", "deprived-population")
    bridging: bool = _p("let one non-qualifying LSOA join two qualifying groups it touches", False)
    snap: float = _p("boundaries this close (metres) count as touching", 5.0, min=0, metavar="METRES")
    rook: bool = _p("neighbours must share an edge, not just a point", False)
    hotspots: bool = _p("also require a significant Getis-Ord Gi* hot spot (FDR 5%) of the index's score, "
                        "tested over all the LSOAs loaded", False)


@dataclass(frozen=True)
class ClusterParams(_Params):
    """``geotarget cluster`` and ``[cluster]``: area typologies (:func:`geotarget.jobs.analyses.run_cluster`)."""

    DATA: ClassVar[tuple[str, ...]] = _STUDY_DATA

    level: Literal["lsoa", "ward"] = _p("areas to cluster", "lsoa")
    method: Literal["kmeans", "ward"] = _p("clustering method", "kmeans")
    spatial: bool = _p("contiguous regions (contiguity-constrained Ward) instead of non-spatial types", False)
    k: int | str = _p("number of clusters, or auto (3-8, by silhouette and Calinski-Harabasz)", "auto", min=2,
                      metavar="auto|N")
    min_population: float | None = _p("with spatial: at least N people per region", min=0, metavar="N")
    indicators: Path | None = _p("indicator table keyed by LSOA or ward code (default: the IoD domains); "
                                 "'sample' = the bundled Census 2021/Community Needs Index extract",
                                 metavar="CSV|sample", sample=True)
    id_column: str | None = _p("code column of indicators (default: recognised from codes)", metavar="COL")
    columns: tuple[str, ...] | None = _p("indicator columns to use (default: every numeric one)", metavar="COL")
    higher_is_better: tuple[str, ...] = _p("indicators where a higher value is better (gaps are flipped so + = "
                                           "worse)", (), metavar="COL")
    reference: Literal["england", "region", "study"] = _p("what gaps are measured against", "england")
    seed: int = _p("random seed (k-means; silhouette sample)", 0, min=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        _only_with(self, "indicators", ("id_column", "columns"))
        if self.min_population is not None and not self.spatial:
            raise ParameterError(f"min_population was {self.min_population!r} but is expected only with spatial "
                                 "(a floor on the people in each contiguous region)", parameter="min_population",
                                 related=("spatial",))


@dataclass(frozen=True)
class HotspotsParams(_Params):
    """``geotarget hotspots`` and ``[hotspots]``: Gi* / Local Moran (:func:`geotarget.jobs.analyses.run_hotspots`)."""

    DATA: ClassVar[tuple[str, ...]] = _STUDY_DATA

    indicator: str = _p("IoD column (e.g. imd_score, health_score, income) or a column of indicators",
                        "imd_score", metavar="COL")
    indicators: Path | None = _p("your LSOA indicator table", metavar="CSV|sample", sample=True)
    id_column: str | None = _p("code column of indicators", metavar="COL")
    method: Literal["gi", "moran"] = _p("Getis-Ord Gi* or Local Moran's I", "gi")
    permutations: int | str = _p("permutations per area (auto: enough for the FDR threshold to be reachable)",
                                 "auto", min=99, metavar="auto|N")
    alpha: float = _p("false discovery rate", 0.05, min=0, max=1)
    seed: int = _p("random seed of the permutations", 12345, min=0)
    islands: Literal["link", "exclude"] = _p("areas with no neighbour: link to the nearest area, or leave out",
                                             "link")
    n_jobs: int = _p("processes for the permutations", 1, min=1, cli="--jobs")

    def __post_init__(self) -> None:
        super().__post_init__()
        _only_with(self, "indicators", ("id_column",))


@dataclass(frozen=True)
class InequalityParams(_Params):
    """``geotarget inequality`` and ``[inequality]``: SII/RII, gaps, Gini.

    See :func:`~geotarget.jobs.analyses.run_inequality`.
    """

    DATA: ClassVar[tuple[str, ...]] = ("imd", "vintage", "councils", "place", "source", "cache", "population",
                                       "lookup", "partial")

    indicator: tuple[str, ...] | None = _p("IoD column(s) or column(s) of indicators (default: every column of "
                                           "indicators)", metavar="COL")
    indicators: Path | None = _p("your LSOA indicator table", metavar="CSV|sample", sample=True)
    id_column: str | None = _p("code column of indicators", metavar="COL")
    value_type: Literal["none", "rate", "proportion"] = _p(
        "indicator type (PHE's value_type): a rate or a proportion is simulated on the log/logit scale", "none")
    transform: bool = _p("fit rates and proportions on the log/logit scale and transform back (PHE's recommended "
                         "method; no effect for value type none)", True)
    multiplier: float = _p("the values are per this many: 100 for percentages, 1000 for a rate per 1,000 (a "
                           "proportion given as 12.5 with multiplier 100 is 0.125)", 1.0, metavar="N")
    se_source: Literal["counts", "limits", "given", "between"] | None = _p(
        "standard errors of the decile values: from counts (numerator/denominator; Wilson or Byar's limits, as PHE), "
        "confidence limits, given standard errors, or the spread of the areas within each decile (default: counts, "
        "given, limits or between, the first an indicator has columns for)")
    count_columns: Mapping[str, str] | None = _p("numerator column of an indicator in indicators (the indicator "
                                                 "need not be a column: it is count/denominator x multiplier)",
                                                 cli="--count-column", metavar="INDICATOR=COL")
    denominator_columns: Mapping[str, str] | None = _p("denominator column of an indicator in indicators",
                                                       cli="--denominator-column", metavar="INDICATOR=COL")
    se_columns: Mapping[str, str] | None = _p(
        "standard-error column of an indicator in indicators (on the value scale)", cli="--se-column",
        metavar="INDICATOR=COL")
    lower_columns: Mapping[str, str] | None = _p("lower confidence limit column of an indicator in indicators",
                                                 cli="--lower-column", metavar="INDICATOR=COL")
    upper_columns: Mapping[str, str] | None = _p("upper confidence limit column of an indicator in indicators",
                                                 cli="--upper-column", metavar="INDICATOR=COL")
    limits_confidence: float = _p("confidence level of the given limits", 0.95, min=0.5, max=0.9999)
    deciles: Literal["national", "local"] = _p("national IMD deciles, or deciles of equal population within the "
                                               "study", "national")
    confidence: tuple[float, ...] = _p("confidence level(s) of the SII/RII limits, e.g. 0.95 0.998", (0.95,),
                                       min=0.5, max=0.9999, metavar="LEVEL")
    repetitions: int = _p("Monte Carlo draws", 100_000, min=1000)
    seed: int = _p("random seed of the Monte Carlo draws", 0, min=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        _only_with(self, "indicators", ("id_column", "count_columns", "denominator_columns", "se_columns",
                                        "lower_columns", "upper_columns"))


_CATEGORIES = "gp, pharmacy, dentist, library, school, park, community_centre, leisure, food_support, other"


@dataclass(frozen=True)
class AccessParams(_Params):
    """``geotarget access`` and ``[access]``: community assets against need.

    The file-reading options (``assets`` and its columns, ``parks``, ``network``) are read by the
    caller; the rest go to :func:`geotarget.jobs.access.assess_access` (``radius`` as ``radii``,
    ``desert_decile`` as ``max_decile``).
    """

    DATA: ClassVar[tuple[str, ...]] = ("place", "source", "cache", "vintage", "councils", "imd", "population",
                                       "boundaries", "boundaries_layer", "lookup", "codepoint", "asset_margin",
                                       "partial")

    assets: tuple[Path, ...] = _p("asset files; default ('sample'): the study's own assets, i.e. the bundled "
                                  "place's, or the NHS/OS lists in the data cache", (),
                                  metavar="PATH|sample", arg=None, sample=True)
    layer: str | None = _p("layer of a multi-layer GeoPackage", metavar="NAME", arg=None)
    postcode_column: str | None = _p("postcode column (default: recognised from common headers)", metavar="COL",
                                     arg=None)
    lat_column: str | None = _p("latitude column", metavar="COL", arg=None)
    lon_column: str | None = _p("longitude column", metavar="COL", arg=None)
    x_column: str | None = _p("easting (British National Grid)", metavar="COL", arg=None)
    y_column: str | None = _p("northing (British National Grid)", metavar="COL", arg=None)
    postcodes: Path | None = _p("postcode lookup: ONS Postcode Directory CSV or OS Code-Point Open CSV/folder "
                                "(default: the bundled Tees Valley and Trafford postcodes)", arg=None)
    ods_include: tuple[str, ...] = _p(
        "NHS ODS files as published (epraccur GP practices, edispensary, egdpprac): also keep these rows, left out "
        "and reported by default: closed, dormant, proposed organisations; other_settings = epraccur prescribing "
        "settings other than a GP practice (out of hours, walk-in, prisons ...)", (),
        choices=("closed", "dormant", "proposed", "other_settings"), metavar="WHAT", arg=None)
    category_column: str | None = _p("column holding each asset's type", metavar="COL", arg=None)
    category: str | None = _p(f"one category for every row: {_CATEGORIES}", metavar="CATEGORY", arg=None)
    category_map: Path | None = _p("CSV of value,category mapping your types", metavar="FILE.csv", arg=None)
    map_category: Mapping[str, str] | None = _p("map one of your types, e.g. 'Health Centre=gp'",
                                                metavar="VALUE=CATEGORY", arg=None)
    name_column: str | None = _p("name column", metavar="COL", arg=None)
    id_column: str | None = _p("id column", metavar="COL", arg=None)
    capacity_column: str | None = _p("capacity (e.g. GP list size): adds a capacity-weighted two-step floating "
                                     "catchment score", metavar="COL", arg=None)
    parks: Path | None = _p("green space sites (polygons with site_type), e.g. OS Open Greenspace", arg=None)
    park_access_points: Path | None = _p("their access points (entrances)", arg=None)
    park_types: tuple[str, ...] = _p("site types counted as parks", ("Public Park Or Garden", "Playing Field"),
                                     metavar="TYPE")
    network: Path | None = _p("street network (lines, or OSMnx GraphML): walking distance along it instead of a "
                              "straight line", arg=None)
    radius: tuple[float, ...] = _p("count radii in metres", (400.0, 800.0, 1600.0), min=1, metavar="M",
                                   arg="radii")
    catchment: float = _p("floating catchment radius (metres) for assets per 1,000 residents (at least 1 m: a "
                          "catchment of 0 would count no asset anywhere)", 1600.0, min=1, metavar="M")
    desert_decile: int = _p("asset deserts among LSOAs in national IMD deciles 1..K", 2, min=1, max=10,
                            metavar="K", arg="max_decile")
    thresholds: Mapping[str, float] | None = _p(
        "desert distance (metres) per category, e.g. gp=1000 (defaults: 800 m for GP, pharmacy, park, school, "
        "community centre; 1600 m for library, leisure, food support, dentist)", min=0, cli="--threshold",
        metavar="CATEGORY=M", keys=tuple(_CATEGORIES.split(", ")))
    engine: Literal["memory", "dask"] = _p("dask: partitioned computation via dask-geopandas "
                                           "(pip install 'geotarget[dask]')", "memory")


@dataclass(frozen=True)
class HiaParams(_Params):
    """``geotarget hia`` and ``[hia]``: Health Impact Assessment screening (:func:`geotarget.hia.report.run_hia`).

    ``flag_*`` become a :class:`geotarget.hia.screen.ScreeningRules` (whose defaults they equal).
    """

    #: the bundled place, or official files / the cache for any council (``--la``; without it, the councils
    #: the site reaches: :func:`geotarget.hia.place.site_councils`). ``assets`` is this job's own option.
    DATA: ClassVar[tuple[str, ...]] = ("source", "place", "councils", "vintage", "imd", "population", "boundaries",
                                       "boundaries_layer", "lookup", "lads", "lads_layer", "wards", "wards_layer",
                                       "msoas", "msoas_layer", "centroids", "regions", "codepoint", "postcode_lookup",
                                       "indicators", "cni", "cache", "partial")

    site: str | None = _p("one site: a polygon/point file (GeoJSON, GeoPackage, KML, zipped Shapefile), WKT "
                          "(EPSG:27700, or 'SRID=4326;...'), a postcode, easting,northing or 'lat=..., lon=...'",
                          metavar="PATH|WKT|POSTCODE|E,N", group="site")
    sites: Path | None = _p("a file of sites, one row per site with a name column (vector file, or CSV with wkt / "
                            "easting,northing / latitude,longitude / postcode / location)", group="site")
    name: str | None = _p("site name (default: from the file, the postcode or the input)", metavar="TEXT")
    name_column: str | None = _p("name column of sites (default: recognised, e.g. name)", metavar="COL")
    buffer: tuple[float, ...] = _p("buffer distances in metres (default: a 10-minute walk and 2 km)",
                                   (800.0, 2000.0), min=1, metavar="M", arg="buffers")
    postcodes: Path | None = _p("postcode lookup for postcode sites (ONS Postcode Directory or Code-Point Open; "
                                "default: the data's codepoint, else the bundled Tees Valley and Trafford postcodes)")
    assets: Path | None = _p("extra assets (e.g. schools, green space) read like 'geotarget access --assets'; "
                             "they replace bundled categories", arg="assets_source")
    assets_category_column: str | None = _p("category column of assets", metavar="COL", arg=None)
    flag_indices: tuple[str, ...] = _p("indices of the most-severe-health-inequalities rule", ("imd", "health"),
                                       choices=INDEX_KEYS, metavar="KEY", arg=None)
    flag_max_decile: int = _p("the rule: national decile <= K", 2, min=1, max=10, metavar="K", arg=None)
    flag_scope: Literal["buffer", "site"] = _p(
        "LSOAs tested: on the site or with residents within the first buffer, or on the site only", "buffer",
        arg=None)
    map: bool = _p("put the map in the HTML report", True, arg="with_map")
    pdf: bool = _p("also write DIR/<site>.pdf: the report on A4 pages, with a static map", False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.site is not None and self.sites is not None:
            raise ParameterError("sites was given with site but is expected to be one or the other",
                                 parameter="sites", related=("site",))


@dataclass(frozen=True)
class MapParams(_Params):
    """``geotarget map``: one interactive map from geotarget outputs (:func:`geotarget.render.maps.map_from_files`)."""

    layers: tuple[str, ...] = _p("files to map, bottom layer first: PATH, PATH:COLUMN or PATH#LAYER[:COLUMN]", (),
                                 metavar="PATH[:COLUMN]", required=True, comma=False)
    title: str | None = _p("map title (default: from the file names)", metavar="TEXT")
    vintage: str | None = _p("data vintage shown under the title, e.g. 'IoD2025, LSOA 2021'", metavar="TEXT")
    notes: str | None = _p("further notes shown under the title", metavar="TEXT")
    png: Path | None = _p("also write a static map (.png, .svg or .pdf) of the layers shown when the map opens",
                          metavar="FILE.png", arg=None)


#: The job of each command (and study section), by name.
JOBS: dict[str, type] = {
    "run": RunParams,
    "aggregate": AggregateParams,
    "target": TargetParams,
    "cluster": ClusterParams,
    "hotspots": HotspotsParams,
    "inequality": InequalityParams,
    "access": AccessParams,
    "hia": HiaParams,
    "map": MapParams,
}

__all__ = [
    "GAPS",
    "INDEX_KEYS",
    "JOBS",
    "AccessParams",
    "AggregateParams",
    "ClusterParams",
    "HiaParams",
    "HotspotsParams",
    "InequalityParams",
    "MapParams",
    "RunParams",
    "TargetParams",
    "check",
    "check_value",
    "describe",
]
