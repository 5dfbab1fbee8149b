"""Run a study file: load its data, run the main job, then every analysis section it names.

:func:`run_study` is what ``geotarget run --config study.toml`` calls. It writes everything to
one output folder with one ``manifest.json`` (the study file, every input with its checksum
and vintage, every parameter, every output).

Analyses plug in through a registry: a capability registers a runner for its section::

    from geotarget.study.pipeline import register

    @register("target")
    def _run_target(ctx, params):                 # params: the validated [target] keys
        areas = target(ctx.data.lsoas, **params)
        return {"areas": write_styled_geopackage(ctx.out / "action_areas.gpkg", {"areas": areas})}

A runner gets a :class:`StudyContext` (the study, the data bundle, the output folder, the main
job's result and the provenance recorder) and returns the files it wrote, which go into the
manifest. Sections run in the order of :data:`geotarget.study.schema.ANALYSES`. A section present in
the study without a registered runner is an error before anything runs, naming the section,
its line and the capability it needs.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geotarget.analysis.aggregate import aggregate
from geotarget.core.domains import ALL_INDICES
from geotarget.core.errors import ConfigError, GeotargetError
from geotarget.core.progress import Stage, StageLog, stage
from geotarget.data.bundle import FileData, load_files
from geotarget.data.sample import Sample, load_postcode_points, load_sample
from geotarget.io.files import write_csv
from geotarget.io.provenance import Provenance
from geotarget.jobs.run import RunResult, run
from geotarget.study.registry import CAPABILITIES, REGISTRY, Runner, StudyContext, register
from geotarget.study.schema import ANALYSES, SECTIONS, Key, Study, load_study

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StudyResult:
    """What :func:`run_study` produced."""

    study: Study
    run: RunResult
    outputs: dict[str, Path]  #: every file written, by role (``"map"``, ``"aggregate.lad"`` ...)
    manifest: Path | None
    stages: list[Stage] = field(default_factory=list)  #: wall time (and peak memory if sampled) per step


def _with_where(e: GeotargetError, where: str) -> GeotargetError:
    try:
        new = type(e)(f"{where}: {e}")
    except TypeError:  # pragma: no cover - every geotarget error takes one message
        return e
    new.__cause__ = e
    return new


def load_study_data(study: Study) -> Sample:
    """The data bundle a study names: the bundled sample, or its official files for its place."""
    place = study.place
    key = "councils" if place.councils else "region" if place.region else "england"
    try:
        if study.data.source == "sample":
            return load_sample(study.vintage, councils=list(place.councils) or None)
        d = study.data
        data = load_files(imd=d.imd, boundaries=d.boundaries, lookup=d.lookup,
                          population=d.population, boundaries_layer=d.boundaries_layer, lads=d.lads,
                          lads_layer=d.lads_layer, wards=d.wards, wards_layer=d.wards_layer, msoas=d.msoas,
                          msoas_layer=d.msoas_layer, centroids=d.centroids, regions=d.regions, assets=d.assets,
                          councils=list(place.councils) or None, region=place.region)
        if data.vintage.year != study.vintage:
            said = "" if ("vintage",) in study.lines else " (the default)"
            raise ConfigError(f"{study.where('', 'vintage')}: vintage = {study.vintage}{said} but {d.imd} holds "
                              f"{data.vintage.name} (on LSOA {data.vintage.lsoa_year}); set vintage = "
                              f"{data.vintage.year} or use the IoD{study.vintage} file")
        return data
    except GeotargetError as e:
        from geotarget.core.errors import AreaNotFoundError, VintageError

        if isinstance(e, AreaNotFoundError):
            raise _with_where(e, study.where("place", key)) from None
        if isinstance(e, VintageError):
            raise _with_where(e, study.where("", "vintage")) from None
        raise


def check_capabilities(study: Study) -> None:
    """Raise a :class:`ConfigError` for the first analysis section that has no registered runner."""
    from geotarget.core.version import __version__

    for section in study.analyses:
        if section not in REGISTRY:
            raise ConfigError(
                f"{study.where(section)}: this section needs {CAPABILITIES.get(section, section)}, which this "
                f"installation of geotarget ({__version__}) does not have. Remove or comment out the section, or "
                f"install a geotarget that has it. Available: {', '.join(f'[{s}]' for s in REGISTRY)}."
            )


def run_study(study: Study | str | os.PathLike, *, out: str | os.PathLike | None = None,
              stages: StageLog | None = None) -> StudyResult:
    """Run a study (a :class:`~geotarget.study.schema.Study` or the path of a study file).

    ``out`` overrides the study's output folder. Pass a :class:`StageLog` (``memory=True`` to
    sample peak memory) to collect per-step timings; they are also in the result.
    """
    if not isinstance(study, Study):
        study = load_study(study)
    check_capabilities(study)
    folder = Path(out) if out is not None else study.output.folder
    params: dict[str, Any] = {"study": study.as_dict()}
    stages = stages if stages is not None else StageLog()
    with contextlib.nullcontext() if stages.active else stages:
        data = load_study_data(study)
        with Provenance(folder, command="run --config", parameters=params) as prov:
            if study.path is not None and study.path.is_file():
                prov.add_input(study.path, role="study")
            with stage("joined data, council summary, ward profiles" + (" and map" if study.output.map else "")):
                result = run(data=data, out=folder, title=study.title, make_map=study.output.map,
                             map_councils=list(study.output.map_councils) or None, provenance=prov)
            outputs = dict(result.outputs)
            ctx = StudyContext(study, data, folder, f"imd{data.vintage.year}", result, prov)
            for section in ANALYSES:
                if section not in study.analyses:
                    continue
                with stage(f"[{section}]"):
                    try:
                        produced = REGISTRY[section](ctx, study.analyses[section])
                    except GeotargetError as e:
                        raise _with_where(e, study.where(section)) from None
                for role, path in produced.items():
                    outputs[f"{section}.{role}"] = prov.add_output(path)
    return StudyResult(study, result, outputs, prov.path, list(stages.stages))


# ----------------------------------------------------------------------------- built-in runners

@register("aggregate")
def _run_aggregate(ctx: StudyContext, params: Mapping[str, Any]) -> dict[str, Path]:
    """Profiles for the geographies in ``to`` beyond wards (which the main job writes)."""
    from geotarget.analysis.crosswalk import read_areas

    written: dict[str, Path] = {}
    lsoas = ctx.data.lsoas
    for to in params["to"]:
        if to == "ward":
            continue
        if to == "custom":
            shapes = read_areas(params["areas"], id_column=params["area_id"], name_column=params.get("area_name"))
            ctx.provenance.add_input(params["areas"], role="areas")
            method = params["method"].replace("-", "_")
            points = None
            if method == "apportion" and not isinstance(ctx.data, FileData):
                points = load_postcode_points(ctx.data.vintage.year)
            table = aggregate(lsoas, to="custom", areas=shapes, method=method, centroids=ctx.data.centroids,
                              points=points)
            name = f"{ctx.stem}_custom_areas.csv"
        else:
            table = aggregate(lsoas, to=to)
            name = f"{ctx.stem}_{to}s.csv"
        written[to] = write_csv(ctx.out / name, table.reset_index())
    return written


_GAPS = ("jobs", "learning", "housing_environment", "health", "crime", "access")


@register("target", schema={
    "rule": Key("str", "imd-decile", choices=("imd-decile", "composite", "local-percentile"),
                help="national decile of an index, a composite of domain gaps, or a local percentile"),
    "index": Key("str", "imd", choices=tuple(d.key for d in ALL_INDICES),
                 help="index of the imd-decile and local-percentile rules"),
    "max_decile": Key("int", 1, min=1, max=10, help="decile <= this qualifies (imd-decile, composite)"),
    "percentile": Key("float", 10.0, min=0.001, max=100, help="local-percentile: the most deprived P%"),
    "weights": Key("table", table_keys=_GAPS, min=0, help="composite: weight of each Fairer Stockton gap"),
    "min_population": Key("int", 0, min=0, help="population floor per area"),
    "max_population": Key("int", 15000, min=0, help="population ceiling per area (0: none)"),
    "n": Key("int", 3, min=1, help="areas per council"),
    "rank_by": Key("str", "deprived-population", choices=("deprived-population", "score", "extent")),
    "bridging": Key("bool", False, help="join two qualifying groups through one non-qualifying LSOA"),
    "snap": Key("float", 5.0, min=0, help="metres within which boundaries count as touching"),
    "rook": Key("bool", False, help="neighbours must share an edge, not just a point"),
})
def _run_target(ctx: StudyContext, params: Mapping[str, Any]) -> dict[str, Path]:
    """Targeted action areas for the study's councils (geotarget target), into ``<out>/action_areas*``."""
    from geotarget.analysis.target import Rule, target_areas
    from geotarget.render.action_areas import write_action_areas

    def get(key):
        value = params.get(key)
        return SECTIONS["target"][key].default if value is None else value

    rule = Rule(kind=get("rule"), index=get("index"), max_decile=get("max_decile"), percentile=get("percentile"),
                weights=dict(params.get("weights") or {}) or None)
    kw = {"min_population": get("min_population"), "max_population": get("max_population") or None, "n": get("n"),
          "rank_by": get("rank_by"), "bridging": get("bridging"), "snap": get("snap"), "point_contacts": not get("rook")}
    defaults = inspect.signature(target_areas).parameters
    written = {k.removeprefix("action_areas_"): p for k, p in ctx.run.outputs.items() if k.startswith("action_areas_")}
    if (ctx.run.action_areas is not None and rule == Rule() and all(defaults[k].default == v for k, v in kw.items())
            and written and all(p.parent == ctx.out for p in written.values())):
        return written  # the main job computed and wrote exactly these (its defaults) in this folder: not twice
    res = target_areas(ctx.data.lsoas, rule=rule, vintage=ctx.data.vintage, **kw)
    return write_action_areas(res, ctx.out)


__all__ = ["CAPABILITIES", "REGISTRY", "Runner", "StudyContext", "StudyResult", "check_capabilities",
           "load_study_data", "register", "run_study"]


# ----------------------------------------------------------------------------- capabilities in their modules

def _register_capabilities() -> None:
    from geotarget.study.sections import register_analysis_sections

    register_analysis_sections()  # [cluster], [hotspots], [inequality]


_register_capabilities()


def _bundled_place(ctx: StudyContext, section: str) -> str:
    from geotarget.data.bundle import FileData

    if isinstance(ctx.data, FileData):
        raise ConfigError(f"{ctx.where(section)}: [{section}] measures from the population-weighted centroids of a "
                          "bundled place (the Tees Valley or Trafford sample) in this version; use [data] source = "
                          f"\"sample\", or run `geotarget {section}` on a bundled place")
    return ctx.data.place


@register("access")
def _run_access(ctx: StudyContext, params: Mapping[str, Any]) -> dict[str, Path]:
    """Access to assets (the bundled ones, or the study's asset files) into ``<out>/access``."""
    from geotarget.analysis.deserts import DEFAULT_THRESHOLDS
    from geotarget.io.assets import read_assets
    from geotarget.jobs.access import assess_access, sample_assets, write_access

    place = _bundled_place(ctx, "access")
    read, parks, entrances = sample_assets(place)
    files = list(params.get("assets") or ())
    written: dict[str, Path] = {}
    if files:
        reads = [read_assets(p, postcode_column=params.get("postcode_column"),
                             category_column=params.get("category_column"), postcodes=params.get("postcodes"))
                 for p in files]
        for p, r in zip(files, reads, strict=True):
            ctx.provenance.add_input(p, role="assets")
            if len(r.rejects):
                written[f"rejects_{Path(p).stem}"] = write_csv(ctx.out / "access" / f"rejects_{Path(p).stem}.csv",
                                                                r.rejects)
        read = pd.concat([r.assets for r in reads], ignore_index=True) if len(reads) > 1 else reads[0]
    thresholds = {**DEFAULT_THRESHOLDS, **{k: float(v) for k, v in (params.get("thresholds") or {}).items()}}
    res = assess_access(read, place=place, vintage=ctx.data.vintage.year, councils=list(ctx.data.councils),
                        parks=parks, park_access_points=entrances, radii=params.get("radius") or (400, 800, 1600),
                        max_decile=params.get("desert_decile") or 2, thresholds=thresholds)
    written.update(write_access(res, ctx.out / "access"))
    return written


@register("hia")
def _run_hia(ctx: StudyContext, params: Mapping[str, Any]) -> dict[str, Path]:
    """HIA screening of the study's site(s) into ``<out>/hia``."""
    from geotarget.hia.report import run_hia

    place = _bundled_place(ctx, "hia")
    if not params.get("site") and not params.get("sites"):
        raise ConfigError(f"{ctx.where('hia')}: give a site (file, WKT, postcode or \"E,N\") or sites (a file)")
    if params.get("sites"):
        ctx.provenance.add_input(params["sites"], role="hia sites")
    res = run_hia(site=params.get("site"), sites=params.get("sites"), out=ctx.out / "hia", name=params.get("name"),
                  buffers=params.get("buffer") or (800, 2000), place=place, vintage=ctx.data.vintage.year)
    return dict(getattr(res, "outputs", {}) or {})
