"""The ``geotarget`` command: a thin layer over the Python API.

Each command parses its options, calls one library function, and turns a
:class:`~geotarget.GeotargetError` (or an operating-system error: disk full, read-only folder ...) into a
one-line error and exit status 2; anything else is a one-line internal error, exit status 3 (:func:`main`).

A job's options are generated (:mod:`geotarget.cli.options`) from its params model
(:mod:`geotarget.jobs.params`) and its data options from :class:`~geotarget.data.source.DataSource`;
a :class:`~geotarget.core.errors.ParameterError`, which names the Python parameter, is reported
with the option's flag.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from geotarget.cli.options import add_options, data_kwargs, data_options, flag_message, params_from_args
from geotarget.core.errors import GeotargetError
from geotarget.core.version import __version__
from geotarget.jobs.params import (
    AccessParams,
    AggregateParams,
    ClusterParams,
    HiaParams,
    HotspotsParams,
    InequalityParams,
    MapParams,
    RunParams,
    TargetParams,
)

log = logging.getLogger("geotarget")


#: Councils listed in the printed summary (all of them up to this many; else those with the highest share).
_MAX_COUNCIL_ROWS = 20


def _fmt_size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def _print_summary(result) -> None:
    s = result.summary
    print(f"{result.title} — {result.vintage_label}")
    print(f"{'Council':<24}{'LSOAs':>7}{'in most deprived 10%':>24}{'Population':>13}{'in most deprived 10%':>24}")
    shown = s if len(s) <= _MAX_COUNCIL_ROWS else s.sort_values(["pct_population_decile1", "lad_name"],
                                                                 ascending=[False, True]).head(_MAX_COUNCIL_ROWS)
    for _, r in shown.iterrows():
        print(f"{r.lad_name:<24}{r.lsoas:>7,}{f'{r.lsoas_decile1:,} ({r.pct_lsoas_decile1:.1f}%)':>24}"
              f"{r.population:>13,}{f'{r.population_decile1:,} ({r.pct_population_decile1:.1f}%)':>24}")
    if len(shown) < len(s):
        print(f"... and {len(s) - len(shown):,} more councils (the {len(shown)} above have the highest share of "
              f"people in the most deprived 10%; all are in {result.outputs['summary'].name})")
    if len(s) > 1:
        n, n1, p, p1 = s.lsoas.sum(), s.lsoas_decile1.sum(), s.population.sum(), s.population_decile1.sum()
        print(f"{'All':<24}{n:>7,}{f'{n1:,} ({100 * n1 / n:.1f}%)':>24}{p:>13,}{f'{p1:,} ({100 * p1 / p:.1f}%)':>24}")
    print("National deciles: 1 = the most deprived 10% of LSOAs in England.")
    w = result.ward_profiles
    top = w.sort_values("imd_rank_average_score").head(3)
    ranks = getattr(result, "ward_ranks", None)
    among = ranks.among if ranks is not None else f"{len(w):,} wards"
    national = ranks.national if ranks is not None else \
        result.vintage is not None and len(result.lsoas) == result.vintage.n_lsoas
    print(f"Ward profiles for {len(w):,} wards; highest IMD average score: "
          + "; ".join(f"{r.area_name} ({r.lad_name}) {r.imd_average_score:.1f}" for _, r in top.iterrows())
          + (f". Ward ranks are national: among {among}." if national else
             f". Ward ranks are among the {among}, not national: national ward ranks need the England-wide IoD file "
             "(geotarget data fetch iod2025 lsoa21-boundaries lsoa21-ward24-lookup, then --source cache)."))
    for note in result.notes:
        print(f"Note: {note}")
    ta = getattr(result, "action_areas", None)
    if ta is not None and len(ta.areas):
        from geotarget.render.action_areas import summary_lines

        print(f"Targeted action areas ({ta.rule.short()}, up to {ta.settings.n} per council; as in action_areas.md):")
        print("\n".join(summary_lines(ta)))
    if getattr(result, "hotspots", None) is not None:
        counts = result.hotspots.layer["category"].value_counts()
        print(f"IMD hot spots (Gi*, FDR 5%): {counts.get('hot spot', 0)} hot, {counts.get('cold spot', 0)} cold; "
              f"area types: {result.clusters.result.k} (clusters/cluster_profiles.csv)")
    print("Outputs:")
    for path in result.outputs.values():
        print(f"  {path}  ({_fmt_size(path.stat().st_size)})")
    if result.manifest is not None:
        print(f"  {result.manifest}  (provenance: inputs, checksums, parameters, versions)")


def _cmd_run(args: argparse.Namespace) -> int:
    from geotarget.jobs.run import run

    params = params_from_args(RunParams, args)
    if args.config:
        return _cmd_run_study(args, params)
    data = _load_data(args, RunParams.DATA)
    result = run(data, out=args.out or _default_out(data), **params.job_kwargs())
    if not args.quiet:
        _print_summary(result)
    return 0


def _default_out(data) -> str:
    """``maps/<place>``: each place gets its own folder under ``maps/`` (``maps/tees_valley``, ``maps/sunderland``)."""
    from geotarget.io.sites import slugify

    return f"maps/{data.place_key or slugify(data.place)}"


def _show_progress(args: argparse.Namespace) -> None:
    """Show the start and end of long steps on stderr (unless -q; with -v they come with everything else)."""
    if args.quiet or args.verbose:
        return
    progress = logging.getLogger("geotarget.progress")
    if _PROGRESS not in progress.handlers:
        progress.addHandler(_PROGRESS)
    progress.setLevel(logging.INFO)
    progress.propagate = False


def _hide_progress() -> None:
    progress = logging.getLogger("geotarget.progress")
    progress.removeHandler(_PROGRESS)
    progress.setLevel(logging.NOTSET)
    progress.propagate = True


def _bars(args: argparse.Namespace):
    """Progress bars on stderr when it is a terminal and -q is not given; log lines go above the bars."""
    import contextlib

    from geotarget.core.progress import show_bars

    isatty = getattr(sys.stderr, "isatty", None)
    if getattr(args, "quiet", False) or isatty is None or not isatty():
        return contextlib.nullcontext()
    from tqdm.contrib.logging import logging_redirect_tqdm

    stack = contextlib.ExitStack()
    stack.enter_context(show_bars(sys.stderr))
    stack.enter_context(logging_redirect_tqdm())
    return stack


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a record comes (the CLI may be called many times)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from geotarget.core.progress import bars_shown

            if bars_shown():  # above the bars, not through them
                from tqdm import tqdm

                tqdm.write(self.format(record), file=sys.stderr)
                return
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


_PROGRESS = _StderrHandler()
_PROGRESS.setFormatter(logging.Formatter("geotarget: %(message)s"))


def _cmd_run_study(args: argparse.Namespace, params: RunParams) -> int:
    from geotarget.cli.options import flag
    from geotarget.study.pipeline import run_study
    from geotarget.study.schema import load_study

    clash = [o for o, v in (("--la", args.councils), ("--vintage", args.vintage), ("--place", args.place),
                            ("--cache", args.cache)) if v]
    clash += ["--source"] if args.source != "sample" else []
    clash += [flag(RunParams, k) for k, v in params.as_dict().items() if v != getattr(RunParams, k)]
    if clash:
        raise GeotargetError(f"{' and '.join(clash)} cannot be combined with --config: set them in the study file "
                             "([place] place or councils, [data] source and cache, vintage, title, [output] map, "
                             "map_councils)")
    args.model = None  # errors now name the study file's keys, not this command's flags
    study = load_study(args.config)
    _show_progress(args)
    res = run_study(study, out=args.out)
    if args.quiet:
        return 0
    _print_summary(res.run)
    extra = {k: v for k, v in res.outputs.items() if k not in res.run.outputs}
    for role, path in extra.items():
        print(f"  {path}  ({_fmt_size(path.stat().st_size)})  [{role}]")
    if res.manifest is not None:
        print(f"  {res.manifest}  (provenance: study, inputs, checksums, parameters, versions)")
    return 0


def _aggregate_provenance(args: argparse.Namespace, p: AggregateParams, data=None):
    """Return the provenance recorder of ``geotarget aggregate``: ``<out>.manifest.json`` beside the output CSV.

    A single-file output gets a manifest named after it, so several profiles written to one
    folder each keep their own record.
    """
    from pathlib import Path

    from geotarget.io.provenance import Provenance

    out = Path(args.out)
    params = {"to": p.to[0], "imd": args.imd, "vintage": args.vintage, "population": args.population,
              "lookup": args.lookup, "groups": p.groups, "working_age": p.working_age, "areas": p.areas,
              "area_id": p.area_id, "area_name": p.area_name,
              "boundaries": args.boundaries, "method": p.method, "councils": args.councils,
              "place": args.place, "source": args.source if args.source != "sample" else None}
    prov = Provenance(out.parent, command="aggregate", parameters={k: v for k, v in params.items() if v is not None},
                      manifest=f"{out.name}.manifest.json")
    if args.imd == "sample" and data is not None and not data.bundled:  # a place read from the data cache
        for s in data.sources:
            prov.add_input(s.path, role=s.role, vintage=s.vintage)
    elif args.imd == "sample":
        from geotarget.data.sample import sample_sources

        for s in sample_sources(args.vintage or 2025, place=data.place_key if data is not None else "tees_valley"):
            if s.role in ("imd", "population", "lookup", "centroids") or (s.role == "boundaries" and p.areas):
                prov.add_input(s.path, role=s.role, vintage=s.vintage)
    elif Path(args.imd).is_file():
        prov.add_input(args.imd, role="imd")
    for role in ("population", "lookup", "areas", "groups", "working_age", "boundaries"):
        value = getattr(p, role) if role in ("areas", "groups", "working_age") else getattr(args, role)
        if value is not None and Path(value).is_file():
            prov.add_input(value, role=role)
    return prov


def _cmd_aggregate(args: argparse.Namespace) -> int:
    from geotarget.analysis.aggregate import GROUPINGS, MEASURES, METHOD_NOTE
    from geotarget.io.areas import read_areas
    from geotarget.io.lookups import read_lsoa_lookup
    from geotarget.jobs.groupings import denominator_notes, profile_groups, with_working_age
    from geotarget.jobs.profiles import profile_areas, write_profiles_csv

    p = params_from_args(AggregateParams, args)
    to = p.to[0]
    if to == "custom" and (p.areas is None or p.area_id is None):
        raise GeotargetError("--to custom needs an areas file and its id column (--areas PATH --area-id COL)")
    if p.groups is not None and to not in GROUPINGS:
        raise GeotargetError(f"--groups is for --to {', '.join(GROUPINGS)}; --to was {to}")
    from geotarget.io.publish import publishing_file

    sample = str(args.imd) == "sample"
    # the lookup is read into a frame below; with files, councils are kept after ranking (ranks stay national)
    data = _load_data(args, tuple(n for n in AggregateParams.DATA if n != "lookup"),
                      councils=sample and to not in GROUPINGS)
    prov = _aggregate_provenance(args, p, data)
    with publishing_file(args.out, prov), prov:  # locked; refused if --out is (or links to) an input
        if p.working_age is not None:
            data = with_working_age(data, p.working_age)
        if to in GROUPINGS:
            res = profile_groups(data, to=to, groups=p.groups, councils=args.councils)
        else:
            cols = dict(p.lookup_columns) if p.lookup_columns else None
            lookup = read_lsoa_lookup(args.lookup, columns=cols) if args.lookup is not None else None
            areas = read_areas(p.areas, id_column=p.area_id, name_column=p.area_name) if to == "custom" else None
            res = profile_areas(data, to=to, lookup=lookup, areas=areas, method=p.method,
                                councils=None if sample else args.councils)
        path = prov.add_output(write_profiles_csv(res.table, args.out, inputs=[args.imd, args.population,
                                                                              args.lookup, p.areas, p.groups,
                                                                              p.working_age, args.boundaries]))
        for entry in prov.inputs:
            if entry["role"] == "imd" and entry["vintage"] is None and res.vintage:
                entry["vintage"] = f"IoD{res.vintage}"
        # a partial run (DataSource.partial) says what it left out: loud, and in the manifest
        partial = [n for n in (*data.notes, *res.table.attrs.get("notes", [])) if n.startswith("Partial coverage")]
        warnings = [*partial, *res.table.attrs.get("warnings", [])]
        denominators = denominator_notes(res.table)
        for note in (*warnings, *denominators, f"Method: {METHOD_NOTE}"):
            prov.add_note(note)
        if res.table.attrs.get("denominators"):
            prov.update_parameters(denominators=res.table.attrs["denominators"])
    for w in warnings:  # loud, even with -q
        print(w, file=sys.stderr)
    if args.quiet:
        return 0
    t = res.table
    print(f"{len(t):,} {to} profiles (IoD{res.vintage}) -> {path}")
    top = t[t["imd_rank_average_score"].notna()].sort_values("imd_rank_average_score").head(5)  # empty areas: none
    print("Most deprived by IMD average score:")
    for code, r in top.iterrows():
        print(f"  {int(r.imd_rank_average_score):>5}  {code}  {r.area_name or ''}  score {r.imd_average_score:.3f}, "
              f"{r.imd_prop_most_deprived_10:.1%} of LSOAs in England's most deprived 10%")
    if res.counts is not None:
        c = res.counts
        scope = "in England" if res.national else "in this result"
        print(f"{to.capitalize()}s in the 10% most deprived {to}s {scope} "
              f"(rank <= {c.attrs['cut']:,} of {c.attrs['n_areas']:,}), by council:")
        names = t.groupby("lad_code")["lad_name"].first() if "lad_name" in t.columns else {}
        for lad, r in c.iterrows():
            per = ", ".join(f"{m.replace('_', ' ')} {r[m]}" for m in MEASURES)
            print(f"  {names.get(lad, lad)}: {r[MEASURES[0]]} of {r.areas} {to}s on IMD average score ({per})")
    for note in (*res.notes, *denominators):
        print(f"Note: {note}")
    return 0


def _cmd_access(args: argparse.Namespace) -> int:
    import pandas as pd

    from geotarget.analysis.deserts import DEFAULT_THRESHOLDS
    from geotarget.io.assets import EXCLUDED, read_category_map
    from geotarget.jobs.access import assess_access, read_asset_files, sample_assets, write_access

    p = params_from_args(AccessParams, args)
    thresholds = {**DEFAULT_THRESHOLDS, **dict(p.thresholds or {})}
    if len(p.assets) > 1:
        raise GeotargetError("--assets: give one asset file on the command line (a study file's [access] assets "
                             "takes several)")
    parks = access_points = None
    data = _load_data(args, AccessParams.DATA)
    if not p.assets or str(p.assets[0]) == "sample":
        read, parks, access_points = sample_assets(data, ods_include=p.ods_include)
    else:
        mapping = read_category_map(p.category_map) if p.category_map else {}
        mapping.update(p.map_category or {})
        read = read_asset_files([p.assets[0]], data, postcodes=p.postcodes, layer=p.layer,
                                postcode_column=p.postcode_column, lat_column=p.lat_column, lon_column=p.lon_column,
                                x_column=p.x_column, y_column=p.y_column, category_column=p.category_column,
                                category=p.category, category_map=mapping, name_column=p.name_column,
                                id_column=p.id_column, capacity_column=p.capacity_column, ods_include=p.ods_include)
    if p.parks:
        import geopandas as gpd

        parks = gpd.read_file(p.parks)
        access_points = gpd.read_file(p.park_access_points) if p.park_access_points else None
    network = None
    if p.network:
        from geotarget.io.network import read_street_network

        network = read_street_network(p.network)
    kw = p.job_kwargs()
    kw.update(thresholds=thresholds, capacity_column="capacity" if p.capacity_column else None)
    res = assess_access(data, read, parks=parks, park_access_points=access_points, network=network, **kw)
    paths = write_access(res, args.out, inputs=[*p.assets[:1], p.category_map, p.parks, p.park_access_points,
                                                p.network, p.postcodes], parameters=p.as_dict())
    if args.quiet:
        return 0
    print(read.summary())
    for reason, rows in read.rejects.groupby("reason", sort=False)["row"]:
        shown = ", ".join(map(str, rows.head(8))) + (", ..." if len(rows) > 8 else "")
        what = "left out by default" if reason in EXCLUDED else "rejected"
        print(f"  {what}, {reason}: {len(rows):,} (rows {shown}; see rejects.csv)")
    s = res.sample
    print(f"Access from {len(res.access):,} LSOAs ({s.vintage.label}), population-weighted mean distance to the "
          "nearest asset:")
    lads = res.kpis[res.kpis["area_type"] == "lad"]
    cats = [c.removeprefix("mean_dist_").removesuffix("_m") for c in lads.columns if c.startswith("mean_dist_")]
    for _, r in lads.iterrows():
        print(f"  {r.area_name}: " + ", ".join(f"{c} {r[f'mean_dist_{c}_m']:,.0f} m" for c in cats))
        if "mean_nearest_size_park_ha" in lads:
            print(f"    parks: mean distance {r.mean_dist_park_m:,.0f} m, mean size of the nearest park "
                  f"{r.mean_nearest_size_park_ha:,.2f} ha, {int(r.n_park):,} parks in the area (mean "
                  f"{r.mean_size_park_ha:,.2f} ha)")
    d = res.deserts
    print(f"Asset deserts (IMD decile <= {p.desert_decile}, beyond the distance threshold): {len(d):,} "
          f"LSOA-category pairs in {d['lsoa_code'].nunique():,} LSOAs"
          + (", most residents affected:" if len(d) else "."))
    for _, r in d.head(5).iterrows():
        dist = "none reachable" if pd.isna(r.distance_m) else f"{r.distance_m:,.0f} m"
        print(f"  {r['rank']:>3}. {r.lsoa_code} {r.lsoa_name} ({r.ward_name}), decile {r.imd_decile}, "
              f"{r.population:,} residents: {r.category_label} {dist} (> {r.threshold_m:,.0f} m)")
    for note in res.notes:
        print(f"Note: {note}")
    print("Outputs:")
    for path in paths.values():
        print(f"  {path}  ({_fmt_size(path.stat().st_size)})")
    return 0


def _add_run(sub) -> None:
    p = sub.add_parser(
        "run", help="join the IoD to LSOAs and write an interactive deprivation map (any English place; default the "
                    "bundled Tees Valley sample)",
        description="Join the English Indices of Deprivation to LSOA boundaries for a place (the bundled Tees "
                    "Valley sample by default; --place names any English council, region or england, read from "
                    "the data cache) and write an interactive map, the joined data (GeoPackage and CSV) and a "
                    "council summary.",
    )
    data_options(p, RunParams.DATA, councils={"help": "councils to include, by code or name (case-insensitive), e.g. "
                                              "--la Middlesbrough E06000004; default: all the councils of --place"})
    add_options(p, RunParams)
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: maps/PLACE, e.g. maps/tees_valley; or the study "
                        "file's [output] folder)")
    p.add_argument("--config", metavar="STUDY.toml",
                   help="run a study file: place, data (the sample or official files), vintage and analyses "
                        "(write one with `geotarget init`)")
    _verbosity(p)
    p.set_defaults(func=_cmd_run, model=RunParams)


def _add_aggregate(sub) -> None:
    a = sub.add_parser(
        "aggregate", help="MHCLG summary measures (average score/rank, proportion in most deprived 10%%, extent, "
                          "local concentration, with ranks) for councils, MSOAs, wards or your own areas",
        description="Deprivation profiles for areas bigger than an LSOA, with the five summary measures MHCLG "
                    "publishes for local authorities (File 10), for the IMD and each domain.",
    )
    add_options(a, AggregateParams)
    data_options(a, AggregateParams.DATA,
                 lookup={"help": "LSOA to ward/MSOA/LAD lookup CSV (e.g. an ONS best-fit file)"},
                 boundaries={"help": "LSOA boundaries, for custom areas with an IoD file"},
                 councils={"help": "keep these councils (ranks stay over the whole file)"})
    a.add_argument("--out", required=True, metavar="FILE.csv", help="output CSV")
    _verbosity(a)
    a.set_defaults(func=_cmd_aggregate, model=AggregateParams, flags={"path": "--out"})


def _study_options(p: argparse.ArgumentParser, names: tuple[str, ...]) -> None:
    """Where the study areas come from: the bundled sample (default) or official England-wide files."""
    g = p.add_argument_group("data (default: the bundled Tees Valley sample)")
    data_options(g, names, councils={"help": "councils to study, by code or name (references and ranks stay "
                                             "national)"},
                 lookup={"help": "LSOA to ward best-fit lookup (for ward level with files)"})


def _load_data(args: argparse.Namespace, names: tuple[str, ...], *, councils: bool = True):
    """Load the study's data from a command's data options ``names``.

    Uses :func:`geotarget.data.load`: official files with ``--imd PATH``; else ``--source`` (the bundled
    sample by default, which reads a ``--place`` outside the bundled places from the data cache).
    """
    from geotarget.data.load import load
    from geotarget.data.place import resolve_place

    kw = data_kwargs(args, names)
    imd = kw.pop("imd", "sample")
    source = kw.pop("source", None) or "sample"
    files = str(imd) != "sample"
    if files:
        if source == "cache":
            raise GeotargetError("--imd PATH reads the files given (source files): drop --source cache, or --imd")
        source = "files"
    elif source == "files":
        raise GeotargetError("--source files needs the IoD file: --imd PATH (and --boundaries, --lookup for maps)")
    if not councils:
        kw.pop("councils", None)
    kw = {k: v for k, v in kw.items() if v is not None}
    if source == "cache" and not kw.get("place") and not kw.get("councils"):
        from geotarget.data.source import DataSource

        kw["place"] = DataSource.place  # the default place, as with the sample (--place england for all)
    if source != "sample" and kw.get("place"):
        choice = resolve_place(kw["place"])  # a bundled place's name, with files: its councils
        if choice.kind == "bundled":
            kw["place"] = ",".join(choice.councils)
    return load(source=source, imd=imd if files else None, **kw)


def _print_outputs(outputs) -> None:
    print("Outputs:")
    for path in outputs.values():
        print(f"  {path}  ({_fmt_size(path.stat().st_size)})")


def _cmd_cluster(args: argparse.Namespace) -> int:
    from geotarget.jobs.analyses import run_cluster

    p = params_from_args(ClusterParams, args)
    res = run_cluster(_load_data(args, ClusterParams.DATA), **p.job_kwargs(), out=args.out)
    if args.quiet:
        return 0
    typ = res.result
    print(f"{typ.k} area types ({typ.method}) for {len(typ.clusters):,} {'LSOAs' if p.level == 'lsoa' else 'wards'} — "
          f"{res.study.label}; gaps vs {p.reference}")
    print(typ.scores.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    for _, r in typ.profiles.iterrows():
        print(f"  {r.cluster}. {r.label} — {r.areas:,} areas, {r.population:,.0f} people ({r.population_share:.0%})")
    for note in res.notes:
        print(f"Note: {note}")
    _print_outputs(res.outputs)
    return 0


def _cmd_hotspots(args: argparse.Namespace) -> int:
    from geotarget.jobs.analyses import run_hotspots

    p = params_from_args(HotspotsParams, args)
    res = run_hotspots(_load_data(args, HotspotsParams.DATA), **p.job_kwargs(), out=args.out)
    if args.quiet:
        return 0
    hs = res.result
    print(f"{'Getis-Ord Gi*' if hs.method == 'gi' else 'Local Moran'} hot spots of {p.indicator} — "
          f"{res.study.label}; FDR (Benjamini–Hochberg) alpha {hs.alpha}")
    for cat, n in hs.counts.items():
        print(f"  {cat:<22}{n:>7,}")
    for note in res.notes:
        print(f"Note: {note}")
    _print_outputs(res.outputs)
    return 0


def _cmd_inequality(args: argparse.Namespace) -> int:
    from geotarget.jobs.analyses import run_inequality

    p = params_from_args(InequalityParams, args)
    res = run_inequality(_load_data(args, InequalityParams.DATA), **p.job_kwargs(), out=args.out)
    if args.quiet:
        return 0
    t = res.result.table
    level = f"{100 * p.confidence[0]:g}% CI"
    print(f"Inequality across {p.deciles} IMD deciles — {res.study.label}")
    print(f"{'indicator':<24}{'SII':>10}{level:>24}{'RII':>8}{'D10 - D1':>11}{'Gini':>7}")
    for _, r in t.iterrows():
        ci = f"{r.sii_lower:,.3g} to {r.sii_upper:,.3g}" if r.sii_lower == r.sii_lower else "n/a"
        rii = f"{r.rii:.3g}" if r.rii == r.rii else "-"  # undefined: see the notes
        print(f"{str(r.indicator)[:23]:<24}{r.sii:>10,.3g}{ci:>24}{rii:>8}{r.gap_d1_d10:>11,.3g}{r.gini:>7.3f}")
    if len(t):
        r = t.iloc[0]
        print(f"Standard errors: {r.se_source}; value type {r.value_type}"
              f"{' (log/logit transform)' if r.transform else ''}; {int(r.repetitions):,} Monte Carlo draws")
    for note in res.notes:
        print(f"Note: {note}")
    _print_outputs(res.outputs)
    return 0


#: The analysis commands that differ only in their words: (name, params model, runner, help, description).
_ANALYSES = (
    ("cluster", ClusterParams, "_cmd_cluster",
     "area typologies from outcome gaps (k-means, Ward, or contiguous regions with a population floor)",
     "Group LSOAs or wards that share the same kind of disadvantage, from their gaps to England, their region or "
     "the study area on the IoD domains or your own indicators. Writes clusters.gpkg, cluster_profiles.csv and "
     "cluster_profiles.png."),
    ("hotspots", HotspotsParams, "_cmd_hotspots",
     "hot and cold spots (Getis-Ord Gi*, Local Moran's I) with permutation tests and FDR",
     "Statistically significant clusters of high or low values of an LSOA indicator: Getis-Ord Gi* (hot/cold "
     "spots) or Local Moran's I (HH, LL, HL, LH), conditional permutation p-values, Benjamini-Hochberg false "
     "discovery rate. Writes hotspots.gpkg."),
    ("inequality", InequalityParams, "_cmd_inequality",
     "slope and relative index of inequality (SII/RII, OHID method), D10-D1 gap, Gini, Theil",
     "How an LSOA indicator varies across deprivation deciles: the Slope Index of Inequality and Relative Index "
     "of Inequality by the OHID/PHE method with Monte Carlo confidence intervals, the gap between the least and "
     "most deprived deciles, and population-weighted Gini and Theil. Writes inequality.csv."),
)


def _add_analyses(sub) -> None:
    """Add the cluster, hotspots and inequality commands: options from their params models, data options, --out."""
    for name, model, runner, help_text, description in _ANALYSES:
        p = sub.add_parser(name, help=help_text, description=description)
        add_options(p, model)
        p.add_argument("--out", required=True, metavar="DIR", help="output folder")
        _study_options(p, model.DATA)
        _verbosity(p)
        p.set_defaults(func=globals()[runner], model=model)
def _cmd_target(args: argparse.Namespace) -> int:
    from geotarget.jobs.target import run_target

    p = params_from_args(TargetParams, args)
    if args.imd == "sample" and any(getattr(args, k, None) is not None for k in ("population", "boundaries", "lookup")):
        raise GeotargetError("--population, --boundaries and --lookup go with an IoD file (--imd PATH), "
                             "not with the bundled sample")
    if args.imd != "sample" and args.boundaries is None:
        raise GeotargetError("targeting needs LSOA boundaries to find neighbours: pass --boundaries PATH "
                             "(e.g. ONS LSOA 2021 generalised boundaries)")
    # every LSOA loaded is a candidate (composite deciles use them all); --la narrows the areas chosen
    data = _load_data(args, TargetParams.DATA, councils=False)
    res = run_target(data, **p.job_kwargs(), councils=args.councils, out=args.out)
    result, outputs = res.result, res.outputs
    if args.quiet:
        return 0
    print(f"Targeted action areas ({result.vintage.label}): {result.rule.describe()}")
    from geotarget.render.action_areas import summary_lines

    n_areas, n_councils = len(result.areas), len(result.councils)
    print(f"{n_areas} action area{'' if n_areas == 1 else 's'} from {result.qualifying:,} qualifying LSOA"
          f"{'' if result.qualifying == 1 else 's'} in {n_councils} council{'' if n_councils == 1 else 's'} "
          "(as in action_areas.md):")
    print("\n".join(summary_lines(result)))
    for note in result.notes:
        print(f"Note: {note}")
    print("Outputs:")
    for path in outputs.values():
        print(f"  {path}  ({_fmt_size(path.stat().st_size)})")
    return 0


def _add_target(sub) -> None:
    t = sub.add_parser(
        "target", help="choose, merge, rank and name contiguous targeted action areas, with profiles and "
                       "stability scores",
        description="Select deprived LSOAs by a stated rule, merge neighbours into contiguous areas (never across "
                    "a council boundary), apply population limits, rank and name them from their wards, and "
                    "write a GeoPackage, CSV and a committee-ready Markdown summary with a stability score.",
    )
    data_options(t, TargetParams.DATA, lookup={"help": "LSOA to ward lookup (ONS best fit), for area names"},
                 councils={"help": "councils by code or name (default: all in the data)"})
    add_options(t, TargetParams)
    t.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _verbosity(t)
    t.set_defaults(func=_cmd_target, model=TargetParams)


def _add_access(sub) -> None:
    a = sub.add_parser(
        "access", help="community assets against need: distance to the nearest GP, pharmacy, park..., counts "
                       "within walking distance, asset deserts and KPIs per council and ward",
        description="Read an asset list (CSV with postcodes or coordinates, GeoJSON, GeoPackage, Shapefile), locate "
                    "every row or report why not (rejects.csv), and measure access from every LSOA's "
                    "population-weighted centroid in a bundled place or, with --imd and the other official files, "
                    "any council (the NHS ODS epraccur file is read as published; assets within --asset-margin of "
                    "the councils count): nearest distance per category, counts "
                    "within each radius, assets per 1,000 residents (2SFCA), asset deserts in the most deprived "
                    "deciles and population-weighted KPIs per council and ward.",
    )
    add_options(a, AccessParams)
    data_options(a, AccessParams.DATA, vintage={"default": 2025, "help": "IoD vintage (default 2025)"},
                 councils={"help": "keep these councils"})
    a.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: access.csv, asset_deserts.csv, kpis.csv, assets.gpkg, rejects.csv")
    _verbosity(a)
    a.set_defaults(func=_cmd_access, model=AccessParams)


def _cmd_init(args: argparse.Namespace) -> int:
    from geotarget.study.schema import study_template

    councils, files = args.la, args.files or args.england
    if councils and not files:
        from geotarget.core.councils import resolve_councils
        from geotarget.core.places import BOUNDARIES, sample_path
        from geotarget.io.boundaries import read_boundaries

        lads = read_boundaries(sample_path(BOUNDARIES), layer="lad2025")["lad_name"]
        try:
            councils = [lads[c] for c in resolve_councils(councils, lads)]
        except GeotargetError:
            files = True
            print(f"geotarget init: {', '.join(args.la)} is not all in the bundled Tees Valley sample: the study "
                  "uses the official files (fetch them with `geotarget data fetch`)", file=sys.stderr)
    sys.stdout.write(study_template(councils=councils, england=args.england, files=files, cache=args.cache,
                                    vintage=int(args.vintage)))
    return 0


def _add_init(sub) -> None:
    p = sub.add_parser(
        "init", help="write a commented study file to standard output (geotarget init > study.toml)",
        description="Write a commented study file (TOML) naming the place, the data, the vintage and the "
                    "analyses, to edit and run with `geotarget run --config study.toml`.",
    )
    p.add_argument("--la", nargs="+", metavar="COUNCIL", help="councils, by code or name (default: the five Tees "
                   "Valley councils of the bundled sample)")
    p.add_argument("--england", action="store_true", help="a study of all England from the official files")
    p.add_argument("--files", action="store_true", help="use the official files (from `geotarget data fetch`), "
                   "not the bundled sample")
    p.add_argument("--vintage", choices=["2019", "2025"], default="2025", help="IoD vintage (default 2025)")
    p.add_argument("--cache", metavar="DIR", help="where the official files are (default: the geotarget cache)")
    p.set_defaults(func=_cmd_init)


def _cmd_data(args: argparse.Namespace) -> int:
    from geotarget.io.fetch import CATALOGUE, cache_dir, fetch, list_data

    if args.data_command == "fetch":
        if args.url and len(args.names) != 1:
            raise GeotargetError("--url names the address of one dataset: fetch one name at a time with it")
        if not args.quiet:
            _show_progress(args)
        for name in args.names:
            path = fetch(name, cache=args.cache, url=args.url, force=args.force, timeout=args.timeout,
                         deadline=args.deadline)
            if not args.quiet:
                print(f"{name}: {path}  ({_fmt_size(path.stat().st_size)})")
        return 0
    if args.data_command == "add":
        from geotarget.io.store import add, describe

        if not args.quiet:
            _show_progress(args)
        for added in add(args.files, cache=args.cache, as_=args.as_, force=args.force):
            if not args.quiet:
                print(describe(added))
        return 0
    if args.data_command == "list":
        from geotarget.data.capabilities import cache_capabilities

        rows = list_data(cache=args.cache)
        print(f"Cache: {cache_dir(args.cache)}")
        for r in rows:
            size = f"  ({_fmt_size(r.bytes)})" if r.bytes is not None else ""
            where = f"  {r.path}" if r.path is not None and r.status != "bundled" else ""
            print(f"{r.status:<11} {r.name}{size}{where}")
            if r.status != "bundled":
                print(f"{'':<12}{r.detail}")
        missing = [n for n in CATALOGUE if any(r.name == n and r.status == "not cached" for r in rows)
                   and CATALOGUE[n].kind != "manual"]
        if missing:
            print(f"Fetch with: geotarget data fetch {' '.join(missing)}")
        manual = [n for n in CATALOGUE if CATALOGUE[n].kind == "manual"
                  and any(r.name == n and r.status == "not cached" for r in rows)]
        if manual:
            print(f"Download from the publisher, then `geotarget data add FILE`: {', '.join(manual)}")
        for vintage in (2025, 2019):
            caps = cache_capabilities(cache=args.cache, vintage=vintage)
            if vintage == 2019 and not any(c.have for c in caps if c.label.startswith("deprivation")):
                continue
            print(f"What the cache can do (IoD{vintage}):")
            for c in caps:
                print(f"  {c.line()}")
        return 0
    args.data_parser.print_help()
    return 0


def _add_data(sub) -> None:
    p = sub.add_parser(
        "data", help="official data: fetch it from the publishers or add files you have to a cache; list what is "
                     "cached and what it can do",
        description="Download official data (MHCLG's IoD, ONS boundaries and lookups) into a local cache "
                    "($GEOTARGET_CACHE or ~/.cache/geotarget) with checksums and resumable downloads, or add files "
                    "you downloaded or were sent (recognised from their layout).",
    )
    p.set_defaults(func=_cmd_data, data_command=None, data_parser=p)
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    from geotarget.io.fetch import CATALOGUE

    f = dsub.add_parser("fetch", help="download datasets into the cache",
                        description="Datasets: " + "; ".join(f"{d.name} ({d.publisher}: {d.title})"
                                                             for d in CATALOGUE.values()))
    f.add_argument("names", nargs="+", metavar="NAME", help=", ".join(CATALOGUE))
    f.add_argument("--url", help="download from this address instead (a mirror or a local copy)")
    f.add_argument("--force", action="store_true", help="download again even if cached")
    f.add_argument("--cache", metavar="DIR", help="cache folder (default $GEOTARGET_CACHE or ~/.cache/geotarget)")
    from geotarget.cli.options import number_type
    from geotarget.io.fetch import DEADLINE, TIMEOUT

    f.add_argument("--timeout", type=number_type(float, "--timeout"), default=TIMEOUT,
                   help=f"seconds to wait for the server to answer or send more (default {TIMEOUT:g})")
    f.add_argument("--deadline", type=number_type(float, "--deadline"), default=DEADLINE,
                   help=f"seconds one file or one ArcGIS page may take in all; a stalled or trickling download stops "
                        f"there and resumes next time (default {DEADLINE:g})")
    f.set_defaults(flags={"url": "--url", "force": "--force", "cache": "--cache", "timeout": "--timeout",
                          "deadline": "--deadline"})
    _verbosity(f)
    a = dsub.add_parser("add", help="add files you downloaded or were sent to the cache (recognised from their layout)",
                        description="Recognise which dataset each file is from its columns or layers (not its name), "
                                    "copy it into the cache with a SHA-256 record; the original is not changed. A "
                                    "GeoPackage adds each recognised layer. Datasets: " + ", ".join(CATALOGUE))
    a.add_argument("files", nargs="+", metavar="FILE", help="CSV, CSV.gz, zip, GeoPackage, GeoJSON ...")
    a.add_argument("--as", dest="as_", metavar="NAME", choices=list(CATALOGUE),
                   help="add the file as this dataset (when its layout is ambiguous or not recognised)")
    a.add_argument("--force", action="store_true", help="replace a different file already cached for the dataset")
    a.add_argument("--cache", metavar="DIR", help="cache folder (default $GEOTARGET_CACHE or ~/.cache/geotarget)")
    a.set_defaults(flags={"as_": "--as", "force": "--force", "cache": "--cache"})
    _verbosity(a)
    lst = dsub.add_parser("list", help="show cached, partly downloaded, fetchable and bundled datasets, and what "
                                       "each capability can do with the cache")
    lst.add_argument("--cache", metavar="DIR", help="cache folder")
    _verbosity(lst)


def _cmd_hia(args: argparse.Namespace) -> int:
    from geotarget.hia.report import run_hia
    from geotarget.hia.screen import ScreeningRules

    p = params_from_args(HiaParams, args)
    assets = None
    if p.assets:
        from geotarget.io.assets import read_assets

        assets = read_assets(p.assets, category_column=p.assets_category_column)
        if len(assets.rejects):
            log.warning("%s", assets.summary())
    rules = ScreeningRules(flag_indices=p.flag_indices, flag_max_decile=p.flag_max_decile, flag_scope=p.flag_scope)
    data, site = _hia_data(args, p)
    kw = p.job_kwargs()
    if site is not None:
        kw["site"] = site
    res = run_hia(data, **kw, out=args.out, rules=rules, assets=assets)
    if args.quiet:
        return 0
    from geotarget.hia.evidence import council_text, residents_council_text

    for sc in res.screenings:
        zk = f"{sc.buffers[0]:g}m"
        around = residents_council_text(sc)
        around = f"; residents within {sc.buffers[0]:,.0f} m: {around}" if around else ""
        print(f"{sc.site.name} ({council_text(sc)}{around}): {'MEETS' if sc.severe else 'does not meet'} the "
              f"most-severe-health-inequalities rule; {sc.profile.loc[zk, 'residents']:,.0f} residents within "
              f"{sc.buffers[0]:,.0f} m; {len(sc.flags)} flag(s)")
    if res.comparison is not None:
        from geotarget.hia.screen import RANKING_RULE

        print(f"Ranking: {RANKING_RULE}")
        for _, r in res.comparison.iterrows():
            print(f"  {r['rank']:>3}  {r['site_name']}  ({r['n_flags']} flags)")
    if len(res.rejects):
        print(f"{len(res.rejects)} site(s) not screened (see sites_rejected.csv):")
        for _, r in res.rejects.head(10).iterrows():
            print(f"  row {r['row']}: {r['detail']}")
    print("Outputs:")
    for path in res.outputs.values():
        print(f"  {path}  ({_fmt_size(path.stat().st_size)})")
    return 0


def _hia_data(args: argparse.Namespace, p: HiaParams):
    """Load the data of ``geotarget hia``; return it and the site when it was read here (else ``None``).

    The bundled place (``--place``), or official files (``--imd PATH`` or ``--source files``) or the cache
    (``--source cache``) for the councils ``--la`` or, without them, the councils the site(s) and the largest
    buffer reach (:func:`geotarget.hia.place.site_councils`).
    """
    import dataclasses
    from pathlib import Path

    from geotarget.data.load import cached_source, load
    from geotarget.data.source import DataSource

    kw = {k: v for k, v in data_kwargs(args, HiaParams.DATA).items() if v is not None}
    imd = kw.pop("imd", "sample")
    if str(imd) != "sample":
        kw["imd"] = imd
        kw["source"] = "files" if kw.get("source", "sample") == "sample" else kw["source"]
    if kw.get("source", "sample") == "sample":
        return load(**kw), None
    paths = {f.name for f in dataclasses.fields(DataSource) if "Path" in str(f.type) and "tuple" not in str(f.type)}
    kw = {k: (Path(v) if k in paths else tuple(v) if isinstance(v, list) else v) for k, v in kw.items()}
    place = kw.pop("place", None)  # with files or the cache: the councils (or region) it names, else the site's
    if place and not kw.get("councils"):
        from geotarget.data.place import resolve_place

        choice = resolve_place(place)
        if choice.kind == "region":
            kw["region"] = choice.region
        elif choice.kind != "england":
            kw["councils"] = choice.councils
    ds = DataSource(**kw)
    if ds.source == "cache":
        ds = cached_source(ds)
    site = None
    if not ds.councils and not ds.region:
        from geotarget.hia.place import site_councils
        from geotarget.io.postcodes import read_postcodes
        from geotarget.io.sites import parse_site, read_sites

        lookup = p.postcodes or ((lambda: read_postcodes(ds.codepoint)) if ds.codepoint else None)
        if p.site is not None:
            site = parse_site(p.site, name=p.name, postcodes=lookup)
            found = [site]
        else:
            found = read_sites(p.sites, name_column=p.name_column, postcodes=lookup).sites
        councils = site_councils(*found, source=ds, buffers=p.buffer)
        log.info("councils reached by the site(s): %s", ", ".join(councils))
        ds = dataclasses.replace(ds, councils=councils)
    return load(ds), site


def _add_hia(sub) -> None:
    h = sub.add_parser(
        "hia", help="Health Impact Assessment screening: local evidence for a development site (or a file of "
                    "Local Plan sites), the 11 HUDU topics pre-filled, flags, HTML/Markdown/JSON reports",
        description="Gather the local evidence for a Health Impact Assessment screening around a development site: "
                    "LSOAs and wards within each buffer with their population, IMD and domain deciles (national and "
                    "within the council), the most-severe-health-inequalities flag, IoD health indicators, the "
                    "Community Needs Index, walking distance to services, and the 11 HUDU Rapid HIA topics. Writes "
                    "DIR/<site>.html, .md and .json (and .pdf with --pdf); with --sites also "
                    "DIR/sites_comparison.csv.",
    )
    add_options(h, HiaParams)
    data_options(h, HiaParams.DATA, vintage={"default": 2025, "help": "IoD vintage (default 2025)"},
                 councils={"help": "with files or the cache: the councils to load, by code or name (default: the "
                                   "councils the site and its largest buffer reach)"})
    h.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _verbosity(h)
    h.set_defaults(func=_cmd_hia, model=HiaParams)


def _cmd_map(args: argparse.Namespace) -> int:
    from pathlib import Path

    from geotarget.io.provenance import Provenance
    from geotarget.io.publish import publishing_file
    from geotarget.render.maps import map_from_files
    from geotarget.render.maps.files import default_title

    p = params_from_args(MapParams, args)
    layers = list(p.layers)
    target = Path(args.out)
    prov = Provenance(target.parent, command="map", parameters=p.as_dict(), manifest=f"{target.name}.manifest.json")
    for layer in layers:  # PATH, PATH:COLUMN or PATH#LAYER[:COLUMN]
        f = Path(str(layer).split("#")[0])
        f = f if f.is_file() else Path(str(layer).split("#")[0].rsplit(":", 1)[0])
        if f.is_file():
            prov.add_input(f, role="layer")
    with publishing_file(target, prov), prov:  # locked; refused if --out is (or links to) an input
        if p.png:
            prov.protect(p.png)
        mb = map_from_files(layers, title=p.title or default_title(layers), vintage=p.vintage or "",
                            notes=p.notes or "")
        out = prov.add_output(mb.save(args.out))
        outputs = [out]
        if p.png:
            from geotarget.render.maps.static import static_map

            outputs.append(prov.add_output(static_map(mb, p.png)))
    if not args.quiet:
        print(f"{len(mb.layers)} layer(s): " + "; ".join(layer.name for layer in mb.layers))
        for path in outputs:
            print(f"  {path}  ({_fmt_size(Path(path).stat().st_size)})")
    return 0


def _add_map(sub) -> None:
    p = sub.add_parser(
        "map", help="build one interactive map (and optionally a static PNG/SVG) from geotarget outputs",
        description="Build a self-contained interactive map from GeoPackage layers, GeoJSON or any vector file "
                    "geotarget writes: IMD deciles, area profiles, outlines with names, points by category. "
                    "Each --layers entry is PATH, PATH:COLUMN (colour by COLUMN) or PATH#LAYER[:COLUMN] (one "
                    "layer of a GeoPackage).",
    )
    add_options(p, MapParams)
    p.add_argument("--out", required=True, metavar="FILE.html", help="output HTML file")
    _verbosity(p)
    p.set_defaults(func=_cmd_map, model=MapParams)


def _cmd_verify(args: argparse.Namespace) -> int:
    from geotarget.io.provenance import verify_outputs

    problems = verify_outputs(args.folder)
    if problems:
        for problem in problems:
            print(problem)
        print(f"geotarget verify: error: {args.folder}: {len(problems)} problem(s), not the outputs its run wrote "
              f"(listed above); first: {problems[0]}", file=sys.stderr)
        return 1
    from geotarget.io.provenance import read_manifest

    n = len(read_manifest(args.folder)["outputs"])
    print(f"verified: {n} files in {args.folder} match their manifest (SHA-256)")
    return 0


def _add_verify(sub) -> None:
    p = sub.add_parser(
        "verify", help="check an output folder against its manifest (missing, extra or changed files)",
        description="Check that an output folder holds exactly the files its manifest.json lists, each with the "
                    "SHA-256 recorded, and that the run finished (status ok). Give a folder, or the manifest of "
                    "a single-file output (OUT.csv.manifest.json). Exit 0 if so, 1 listing each problem.",
    )
    p.add_argument("folder", metavar="DIR", help="output folder (or a FILE.manifest.json)")
    p.set_defaults(func=_cmd_verify)


# -- the HIA web service (geotarget serve, geotarget users) -------------------------------------------------------
def _serve_settings(args: argparse.Namespace):
    from geotarget.web.settings import Settings

    return Settings(place=args.place, source=args.source, db_url=args.db, host=args.host, port=args.port,
                    workers=args.workers, screen_rate_per_minute=args.screen_rate,
                    secret_key=os.environ.get("GEOTARGET_SECRET_KEY") or None,
                    secure_cookies=True if args.secure_cookies else None,
                    forwarded_allow_ips=args.forwarded_allow_ips)


def _cmd_serve(args: argparse.Namespace) -> int:
    from geotarget.web.app import check_port, serve
    from geotarget.web.db import migrate, shown_url

    settings = _serve_settings(args)
    revision = migrate(settings.db_url)
    if args.migrate_only:
        print(f"database {shown_url(settings.db_url)}: schema at revision {revision}")
        return 0
    check_port(settings.host, settings.port)
    if not args.quiet:
        from geotarget.web.app import list_users

        if not list_users(settings.db_url):
            print("No accounts yet: add a reviewer with `geotarget users add --email E --name N --role reviewer"
                  + (f" --db {args.db}`" if args.db else "`") + " (applicants can register on the site).")
        print(f"geotarget HIA service: http://{settings.host}:{settings.port}/ (database {shown_url(settings.db_url)}, "
              f"schema {revision}); loading the data of {settings.place or 'the bundled Tees Valley sample'} ...",
              flush=True)
    serve(settings, quiet=args.quiet)
    return 0


def _add_serve(sub) -> None:
    p = sub.add_parser(
        "serve", help="run the HIA web service: screen a site, complete the 11 HUDU topics, review, evaluate",
        description="Run the Health Impact Assessment web service (FastAPI on uvicorn): applicants screen a site "
                    "(postcode, coordinates, a drawn or uploaded boundary) and complete the 11 HUDU topics; "
                    "reviewers return or accept them; a dashboard evaluates them. The database (SQLite file by "
                    "default, PostgreSQL by URL) is migrated to the newest schema at every start. The session "
                    "secret is GEOTARGET_SECRET_KEY if set, else one kept in the database.",
    )
    p.add_argument("--place", help="the place screened: a bundled place (default tees_valley), or councils "
                                   "(comma-separated) or a region read from the data cache; include the neighbours "
                                   "a site's 2 km buffer reaches")
    p.add_argument("--source", choices=("sample", "cache"), help="where the data comes from (default: the bundled "
                                                                 "sample; another place from the cache)")
    import dataclasses

    from geotarget.web.settings import DEFAULT_DB, Settings

    default = {f.name: f.default for f in dataclasses.fields(Settings)}  # one declaration: the settings
    p.add_argument("--host", default=default["host"], help=f"address to listen on (default {default['host']}; "
                                                           "cookies are marked Secure unless it is local)")
    p.add_argument("--port", type=int, default=default["port"], help=f"port (default {default['port']})")
    p.add_argument("--db", metavar="PATH|URL", default=None,
                   help=f"database: a SQLite file (default {DEFAULT_DB} here) or "
                        "postgresql+psycopg://USER:PASSWORD@HOST/DB")
    p.add_argument("--workers", type=int, default=default["workers"],
                   help=f"worker processes (default {default['workers']}: one per core, at most 4; each loads the data "
                        "once; a screening uses one core)")
    p.add_argument("--screen-rate", type=int, default=default["screen_rate_per_minute"], metavar="N",
                   help=f"screenings a minute per client (default {default['screen_rate_per_minute']}; 0: no limit)")
    p.add_argument("--secure-cookies", action="store_true",
                   help="mark cookies Secure even on a local address (behind an https reverse proxy)")
    p.add_argument("--forwarded-allow-ips", metavar="IPS",
                   help="behind a reverse proxy: its address(es), comma-separated, whose X-Forwarded-For is trusted "
                        "(so each client is rate-limited on its own address)")
    p.add_argument("--migrate-only", action="store_true", help="upgrade the database schema and exit")
    _verbosity(p)
    p.set_defaults(func=_cmd_serve)


def _cmd_users(args: argparse.Namespace) -> int:
    from geotarget.web.app import add_user, list_users
    from geotarget.web.settings import database_url

    url = database_url(args.db)
    if args.users_command in ("add", "password"):
        password = os.environ.get("GEOTARGET_PASSWORD")
        if password is None:
            import getpass

            password = getpass.getpass(f"Password for {args.email}: ")
            if getpass.getpass("Again: ") != password:
                raise GeotargetError("the two passwords differ; nothing was changed")
        if args.users_command == "password":
            from geotarget.web.app import set_password

            user = set_password(url, email=args.email, password=password)
            if not args.quiet:
                print(f"new password for {user.email}; its sessions with the old one have ended")
            return 0
        user = add_user(url, email=args.email, name=args.name, role=args.role, password=password)
        if not args.quiet:
            print(f"added {user.role} {user.email} ({user.name}), id {user.id}")
        return 0
    for u in list_users(url):
        print(f"{u.id}\t{u.role}\t{u.email}\t{u.name}")
    return 0


def _add_users(sub) -> None:
    p = sub.add_parser("users", help="manage the HIA service's accounts (applicants, reviewers)",
                       description="Add accounts of the HIA web service, set their passwords, list them. A password "
                                   "is read from GEOTARGET_PASSWORD, else asked for (twice).")
    usub = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    a = usub.add_parser("add", help="add an account",
                        description="Add an account: an applicant (a developer or their planning consultant, who "
                                    "screens sites and completes HIAs) or a reviewer (the public health team, who "
                                    "reviews them and sees the dashboard). The password is read from "
                                    "GEOTARGET_PASSWORD, else asked for twice; at least 10 characters.")
    a.add_argument("--email", required=True, help="e-mail address (the login)")
    a.add_argument("--name", required=True, help="name shown to others")
    a.add_argument("--role", required=True, choices=("applicant", "reviewer"), help="applicant or reviewer")
    a.add_argument("--db", metavar="PATH|URL", default=None, help="database (default geotarget-hia.sqlite3 here)")
    _verbosity(a)
    pw = usub.add_parser("password", help="set an account's password",
                         description="Give an account a new password (from GEOTARGET_PASSWORD, else asked for "
                                     "twice); sessions started with the old password end.")
    pw.add_argument("--email", required=True, help="the account's e-mail address")
    pw.add_argument("--db", metavar="PATH|URL", default=None, help="database (default geotarget-hia.sqlite3 here)")
    _verbosity(pw)
    ls = usub.add_parser("list", help="list the accounts",
                         description="List the accounts of the HIA service: id, role, e-mail and name, one per line "
                                     "(tab-separated). The database is migrated to the newest schema first.")
    ls.add_argument("--db", metavar="PATH|URL", default=None, help="database (default geotarget-hia.sqlite3 here)")
    p.set_defaults(func=_cmd_users)


#: Each command's parser, in the order ``geotarget --help`` lists them. A capability adds its
#: ``_add_<command>`` function here; its ``_cmd_<command>`` calls one library function.
_COMMANDS = [
    _add_run,
    _add_aggregate,
    _add_analyses,
    _add_target,
    _add_access,
    _add_init,
    _add_data,
    _add_hia,
    _add_map,
    _add_verify,
    _add_serve,
    _add_users,
]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line naming the option and how to get help.

    Sub-command parsers are of the same class (``add_subparsers`` uses the parent's class).
    """

    def error(self, message: str):
        import re

        # "argument --jobs: --jobs was 0 but ..." (a type's message names its flag): "--jobs was 0 but ..."
        message = re.sub(r"^argument (\S+?)(?:/\S+)?: (?=\1 )", "", message).removeprefix("argument ")
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the ``geotarget`` argument parser with one sub-command per command."""
    parser = _Parser(
        prog="geotarget",
        description="Turn English deprivation data into defensible decisions about places.",
    )
    parser.add_argument("--version", action="version", version=f"geotarget {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in _COMMANDS:
        add(sub)
    return parser


def _verbosity(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    g.add_argument("-v", "--verbose", action="store_true", help="print progress details")


#: Exit status of a user-caused error (a bad option, file or study) and of a bug in geotarget.
EXIT_ERROR, EXIT_INTERNAL = 2, 3


def _one_line(text: str) -> str:
    """``text`` on one line (a message quoting a multi-line value stays one error line)."""
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``geotarget`` command line on ``argv``; return the exit status.

    0 on success; 2 with one line ``geotarget COMMAND: error: ...`` for anything the user can fix (a
    :class:`~geotarget.GeotargetError`, and operating-system errors such as a full disk, a read-only
    folder or a folder where a file was expected, named with the path and the fix); 3 with one line
    ``geotarget: internal error: ...`` for anything else (a bug: run with ``-v`` for the traceback). A
    usage error (a bad option value, checked against its declaration while parsing) is one line and status 2.
    """
    from geotarget.io.files import os_error

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # a usage error (one line printed): its status; --help and --version exit as usual
        if e.code in (0, None) or not isinstance(e.code, int):
            raise
        return e.code
    if args.command is None:
        parser.print_help()
        return 0
    level = (logging.ERROR if getattr(args, "quiet", False) else logging.INFO if getattr(args, "verbose", False)
             else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        with _bars(args):
            return args.func(args)
    except GeotargetError as e:  # the library names Python parameters; here they are the options' flags
        message = flag_message(getattr(args, "model", None), e, getattr(args, "flags", None))
        print(f"geotarget {args.command}: error: {_one_line(message)}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # the reader of the output went away (``geotarget data list | head``): stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so that the interpreter's final flush does not fail
        return 141
    except OSError as e:  # disk full, read-only, permissions, a file or folder in the way: the user can fix it
        print(f"geotarget {args.command}: error: {_one_line(os_error(e, action='read or write'))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"geotarget {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - the last resort: one line, never a raw traceback
        if getattr(args, "verbose", False):
            import traceback

            traceback.print_exc()
        print(f"geotarget: internal error: {type(e).__name__}: {_one_line(e)} (please report; run with -v for "
              "the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        _hide_progress()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
