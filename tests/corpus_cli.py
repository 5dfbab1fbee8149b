"""The command-line corpus of issue 15 (classes 8 and 9): bad options, bad files, faults, bad study files.

Every case must end in one clear line naming what to fix and a non-zero exit, never a traceback
(``tests/test_corpus.py`` runs them). The option cases are generated from the params models
(:mod:`geotarget.jobs.params`): every number and choice option of every command, with a value that is
not a number, one under its minimum and one over its maximum.
"""

from __future__ import annotations

import dataclasses
import errno
import gzip
import os
from pathlib import Path

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
    describe,
)
from tests.corpus_cases import Case

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
IMD = DATA / "imd" / "iod2025_lsoa21_tees_valley.csv"
POPULATION = DATA / "population" / "iod2025_population_denominators_lsoa21_tees_valley.csv"
LOOKUP = DATA / "lookups" / "lsoa21_msoa21_ward25_lad25_tees_valley.csv"
BOUNDARIES = ROOT / "boundaries" / "tees_valley.gpkg"
ASSETS_CSV = DATA / "assets" / "community_assets_tees_valley.csv"

#: command -> (params model, the other arguments it needs to get past argparse, given the case's folder)
COMMANDS = {
    "run": (RunParams, lambda t: ["--out", str(t / "out")]),
    "aggregate": (AggregateParams, lambda t: ["--to", "lad", "--out", str(t / "out.csv")]),
    "target": (TargetParams, lambda t: ["--out", str(t / "out")]),
    "cluster": (ClusterParams, lambda t: ["--out", str(t / "out")]),
    "hotspots": (HotspotsParams, lambda t: ["--out", str(t / "out")]),
    "inequality": (InequalityParams, lambda t: ["--out", str(t / "out")]),
    "access": (AccessParams, lambda t: ["--assets", "sample", "--out", str(t / "out")]),
    "hia": (HiaParams, lambda t: ["--site", "TS1 2AA", "--out", str(t / "out")]),
    "map": (MapParams, lambda t: ["--layers", str(BOUNDARIES), "--out", str(t / "out.html")]),
}


def _flag(model, f: dataclasses.Field) -> str:
    from geotarget.cli.options import flag

    return flag(model, f.name)


def _option_cases() -> list[Case]:
    """Bad values for every number and choice option of every command, from the declarations."""
    cases = []
    for command, (model, rest) in COMMANDS.items():
        for f in dataclasses.fields(model):
            d, name = describe(model, f.name), _flag(model, f)
            kind = d["item"].__name__ if d["kind"] == "tuple" and d["item"] in (int, float) else d["kind"]
            # a required option with choices (aggregate --to) is given by ``rest``: put the bad one last
            def argv(t, name=name, value="", rest=rest, command=command):
                return [command, *rest(t), name, value]

            if kind in ("int", "float", "int_or_auto"):
                for value, message in [("abc", rf"{name} was 'abc' but is expected to be ('auto' or )?an? "),
                                       ("nan", rf"{name} was '?nan'? but is expected to be")]:
                    cases.append(Case(f"{command}-{name}-{value}", lambda t, a=argv, v=value: a(t, value=v),
                                      2, message, absent=("out", "out.csv", "out.html")))
                if d["min"] is not None:
                    low = d["min"] - 1 if kind != "float" or d["min"] >= 1 else d["min"] - 0.5
                    low = int(low) if kind != "float" else low
                    cases.append(Case(f"{command}-{name}-below", lambda t, a=argv, v=f"{low:g}": a(t, value=v),
                                      2, rf"{name} was -?[\d.]+ but is expected to be .*(from|>=) {d['min']:g}\b",
                                      absent=("out", "out.csv", "out.html")))
                if d["max"] is not None:
                    high = d["max"] + 1
                    cases.append(Case(f"{command}-{name}-above", lambda t, a=argv, v=f"{high:g}": a(t, value=v),
                                      2, rf"{name} was [\d.]+ but is expected to be .*(to|<=) {d['max']:g}\b",
                                      absent=("out", "out.csv", "out.html")))
            elif d["choices"] and d["kind"] in ("str", "int") or d["kind"] == "tuple" and d["choices"] \
                    and f.metadata.get("one"):
                cases.append(Case(f"{command}-{name}-choice", lambda t, a=argv: a(t, value="nonsense"),
                                  2, rf"{name}: invalid choice: 'nonsense'", absent=("out", "out.csv", "out.html")))
    return cases


# ----------------------------------------------------------------------------- files


def _write(t: Path, name: str, content: bytes | str) -> str:
    p = t / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(p)


def _truncated_gzip(t: Path, name: str, source: Path) -> str:
    data = gzip.compress(source.read_bytes())
    return _write(t, name, data[: len(data) // 2])


def _header_only(t: Path, name: str, source: Path) -> str:
    return _write(t, name, source.read_text(encoding="utf-8").splitlines()[0] + "\n")


def _files(t: Path, imd: str | None = None, **kw: str) -> list[str]:
    """Return the official-files options of a command (the bundled Tees Valley files), ``imd`` and others replaced."""
    out = ["--imd", imd or str(IMD), "--population", kw.get("population", str(POPULATION)),
           "--lookup", kw.get("lookup", str(LOOKUP))]
    if "boundaries" in kw or kw.get("with_boundaries"):
        out += ["--boundaries", kw.get("boundaries", str(BOUNDARIES)), "--boundaries-layer", "lsoa21"]
    return out


def _agg(t: Path, *files: str) -> list[str]:
    return ["aggregate", "--to", "lad", *files, "--out", str(t / "out.csv")]


FILE_CASES = [
    # the IoD file (aggregate reads it first)
    Case("imd-missing", lambda t: _agg(t, *_files(t, str(t / "nope.csv"))), 2, r"nope\.csv.*not found",
         absent=("out.csv",)),
    Case("imd-is-folder", lambda t: _agg(t, *_files(t, str(t))), 2, r": is a folder; expected the IoD file",
         absent=("out.csv",)),
    Case("imd-empty", lambda t: _agg(t, *_files(t, _write(t, "imd.csv", b"")), ), 2, r"imd\.csv.*empty",
         absent=("out.csv",)),
    Case("imd-header-only", lambda t: _agg(t, *_files(t, _header_only(t, "imd.csv", IMD))), 2,
         r"imd\.csv: the file has a header row but no data rows", absent=("out.csv",), subprocess=True),
    Case("imd-truncated-gzip", lambda t: _agg(t, *_files(t, _truncated_gzip(t, "imd.csv.gz", IMD))), 2,
         r"imd\.csv\.gz: the gzip file is truncated or corrupt", absent=("out.csv",)),
    Case("imd-corrupt-gzip", lambda t: _agg(t, *_files(t, _write(t, "imd.csv.gz", b"\x1f\x8b\x08\x00garbage"))), 2,
         r"imd\.csv\.gz: the gzip file is truncated or corrupt", absent=("out.csv",)),
    Case("imd-binary", lambda t: _agg(t, *_files(t, _write(t, "imd.csv", bytes(range(256)) * 8))), 2,
         r"imd\.csv: holds binary data", absent=("out.csv",)),
    Case("imd-is-geopackage", lambda t: _agg(t, *_files(t, str(BOUNDARIES))), 2, r"tees_valley\.gpkg",
         absent=("out.csv",)),
    Case("imd-wrong-columns", lambda t: _agg(t, *_files(t, _write(t, "imd.csv", "a,b\n1,2\n"))), 2, r"imd\.csv",
         absent=("out.csv",)),
    # population and lookup
    Case("population-missing", lambda t: _agg(t, *_files(t, population=str(t / "pop.csv"))), 2,
         r"pop\.csv.*not found", absent=("out.csv",)),
    Case("population-header-only", lambda t: _agg(t, *_files(t, population=_header_only(t, "pop.csv", POPULATION))),
         2, r"pop\.csv", absent=("out.csv",)),
    Case("population-truncated-gzip",
         lambda t: _agg(t, *_files(t, population=_truncated_gzip(t, "pop.csv.gz", POPULATION))), 2,
         r"pop\.csv\.gz: the gzip file is truncated or corrupt", absent=("out.csv",)),
    Case("lookup-header-only", lambda t: _agg(t, *_files(t, lookup=_header_only(t, "lk.csv", LOOKUP))), 2,
         r"lk\.csv", absent=("out.csv",)),
    Case("lookup-binary", lambda t: _agg(t, *_files(t, lookup=_write(t, "lk.csv", b"\x00\x01\x02" * 100))), 2,
         r"lk\.csv: holds binary data", absent=("out.csv",)),
    Case("lookup-is-folder", lambda t: _agg(t, *_files(t, lookup=str(t))), 2,
         r": is a folder; expected the lookup file",
         absent=("out.csv",)),
    # boundaries
    Case("boundaries-junk", lambda t: ["target", *_files(t, boundaries=_write(t, "b.gpkg", b"not a geopackage")),
                                       "--out", str(t / "out")], 2, r"b\.gpkg: not a readable GIS file",
         absent=("out",)),
    Case("boundaries-truncated", lambda t: ["target", *_files(t, boundaries=_write(
        t, "b.gpkg", BOUNDARIES.read_bytes()[:50_000])), "--out", str(t / "out")], 2, r"b\.gpkg", absent=("out",)),
    Case("boundaries-missing", lambda t: ["target", *_files(t, boundaries=str(t / "b.gpkg")),
                                          "--out", str(t / "out")], 2, r"b\.gpkg.*not found", absent=("out",)),
    # assets
    Case("assets-missing", lambda t: ["access", "--assets", str(t / "a.csv"), "--out", str(t / "out")], 2,
         r"a\.csv.*not found", absent=("out",)),
    Case("assets-header-only", lambda t: ["access", "--assets", _header_only(t, "a.csv", ASSETS_CSV),
                                          "--out", str(t / "out")], 2, r"a\.csv", absent=("out",)),
    Case("assets-none-locatable", lambda t: ["access", "--assets", _write(
        t, "a.csv", "name,category,postcode\nA,gp,ZZ99 9ZZ\nB,pharmacy,not a postcode\n"),
        "--out", str(t / "out")], 2, r"a\.csv.*(no asset|none of the 2 rows|could be located|no rows)",
         absent=("out",), subprocess=True),
    Case("assets-truncated-gzip", lambda t: ["access", "--assets", _truncated_gzip(t, "a.csv.gz", ASSETS_CSV),
                                             "--out", str(t / "out")], 2, r"a\.csv\.gz: the gzip file is truncated",
         absent=("out",)),
    Case("assets-binary", lambda t: ["access", "--assets", _write(t, "a.csv", os.urandom(3000)),
                                     "--out", str(t / "out")], 2, r"a\.csv", absent=("out",)),
    Case("network-without-geometry", lambda t: ["access", "--assets", "sample", "--network",
                                                _write(t, "n.csv", "a,b\n1,2\n"), "--out", str(t / "out")], 2,
         r"n\.csv: no geometry; a street network must be a file of lines", absent=("out",)),
    Case("network-junk-graphml", lambda t: ["access", "--assets", "sample", "--network",
                                            _write(t, "n.graphml", "<graphml><node"), "--out", str(t / "out")], 2,
         r"n\.graphml: not readable GraphML", absent=("out",)),
    Case("parks-without-site-type", lambda t: ["access", "--assets", "sample", "--parks",
                                               _write(t, "p.csv", "name,x\nA,1\n"), "--out", str(t / "out")], 2,
         r"(p\.csv|green space sites)", absent=("out",)),
    Case("category-map-missing", lambda t: ["access", "--assets", str(ASSETS_CSV), "--category-map",
                                            str(t / "m.csv"), "--out", str(t / "out")], 2, r"m\.csv.*not found",
         absent=("out",)),
    Case("postcodes-junk", lambda t: ["access", "--assets",
                                      _write(t, "a.csv", "name,category,postcode\nA,gp,TS1 2AA\n"),
                                      "--postcodes",
                                      _write(t, "pc.csv", "x,y\n1,2\n"), "--out", str(t / "out")], 2, r"pc\.csv",
         absent=("out",)),
    # hia
    Case("hia-sites-missing", lambda t: ["hia", "--sites", str(t / "s.csv"), "--out", str(t / "out")], 2,
         r"s\.csv.*not found", absent=("out",)),
    Case("hia-sites-header-only", lambda t: ["hia", "--sites", _write(t, "s.csv", "name,postcode\n"),
                                             "--out", str(t / "out")], 2, r"s\.csv", absent=("out",)),
    Case("hia-site-junk", lambda t: ["hia", "--site", "not a site at all", "--out", str(t / "out")], 2,
         r"not a site at all", absent=("out",)),
    # map
    Case("map-layer-missing", lambda t: ["map", "--layers", str(t / "l.gpkg"), "--out", str(t / "m.html")], 2,
         r"l\.gpkg", absent=("m.html",)),
    Case("map-layer-junk", lambda t: ["map", "--layers", _write(t, "l.geojson", "{not json"),
                                      "--out", str(t / "m.html")], 2, r"l\.geojson", absent=("m.html",)),
]


# ----------------------------------------------------------------------------- outputs and faults


def _enospc(monkeypatch) -> None:
    """Every write of a data frame fails as on a full disk."""
    import pandas as pd

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pd.DataFrame, "to_csv", full)


def _erofs(monkeypatch) -> None:
    """Make the output folder read-only file system (as root ignores chmod, simulated)."""
    real = os.replace

    def readonly(src, dst, *a, **kw):
        if str(dst).endswith(".csv"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(dst))
        return real(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", readonly)


def _gdal_disk_full(monkeypatch) -> None:
    """Make GDAL fail as on a full disk while writing a GeoPackage (its own error, worded by the OS)."""
    import pyogrio
    import pyogrio.errors

    def full(*args, **kwargs):
        raise pyogrio.errors.DataSourceError("sqlite3_exec(COMMIT) failed: database or disk is full")

    monkeypatch.setattr(pyogrio, "write_dataframe", full)


def _eacces(monkeypatch) -> None:
    """Make every temporary output file refused as in a folder the user may not write to (works as root too)."""
    import tempfile

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), kwargs.get("dir"))

    monkeypatch.setattr(tempfile, "mkstemp", refused)


def _readonly_folder(t: Path) -> list[str]:
    (t / "ro").mkdir()
    os.chmod(t / "ro", 0o555)
    return ["aggregate", "--to", "lad", "--out", str(t / "ro" / "out.csv")]


OUTPUT_CASES = [
    Case("disk-full", lambda t: ["aggregate", "--to", "lad", "--out", str(t / "out.csv")], 2,
         r"out\.csv: could not write.*no space left on the device", absent=("out.csv",), patch=_enospc),
    Case("read-only-filesystem", lambda t: ["aggregate", "--to", "lad", "--out", str(t / "out.csv")], 2,
         r"out\.csv: could not write.*read-only", absent=("out.csv",), patch=_erofs),
    Case("disk-full-geopackage", lambda t: ["target", "--la", "Hartlepool", "--out", str(t / "out")], 2,
         r"action_areas\.gpkg: could not write: no space left on the device", patch=_gdal_disk_full,
         absent=("out/action_areas.gpkg",)),
    Case("permission-denied", lambda t: ["aggregate", "--to", "lad", "--out", str(t / "out.csv")], 2,
         r"out\.csv: could not write.*permission denied", absent=("out.csv",), patch=_eacces),
    Case("read-only-folder", _readonly_folder, 2, r"out\.csv: could not write.*permission denied",
         needs_permissions=True, absent=("ro/out.csv",)),
    Case("out-file-is-folder", lambda t: (t / "out.csv").mkdir() or ["aggregate", "--to", "lad", "--out",
                                                                       str(t / "out.csv")], 2,
         r"out\.csv.*(: could not write: this is a folder, not a file|, which is a folder: give a file name)"),
    Case("out-folder-is-file", lambda t: ["target", "--out", _write(t, "out", "x")], 2,
         r"out.*(file|folder)"),
    Case("out-parent-is-file", lambda t: ["aggregate", "--to", "lad", "--out",
                                          str(Path(_write(t, "f", "x")) / "o.csv")],
         2, r"f.*(is a file|not a folder|in the way)"),
    Case("map-out-is-folder", lambda t: (t / "m.html").mkdir() or ["map", "--layers", str(BOUNDARIES) + "#lad2025",
                                                                     "--out", str(t / "m.html")], 2,
         r"m\.html.*is a folder"),
]


# ----------------------------------------------------------------------------- study files


def _study(t: Path, body: str) -> list[str]:
    (t / "study.toml").write_text(body, encoding="utf-8")
    return ["run", "--config", str(t / "study.toml"), "--out", str(t / "out")]


STUDY_CASES = [
    Case("study-missing", lambda t: ["run", "--config", str(t / "nope.toml")], 2, r"nope\.toml: study file not found"),
    Case("study-not-toml", lambda t: _study(t, "[place\ncouncils = 1\n"), 2, r"not valid TOML", absent=("out",)),
    Case("study-not-utf8", lambda t: ["run", "--config", _write(t, "study.toml", b"title = \"\xff\xfe\"\n")], 2,
         r"not UTF-8", absent=("out", "maps")),
    Case("study-unknown-section", lambda t: _study(t, "[targett]\nn = 2\n"), 2, r"targett", absent=("out",)),
    Case("study-unknown-key", lambda t: _study(t, "[target]\nmax_decil = 2\n"), 2, r"max_decil.*max_decile",
         absent=("out",)),
    Case("study-bad-number", lambda t: _study(t, "[hotspots]\nn_jobs = 0\n"), 2, r"n_jobs", absent=("out",)),
    Case("study-bad-type", lambda t: _study(t, "[inequality]\nrepetitions = \"many\"\n"), 2, r"repetitions",
         absent=("out",)),
    Case("study-missing-file", lambda t: _study(t, '[data]\nsource = "files"\nimd = "nope.csv"\nboundaries = "b.gpkg"'
                                                  '\nlookup = "l.csv"\n[place]\ncouncils = ["Hartlepool"]\n'), 2,
         r"nope\.csv", absent=("out",)),
    Case("study-csv-as-assets", lambda t: _study(t, f'[data]\nsource = "files"\nimd = "{IMD}"\nboundaries = '
                                                    f'"{BOUNDARIES}"\nboundaries_layer = "lsoa21"\nlookup = "{LOOKUP}"'
                                                    f'\npopulation = "{POPULATION}"\nassets = ["{IMD}"]\n'
                                                    '[place]\ncouncils = ["Hartlepool"]\n[access]\n'), 2,
         r"iod2025_lsoa21_tees_valley\.csv", absent=("out",)),
    Case("study-hia-without-site", lambda t: _study(t, "[hia]\nbuffer = [800]\n"), 2,
         r"\[hia\].*give a site", absent=("out",)),
    Case("study-hia-site-junk", lambda t: _study(t, '[hia]\nsite = "not a site at all"\n'), 2,
         r"\[hia\].*not a site at all", absent=("out",)),
    Case("study-section-not-for-place", lambda t: _study(t, f'[data]\nsource = "files"\nimd = "{IMD}"\nboundaries = '
                                                            f'"{BOUNDARIES}"\nboundaries_layer = "lsoa21"\nlookup = '
                                                            f'"{LOOKUP}"\npopulation = "{POPULATION}"\n'
                                                            '[place]\ncouncils = ["Hartlepool"]\n[access]\n'), 2,
         r"\[access\]: this section cannot run on this place", absent=("out",), subprocess=True),
    Case("study-input-not-used", lambda t: _study(t, f'[data]\nsource = "files"\nimd = "{IMD}"\nboundaries = '
                                                     f'"{BOUNDARIES}"\nlookup = "{LOOKUP}"\ncni = "{IMD}"\n'
                                                     '[place]\ncouncils = ["Hartlepool"]\n'), 2,
         r"\[data\] cni: cni is given but not used", absent=("out",)),
    Case("study-custom-areas-csv", lambda t: _study(t, '[aggregate]\nto = ["custom"]\nareas = "a.csv"\n'
                                                       'area_id = "id"\n')
         if _write(t, "a.csv", "id,name\n1,A\n") else [], 2,
         r"line 3: \[aggregate\] areas: .*a\.csv: no geometry", absent=("out",)),
    Case("study-indicators-without-codes", lambda t: _study(t, '[cluster]\nindicators = "i.csv"\n')
         if _write(t, "i.csv", "name,x\nA,1\n") else [], 2,
         r"\[cluster\].*i\.csv: no column of LSOA", absent=("out",)),
    Case("study-hotspots-indicator-unknown", lambda t: _study(t, '[hotspots]\nindicator = "nosuch"\n'), 2,
         r"line 2: \[hotspots\] indicator: indicator 'nosuch' is not an IoD column", absent=("out",)),
    Case("study-inequality-indicator-unknown", lambda t: _study(t, '[inequality]\nindicator = ["nosuch"]\n'), 2,
         r"line 2: \[inequality\] indicator: indicator 'nosuch' is not an IoD column", absent=("out",)),
    Case("study-map-councils-unknown", lambda t: _study(t, '[output]\nmap_councils = ["Nowhere"]\n'), 2,
         r"line 2: \[output\] map_councils: council 'Nowhere' matches no council", absent=("out",)),
    Case("study-groups-not-used", lambda t: _study(t, '[aggregate]\nto = ["lad"]\ngroups = "g.csv"\n')
         if _write(t, "g.csv", "lad_code,group_code,group_name\nE06000001,G1,G\n") else [], 2,
         r"line 3: \[aggregate\] groups: groups is given but not used", absent=("out",)),
    Case("study-columns-not-used", lambda t: _study(t, '[cluster]\ncolumns = ["x"]\n'), 2,
         r"line 2: \[cluster\] columns: columns was \('x',\) but is expected only with indicators", absent=("out",)),
    Case("study-folder-is-file", lambda t: _study(t, '[output]\nfolder = "f"\n')[:3] if _write(t, "f", "x") else [],
         2, r"f.*(file|folder)"),
]


# ----------------------------------------------------------------------------- the data cache and other commands


def _cache_with_damaged_record(t: Path, *, add: bool = True) -> str:
    """Return a cache holding the bundled IoD file as iod2025, its record (checksum) damaged."""
    from geotarget.cli.main import main

    cache = t / "cache"
    assert main(["data", "add", str(IMD), "--cache", str(cache), "--as", "iod2025", "-q"]) == 0
    record = next(cache.rglob("*.json"))
    record.write_text('{"sha256": "0123', encoding="utf-8")  # cut short
    return str(cache)


CACHE_CASES = [
    # the three of the issue, by name (the generated cases above cover every option the same way)
    Case("issue-jobs-0", lambda t: ["hotspots", "--jobs", "0", "--out", str(t / "out")], 2,
         r"^geotarget hotspots: error: --jobs was 0 but is expected to be an integer >= 1 \(see geotarget hotspots "
         r"--help\)$", absent=("out",), subprocess=True),
    Case("issue-permutations-abc", lambda t: ["hotspots", "--permutations", "abc", "--out", str(t / "out")], 2,
         r"--permutations was 'abc' but is expected to be 'auto' or an integer >= 99", absent=("out",)),
    Case("issue-repetitions-0", lambda t: ["inequality", "--repetitions", "0", "--out", str(t / "out")], 2,
         r"--repetitions was 0 but is expected to be an integer >= 1000", absent=("out",)),
    Case("cache-record-damaged-on-use", lambda t: ["hia", "--source", "cache", "--cache", _cache_with_damaged_record(t),
                                                    "--la", "Hartlepool", "--site", "444600,518900",
                                                    "--out", str(t / "out")], 2,
         r"\.csv\.json: the record of the cached file .* is not readable JSON; replace it with .*--force",
         absent=("out",)),
    Case("cache-record-damaged-on-add", lambda t: ["data", "add", str(IMD), "--cache", _cache_with_damaged_record(t),
                                                    "--as", "iod2025"], 2,
         r"iod2025 is already in the cache .* --force"),
    Case("cache-is-a-file", lambda t: ["data", "add", str(IMD), "--cache", _write(t, "cache", "x"), "--as", "iod2025"],
         2, r"cache.*could not write.*(is a file|not a folder|in the way)"),
    Case("data-add-missing", lambda t: ["data", "add", str(t / "nope.csv"), "--cache", str(t / "c")], 2,
         r"nope\.csv: no such file"),
    Case("data-add-unrecognised", lambda t: ["data", "add", _write(t, "x.csv", "x\n1\n"), "--cache", str(t / "c")],
         2, r"x\.csv: not recognised as any dataset.*--as"),
    Case("data-add-as-unknown", lambda t: ["data", "add", str(IMD), "--as", "nosuch"], 2,
         r"--as: invalid choice: 'nosuch'"),
    Case("data-fetch-unknown", lambda t: ["data", "fetch", "nosuch", "--cache", str(t / "c")], 2,
         r"no dataset named 'nosuch'"),
    Case("data-fetch-timeout-0", lambda t: ["data", "fetch", "iod2025", "--timeout", "0", "--cache", str(t / "c")], 2,
         r"--timeout was 0\.0 but is expected to be a positive number of seconds"),
    Case("data-fetch-deadline-abc", lambda t: ["data", "fetch", "iod2025", "--deadline", "abc"], 2,
         r"--deadline was 'abc' but is expected to be a number"),
    Case("init-vintage", lambda t: ["init", "--vintage", "2020"], 2, r"--vintage: invalid choice: '2020'"),
    Case("unknown-command", lambda t: ["nosuch"], 2, r"invalid choice: 'nosuch'"),
    Case("unknown-option", lambda t: ["run", "--nosuch"], 2, r"unrecognized arguments: --nosuch"),
    Case("run-place-unknown", lambda t: ["run", "--place", "atlantis", "--out", str(t / "out")], 2,
         r"--place 'atlantis' matches no council or region in England", absent=("out",)),
    Case("run-vintage-choice", lambda t: ["run", "--vintage", "2020", "--out", str(t / "out")], 2,
         r"--vintage: invalid choice: '?2020'?", absent=("out",)),
    Case("run-council-unknown", lambda t: ["run", "--la", "Nowhere", "--out", str(t / "out")], 2,
         r"council 'Nowhere' matches no council", absent=("out",)),
    Case("run-config-with-la", lambda t: ["run", "--config", _write(t, "s.toml", ""), "--la", "Hartlepool"], 2,
         r"--la cannot be combined with --config"),
    Case("aggregate-custom-without-areas", lambda t: ["aggregate", "--to", "custom", "--out", str(t / "o.csv")], 2,
         r"--to custom needs an areas file", absent=("o.csv",)),
    Case("aggregate-lookup-column-pair", lambda t: ["aggregate", "--to", "lad", "--lookup-column", "ward_code",
                                                    "--out", str(t / "o.csv")], 2,
         r"--lookup-column 'ward_code': expected CANON=COLUMN", absent=("o.csv",)),
    Case("access-threshold-not-number", lambda t: ["access", "--assets", "sample", "--threshold", "gp=abc",
                                                   "--out", str(t / "out")], 2,
         r"--threshold 'gp=abc': expected CATEGORY=M with a number", absent=("out",)),
    Case("access-map-category-pair", lambda t: ["access", "--assets", "sample", "--map-category", "x",
                                                "--out", str(t / "out")], 2,
         r"--map-category 'x': expected VALUE=CATEGORY", absent=("out",)),
    Case("access-two-asset-files", lambda t: ["access", "--assets", str(ASSETS_CSV), str(ASSETS_CSV),
                                              "--out", str(t / "out")], 2, r"--assets: give one asset file",
         absent=("out",)),
    Case("hia-site-and-sites", lambda t: ["hia", "--site", "TS1 2AA", "--sites", "x.csv", "--out", str(t / "out")], 2,
         r"not allowed with argument", absent=("out",)),
    Case("hia-postcode-unknown", lambda t: ["hia", "--site", "ZZ99 9ZZ", "--out", str(t / "out")], 2,
         r"ZZ99 9ZZ", absent=("out",)),
    Case("cluster-columns-not-used", lambda t: ["cluster", "--columns", "x", "--out", str(t / "out")], 2,
         r"--columns was \('x',\) but is expected only with --indicators", absent=("out",)),
    Case("hotspots-id-column-not-used", lambda t: ["hotspots", "--id-column", "x", "--out", str(t / "out")], 2,
         r"--id-column was 'x' but is expected only with --indicators", absent=("out",)),
    Case("inequality-count-column-not-used", lambda t: ["inequality", "--count-column", "imd_score=x",
                                                        "--out", str(t / "out")], 2,
         r"--count-column was \{'imd_score': 'x'\} but is expected only with --indicators", absent=("out",)),
    Case("target-weights-unknown-gap", lambda t: ["target", "--rule", "composite", "--weights", "wealth=2",
                                                  "--out", str(t / "out")], 2, r"--weights has key 'wealth'",
         absent=("out",)),
]


CASES: list[Case] = [*_option_cases(), *FILE_CASES, *OUTPUT_CASES, *STUDY_CASES, *CACHE_CASES]

__all__ = ["CASES"]
