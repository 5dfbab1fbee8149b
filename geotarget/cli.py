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
    print("Outputs:")
    for path in result.outputs.values():
        print(f"  {path}  ({_fmt_size(path.stat().st_size)})")


def _cmd_run(args: argparse.Namespace) -> int:
    from .run import run

    result = run(vintage=args.vintage, councils=args.la, out=args.out)
    if not args.quiet:
        _print_summary(result)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geotarget",
        description="Turn English deprivation data into defensible decisions about places.",
    )
    parser.add_argument("--version", action="version", version=f"geotarget {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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
