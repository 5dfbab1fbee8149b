"""The ``geotarget`` command: a thin layer over the Python API.

Each command parses its options, calls one library function, and turns a
:class:`~geotarget.GeotargetError` into a one-line error and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from . import __version__
from ._errors import GeotargetError

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
    from .vintages import VINTAGES

    national = len(result.lsoas) == VINTAGES[result.lsoas.attrs.get("vintage", 2025)].n_lsoas
    print(f"Ward profiles for {len(w):,} wards; highest IMD average score: "
          + "; ".join(f"{r.area_name} ({r.lad_name}) {r.imd_average_score:.1f}" for _, r in top.iterrows())
          + (". Ward ranks are national (every ward in England)." if national else
             f". Ward ranks are among these {len(w):,} wards: national ward ranks need the England-wide IoD file "
             "(geotarget aggregate --imd ENGLAND_FILE --population ... --lookup ... --to ward)."))
    for note in result.notes:
        print(f"Note: {note}")
    print("Outputs:")
    for path in result.outputs.values():
        print(f"  {path}  ({_fmt_size(path.stat().st_size)})")
    if result.manifest is not None:
        print(f"  {result.manifest}  (provenance: inputs, checksums, parameters, versions)")


def _cmd_run(args: argparse.Namespace) -> int:
    from .run import run

    if args.config:
        return _cmd_run_study(args)
    result = run(vintage=args.vintage or "2025", councils=args.la, out=args.out or "maps")
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
    from .pipeline import run_study
    from .study import load_study

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

    from .provenance import Provenance

    out = Path(args.out)
    params = {"to": args.to, "imd": args.imd, "vintage": args.vintage, "population": args.population,
              "lookup": args.lookup, "areas": args.areas, "area_id": args.area_id, "area_name": args.area_name,
              "boundaries": args.boundaries, "method": args.method, "councils": args.la}
    prov = Provenance(out.parent, command="aggregate", parameters={k: v for k, v in params.items() if v is not None},
                      manifest=f"{out.name}.manifest.json")
    if args.imd == "sample":
        from .bundle import sample_sources

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
    from .aggregate import MEASURES
    from .profiles import profile_areas, write_profiles_csv

    cols = dict(c.split("=", 1) for c in args.lookup_column or [])
    with _aggregate_provenance(args) as prov:
        res = profile_areas(imd=args.imd, to=args.to, vintage=args.vintage, population=args.population,
                            lookup=args.lookup, lookup_columns=cols or None, areas=args.areas, area_id=args.area_id,
                            area_name=args.area_name, boundaries=args.boundaries,
                            method=args.method.replace("-", "_"), councils=args.la)
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


def _cmd_init(args: argparse.Namespace) -> int:
    from .study import study_template

    councils, files = args.la, args.files or args.england
    if councils and not files:
        from .boundaries import read_boundaries
        from .councils import resolve_councils
        from .sample import BOUNDARIES, sample_path

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
    from .fetch import CATALOGUE, cache_dir, fetch, list_data

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
    from .fetch import CATALOGUE

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


#: Each command's parser, in the order ``geotarget --help`` lists them. A capability adds its
#: ``_add_<command>`` function here; its ``_cmd_<command>`` calls one library function.
_COMMANDS = [
    _add_run,
    _add_aggregate,
    _add_init,
    _add_data,
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
