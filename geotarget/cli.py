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


def _fmt_size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def _print_summary(result) -> None:
    s = result.summary
    print(f"{result.title} — {result.vintage_label}")
    print(f"{'Council':<24}{'LSOAs':>7}{'in most deprived 10%':>24}{'Population':>13}{'in most deprived 10%':>24}")
    for _, r in s.iterrows():
        print(f"{r.lad_name:<24}{r.lsoas:>7,}{f'{r.lsoas_decile1:,} ({r.pct_lsoas_decile1:.1f}%)':>24}"
              f"{r.population:>13,}{f'{r.population_decile1:,} ({r.pct_population_decile1:.1f}%)':>24}")
    if len(s) > 1:
        n, n1, p, p1 = s.lsoas.sum(), s.lsoas_decile1.sum(), s.population.sum(), s.population_decile1.sum()
        print(f"{'All':<24}{n:>7,}{f'{n1:,} ({100 * n1 / n:.1f}%)':>24}{p:>13,}{f'{p1:,} ({100 * p1 / p:.1f}%)':>24}")
    print("National deciles: 1 = the most deprived 10% of LSOAs in England.")
    w = result.ward_profiles
    top = w.sort_values("imd_rank_average_score").head(3)
    print(f"Ward profiles for {len(w):,} wards; highest IMD average score: "
          + "; ".join(f"{r.area_name} ({r.lad_name}) {r.imd_average_score:.1f}" for _, r in top.iterrows())
          + f". Ward ranks are among these {len(w):,} wards: national ward ranks need the England-wide IoD file "
          "(geotarget aggregate --imd ENGLAND_FILE --population ... --lookup ... --to ward).")
    print("Outputs:")
    for path in result.outputs.values():
        print(f"  {path}  ({_fmt_size(path.stat().st_size)})")


def _cmd_run(args: argparse.Namespace) -> int:
    from .run import run

    result = run(vintage=args.vintage, councils=args.la, out=args.out)
    if not args.quiet:
        _print_summary(result)
    return 0


def _cmd_aggregate(args: argparse.Namespace) -> int:
    from .aggregate import MEASURES
    from .profiles import profile_areas, write_profiles_csv

    cols = dict(c.split("=", 1) for c in args.lookup_column or [])
    res = profile_areas(imd=args.imd, to=args.to, vintage=args.vintage, population=args.population,
                        lookup=args.lookup, lookup_columns=cols or None, areas=args.areas, area_id=args.area_id,
                        area_name=args.area_name, boundaries=args.boundaries, method=args.method.replace("-", "_"),
                        councils=args.la)
    path = write_profiles_csv(res.table, args.out, inputs=[args.imd, args.population, args.lookup, args.areas,
                                                           args.boundaries])
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
    p.add_argument("--vintage", choices=["2019", "2025"], default="2025",
                   help="IoD2025 on LSOA 2021 (default) or IoD2019 on LSOA 2011")
    p.add_argument("--out", default="maps", metavar="DIR", help="output folder (default: maps/)")
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


def _cmd_map(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .maps import map_from_files
    from .maps._files import default_title

    mb = map_from_files(args.layers, title=args.title or default_title(args.layers), vintage=args.vintage or "",
                        notes=args.notes or "")
    out = mb.save(args.out)
    outputs = [out]
    if args.png:
        from .static import static_map

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
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except GeotargetError as e:
        print(f"geotarget {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
