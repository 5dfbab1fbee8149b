"""Run a study file: load its data, run the main job, then every analysis section it names.

:func:`run_study` is what ``geotarget run --config study.toml`` calls. It writes everything to
one output folder with one ``manifest.json`` (the study file, every input with its checksum
and vintage, every parameter, every output).

Analyses plug in through a registry: a capability registers a runner for its section::

    from geotarget.study.pipeline import register

    @register("target")
    def _run_target(ctx, section):                # section: the validated [target] keys
        p = TargetParams(**section)               # the job's params model (geotarget.jobs.params)
        return run_target(ctx.data, **p.job_kwargs(), out=ctx.out).outputs

A runner gets a :class:`StudyContext` (the study, the data bundle, the output folder, the main
job's result and the provenance recorder) and returns the files it wrote, which go into the
manifest. Sections run in the order of :data:`geotarget.study.schema.ANALYSES`. A section present in
the study without a registered runner is an error before anything runs, naming the section,
its line and the capability it needs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geotarget.analysis.aggregate import aggregate
from geotarget.core.errors import ConfigError, GeotargetError
from geotarget.core.progress import Stage, StageLog, stage
from geotarget.data.load import load
from geotarget.data.source import DataSource
from geotarget.data.study_data import StudyData
from geotarget.io.files import write_csv
from geotarget.io.provenance import Provenance
from geotarget.io.publish import check_replaceable, publishing
from geotarget.jobs.params import AccessParams, AggregateParams, HiaParams, TargetParams
from geotarget.jobs.run import RunResult, run
from geotarget.study.registry import CAPABILITIES, REGISTRY, Runner, StudyContext, register
from geotarget.study.schema import ANALYSES, DATA_SECTIONS, Study, load_study

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
    """``e`` located in the study file; the parameters it names are study keys here (not renamed by the CLI)."""
    text = e.renamed({n: n for n in (e.parameter, *e.related) if n})
    try:
        new = type(e)(f"{where}: {text}")
    except TypeError:  # pragma: no cover - every geotarget error takes one message
        return e
    new.__cause__ = e
    return new


def data_source(study: Study) -> DataSource:
    """Return the :class:`~geotarget.data.source.DataSource` a study file names (its [place] and [data]).

    Those sections are generated from DataSource's fields (:data:`geotarget.study.schema.DATA_SECTIONS`).
    The vintage goes to the sample and the cache (which pick their files by it); an IoD file's own vintage
    is read from its headers and checked against the study's. With files, a study without ``place`` is of
    the place its councils, region or ``england`` name. ``place`` means what it means to
    :func:`geotarget.data.load` (:func:`geotarget.data.place.resolve_place`): with the default source, a
    council, region or ``england`` outside the bundled places is read from the data cache.
    """
    values = {f.name: getattr(study.place if DATA_SECTIONS.get(f.name, "data") == "place" else study.data, f.name)
              for f in dataclasses.fields(DataSource) if DATA_SECTIONS.get(f.name, "data") != ""}
    source = values["source"]
    values["vintage"] = study.vintage if source != "files" else None
    if getattr(study.place, "england", False) or source != "sample" and values["place"] == DataSource.place:
        values["place"] = "england"
    elif source == "sample" and values["place"] == DataSource.place and values["councils"]:
        values.update(_councils_as_place(tuple(values["councils"])))
    return DataSource(**values)


def _councils_as_place(councils: tuple[str, ...]) -> dict[str, Any]:
    """Return the place of a study's [place] councils outside the default bundled place (read from the cache).

    Councils inside it narrow the bundled sample, as before; a name that is no council is an error with
    the closest English councils.
    """
    from geotarget.core.errors import AreaNotFoundError
    from geotarget.core.places import PLACES
    from geotarget.data.place import resolve_place

    try:
        choice = resolve_place(councils)
    except AreaNotFoundError as e:
        raise AreaNotFoundError(str(e).replace("place ", "council ", 1)).naming("councils") from None
    if set(choice.councils) <= set(PLACES[DataSource.place].councils):
        return {}
    return {"place": ",".join(choice.councils), "councils": ()}


def _key_in(study: Study, section: str, e: GeotargetError) -> tuple[str, str | None]:
    """Return the section and key of the first parameter ``e`` names that the study file has.

    ``section``'s keys, or for ``"data"`` the [place]/[data] keys and the top-level vintage;
    ``(section, None)`` if none.
    """
    from geotarget.study.schema import MODELS, SECTIONS

    for name in (e.parameter, *e.related):
        if not name:
            continue
        if section == "data":
            where = DATA_SECTIONS.get(name, "data")
            if name in SECTIONS[where]:
                return where, name
            continue
        keys = SECTIONS.get(section, {})
        model = MODELS.get(section)
        args = {f.metadata.get("arg", f.name): f.name for f in dataclasses.fields(model)} if model else {}
        key = name if name in keys else args.get(name)
        if key in keys:
            return section, key
    return section, None


def load_study_data(study: Study) -> StudyData:
    """Return the data a study names, errors located in the file.

    The data is :func:`geotarget.data.load` of the study's :func:`data_source`.
    """
    key = "councils" if study.place.councils else "region" if study.place.region else \
        "place" if ("place", "place") in study.lines else "england"
    try:
        data = load(data_source(study))
        if data.vintage.year != study.vintage:
            d = study.data
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
        if "place" in (e.parameter, *e.related) and ("place", "place") not in study.lines:  # named by councils ...
            raise _with_where(e, study.where("place", key)) from None
        section, name = _key_in(study, "data", e)
        if name is not None:
            raise _with_where(e, study.where(section, name)) from None
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


#: [data] inputs read by one analysis section only: given without that section, they would not be used.
_USED_BY = {"indicators": ("hia",), "cni": ("hia",), "assets": ("access",)}


class _PostcodeSite(Exception):
    """A site given as a postcode: located when the section runs (it needs the postcode lookup)."""


def _postcode_site():
    raise _PostcodeSite


def preflight(study: Study, *, out: str | os.PathLike | None = None) -> None:
    """Check, before any work starts and anything is written, what a study file can be checked for.

    Raises a :class:`ConfigError` naming the file, line, section and key for:

    * a section this installation cannot run (:func:`check_capabilities`);
    * a section that cannot run on the study's place: ``[access]`` with official files but no asset
      file (the bundled assets cover the sample places only); ``[hia]`` without a site, or with a site
      that is not a postcode, file, WKT or coordinates;
    * an input given but not used: ``[data] indicators``/``cni`` without ``[hia]``, ``assets`` without
      ``[access]`` or besides its own ``assets``, ``[aggregate] groups`` without a grouping to use it.
      This is an error rather than a warning, as a file key with ``source = "sample"`` is, so that a
      study never looks as if it used a file it ignored;
    * an output folder that is a file.
    """
    check_capabilities(study)
    data, analyses = study.data, study.analyses
    for key, sections in _USED_BY.items():
        given = getattr(data, key, None)
        if given and not any(s in analyses for s in sections):
            need = " or ".join(f"[{s}]" for s in sections)
            raise ConfigError(f"{study.where('data', key)}: {key} is given but not used: only {need} reads it, and "
                              f"the study has no {need} section; add the section or remove {key}")
    if data.assets and "access" in analyses and analyses["access"].get("assets"):
        raise ConfigError(f"{study.where('data', 'assets')}: assets is given but not used: [access] assets "
                          "names the asset files of the access section; give them in one place")
    agg = analyses.get("aggregate", {})
    if agg.get("groups") is not None:
        from geotarget.analysis.aggregate import GROUPINGS

        if not any(t in GROUPINGS for t in agg.get("to", ())):
            raise ConfigError(f"{study.where('aggregate', 'groups')}: groups is given but not used: it is for "
                              f"to = {list(GROUPINGS)}; add one of them to to or remove groups")
    if "access" in analyses and data.source == "files" and not data.assets and not analyses["access"].get("assets"):
        raise ConfigError(f"{study.where('access')}: this section cannot run on this place: the bundled assets "
                          "cover the sample places only, and with source = \"files\" no asset file is given; "
                          "name them with [access] assets = [\"...\"] (or [data] assets)")
    if "hia" in analyses:
        _preflight_hia(study, analyses["hia"])
    for section in ("cluster", "hotspots", "inequality"):  # an indicator table must be readable and keyed by area
        keys = analyses.get(section, {})
        if keys.get("indicators") is not None and str(keys["indicators"]) not in ("sample", "iod"):
            from geotarget.io.indicators import read_indicator_table

            columns = keys.get("columns") if section == "cluster" else None
            try:
                read_indicator_table(keys["indicators"], id_column=keys.get("id_column"),
                                     columns=list(columns) if columns else None)
            except GeotargetError as e:
                raise _with_where(e, study.where(*_key_in(study, section, e))) from None
    if "custom" in agg.get("to", ()) and agg.get("areas") is not None:
        from geotarget.io.areas import read_areas

        try:
            read_areas(agg["areas"], id_column=agg["area_id"], name_column=agg.get("area_name"))
        except GeotargetError as e:
            raise _with_where(e, study.where("aggregate", "areas")) from None
    folder = Path(out) if out is not None else study.output.folder
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                where = "--out" if out is not None else study.where("output", "folder")
                raise ConfigError(f"{where}: the output folder {folder} cannot be made: {parent} is a file; "
                                  "give a folder path")
            break


def preflight_data(study: Study, data: StudyData) -> None:
    """Check what needs the study's data, after it is loaded and before anything is written.

    The councils ``[output] map_councils`` names are among the data's, and the IoD indicators that
    ``[hotspots] indicator`` and ``[inequality] indicator`` name (without an indicator table) are columns
    of the data; a :class:`ConfigError` names the file, line and key otherwise.
    """
    from geotarget.analysis.areadata import indicator_column
    from geotarget.core.councils import resolve_councils

    if study.output.map and study.output.map_councils and data.lads is not None and "lad_name" in data.lads:
        try:
            resolve_councils(study.output.map_councils, data.lads["lad_name"])
        except GeotargetError as e:
            raise _with_where(e, study.where("output", "map_councils")) from None
    for section in ("hotspots", "inequality"):
        keys = study.analyses.get(section)
        if keys is None or keys.get("indicators") is not None or keys.get("indicator") is None:
            continue
        names = keys["indicator"]
        for name in (names,) if isinstance(names, str) else names:
            try:
                indicator_column(data, name)
            except GeotargetError as e:
                raise _with_where(e, study.where(section, "indicator")) from None


def _preflight_hia(study: Study, section: Mapping[str, Any]) -> None:
    """``[hia]`` needs a site or sites; a site that is not a postcode must parse (a file, WKT or coordinates)."""
    if not section.get("site") and not section.get("sites"):
        raise ConfigError(f"{study.where('hia')}: give a site (file, WKT, postcode or \"E,N\") or sites (a file)")
    if section.get("site"):
        from geotarget.io.sites import parse_site

        try:
            parse_site(section["site"], name=section.get("name"), postcodes=_postcode_site)
        except _PostcodeSite:
            pass  # located against the postcodes when the section runs
        except GeotargetError as e:
            raise _with_where(e, study.where("hia", "site")) from None


def run_study(study: Study | str | os.PathLike, *, out: str | os.PathLike | None = None,
              stages: StageLog | None = None) -> StudyResult:
    """Run a study (a :class:`~geotarget.study.schema.Study` or the path of a study file).

    ``out`` overrides the study's output folder. Pass a :class:`StageLog` (``memory=True`` to
    sample peak memory) to collect per-step timings; they are also in the result.
    """
    if not isinstance(study, Study):
        study = load_study(study)
    preflight(study, out=out)  # everything that can be found before work starts, before anything is written
    folder = Path(out) if out is not None else study.output.folder
    params: dict[str, Any] = {"study": study.as_dict()}
    stages = stages if stages is not None else StageLog()
    with contextlib.nullcontext() if stages.active else stages:
        data = load_study_data(study)
        preflight_data(study, data)  # still nothing written
        prov = Provenance(folder, command="run --config", parameters=params)
        if study.path is not None and study.path.is_file():
            prov.add_input(study.path, role="study")
        prov.add_sources(data.sources)  # every input known before anything is written
        try:
            prov.protect(folder)
            check_replaceable(Path(os.path.abspath(folder)))
        except GeotargetError as e:
            if out is not None or getattr(e, "parameter", None) != "out":
                raise
            raise ConfigError(f"{study.where('output', 'folder')}: {e.renamed({'out': 'folder'})}") from None
        with publishing(folder, command="run --config", provenance=prov) as pub:  # lock, stage, publish whole
            final, folder = pub.final, pub.dir
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
                        raise _with_where(e, study.where(*_key_in(study, section, e))) from None
                for role, path in produced.items():
                    outputs[f"{section}.{role}"] = prov.add_output(path)
    result = dataclasses.replace(result, outputs=final(result.outputs), manifest=prov.path)
    return StudyResult(study, result, final(outputs), prov.path, list(stages.stages))


# ----------------------------------------------------------------------------- built-in runners

@register("aggregate")
def _run_aggregate(ctx: StudyContext, section: Mapping[str, Any]) -> dict[str, Path]:
    """Profiles for the geographies in ``to`` beyond wards (which the main job writes)."""
    from geotarget.analysis.aggregate import GROUPINGS
    from geotarget.io.areas import read_areas
    from geotarget.jobs.groupings import denominator_notes, profile_groups, with_working_age

    written: dict[str, Path] = {}
    p = AggregateParams(**section)
    data = ctx.data
    if p.working_age is not None:  # the Employment domain's working-age population (issue 17)
        data = with_working_age(data, p.working_age)
        ctx.provenance.add_input(p.working_age, role="working_age")
    lsoas = data.lsoas
    for to in p.to:
        if to == "ward":
            continue
        if to in GROUPINGS:  # groupings of councils: regions, ICBs, LRFs, combined authorities, user groups
            # one groups file: for icb/lrf/cauth/groups; regions use it only when they are the sole grouping
            grp = p.groups if to != "region" or sum(t in GROUPINGS for t in p.to) == 1 else None
            if grp is not None:
                ctx.provenance.add_input(grp, role="groups")
            table = profile_groups(data, to=to, groups=grp).table
            for note in (*table.attrs.get("warnings", []), *denominator_notes(table)):
                ctx.provenance.add_note(note)
            written[to] = write_csv(ctx.out / f"{ctx.stem}_{to}.csv", table.reset_index())
            continue
        if to == "custom":
            shapes = read_areas(p.areas, id_column=p.area_id, name_column=p.area_name)
            ctx.provenance.add_input(p.areas, role="areas")
            method = p.method.replace("-", "_")
            points = None
            if method == "apportion":
                points = ctx.data.postcodes
            table = aggregate(lsoas, to="custom", areas=shapes, method=method, centroids=ctx.data.centroids,
                              points=points, vintage=ctx.data.vintage.year, partial=ctx.data.source.partial)
            name = f"{ctx.stem}_custom_areas.csv"
        else:
            table = aggregate(lsoas, to=to, vintage=ctx.data.vintage.year)
            name = f"{ctx.stem}_{to}s.csv"
        written[to] = write_csv(ctx.out / name, table.reset_index())
    return written


@register("target")
def _run_target(ctx: StudyContext, section: Mapping[str, Any]) -> dict[str, Path]:
    """Targeted action areas for the study's councils (geotarget target), into ``<out>/action_areas*``."""
    from geotarget.jobs.target import run_target

    p = TargetParams(**section)
    written = {k.removeprefix("action_areas_"): f for k, f in ctx.run.outputs.items() if k.startswith("action_areas_")}
    if (ctx.run.action_areas is not None and p == TargetParams() and written
            and all(f.parent == ctx.out for f in written.values())):
        return written  # the main job computed and wrote exactly these (the defaults) in this folder: not twice
    return run_target(ctx.data, **p.job_kwargs(), out=ctx.out).outputs


__all__ = ["CAPABILITIES", "REGISTRY", "Runner", "StudyContext", "StudyResult", "check_capabilities",
           "data_source", "load_study_data", "preflight", "preflight_data", "register", "run_study"]


# ----------------------------------------------------------------------------- capabilities in their modules

def _register_capabilities() -> None:
    from geotarget.study.sections import register_analysis_sections

    register_analysis_sections()  # [cluster], [hotspots], [inequality]


_register_capabilities()


def _place_data(ctx: StudyContext) -> StudyData:
    """Return the data [hia] screens against: the whole bundled place (every council), or files as they are.

    A bundled place is taken whole, as `geotarget hia` does; data from files is screened as it is.
    """
    from geotarget.core.places import get_place

    if ctx.data.bundled and set(ctx.data.councils) != set(get_place(ctx.data.place_key).councils):
        return load(ctx.data.source, councils=())
    return ctx.data


@register("access")
def _run_access(ctx: StudyContext, section: Mapping[str, Any]) -> dict[str, Path]:
    """Access to assets (the bundled ones, or the study's asset files) into ``<out>/access``."""
    from geotarget.analysis.deserts import DEFAULT_THRESHOLDS
    from geotarget.io.assets import read_category_map
    from geotarget.jobs.access import assess_access, read_asset_files, sample_assets, write_access

    p = AccessParams(**section)
    files = list(p.assets)
    read = parks = entrances = None
    if not files:
        read, parks, entrances = sample_assets(ctx.data, ods_include=p.ods_include)
    elif ctx.data.bundled:
        _, parks, entrances = sample_assets(ctx.data)
    written: dict[str, Path] = {}
    if files:
        mapping = read_category_map(p.category_map) if p.category_map else {}
        mapping.update(p.map_category or {})
        reads = [read_asset_files([f], ctx.data, layer=p.layer, postcode_column=p.postcode_column,
                                  lat_column=p.lat_column, lon_column=p.lon_column, x_column=p.x_column,
                                  y_column=p.y_column, category_column=p.category_column, category=p.category,
                                  category_map=mapping, name_column=p.name_column, id_column=p.id_column,
                                  capacity_column=p.capacity_column, postcodes=p.postcodes, ods_include=p.ods_include)
                 for f in files]
        for f, r in zip(files, reads, strict=True):
            ctx.provenance.add_input(f, role="assets")
            if len(r.rejects):
                written[f"rejects_{Path(f).stem}"] = write_csv(ctx.out / "access" / f"rejects_{Path(f).stem}.csv",
                                                                r.rejects)
        read = pd.concat([r.assets for r in reads], ignore_index=True) if len(reads) > 1 else reads[0]
    if p.parks:
        import geopandas as gpd

        ctx.provenance.add_input(p.parks, role="parks")
        parks = gpd.read_file(p.parks)
        entrances = gpd.read_file(p.park_access_points) if p.park_access_points else None
    network = None
    if p.network:
        from geotarget.io.network import read_street_network

        ctx.provenance.add_input(p.network, role="network")
        network = read_street_network(p.network)
    kw = p.job_kwargs()
    kw.update(thresholds={**DEFAULT_THRESHOLDS, **dict(p.thresholds or {})},
              capacity_column="capacity" if p.capacity_column else None)
    res = assess_access(ctx.data, read, parks=parks, park_access_points=entrances, network=network, **kw)
    written.update(write_access(res, ctx.out / "access"))
    return written


@register("hia")
def _run_hia(ctx: StudyContext, section: Mapping[str, Any]) -> dict[str, Path]:
    """HIA screening of the study's site(s) into ``<out>/hia``."""
    from geotarget.hia.report import run_hia
    from geotarget.hia.screen import ScreeningRules

    p = HiaParams(**section)
    if not p.site and not p.sites:
        raise ConfigError(f"{ctx.where('hia')}: give a site (file, WKT, postcode or \"E,N\") or sites (a file)")
    if p.sites:
        ctx.provenance.add_input(p.sites, role="hia sites")
    assets = None
    if p.assets:
        from geotarget.io.assets import read_assets

        ctx.provenance.add_input(p.assets, role="hia assets")
        assets = read_assets(p.assets, category_column=p.assets_category_column)
    rules = ScreeningRules(flag_indices=p.flag_indices, flag_max_decile=p.flag_max_decile, flag_scope=p.flag_scope)
    res = run_hia(_place_data(ctx), **p.job_kwargs(), out=ctx.out / "hia", rules=rules, assets=assets)
    return dict(getattr(res, "outputs", {}) or {})
