"""Corpus (issue 15, classes 5, 6 and 10): numbers that are not what they seem, silent partial coverage, options.

Every case builds its files from the bundled Tees Valley sample (IoD2025 and IoD2019 canonical files, the
population denominators, the LSOA boundaries and the ONS lookup), changes one thing and runs the CLI; each
must end with exit status 2 and the one-line message given (a regular expression), never a traceback.
Generated: each bad kind of value in each column it applies to.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from tests.conftest import ROOT
from tests.corpus_cases import Case

IMD25 = ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv"
IMD19 = ROOT / "data/imd/iod2019_lsoa11_tees_valley.csv"
POP25 = ROOT / "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv"
GPKG = ROOT / "boundaries/tees_valley.gpkg"
LOOKUP25 = ROOT / "data/lookups/lsoa21_msoa21_ward25_lad25_tees_valley.csv"
STOCKTON = "E06000004"


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _edit(src: Path, name: str, edits: dict[tuple[int, str], str], *, rename: dict[str, str] | None = None):
    """Return ``make(tmp) -> path``: ``src`` with cells ``(data row 0-based, column) -> text`` replaced."""
    def make(tmp: Path) -> Path:
        header, rows = _rows(src)
        for (i, col), value in edits.items():
            rows[i][header.index(col)] = value
        if rename:
            header = [rename.get(h, h) for h in header]
        return _write(tmp / name, header, rows)
    return make


def _aggregate(make_imd, *, make_pop=None):
    """``geotarget aggregate --to lad`` on a changed IoD file (and population file)."""
    def argv(tmp: Path) -> list[str]:
        pop = make_pop(tmp) if make_pop else POP25
        return ["aggregate", "--to", "lad", "--imd", str(make_imd(tmp)), "--population", str(pop),
                "--out", str(tmp / "out.csv")]
    return argv


def _cell(col: str, value: str, row: int = 0) -> str:
    """Return the message fragment naming the file, column, row (the header is row 1) and value."""
    return rf"imd\.csv, column {re.escape(repr(col))}: .* — row {row + 2}: {re.escape(repr(value))}"


CASES: list[Case] = []

# ---------------------------------------------------------------------------- bad values x columns (class 6)
_SCORES = ("imd_score", "income_score", "health_score", "living_env_score")
_BAD_NUMBERS = {  # value -> what the message says
    "38,5": "a decimal comma",
    "1,23": "a decimal comma",
    "inf": "not a finite number",
    "-Infinity": "not a finite number",
    "NaN": "not a finite number",
    "1e400": "not a finite number",
    "12abc": "not a number",
    "": "missing value",
}
for col in _SCORES:
    for value, what in _BAD_NUMBERS.items():
        CASES.append(Case(
            f"numbers-{col}-{value or 'blank'}", _aggregate(_edit(IMD25, "imd.csv", {(0, col): value})), 2,
            rf"{_cell(col, value)}; expected" if value else rf"imd\.csv, column '{col}': missing value — row 2: ''",
            tags=("numbers", what)))

_OUT_OF_RANGE = {
    ("imd_score", "150"): "score out of range — row 2: '150'; expected a score from 0 to 100",
    ("imd_score", "-1"): "score out of range — row 2: '-1'; expected a score from 0 to 100",
    ("income_score", "1.5"): r"score out of range — row 2: '1\.5'; expected a rate from 0 to 1",
    ("employment_score", "-0.1"): r"score out of range — row 2: '-0\.1'; expected a rate from 0 to 1",
    ("health_score", "250"): "score out of range — row 2: '250'; expected a standardised score from -100 to 100",
    ("imd_rank", "0"): "rank out of range — row 2: '0'; expected a whole number from 1 .* to 33,755",
    ("imd_rank", "33756"): "rank out of range — row 2: '33756'; expected a whole number from 1 .* to 33,755",
    ("crime_rank", "12.5"): r"rank out of range — row 2: '12\.5'",
    ("imd_decile", "11"): "decile out of range — row 2: '11'; expected a whole number from 1",
    ("income_decile", "0"): "decile out of range — row 2: '0'",
}
for (col, value), msg in _OUT_OF_RANGE.items():
    CASES.append(Case(f"range-{col}-{value}", _aggregate(_edit(IMD25, "imd.csv", {(0, col): value})), 2,
                      rf"imd\.csv, column '{col}': {msg}", tags=("numbers", "range")))

for col, value, msg in [
    ("pop_total_mid2022", "1e12", r"not a population count — row 2: '1e12'; expected a whole number of people "
                                  r"from 0 to 100,000"),
    ("pop_total_mid2022", "-5", "not a population count — row 2: '-5'"),
    ("pop_total_mid2022", "1870.5", r"not a population count — row 2: '1870\.5'"),
    ("pop_working_age_mid2022", "1,000,000", "not a population count — row 2: '1,000,000'"),
    ("pop_0_15_mid2022", "3,79", "a decimal comma .* — row 2: '3,79'"),
    ("pop_total_mid2022", "inf", "not a finite number — row 2: 'inf'"),
]:
    CASES.append(Case(f"population-{col}-{value}",
                      _aggregate(lambda tmp: IMD25, make_pop=_edit(POP25, "pop.csv", {(0, col): value})), 2,
                      rf"pop\.csv, column '{col}': {msg}", tags=("numbers", "population")))


# ---------------------------------------------------------------------------- consistency (class 6)
def _decile_mismatch(tmp: Path) -> Path:
    header, rows = _rows(IMD25)
    i = header.index("imd_decile")
    rows[3][i] = "10" if rows[3][i] != "10" else "1"
    return _write(tmp / "imd.csv", header, rows)


CASES.append(Case("consistency-rank1-decile10", _aggregate(_edit(IMD25, "imd.csv", {(0, "imd_rank"): "1",
                                                                                    (0, "imd_decile"): "10"})), 2,
                  r"imd\.csv, row 2: 'imd_rank' is 1 but 'imd_decile' is 10; expected decile 1 for IoD2025 "
                  r"\(decile = ceil\(rank / \(33,755 / 10\)\)", tags=("consistency",)))
CASES.append(Case("consistency-decile-off", _aggregate(_decile_mismatch), 2,
                  r"imd\.csv, row 5: 'imd_rank' is [\d,]+ but 'imd_decile' is \d+; expected decile \d+ for IoD2025",
                  tags=("consistency",)))


def _tie_with_other_scores(tmp: Path) -> Path:
    header, rows = _rows(IMD25)
    r = header.index("income_rank")
    d = header.index("income_decile")
    rows[1][r], rows[1][d] = rows[0][r], rows[0][d]  # two LSOAs with different income scores share a rank
    return _write(tmp / "imd.csv", header, rows)


CASES.append(Case("consistency-duplicate-rank", _aggregate(_tie_with_other_scores), 2,
                  r"imd\.csv, column 'income_rank': rank [\d,]+ appears 2 times \(rows 2, 3\); expected each rank "
                  r"once, or LSOAs tied on the same score", tags=("consistency",)))


def _scores_swapped(tmp: Path) -> Path:
    header, rows = _rows(IMD25)
    s = header.index("crime_score")
    rows[0][s], rows[1][s] = rows[1][s], rows[0][s]
    if rows[0][s] == rows[1][s]:
        rows[0][s] = "3.5"
    return _write(tmp / "imd.csv", header, rows)


CASES.append(Case("consistency-score-rank-order", _aggregate(_scores_swapped), 2,
                  r"imd\.csv, rows \d+ and \d+: 'crime_rank' [\d,]+ has 'crime_score' [-\d.]+ but rank [\d,]+ has "
                  r"the higher [-\d.]+; expected scores to fall as ranks rise", tags=("consistency",)))


# ---------------------------------------------------------------------------- the vintage a file claims
def _iod2019_as_2021(tmp: Path) -> Path:
    header, rows = _rows(IMD19)
    header = [{"lsoa11cd": "lsoa21cd", "lsoa11nm": "lsoa21nm"}.get(h, h) for h in header]
    return _write(tmp / "imd.csv", header, rows)


def _iod2025_as_2011(tmp: Path) -> Path:
    header, rows = _rows(IMD25)
    header = [{"lsoa21cd": "lsoa11cd", "lsoa21nm": "lsoa11nm"}.get(h, h) for h in header]
    return _write(tmp / "imd.csv", header, rows)


CASES.append(Case("vintage-iod2019-under-2021-header", _aggregate(_iod2019_as_2021), 2,
                  r"imd\.csv, row \d+: 'imd_rank' is [\d,]+ but 'imd_decile' is \d+; expected decile \d+ for IoD2025 "
                  r".*these deciles agree with IoD2019 \(N = 32,844\): is this an IoD2019 file under an IoD2025 header",
                  tags=("vintage",)))
CASES.append(Case("vintage-iod2025-under-2011-header", _aggregate(_iod2025_as_2011), 2,
                  r"imd\.csv, column 'lsoa11cd': an LSOA 2021 code in an LSOA 2011 file — row 405: 'E01035183'.* "
                  r"\(and 17 more\); expected LSOA 2011 codes \(E01000001 to E01033768\) for IoD2019",
                  tags=("vintage",)))


def _unquoted_comma(tmp: Path) -> Path:
    lines = IMD25.read_text(encoding="utf-8").splitlines()
    head = lines[1].split(",")
    head[4] = "38,5"  # imd_score written with a decimal comma, unquoted: one value too many
    lines[1] = ",".join(head)
    (tmp / "imd.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp / "imd.csv"


CASES.append(Case("numbers-unquoted-decimal-comma", _aggregate(_unquoted_comma), 2,
                  r"imd\.csv, row 2: 47 values but the header has 46 columns; expected one value per column",
                  tags=("numbers",)))


# ---------------------------------------------------------------------------- partial coverage (class 5)
def _stockton_cut(keep: int):
    """Return a maker of the IoD file cut short: only ``keep`` of Stockton-on-Tees' LSOAs."""
    def make(tmp: Path) -> Path:
        header, rows = _rows(IMD25)
        lad = header.index("lad24cd")
        stock = [r for r in rows if r[lad] == STOCKTON]
        rows = [r for r in rows if r[lad] != STOCKTON] + stock[:keep]
        return _write(tmp / "imd.csv", header, rows)
    return make


def _target(make_imd, *extra: str, boundaries=None, lookup=None):
    def argv(tmp: Path) -> list[str]:
        return ["target", "--imd", str(make_imd(tmp)), "--population", str(POP25),
                "--boundaries", str(boundaries(tmp) if boundaries else GPKG), "--boundaries-layer", "lsoa21",
                "--lookup", str(lookup(tmp) if lookup else LOOKUP25), "--out", str(tmp / "out"), *extra]
    return argv


def _lookup_without(n: int):
    def make(tmp: Path) -> Path:
        header, rows = _rows(LOOKUP25)
        return _write(tmp / "lookup.csv", header, rows[n:])
    return make


def _population_without(n: int):
    def make(tmp: Path) -> Path:
        header, rows = _rows(POP25)
        return _write(tmp / "pop.csv", header, rows[n:])
    return make


CASES += [
    Case("coverage-iod-cut-short", _target(_stockton_cut(3)), 2,
         r"imd\.csv: no IoD row for 121 LSOAs of the chosen councils that .*lsoa21_msoa21_ward25_lad25_tees_valley"
         r"\.csv lists \(of 425; by council: Stockton-on-Tees \(E06000004\): 121 of 124\), e\.g\. E01\d+.*; is the "
         r"file cut short, or for another place or LSOA year\? Missing coverage is an error: give complete files, "
         r"or proceed without them with --partial", tags=("coverage",)),
    Case("coverage-iod-5-rows-missing", _target(_stockton_cut(119)), 2,
         r"imd\.csv: no IoD row for 5 LSOAs of the chosen councils .*Stockton-on-Tees \(E06000004\): 5 of 124\)",
         tags=("coverage",)),
    Case("coverage-lookup-missing-lsoas", _target(lambda tmp: IMD25, lookup=_lookup_without(2)), 2,
         r"lookup\.csv: no lookup row for 2 LSOAs of the chosen councils that .*imd.*\.csv lists",
         tags=("coverage",)),
    Case("coverage-population-missing-lsoas",
         lambda tmp: ["aggregate", "--to", "lad", "--imd", str(IMD25), "--population",
                      str(_population_without(1)(tmp)), "--out", str(tmp / "out.csv")], 2,
         r"pop\.csv: no population for 1 LSOAs in the IoD data, e\.g\. E01011949", tags=("coverage",)),
]


# ---------------------------------------------------------------------------- custom areas (class 5)
def _areas(tmp: Path, boxes: dict[str, tuple | None]) -> Path:
    import geopandas as gpd
    from shapely.geometry import box

    g = gpd.GeoDataFrame({"id": list(boxes), "name": [f"Area {k}" for k in boxes]},
                         geometry=[box(*b) if b else None for b in boxes.values()], crs=27700)
    g.to_file(tmp / "areas.gpkg")
    return tmp / "areas.gpkg"


def _custom(boxes):
    return lambda tmp: ["aggregate", "--to", "custom", "--areas", str(_areas(tmp, boxes)), "--area-id", "id",
                        "--area-name", "name", "--out", str(tmp / "out.csv")]


TEES = (440000, 510000, 460000, 530000)
CASES += [
    Case("areas-one-receives-no-lsoa", _custom({"A": TEES, "KENT": (600000, 150000, 601000, 151000)}), 2,
         r"areas\.gpkg: 1 of the 2 areas receive no LSOA of the 425 in the study \(best-fit\): 'KENT' \(Area KENT\); "
         r"expected every area to hold at least one LSOA's population", tags=("areas",)),
    Case("areas-none-receives-an-lsoa", _custom({"X": (0, 0, 1000, 1000), "Y": (1000, 0, 2000, 1000)}), 2,
         r"areas\.gpkg: 2 of the 2 areas receive no LSOA of the 425 in the study \(best-fit\): 'X' \(Area X\), "
         r"'Y' \(Area Y\)", tags=("areas",)),
    Case("areas-no-geometry", _custom({"A": TEES, "B": None}), 2,
         r"areas\.gpkg, feature 2 \(id 'B'\): no geometry; every area needs a polygon", tags=("areas",)),
]


# ---------------------------------------------------------------------------- access options (class 10)
def _access(*opts: str):
    return lambda tmp: ["access", "--assets", "sample", *opts, "--out", str(tmp / "out")]


CASES += [
    Case("access-threshold-unknown-category", _access("--threshold", "gp=800", "--threshold", "gps=800"), 2,
         r"--threshold has key 'gps' but its keys are expected to be among \['gp', 'pharmacy', 'dentist', "
         r"'library', 'school', 'park', 'community_centre', 'leisure', 'food_support', 'other'\]",
         tags=("options",), absent=("out",)),
    Case("access-threshold-negative", _access("--threshold", "gp=-1"), 2,
         r"--threshold was -1\.0 but is expected to be a number >= 0", tags=("options",), absent=("out",)),
    Case("access-catchment-zero", _access("--catchment", "0"), 2,
         r"--catchment was 0\.0 but is expected to be a number >= 1", tags=("options",), absent=("out",)),
    Case("access-catchment-negative", _access("--catchment", "-100"), 2,
         r"--catchment was -100\.0 but is expected to be a number >= 1", tags=("options",), absent=("out",)),
]


__all__ = ["CASES"]
