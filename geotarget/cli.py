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
    g.add_argument("--population", metavar="PATH", help="population denominators when the IoD file has none")
    if boundaries:
        g.add_argument("--boundaries", metavar="PATH", help="LSOA boundaries for an IoD file (any GIS format)")
        g.add_argument("--boundaries-layer", metavar="LAYER", help="layer of --boundaries (e.g. lsoa21)")
    g.add_argument("--lookup", metavar="PATH", help="LSOA to ward best-fit lookup (for --level ward with files)")


def _study_kw(args: argparse.Namespace) -> dict:
    return dict(imd=args.imd, vintage=args.vintage, councils=args.la, population=args.population,
                boundaries=getattr(args, "boundaries", None), boundaries_layer=getattr(args, "boundaries_layer", None),
                lookup=args.lookup)


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
    from .analyses import cluster_study

    method = "spatial" if args.spatial else args.method
    if args.min_population is not None and method != "spatial":
        raise GeotargetError("--min-population needs --spatial (a floor on the people in each contiguous region)")
    res = cluster_study(level=args.level, method=method, k=args.k, min_population=args.min_population,
                        indicators=args.indicators, id_column=args.id_column, columns=args.columns,
                        higher_is_better=args.higher_is_better or (), reference=args.reference, seed=args.seed,
                        out=args.out, **_study_kw(args))
    if args.quiet:
        return 0
    typ = res.result
    print(f"{typ.k} area types ({typ.method}) for {len(typ.clusters):,} {args.level}s — {res.study.label}; "
          f"gaps vs {args.reference}")
    print(typ.scores.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    for _, r in typ.profiles.iterrows():
        print(f"  {r.cluster}. {r.label} — {r.areas:,} areas, {r.population:,.0f} people ({r.population_share:.0%})")
    for note in res.notes:
        print(f"Note: {note}")
    _print_outputs(res.outputs)
    return 0


def _cmd_hotspots(args: argparse.Namespace) -> int:
    from .analyses import hotspots_study

    perms = "auto" if args.permutations == "auto" else int(args.permutations)
    res = hotspots_study(indicator=args.indicator, indicators=args.indicators, id_column=args.id_column,
                         method=args.method, permutations=perms, alpha=args.alpha, seed=args.seed,
                         islands=args.islands, n_jobs=args.jobs, out=args.out, **_study_kw(args))
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
    from .analyses import inequality_study

    se = dict(x.split("=", 1) for x in args.se_column or [])
    res = inequality_study(indicator=args.indicator, indicators=args.indicators, id_column=args.id_column,
                           se_columns=se or None, deciles=args.deciles, confidence=args.confidence,
                           repetitions=args.repetitions, seed=args.seed, out=args.out, **_study_kw(args))
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


#: Each command's parser, in the order ``geotarget --help`` lists them. A capability adds its
#: ``_add_<command>`` function here; its ``_cmd_<command>`` calls one library function.
_COMMANDS = [
    _add_run,
    _add_aggregate,
    _add_cluster,
    _add_hotspots,
    _add_inequality,
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
