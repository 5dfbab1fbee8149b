"""The ``geotarget`` command: a thin layer over the Python API.

Each command parses its options, calls one library function, and turns a
:class:`~geotarget.GeotargetError` into a one-line error and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from geotarget.core.errors import GeotargetError
from geotarget.core.version import __version__

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
    national = result.vintage is not None and len(result.lsoas) == result.vintage.n_lsoas
    print(f"Ward profiles for {len(w):,} wards; highest IMD average score: "
          + "; ".join(f"{r.area_name} ({r.lad_name}) {r.imd_average_score:.1f}" for _, r in top.iterrows())
          + (". Ward ranks are national (every ward in England)." if national else
             f". Ward ranks are among these {len(w):,} wards: national ward ranks need the England-wide IoD file "
             "(geotarget aggregate --imd ENGLAND_FILE --population ... --lookup ... --to ward)."))
    for note in result.notes:
        print(f"Note: {note}")
    ta = getattr(result, "action_areas", None)
    if ta is not None and len(ta.areas):
        print(f"Targeted action areas ({ta.rule.short()}, up to {ta.settings.n} per council; action_areas.md):")
        for _, r in ta.areas[ta.areas["rank"] == 1].iterrows():
            print(f"  {r.la_name}: {r['name']} ({r.population:,.0f} residents, stability {r.stability:.0%})")
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

    if args.config:
        return _cmd_run_study(args)
    from geotarget.data.load import load

    data = load(place=args.place, vintage=args.vintage or 2025, councils=args.la)
    result = run(data, out=args.out or "maps")
    if not args.quiet:
        _print_summary(result)
    return 0


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


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a record comes (the CLI may be called many times)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:  # noqa: BLE001 - logging must never break the command
            self.handleError(record)


_PROGRESS = _StderrHandler()
_PROGRESS.setFormatter(logging.Formatter("geotarget: %(message)s"))


def _cmd_run_study(args: argparse.Namespace) -> int:
    from geotarget.study.pipeline import run_study
    from geotarget.study.schema import load_study

    clash = [o for o, v in (("--la", args.la), ("--vintage", args.vintage)) if v]
    if clash:
        raise GeotargetError(f"{' and '.join(clash)} cannot be combined with --config: set them in the study file "
                             "([place] councils, vintage)")
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


def _aggregate_provenance(args: argparse.Namespace):
    """The provenance recorder of ``geotarget aggregate``: ``<out>.manifest.json`` beside the output CSV.

    A single-file output gets a manifest named after it, so several profiles written to one
    folder each keep their own record.
    """
    from pathlib import Path

    from geotarget.io.provenance import Provenance

    out = Path(args.out)
    params = {"to": args.to, "imd": args.imd, "vintage": args.vintage, "population": args.population,
              "lookup": args.lookup, "areas": args.areas, "area_id": args.area_id, "area_name": args.area_name,
              "boundaries": args.boundaries, "method": args.method, "councils": args.la}
    prov = Provenance(out.parent, command="aggregate", parameters={k: v for k, v in params.items() if v is not None},
                      manifest=f"{out.name}.manifest.json")
    if args.imd == "sample":
        from geotarget.data.sample import sample_sources

        for s in sample_sources(args.vintage or 2025):
            if s.role in ("imd", "population", "lookup", "centroids") or (s.role == "boundaries" and args.areas):
                prov.add_input(s.path, role=s.role, vintage=s.vintage)
    elif Path(args.imd).is_file():
        prov.add_input(args.imd, role="imd")
    for role in ("population", "lookup", "areas", "boundaries"):
        value = getattr(args, role)
        if value is not None and Path(value).is_file():
            prov.add_input(value, role=role)
    return prov


def _cmd_aggregate(args: argparse.Namespace) -> int:
    from geotarget.analysis.aggregate import MEASURES
    from geotarget.analysis.crosswalk import read_areas
    from geotarget.io.lookups import read_lsoa_lookup
    from geotarget.jobs.profiles import profile_areas, write_profiles_csv

    cols = dict(c.split("=", 1) for c in args.lookup_column or [])
    with _aggregate_provenance(args) as prov:
        from geotarget.data.load import load

        sample = args.imd == "sample"
        if args.to == "custom" and (args.areas is None or args.area_id is None):
            raise GeotargetError("to='custom' needs an areas file and its id column (--areas PATH --area-id COL)")
        data = load(source="sample" if sample else "files", vintage=args.vintage or (2025 if sample else None),
                    councils=args.la if sample else None, imd=None if sample else args.imd,
                    population=None if sample else args.population, boundaries=None if sample else args.boundaries)
        lookup = read_lsoa_lookup(args.lookup, columns=cols or None) if args.lookup is not None else None
        areas = read_areas(args.areas, id_column=args.area_id, name_column=args.area_name) \
            if args.to == "custom" else None
        res = profile_areas(data, to=args.to, lookup=lookup, areas=areas, method=args.method.replace("-", "_"),
                            councils=None if sample else args.la)
        path = prov.add_output(write_profiles_csv(res.table, args.out, inputs=[args.imd, args.population,
                                                                              args.lookup, args.areas,
                                                                              args.boundaries]))
        for entry in prov.inputs:
            if entry["role"] == "imd" and entry["vintage"] is None and res.vintage:
                entry["vintage"] = f"IoD{res.vintage}"
    if args.quiet:
        return 0
    t = res.table
    print(f"{len(t):,} {args.to} profiles (IoD{res.vintage}) -> {path}")
    top = t.sort_values("imd_rank_average_score").head(5)
    print("Most deprived by IMD average score:")
    for code, r in top.iterrows():
        print(f"  {int(r.imd_rank_average_score):>5}  {code}  {r.area_name or ''}  score {r.imd_average_score:.3f}, "
              f"{r.imd_prop_most_deprived_10:.1%} of LSOAs in England's most deprived 10%")
    if res.counts is not None:
        c = res.counts
        scope = "in England" if res.national else "in this result"
        print(f"{args.to.capitalize()}s in the 10% most deprived {args.to}s {scope} "
              f"(rank <= {c.attrs['cut']:,} of {c.attrs['n_areas']:,}), by council:")
        names = t.groupby("lad_code")["lad_name"].first() if "lad_name" in t.columns else {}
        for lad, r in c.iterrows():
            per = ", ".join(f"{m.replace('_', ' ')} {r[m]}" for m in MEASURES)
            print(f"  {names.get(lad, lad)}: {r[MEASURES[0]]} of {r.areas} {args.to}s on IMD average score ({per})")
    for note in res.notes:
        print(f"Note: {note}")
    return 0


def _pairs(values, what: str) -> dict[str, str]:
    out = {}
    for v in values or []:
        if "=" not in v:
            raise GeotargetError(f"{what} {v!r}: expected KEY=VALUE")
        k, _, val = v.partition("=")
        out[k.strip()] = val.strip()
    return out


def _cmd_access(args: argparse.Namespace) -> int:
    import pandas as pd

    from geotarget.analysis.access import DEFAULT_PARK_TYPES
    from geotarget.analysis.deserts import DEFAULT_THRESHOLDS
    from geotarget.io.assets import read_assets, read_category_map
    from geotarget.jobs.access import assess_access, sample_assets, write_access

    try:
        radii = [float(r) for r in args.radius.split(",") if r.strip()]
        thresholds = {**DEFAULT_THRESHOLDS, **{k: float(v) for k, v in _pairs(args.threshold, "--threshold").items()}}
    except ValueError as e:
        raise GeotargetError(f"--radius/--threshold: expected distances in metres ({e})") from None
    parks = access_points = None
    from geotarget.data.load import load

    data = load(place=args.place, vintage=args.vintage, councils=args.la)
    if args.assets == "sample":
        read, parks, access_points = sample_assets(data)
    else:
        mapping = read_category_map(args.category_map) if args.category_map else {}
        mapping.update(_pairs(args.map_category, "--map-category"))
        read = read_assets(args.assets, layer=args.layer, postcode_column=args.postcode_column,
                           lat_column=args.lat_column, lon_column=args.lon_column, x_column=args.x_column,
                           y_column=args.y_column, category_column=args.category_column, category=args.category,
                           category_map=mapping, name_column=args.name_column, id_column=args.id_column,
                           capacity_column=args.capacity_column, postcodes=args.postcodes)
    if args.parks:
        import geopandas as gpd

        parks = gpd.read_file(args.parks)
        access_points = gpd.read_file(args.park_access_points) if args.park_access_points else None
    network = None
    if args.network:
        from geotarget.analysis.network import read_street_network

        network = read_street_network(args.network)
    types = [t.strip() for t in args.park_types.split(",")] if args.park_types else list(DEFAULT_PARK_TYPES)
    res = assess_access(data, read, parks=parks,
                        park_access_points=access_points, park_types=types, radii=radii,
                        catchment=args.catchment, capacity_column="capacity" if args.capacity_column else None,
                        network=network, max_decile=args.desert_decile, thresholds=thresholds, engine=args.engine)
    paths = write_access(res, args.out)
    if args.quiet:
        return 0
    print(read.summary())
    for reason, rows in read.rejects.groupby("reason", sort=False)["row"]:
        shown = ", ".join(map(str, rows.head(8))) + (", ..." if len(rows) > 8 else "")
        print(f"  rejected, {reason}: {len(rows):,} (rows {shown}; see rejects.csv)")
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
    print(f"Asset deserts (IMD decile <= {args.desert_decile}, beyond the distance threshold): {len(d):,} "
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
        "run", help="join the IoD to LSOAs and write an interactive deprivation map (bundled Tees Valley sample)",
        description="Join the English Indices of Deprivation to LSOA boundaries for the bundled Tees Valley "
                    "sample and write an interactive map, the joined data (GeoPackage and CSV) and a council "
                    "summary.",
    )
    p.add_argument("--la", nargs="+", metavar="COUNCIL",
                   help="councils to include, by code or name (case-insensitive), e.g. --la Middlesbrough "
                        "E06000004; default: all five Tees Valley councils")
    p.add_argument("--vintage", choices=["2019", "2025"], default=None,
                   help="IoD2025 on LSOA 2021 (default) or IoD2019 on LSOA 2011")
    p.add_argument("--place", choices=["tees_valley", "trafford"], default="tees_valley",
                   help="bundled sample: the five Tees Valley councils (default) or Trafford (E08000009)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output folder (default: maps/, or the study file's [output] folder)")
    p.add_argument("--config", metavar="STUDY.toml",
                   help="run a study file: place, data (the sample or official files), vintage and analyses "
                        "(write one with `geotarget init`)")
    _verbosity(p)
    p.set_defaults(func=_cmd_run)


def _add_aggregate(sub) -> None:
    a = sub.add_parser(
        "aggregate", help="MHCLG summary measures (average score/rank, proportion in most deprived 10%%, extent, "
                          "local concentration, with ranks) for councils, MSOAs, wards or your own areas",
        description="Deprivation profiles for areas bigger than an LSOA, with the five summary measures MHCLG "
                    "publishes for local authorities (File 10), for the IMD and each domain.",
    )
    a.add_argument("--imd", default="sample", metavar="PATH|sample",
                   help="IoD file (official File 7 CSV or canonical), or 'sample' for the bundled Tees Valley")
    a.add_argument("--to", required=True, choices=["lad", "msoa", "ward", "custom"], help="target geography")
    a.add_argument("--vintage", choices=["2019", "2025"], default=None,
                   help="IoD vintage (for the sample, default 2025; for a file, read from its headers)")
    a.add_argument("--population", metavar="PATH", help="population denominators when the IoD file has none")
    a.add_argument("--lookup", metavar="PATH", help="LSOA to ward/MSOA/LAD lookup CSV (e.g. an ONS best-fit file)")
    a.add_argument("--lookup-column", action="append", metavar="CANON=COLUMN",
                   help="name a lookup column, e.g. ward_code=WD24CD (repeatable); by default recognised from "
                        "headers or codes")
    a.add_argument("--areas", metavar="PATH", help="custom area polygons (GeoJSON, GeoPackage, Shapefile)")
    a.add_argument("--area-id", metavar="COLUMN", help="id column of --areas")
    a.add_argument("--area-name", metavar="COLUMN", help="name column of --areas (optional)")
    a.add_argument("--boundaries", metavar="PATH", help="LSOA boundaries, for custom areas with an IoD file")
    a.add_argument("--method", choices=["best-fit", "apportion"], default="best-fit",
                   help="custom areas: LSOA to the area holding its population-weighted centroid (default), or "
                        "split by residential postcodes")
    a.add_argument("--la", nargs="+", metavar="COUNCIL", help="keep these councils (ranks stay over the whole file)")
    a.add_argument("--out", required=True, metavar="FILE.csv", help="output CSV")
    _verbosity(a)
    a.set_defaults(func=_cmd_aggregate)


def _study_options(p: argparse.ArgumentParser, *, boundaries: bool = True) -> None:
    """Where the study areas come from: the bundled sample (default) or official England-wide files."""
    g = p.add_argument_group("data (default: the bundled Tees Valley sample)")
    g.add_argument("--imd", default="sample", metavar="PATH|sample",
                   help="IoD file (official File 7 or canonical CSV, England-wide for national references), or "
                        "'sample' for the bundled Tees Valley")
    g.add_argument("--vintage", choices=["2019", "2025"], default=None,
                   help="IoD vintage (sample: default 2025; file: read from its headers)")
    g.add_argument("--la", nargs="+", metavar="COUNCIL",
                   help="councils to study, by code or name (references and ranks stay national)")
    g.add_argument("--place", choices=["tees_valley", "trafford"], default="tees_valley",
                   help="bundled sample place (with --imd sample)")
    g.add_argument("--population", metavar="PATH", help="population denominators when the IoD file has none")
    if boundaries:
        g.add_argument("--boundaries", metavar="PATH", help="LSOA boundaries for an IoD file (any GIS format)")
        g.add_argument("--boundaries-layer", metavar="LAYER", help="layer of --boundaries (e.g. lsoa21)")
    g.add_argument("--lookup", metavar="PATH", help="LSOA to ward best-fit lookup (for --level ward with files)")


def _load_data(args: argparse.Namespace, *, councils: bool = True):
    """The study's data from the data options: ``geotarget.data.load`` (bundled place, or files with --imd)."""
    from geotarget.data.load import load

    files = str(getattr(args, "imd", "sample")) != "sample"
    return load(source="files" if files else "sample", place=args.place, vintage=args.vintage,
                councils=args.la if councils else None, imd=args.imd if files else None,
                population=getattr(args, "population", None), boundaries=getattr(args, "boundaries", None),
                boundaries_layer=getattr(args, "boundaries_layer", None), lookup=getattr(args, "lookup", None))


def _print_outputs(outputs) -> None:
    print("Outputs:")
    for path in outputs.values():
        print(f"  {path}  ({_fmt_size(path.stat().st_size)})")


def _k(text: str):
    if text == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k was {text!r}; expected 'auto' or a whole number") from None


def _cmd_cluster(args: argparse.Namespace) -> int:
    from geotarget.jobs.analyses import run_cluster

    method = "spatial" if args.spatial else args.method
    if args.min_population is not None and method != "spatial":
        raise GeotargetError("--min-population needs --spatial (a floor on the people in each contiguous region)")
    res = run_cluster(_load_data(args), level=args.level, method=method, k=args.k, min_population=args.min_population,
                        indicators=args.indicators, id_column=args.id_column, columns=args.columns,
                        higher_is_better=args.higher_is_better or (), reference=args.reference, seed=args.seed,
                        out=args.out)
    if args.quiet:
        return 0
    typ = res.result
    print(f"{typ.k} area types ({typ.method}) for {len(typ.clusters):,} {'LSOAs' if args.level == 'lsoa' else 'wards'} — {res.study.label}; "
          f"gaps vs {args.reference}")
    print(typ.scores.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    for _, r in typ.profiles.iterrows():
        print(f"  {r.cluster}. {r.label} — {r.areas:,} areas, {r.population:,.0f} people ({r.population_share:.0%})")
    for note in res.notes:
        print(f"Note: {note}")
    _print_outputs(res.outputs)
    return 0


def _cmd_hotspots(args: argparse.Namespace) -> int:
    from geotarget.jobs.analyses import run_hotspots

    perms = "auto" if args.permutations == "auto" else int(args.permutations)
    res = run_hotspots(_load_data(args), indicator=args.indicator, indicators=args.indicators, id_column=args.id_column,
                         method=args.method, permutations=perms, alpha=args.alpha, seed=args.seed,
                         islands=args.islands, n_jobs=args.jobs, out=args.out)
    if args.quiet:
        return 0
    hs = res.result
    print(f"{'Getis-Ord Gi*' if hs.method == 'gi' else 'Local Moran'} hot spots of {args.indicator} — "
          f"{res.study.label}; FDR (Benjamini–Hochberg) alpha {hs.alpha}")
    for cat, n in hs.counts.items():
        print(f"  {cat:<22}{n:>7,}")
    for note in res.notes:
        print(f"Note: {note}")
    _print_outputs(res.outputs)
    return 0


def _cmd_inequality(args: argparse.Namespace) -> int:
    from geotarget.jobs.analyses import run_inequality

    se = dict(x.split("=", 1) for x in args.se_column or [])
    res = run_inequality(_load_data(args), indicator=args.indicator, indicators=args.indicators, id_column=args.id_column,
                           se_columns=se or None, deciles=args.deciles, confidence=args.confidence,
                           repetitions=args.repetitions, seed=args.seed, out=args.out)
    if args.quiet:
        return 0
    t = res.result.table
    print(f"Inequality across {args.deciles} IMD deciles — {res.study.label}")
    print(f"{'indicator':<24}{'SII':>10}{'95% CI':>22}{'RII':>8}{'D10 - D1':>11}{'Gini':>7}")
    for _, r in t.iterrows():
        ci = f"{r.sii_lower:,.3g} to {r.sii_upper:,.3g}" if r.sii_lower == r.sii_lower else "n/a"
        print(f"{str(r.indicator)[:23]:<24}{r.sii:>10,.3g}{ci:>22}{r.rii:>8.3g}{r.gap_d1_d10:>11,.3g}{r.gini:>7.3f}")
    for note in res.notes:
        print(f"Note: {note}")
    _print_outputs(res.outputs)
    return 0


def _add_cluster(sub) -> None:
    p = sub.add_parser(
        "cluster", help="area typologies from outcome gaps (k-means, Ward, or contiguous regions with a "
                        "population floor)",
        description="Group LSOAs or wards that share the same kind of disadvantage, from their gaps to England, "
                    "their region or the study area on the IoD domains or your own indicators. Writes "
                    "clusters.gpkg, cluster_profiles.csv and cluster_profiles.png.")
    p.add_argument("--level", choices=["lsoa", "ward"], default="lsoa", help="areas to cluster (default lsoa)")
    p.add_argument("--method", choices=["kmeans", "ward"], default="kmeans", help="clustering method (default kmeans)")
    p.add_argument("--spatial", action="store_true",
                   help="contiguous regions (contiguity-constrained Ward) instead of non-spatial types")
    p.add_argument("--min-population", type=float, metavar="N", help="with --spatial: at least N people per region")
    p.add_argument("--k", type=_k, default="auto", metavar="auto|N",
                   help="number of clusters, or auto (3-8, by silhouette and Calinski-Harabasz; default)")
    p.add_argument("--indicators", metavar="CSV|sample",
                   help="your indicator table keyed by LSOA or ward code (default: the IoD domains); 'sample' = "
                        "the bundled Census 2021/Community Needs Index extract")
    p.add_argument("--id-column", metavar="COL", help="code column of --indicators (default: recognised from codes)")
    p.add_argument("--columns", nargs="+", metavar="COL", help="indicator columns to use (default: every numeric one)")
    p.add_argument("--higher-is-better", nargs="+", metavar="COL",
                   help="indicators where a higher value is better (gaps are flipped so + = worse)")
    p.add_argument("--reference", choices=["england", "region", "study"], default="england",
                   help="what gaps are measured against (default england)")
    p.add_argument("--seed", type=int, default=0, help="random seed (k-means; silhouette sample)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _study_options(p)
    _verbosity(p)
    p.set_defaults(func=_cmd_cluster)


def _add_hotspots(sub) -> None:
    p = sub.add_parser(
        "hotspots", help="hot and cold spots (Getis-Ord Gi*, Local Moran's I) with permutation tests and FDR",
        description="Statistically significant clusters of high or low values of an LSOA indicator: Getis-Ord Gi* "
                    "(hot/cold spots) or Local Moran's I (HH, LL, HL, LH), conditional permutation p-values, "
                    "Benjamini-Hochberg false discovery rate. Writes hotspots.gpkg.")
    p.add_argument("--indicator", default="imd_score", metavar="COL",
                   help="IoD column (e.g. imd_score, health_score, income) or a column of --indicators "
                        "(default imd_score)")
    p.add_argument("--indicators", metavar="CSV|sample", help="your LSOA indicator table")
    p.add_argument("--id-column", metavar="COL", help="code column of --indicators")
    p.add_argument("--method", choices=["gi", "moran"], default="gi", help="Gi* (default) or Local Moran's I")
    p.add_argument("--permutations", default="auto", metavar="auto|N",
                   help="permutations per area (auto: enough for the FDR threshold to be reachable, reported)")
    p.add_argument("--alpha", type=float, default=0.05, help="false discovery rate (default 0.05)")
    p.add_argument("--seed", type=int, default=12345, help="random seed of the permutations")
    p.add_argument("--islands", choices=["link", "exclude"], default="link",
                   help="areas with no neighbour: link to the nearest area (default) or leave out")
    p.add_argument("--jobs", type=int, default=1, help="processes for the permutations (default 1)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _study_options(p)
    _verbosity(p)
    p.set_defaults(func=_cmd_hotspots)


def _add_inequality(sub) -> None:
    p = sub.add_parser(
        "inequality", help="slope and relative index of inequality (SII/RII, OHID method), D10-D1 gap, Gini, Theil",
        description="How an LSOA indicator varies across deprivation deciles: the Slope Index of Inequality and "
                    "Relative Index of Inequality by the OHID/PHE method with Monte Carlo confidence intervals, "
                    "the gap between the least and most deprived deciles, and population-weighted Gini and Theil. "
                    "Writes inequality.csv.")
    p.add_argument("--indicator", nargs="+", metavar="COL",
                   help="IoD column(s) or column(s) of --indicators (default: every column of --indicators)")
    p.add_argument("--indicators", metavar="CSV|sample", help="your LSOA indicator table")
    p.add_argument("--id-column", metavar="COL", help="code column of --indicators")
    p.add_argument("--se-column", action="append", metavar="INDICATOR=COL",
                   help="standard-error column of an indicator in --indicators (repeatable); default: from the "
                        "spread of the areas in each decile")
    p.add_argument("--deciles", choices=["national", "local"], default="national",
                   help="national IMD deciles (default) or deciles of equal population within the study")
    p.add_argument("--confidence", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--repetitions", type=int, default=100_000, help="Monte Carlo draws (default 100,000)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the Monte Carlo draws")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _study_options(p, boundaries=False)
    _verbosity(p)
    p.set_defaults(func=_cmd_inequality)
def _cmd_target(args: argparse.Namespace) -> int:
    from geotarget.analysis.target import Rule, target_areas
    from geotarget.render.action_areas import write_action_areas

    weights = None
    if args.weights:
        try:
            weights = {k.strip(): float(v) for k, v in (w.split("=", 1) for w in args.weights.split(","))}
        except ValueError:
            raise GeotargetError(f"--weights {args.weights!r}: expected GAP=WEIGHT pairs separated by commas, "
                                 "e.g. jobs=2,health=1") from None
    rule = Rule(kind=args.rule, index=args.index, max_decile=args.max_decile, percentile=args.percentile,
                weights=weights)
    if args.imd == "sample" and any(x is not None for x in (args.population, args.boundaries, args.lookup)):
        raise GeotargetError("--population, --boundaries and --lookup go with an IoD file (--imd PATH), "
                             "not with the bundled sample")
    if args.imd != "sample" and args.boundaries is None:
        raise GeotargetError("targeting needs LSOA boundaries to find neighbours: pass --boundaries PATH "
                             "(e.g. ONS LSOA 2021 generalised boundaries)")
    data = _load_data(args, councils=False)  # councils are chosen by target_areas: composite deciles use all
    lsoas = data.lsoas
    also = None
    if args.hotspots:
        from geotarget.analysis.hotspots import hotspots

        column = f"{args.index}_score" if args.rule != "composite" else "imd_score"
        if column not in lsoas.columns:
            raise GeotargetError(f"--hotspots tests {column}, which the data does not have (IoD2019 publishes "
                                 "ranks only for some domains); choose another --index")
        hs = hotspots(lsoas[["geometry"]], lsoas[column].astype(float), snap=args.snap)
        also = (hs.table["category"] == "hot spot").rename(f"a significant Gi* hot spot of {column} (FDR 5%)")
    result = target_areas(lsoas, councils=args.la, rule=rule, min_population=args.min_population,
                          max_population=args.max_population or None, n=args.n, rank_by=args.rank_by,
                          bridging=args.bridging, snap=args.snap, point_contacts=not args.rook, also=also,
                          vintage=data.vintage)
    outputs = write_action_areas(result, args.out)
    if args.quiet:
        return 0
    print(f"Targeted action areas ({result.vintage.label}): {result.rule.describe()}")
    print(f"{len(result.areas)} area(s) from {result.qualifying:,} qualifying LSOAs in "
          f"{len(result.councils)} council(s)")
    for aid, r in result.areas.head(30).iterrows():
        print(f"  {aid}  {r['name']} ({r.la_name}): {r.population:,.0f} residents, {r.n_lsoas} LSOA{'s' if r.n_lsoas != 1 else ''}, "
              f"IMD score {r.imd_average_score:.1f}, stability {r.stability:.0%}")
    if len(result.areas) > 30:
        print(f"  ... and {len(result.areas) - 30:,} more (see the CSV)")
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
    t.add_argument("--imd", default="sample", metavar="PATH|sample",
                   help="IoD file (official File 7 or canonical) or 'sample' (bundled Tees Valley, default)")
    t.add_argument("--vintage", choices=["2019", "2025"], default=None, help="IoD vintage (sample default 2025)")
    t.add_argument("--place", choices=["tees_valley", "trafford"], default="tees_valley",
                   help="bundled sample place (with --imd sample)")
    t.add_argument("--population", metavar="PATH", help="population denominators when the IoD file has none")
    t.add_argument("--boundaries", metavar="PATH", help="LSOA boundaries for an IoD file (GeoPackage, GeoJSON, ...)")
    t.add_argument("--boundaries-layer", metavar="LAYER", help="layer of --boundaries (e.g. lsoa21)")
    t.add_argument("--lookup", metavar="PATH", help="LSOA to ward lookup (ONS best fit), for area names")
    t.add_argument("--la", nargs="+", metavar="COUNCIL", help="councils by code or name (default: all in the data)")
    t.add_argument("--rule", choices=["imd-decile", "composite", "local-percentile"], default="imd-decile",
                   help="national decile of an index (default), a composite of domain gaps (Fairer Stockton's six "
                        "by default), or the most deprived percent within the councils")
    t.add_argument("--index", default="imd", metavar="KEY",
                   help="index for imd-decile/local-percentile: imd (default), income, employment, education, "
                        "health, crime, barriers, living_env, idaci, idaopi or a sub-domain")
    t.add_argument("--max-decile", type=int, default=1, metavar="K", help="decile <= K qualifies (default 1)")
    t.add_argument("--percentile", type=float, default=10.0, metavar="P",
                   help="local-percentile: the most deprived P%% of LSOAs in the councils (default 10)")
    t.add_argument("--weights", metavar="GAP=W,...",
                   help="composite weights, e.g. jobs=2,health=1 (gaps: jobs, learning, housing_environment, "
                        "health, crime, access; default equal)")
    t.add_argument("--min-population", type=float, default=0, metavar="N", help="population floor per area")
    t.add_argument("--max-population", type=float, default=15000, metavar="N",
                   help="population ceiling per area (default 15,000; larger groups are split into contiguous "
                        "parts; 0 for no ceiling)")
    t.add_argument("--n", type=int, default=3, metavar="N", help="areas per council (default 3)")
    t.add_argument("--rank-by", choices=["deprived-population", "score", "extent"], default="deprived-population",
                   help="ranking (default: residents of qualifying LSOAs)")
    t.add_argument("--bridging", action="store_true",
                   help="let one non-qualifying LSOA join two qualifying groups it touches (off by default)")
    t.add_argument("--snap", type=float, default=5.0, metavar="METRES",
                   help="boundaries this close count as touching (default 5 m)")
    t.add_argument("--rook", action="store_true", help="neighbours must share an edge, not just a point")
    t.add_argument("--hotspots", action="store_true",
                   help="also require a significant Getis-Ord Gi* hot spot (FDR 5%%) of the index's score, tested "
                        "over all the LSOAs loaded")
    t.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _verbosity(t)
    t.set_defaults(func=_cmd_target)


def _add_access(sub) -> None:
    a = sub.add_parser(
        "access", help="community assets against need: distance to the nearest GP, pharmacy, park..., counts "
                       "within walking distance, asset deserts and KPIs per council and ward",
        description="Read an asset list (CSV with postcodes or coordinates, GeoJSON, GeoPackage, Shapefile), locate "
                    "every row or report why not (rejects.csv), and measure access from every LSOA's "
                    "population-weighted centroid in a bundled place: nearest distance per category, counts "
                    "within each radius, assets per 1,000 residents (2SFCA), asset deserts in the most deprived "
                    "deciles and population-weighted KPIs per council and ward.",
    )
    a.add_argument("--assets", required=True, metavar="PATH|sample",
                   help="asset file, or 'sample' for the bundled assets of --place (Trafford adds its parks)")
    a.add_argument("--layer", metavar="NAME", help="layer of a multi-layer GeoPackage")
    loc = a.add_argument_group("location columns (recognised from common headers when not given)")
    loc.add_argument("--postcode-column", metavar="COL")
    loc.add_argument("--lat-column", metavar="COL")
    loc.add_argument("--lon-column", metavar="COL")
    loc.add_argument("--x-column", metavar="COL", help="easting (British National Grid)")
    loc.add_argument("--y-column", metavar="COL", help="northing (British National Grid)")
    loc.add_argument("--postcodes", metavar="PATH",
                     help="postcode lookup: ONS Postcode Directory CSV or OS Code-Point Open CSV/folder "
                          "(default: the bundled Tees Valley and Trafford postcodes)")
    cat = a.add_argument_group("categories")
    cat.add_argument("--category-column", metavar="COL", help="column holding each asset's type")
    cat.add_argument("--category", metavar="CATEGORY",
                     help="one category for every row: gp, pharmacy, library, school, park, community_centre, "
                          "leisure, food_support, other")
    cat.add_argument("--category-map", metavar="FILE.csv", help="CSV of value,category mapping your types")
    cat.add_argument("--map-category", action="append", metavar="VALUE=CATEGORY",
                     help="map one of your types, e.g. --map-category 'Health Centre=gp' (repeatable)")
    a.add_argument("--name-column", metavar="COL")
    a.add_argument("--id-column", metavar="COL")
    a.add_argument("--capacity-column", metavar="COL",
                   help="capacity (e.g. GP list size): adds a capacity-weighted two-step floating catchment score")
    pk = a.add_argument_group("parks")
    pk.add_argument("--parks", metavar="PATH", help="green space sites (polygons with site_type), e.g. OS Open "
                                                    "Greenspace")
    pk.add_argument("--park-access-points", metavar="PATH", help="their access points (entrances)")
    pk.add_argument("--park-types", metavar="TYPES",
                    help="comma-separated site types counted as parks (default: Public Park Or Garden,Playing Field)")
    a.add_argument("--network", metavar="PATH",
                   help="street network (lines as GeoPackage/Shapefile/GeoJSON, or OSMnx GraphML): walking distance "
                        "along it instead of a straight line")
    a.add_argument("--radius", default="400,800,1600", metavar="M,M,...", help="count radii in metres "
                                                                               "(default 400,800,1600)")
    a.add_argument("--catchment", type=float, default=1600.0, metavar="M",
                   help="floating catchment radius for assets per 1,000 residents (default 1600)")
    a.add_argument("--desert-decile", type=int, default=2, metavar="K",
                   help="asset deserts among LSOAs in national IMD deciles 1..K (default 2)")
    a.add_argument("--threshold", action="append", metavar="CATEGORY=M",
                   help="desert distance for a category, e.g. --threshold gp=1000 (repeatable; defaults: 800 m for "
                        "GP, pharmacy, park, school, community centre; 1600 m for library, leisure, food support)")
    a.add_argument("--place", choices=["tees_valley", "trafford"], default="tees_valley",
                   help="bundled LSOAs to measure from (default tees_valley)")
    a.add_argument("--vintage", choices=["2019", "2025"], default="2025", help="IoD vintage (default 2025)")
    a.add_argument("--la", nargs="+", metavar="COUNCIL", help="keep these councils")
    a.add_argument("--engine", choices=["memory", "dask"], default="memory",
                   help="dask: partitioned computation via dask-geopandas (pip install 'geotarget[dask]')")
    a.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: access.csv, asset_deserts.csv, kpis.csv, assets.gpkg, rejects.csv")
    _verbosity(a)
    a.set_defaults(func=_cmd_access)


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
            path = fetch(name, cache=args.cache, url=args.url, force=args.force, timeout=args.timeout)
            if not args.quiet:
                print(f"{name}: {path}  ({_fmt_size(path.stat().st_size)})")
        return 0
    if args.data_command == "list":
        rows = list_data(cache=args.cache)
        print(f"Cache: {cache_dir(args.cache)}")
        for r in rows:
            size = f"  ({_fmt_size(r.bytes)})" if r.bytes is not None else ""
            where = f"  {r.path}" if r.path is not None and r.status != "bundled" else ""
            print(f"{r.status:<11} {r.name}{size}{where}")
            if r.status != "bundled":
                print(f"{'':<12}{r.detail}")
        missing = [n for n in CATALOGUE if any(r.name == n and r.status == "not cached" for r in rows)]
        if missing:
            print(f"Fetch with: geotarget data fetch {' '.join(missing)}")
        return 0
    args.data_parser.print_help()
    return 0


def _add_data(sub) -> None:
    p = sub.add_parser(
        "data", help="official data: fetch it from the publishers into a cache, list what is cached and bundled",
        description="Download official data (MHCLG's IoD, ONS boundaries and lookups) into a local cache "
                    "($GEOTARGET_CACHE or ~/.cache/geotarget) with checksums and resumable downloads.",
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
    f.add_argument("--timeout", type=float, default=60, help="seconds to wait for the server (default 60)")
    _verbosity(f)
    lst = dsub.add_parser("list", help="show cached, partly downloaded, fetchable and bundled datasets")
    lst.add_argument("--cache", metavar="DIR", help="cache folder")
    _verbosity(lst)


def _cmd_hia(args: argparse.Namespace) -> int:
    from geotarget.hia.report import run_hia
    from geotarget.hia.screen import ScreeningRules

    assets = None
    if args.assets:
        from geotarget.io.assets import read_assets

        assets = read_assets(args.assets, category_column=args.assets_category_column)
        if len(assets.rejects):
            log.warning("%s", assets.summary())
    rules = ScreeningRules(flag_indices=tuple(k.strip() for k in args.flag_indices.split(",") if k.strip()),
                           flag_max_decile=args.flag_max_decile, flag_scope=args.flag_scope)
    from geotarget.data.load import load

    res = run_hia(load(place=args.place, vintage=args.vintage), site=args.site, sites=args.sites, out=args.out,
                  name=args.name, name_column=args.name_column, buffers=args.buffer, rules=rules, assets=assets,
                  assets_source=args.assets, postcodes=args.postcodes, with_map=not args.no_map)
    if args.quiet:
        return 0
    for sc in res.screenings:
        zk = f"{sc.buffers[0]:g}m"
        print(f"{sc.site.name} ({sc.council[1]}): {'MEETS' if sc.severe else 'does not meet'} the most-severe-health-"
              f"inequalities rule; {sc.profile.loc[zk, 'residents']:,.0f} residents within {sc.buffers[0]:,.0f} m; "
              f"{len(sc.flags)} flag(s)")
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


def _add_hia(sub) -> None:
    h = sub.add_parser(
        "hia", help="Health Impact Assessment screening: local evidence for a development site (or a file of "
                    "Local Plan sites), the 11 HUDU topics pre-filled, flags, HTML/Markdown/JSON reports",
        description="Gather the local evidence for a Health Impact Assessment screening around a development site: "
                    "LSOAs and wards within each buffer with their population, IMD and domain deciles (national and "
                    "within the council), the most-severe-health-inequalities flag, IoD health indicators, the "
                    "Community Needs Index, walking distance to services, and the 11 HUDU Rapid HIA topics. Writes "
                    "DIR/<site>.html, .md and .json; with --sites also DIR/sites_comparison.csv.",
    )
    which = h.add_mutually_exclusive_group(required=True)
    which.add_argument("--site", metavar="PATH|WKT|POSTCODE|E,N",
                       help="one site: a GeoJSON/GeoPackage/Shapefile polygon or point, WKT (EPSG:27700, or "
                            "'SRID=4326;...'), a postcode, or easting,northing")
    which.add_argument("--sites", metavar="PATH", help="a file of sites, one row per site with a name column "
                                                       "(vector file, or CSV with wkt / easting,northing / "
                                                       "latitude,longitude / postcode / location)")
    h.add_argument("--name", metavar="TEXT", help="site name (default: from the file, the postcode or the input)")
    h.add_argument("--name-column", metavar="COL", help="name column of --sites (default: recognised, e.g. name)")
    h.add_argument("--buffer", default="800,2000", metavar="M,M,...",
                   help="buffer distances in metres (default 800,2000: a 10-minute walk and 2 km)")
    h.add_argument("--place", choices=["tees_valley", "trafford"], default="tees_valley",
                   help="bundled data to use (default tees_valley)")
    h.add_argument("--vintage", choices=["2019", "2025"], default="2025", help="IoD vintage (default 2025)")
    h.add_argument("--postcodes", metavar="PATH",
                   help="postcode lookup for postcode sites (ONS Postcode Directory or Code-Point Open; default: "
                        "the bundled Tees Valley and Trafford postcodes)")
    h.add_argument("--assets", metavar="PATH", help="extra assets (e.g. schools, green space) read like "
                                                    "'geotarget access --assets'; they replace bundled categories")
    h.add_argument("--assets-category-column", metavar="COL", help="category column of --assets")
    h.add_argument("--flag-indices", default="imd,health", metavar="KEY,...",
                   help="indices of the most-severe-health-inequalities rule (default imd,health)")
    h.add_argument("--flag-max-decile", type=int, default=2, metavar="K", help="national decile <= K (default 2)")
    h.add_argument("--flag-scope", choices=["buffer", "site"], default="buffer",
                   help="LSOAs tested: on the site or with residents within the first buffer (default), or on "
                        "the site only")
    h.add_argument("--no-map", action="store_true", help="leave the map out of the HTML report")
    h.add_argument("--out", required=True, metavar="DIR", help="output folder")
    _verbosity(h)
    h.set_defaults(func=_cmd_hia)


def _cmd_map(args: argparse.Namespace) -> int:
    from pathlib import Path

    from geotarget.render.maps import map_from_files
    from geotarget.render.maps.files import default_title

    mb = map_from_files(args.layers, title=args.title or default_title(args.layers), vintage=args.vintage or "",
                        notes=args.notes or "")
    out = mb.save(args.out)
    outputs = [out]
    if args.png:
        from geotarget.render.maps.static import static_map

        outputs.append(static_map(mb, args.png))
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
    p.add_argument("--layers", nargs="+", required=True, metavar="PATH[:COLUMN]",
                   help="files to map, bottom layer first, e.g. maps/imd2025_lsoas.gpkg#lsoas "
                        "maps/imd2025_lsoas.gpkg#wards sites.geojson:category")
    p.add_argument("--title", metavar="TEXT", help="map title (default: from the file names)")
    p.add_argument("--vintage", metavar="TEXT", help="data vintage shown under the title, e.g. 'IoD2025, LSOA 2021'")
    p.add_argument("--notes", metavar="TEXT", help="further notes shown under the title")
    p.add_argument("--out", required=True, metavar="FILE.html", help="output HTML file")
    p.add_argument("--png", metavar="FILE.png", help="also write a static map (.png, .svg or .pdf) of the layers "
                                                      "shown when the map opens")
    _verbosity(p)
    p.set_defaults(func=_cmd_map)


#: Each command's parser, in the order ``geotarget --help`` lists them. A capability adds its
#: ``_add_<command>`` function here; its ``_cmd_<command>`` calls one library function.
_COMMANDS = [
    _add_run,
    _add_aggregate,
    _add_cluster,
    _add_hotspots,
    _add_inequality,
    _add_target,
    _add_access,
    _add_init,
    _add_data,
    _add_hia,
    _add_map,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    level = (logging.ERROR if getattr(args, "quiet", False) else logging.INFO if getattr(args, "verbose", False)
             else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except GeotargetError as e:
        print(f"geotarget {args.command}: error: {e}", file=sys.stderr)
        return 2
    finally:
        _hide_progress()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
