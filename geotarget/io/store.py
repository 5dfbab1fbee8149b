"""Add files you downloaded or were sent to the data cache: ``geotarget data add FILE...``.

Each file is recognised as a dataset of :data:`geotarget.io.fetch.CATALOGUE` from its *layout*
(its header columns, column count and the form of its codes, or a GIS layer's fields and
geometry), never from its name; only the first rows are read. It is then copied into the
dataset's folder of the cache (atomically; the original is never changed or moved) with the
same ``<file>.json`` record that ``geotarget data fetch`` writes, plus where it was added from and
how it was recognised. The file keeps its format (a ``.csv.gz`` stays gzipped); each recognised
layer of a multi-layer GeoPackage is written to its own single-layer GeoPackage; a zip holding one
recognised CSV (an ODS or ONS download) gives that CSV, except OS Code-Point Open's ``codepo_gb.zip``, which geotarget
reads as it is. :func:`geotarget.io.fetch.cached_path` finds the added file.

Adding the same file again does nothing; a different file for a dataset already in the cache
replaces it only with ``force``. A file that matches no layout, or more than one, is an error
naming the columns found and the layouts expected (``as_`` names the dataset instead).
"""

from __future__ import annotations

import csv
import gzip
import logging
import os
import re
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from geotarget.core.errors import GeotargetError, SchemaError
from geotarget.io.fetch import cache_dir, cached_path, get_dataset, now, record_path, verify_cached, write_record
from geotarget.io.files import atomic_path, sha256_file
from geotarget.io.imd import canonical_name
from geotarget.io.ods import ODS_KINDS
from geotarget.io.postcodes import normalise_postcode

log = logging.getLogger("geotarget.progress")

#: The layouts recognised, by catalogue name: what ``geotarget data add`` expects (shown in its errors).
LAYOUTS: dict[str, str] = {
    "iod2025": "IoD2025 File 7 (official headers 'LSOA code (2021)', 'Index of Multiple Deprivation (IMD) Score', "
               "... or lsoa21cd, imd_score, imd_rank, imd_decile ...)",
    "iod2019": "IoD2019 File 7 (as iod2025, with 'LSOA code (2011)' / lsoa11cd)",
    "iod2025-indicators": "IoD2025 File 8 underlying indicators (an LSOA 2021 code column and '... numerator' / "
                          "'... indicator' columns, no IMD)",
    "iod2019-indicators": "IoD2019 File 8 underlying indicators (as above, LSOA 2011)",
    "lsoa21-population": "population by LSOA 2021 (lsoa21cd with pop_total_mid2022 or 'Total population: mid 2022', "
                         "or SAPE 'LSOA 2021 Code' with 'Total')",
    "cni2023": "Community Needs Index 2023 (an LSOA 2021 code column and cni_score / 'Community Needs Index ...')",
    "lsoa21-ward24-lookup": "LSOA 2021 -> ward 2024 lookup (LSOA21CD, WD24CD, LAD24CD ...)",
    "lsoa21-icb24-lookup": "LSOA 2021 -> sub-ICB -> ICB July 2024 lookup (LSOA21CD, SICBL24CD, ICB24CD ...)",
    "lsoa11-lsoa21-lookup": "LSOA 2011 -> LSOA 2021 lookup (LSOA11CD, LSOA21CD, CHGIND ...)",
    "lad24-regions": "council -> region lookup (LAD24CD, RGN24CD ...)",
    "lsoa21-centroids": "LSOA 2021 population-weighted centroids (LSOA21CD with x/y or easting/northing; or points)",
    "ons-postcode-lookup": "ONS postcode lookup: PCD_OA_LSOA_MSOA_LAD (pcd7, pcd8, pcds, dointr, doterm, usertype, "
                           "oa11cd, lsoa11cd ...), ONSPD or NSPL (pcd, pcds, dointr, doterm, oa11/oa21, "
                           "lsoa11/lsoa21 ...)",
    "codepoint-open": "OS Code-Point Open: codepo_gb.zip (Data/CSV/*.csv), a headerless 10-column CSV (postcode, "
                      "positional quality, easting, northing, ...), or one with those headers",
    "ods-epraccur": "NHS ODS epraccur: headerless, 27 columns, GP practice codes (a letter and 5 digits, e.g. A81001)",
    "ods-edispensary": "NHS ODS edispensary: headerless, 27 columns, pharmacy codes (F and 4 characters, e.g. FA114)",
    "ods-egdpprac": "NHS ODS egdpprac: headerless, 27 columns, dental practice codes (V and 5-6 digits)",
    "os-greenspace": "OS Open Greenspace GreenspaceSite layer (fields id, function, distName1 ...)",
    "lsoa21-boundaries": "LSOA 2021 polygons (a GIS layer with LSOA21CD or lsoa21_code)",
    "lsoa11-boundaries": "LSOA 2011 polygons (LSOA11CD or lsoa11_code)",
    "msoa21-boundaries": "MSOA 2021 polygons (MSOA21CD or msoa21_code)",
    "lad24-boundaries": "council (LAD 2024) polygons (LAD24CD or ltla24_code)",
    "wards24-boundaries": "ward (May 2024) polygons (WD24CD)",
}

_GIS = (".gpkg", ".geojson", ".json", ".fgb", ".shp")
_HEAD_BYTES = 1 << 16
_HEAD_ROWS = 40
_ODS_COLUMNS = 27
#: Organisation code forms of the three ODS files: the asset reader's (:data:`geotarget.io.ods.ODS_KINDS`).
_ODS_CODES = {f"ods-{kind}": pattern for kind, (pattern, _) in ODS_KINDS.items()}
_KIND = {"ltla": "lad", "ward": "wd"}
_CODE_PATTERNS = [
    re.compile(r"^(oa|lsoa|msoa|lad|ltla|utla|wd|ward|rgn|icb|sicbl|ctry|pcon)(\d\d)_?(?:cd|code)$"),  # LSOA21CD
    re.compile(r"^(oa|lsoa|msoa|lad|wd|rgn)(\d\d)$"),  # ONSPD/NSPL: lsoa21, oa11
    re.compile(r"^(lsoa|msoa|oa)_code_(?:20)?(\d\d)$"),  # IoD: "LSOA code (2021)"
    re.compile(r"^(lsoa|msoa|lad)_(?:20)?(\d\d)_code$"),  # SAPE: "LSOA 2021 Code"
    re.compile(r"^(local_authority_district)_code_(?:20)?(\d\d)$"),  # IoD: "Local Authority District code (2024)"
]
_POSTCODE_HEADERS = {"pcds", "pcd", "pcd7", "pcd8", "pcd2"}


@dataclass(frozen=True)
class Recognised:
    """What a file (or one of its layers) was recognised as."""

    name: str  #: catalogue name
    how: str  #: the evidence, in words
    layer: str | None = None  #: the GIS layer, for multi-layer files
    member: str | None = None  #: the CSV inside a zip to keep (None: keep the file as it is)


@dataclass(frozen=True)
class Added:
    """One dataset added (or found already there) by :func:`add`."""

    name: str
    path: Path  #: the file in the cache
    status: str  #: "added", "replaced" or "unchanged"
    how: str
    source: Path
    layer: str | None = None


# ----------------------------------------------------------------------------- reading a file's head

def _norm(header: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(header).lower()).strip("_")


def area_codes(columns) -> dict[str, str]:
    """Area code columns by geography and year: ``{"lsoa21": "LSOA21CD", "lad24": "lad24cd", "lad": "LADCD"}``."""
    out: dict[str, str] = {}
    for c in columns:
        n = _norm(c)
        for pat in _CODE_PATTERNS:
            m = pat.match(n)
            if m:
                kind = {"local_authority_district": "lad"}.get(m.group(1), _KIND.get(m.group(1), m.group(1)))
                out.setdefault(f"{kind}{m.group(2)}", str(c))
                break
        else:
            if n in ("ladcd", "lad_code", "lsoacd", "lsoa_code"):
                out.setdefault(n.split("_")[0].removesuffix("cd"), str(c))
    return out


def _decode(raw: bytes) -> str:
    for enc in ("utf-8-sig", "utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _rows(raw: bytes, *, complete: bool) -> list[list[str]]:
    """Return the first rows of a delimited text file from its first bytes (the last line dropped if cut)."""
    text = _decode(raw)
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    lines = [ln for ln in lines[:_HEAD_ROWS] if ln.strip()]
    if not lines:
        return []
    try:
        sep = csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    return [[cell.strip() for cell in row] for row in csv.reader(lines, delimiter=sep)]


def _head(path: Path) -> list[list[str]]:
    with path.open("rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rb") as f:
        raw = f.read(_HEAD_BYTES + 1)
    return _rows(raw[:_HEAD_BYTES], complete=len(raw) <= _HEAD_BYTES)


def _check_gzip(path: Path) -> None:
    """Read a gzip file to its end: a truncated or damaged one is an error (nothing is added)."""
    try:
        with gzip.open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
        raise SchemaError(f"{path}: the gzip file is truncated or damaged ({e}); download it again. Nothing was "
                          "added to the cache.") from None


# ----------------------------------------------------------------------------- recognising layouts

def _is_number(text: str) -> bool:
    return re.fullmatch(r"-?\d+(?:\.\d*)?", text.strip()) is not None


def _headerless(rows: list[list[str]]) -> list[Recognised]:
    first = rows[0]
    data = [r for r in rows if len(r) == len(first)]
    if len(first) >= 4 and normalise_postcode(first[0]) and all(_is_number(r[1]) and _is_number(r[2])
                                                                 and _is_number(r[3]) for r in data):
        return [Recognised("codepoint-open", f"OS Code-Point Open layout: no header, {len(first)} columns, a postcode "
                                             f"({first[0]!r}), positional quality, easting, northing")]
    if len(first) == _ODS_COLUMNS:
        codes = [r[0] for r in data]
        votes = {name: sum(bool(p.match(c)) for c in codes) for name, p in _ODS_CODES.items()}
        best = max(votes, key=votes.get)
        if votes[best] >= 0.9 * len(codes) and sum(votes.values()) == votes[best]:
            how = (f"NHS ODS layout: no header, {_ODS_COLUMNS} columns; {votes[best]} of the first {len(codes)} "
                   f"organisation codes have the form of {best} codes (e.g. {codes[0]!r})")
            if best == "ods-epraccur":
                settings = [r[25] for r in data if r[25]]
                gp = sum(s == "4" for s in settings)
                how += f"; prescribing setting (column 26) filled in {len(settings)} rows, {gp} of them 4 (GP practice)"
            return [Recognised(best, how)]
        raise SchemaError(
            f"an NHS ODS file ({_ODS_COLUMNS} columns, no header), but its organisation codes (e.g. "
            f"{', '.join(repr(c) for c in codes[:3])}) do not tell which: GP practices ({votes['ods-epraccur']} rows), "
            f"pharmacies ({votes['ods-edispensary']}), dentists ({votes['ods-egdpprac']}). Name it with "
            "`as_` (ods-epraccur, ods-edispensary or ods-egdpprac)").naming("as_")
    return []


def _with_header(cols: list[str], rows: list[list[str]]) -> list[Recognised]:
    n = [_norm(c) for c in cols]
    codes = area_codes(cols)
    canon = {canonical_name(c)[0] for c in cols} - {None}
    imd = sorted(canon & {"imd_score", "imd_rank", "imd_decile"})
    lsoa = [k for k in ("lsoa21", "lsoa11") if k in codes]
    out: list[Recognised] = []
    yy = {"lsoa21": "2025", "lsoa11": "2019"}
    if imd and len(lsoa) == 1:
        out.append(Recognised(f"iod{yy[lsoa[0]]}", f"IoD File 7 layout: LSOA 20{lsoa[0][4:]} code column "
                                                  f"{codes[lsoa[0]]!r} and IMD columns ({', '.join(imd)})"))
    indicators = [c for c, x in zip(cols, n, strict=True) if x.endswith("numerator") or x.endswith("indicator")]
    if not imd and len(lsoa) == 1 and len(indicators) >= 3:
        out.append(Recognised(f"iod{yy[lsoa[0]]}-indicators",
                              f"IoD File 8 layout: LSOA code column {codes[lsoa[0]]!r} and {len(indicators)} "
                              f"indicator/numerator columns (e.g. {indicators[0]!r})"))
    cni = [c for c, x in zip(cols, n, strict=True) if x.startswith("cni") or "community_needs_index" in x]
    if lsoa == ["lsoa21"] and cni and not imd:
        out.append(Recognised("cni2023", f"Community Needs Index layout: {codes['lsoa21']!r} and {cni[0]!r}"))
    pop = [c for c, x in zip(cols, n, strict=True)
           if canonical_name(c)[0] == "pop_total" or x in ("total", "all_ages", "total_population")]
    ages = [x for x in n if re.match(r"age_?\d", x)]  # Census age bands: a working-age source, not the totals
    if lsoa == ["lsoa21"] and pop and not imd and not indicators and not cni and not ages:
        out.append(Recognised("lsoa21-population", f"population layout: {codes['lsoa21']!r} and {pop[0]!r}"))
    postcode = [c for c, x in zip(cols, n, strict=True) if x in _POSTCODE_HEADERS]
    if not postcode:
        for key, needs, name in (("lsoa21", "icb24", "lsoa21-icb24-lookup"),
                                 ("lsoa11", "lsoa21", "lsoa11-lsoa21-lookup"),
                                 ("lsoa21", "wd24", "lsoa21-ward24-lookup"), ("lad24", "rgn24", "lad24-regions")):
            if key in codes and needs in codes and not imd and not indicators:
                if name == "lsoa21-ward24-lookup" and "icb24" in codes:
                    continue
                if name == "lsoa11-lsoa21-lookup" and ("wd24" in codes or "icb24" in codes):
                    continue
                out.append(Recognised(name, f"lookup layout: columns {codes[key]!r} and {codes[needs]!r}"))
        xy = ({"easting", "northing"} <= set(n)) or ({"x", "y"} <= set(n))
        if lsoa == ["lsoa21"] and xy and all(_CENTROID_FIELDS.match(x) for x in n):
            out.append(Recognised("lsoa21-centroids", f"centroid layout: {codes['lsoa21']!r} with easting/northing "
                                                      "(or x/y) coordinates"))
        if "postcode" in n and "positional_quality" in n and {"easting", "northing"} <= set(n):
            out.append(Recognised("codepoint-open", "OS Code-Point Open layout with a header row: postcode, "
                                                    "positional_quality, easting, northing"))
    else:
        areas = [codes[k] for k in codes if k[:-2] in ("oa", "lsoa", "msoa") and k[-2:].isdigit()]
        if areas:
            kind = "ONSPD/NSPL" if {"oseast1m", "osnrth1m"} & set(n) else "ONS postcode lookup"
            out.append(Recognised("ons-postcode-lookup", f"{kind} layout: postcode column {postcode[0]!r} and area "
                                                         f"code columns ({', '.join(areas[:4])})"))
    return out


def _table(rows: list[list[str]]) -> list[Recognised]:
    if not rows:
        return []
    return _headerless(rows) or _with_header(rows[0], rows[1:])


def _geometry_kind(path: Path, layer: str, info: dict) -> str:
    g = str(info.get("geometry_type") or "").lower()
    if g.startswith("unknown"):  # mixed Polygon/MultiPolygon: look at the first features
        import pyogrio

        first = pyogrio.read_dataframe(path, layer=layer, columns=[], max_features=20)
        g = " ".join(sorted(set(first.geom_type.dropna().str.lower())))
    return "point" if "point" in g else "polygon" if "polygon" in g else g or "none"


#: Fields a centroid file may have besides its LSOA code (anything else: not a centroid file).
_CENTROID_FIELDS = re.compile(r"^((lsoa|lad|msoa|wd)\d*_?(cd|nm|code|name)|x|y|easting|northing|longitude|latitude|lat|"
                              r"long|lon|fid|objectid|globalid|bng_e|bng_n|shape__area|shape__length)$")


_LAYER_DATASETS = {("lsoa21", "polygon"): "lsoa21-boundaries", ("lsoa11", "polygon"): "lsoa11-boundaries",
                   ("msoa21", "polygon"): "msoa21-boundaries", ("lad24", "polygon"): "lad24-boundaries",
                   ("wd24", "polygon"): "wards24-boundaries", ("lsoa21", "point"): "lsoa21-centroids"}


def _layer(fields, geometry: str) -> tuple[str | None, str]:
    """Return the dataset of one GIS layer from its fields and geometry, and the evidence (or what was found)."""
    low = {str(f).lower() for f in fields}
    if {"function", "distname1"} <= low:
        return "os-greenspace", "OS Open Greenspace GreenspaceSite layout (fields function, distName1)"
    codes = area_codes(fields)
    for kind in ("oa", "lsoa", "msoa", "wd", "lad"):  # the finest geography of the layer decides
        found = sorted(k for k in codes if k.startswith(kind) and k[len(kind):].isdigit())
        if found:
            name = _LAYER_DATASETS.get((found[-1], geometry))
            how = f"{geometry} layer with area code field {codes[found[-1]]!r}"
            if name == "lsoa21-centroids" and not all(_CENTROID_FIELDS.match(_norm(f)) for f in fields):
                return None, f"{how} and other fields (not a centroid layer)"
            return name, how
    return None, f"{geometry} layer without an area code field"


def _gis(path: Path) -> tuple[list[Recognised], list[str]]:
    import pyogrio

    try:
        layers = [str(x[0]) for x in pyogrio.list_layers(path)]
    except Exception as e:  # noqa: BLE001 - GDAL's own message is the clearest
        raise SchemaError(f"{path}: not a readable GIS file ({e})") from None
    found, seen = [], []
    for layer in layers:
        info = pyogrio.read_info(path, layer=layer)
        name, how = _layer(info["fields"], _geometry_kind(path, layer, info))
        seen.append(f"layer {layer!r}: {how}, fields {list(info['fields'])}")
        if name is not None:
            found.append(Recognised(name, f"{how} (layer {layer!r})", layer=layer if len(layers) > 1 else None))
    return found, seen


def _zip(path: Path) -> tuple[list[Recognised], list[str]]:
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            if bad is not None:
                raise SchemaError(f"{path}: the zip file is damaged ({bad} fails its CRC check); download it again. "
                                  "Nothing was added to the cache.")
            files = [i for i in z.infolist() if not i.is_dir()]
            cp = [i for i in files if re.search(r"(^|/)Data/CSV/[^/]+\.csv$", i.filename, flags=re.IGNORECASE)]
            if cp:
                with z.open(cp[0]) as f:
                    raw = f.read(_HEAD_BYTES + 1)
                rec = _table(_rows(raw[:_HEAD_BYTES], complete=len(raw) <= _HEAD_BYTES))
                if [r.name for r in rec] == ["codepoint-open"]:
                    return [Recognised("codepoint-open", f"Code-Point Open zip: {len(cp)} CSV files under Data/CSV/, "
                                                         f"{cp[0].filename}: {rec[0].how}")], []
            seen = []
            for info in sorted((i for i in files if i.filename.lower().endswith((".csv", ".txt"))),
                               key=lambda i: -i.file_size):
                with z.open(info) as f:
                    raw = f.read(_HEAD_BYTES + 1)
                rows = _rows(raw[:_HEAD_BYTES], complete=len(raw) <= _HEAD_BYTES)
                rec = _table(rows)
                if len(rec) == 1:
                    return [Recognised(rec[0].name, f"{info.filename} in the zip: {rec[0].how}",
                                       member=info.filename)], []
                seen.append(f"{info.filename}: columns {rows[0] if rows else []}")
            return [], seen or [f"files in the zip: {[i.filename for i in files][:10]}"]
    except zipfile.BadZipFile as e:
        raise SchemaError(f"{path}: not a readable zip file ({e}); download it again. Nothing was added to the "
                          "cache.") from None


def recognise(path: str | os.PathLike) -> list[Recognised]:
    """Recognise which catalogue dataset(s) a file is, from its layout (reads only its first rows or layer info).

    A multi-layer GeoPackage can give several (one per recognised layer).

    Raises
    ------
    SchemaError
        The file matches no layout (naming the columns found and the layouts expected), more than
        one, or is a truncated/damaged gzip or zip file.
    """
    p = Path(path)
    if not p.is_file():
        raise SchemaError(f"{p}: no such file")
    with p.open("rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        _check_gzip(p)
    if magic == b"PK\x03\x04":
        found, seen = _zip(p)
    elif p.suffix.lower() in _GIS:
        found, seen = _gis(p)
    else:
        try:
            rows = _head(p)
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise SchemaError(f"{p}: the gzip file is truncated or damaged ({e})") from None
        try:
            found = _table(rows)
        except SchemaError as e:
            raise SchemaError(f"{p}: {e}").naming(*e.related) from None
        seen = [f"columns {rows[0] if rows else []} ({len(rows[0]) if rows else 0} columns)"]
    names = [r.name for r in found]
    dupes = sorted({n for n in names if names.count(n) > 1} | ({names[0]} if len(found) > 1 and not any(
        r.layer for r in found) else set()))
    if dupes:
        fits = "; ".join(f"{r.name}: {r.how}" for r in found)
        raise SchemaError(f"{p}: the layout fits more than one dataset ({fits}); name the one it is with `as_`"
                          ).naming("as_")
    if not found:
        expected = "\n  ".join(f"{k}: {v}" for k, v in LAYOUTS.items())
        raise SchemaError(f"{p}: not recognised as any dataset geotarget knows. Found: {'; '.join(seen)}. Layouts "
                          f"expected:\n  {expected}\nIf it is one of them, name it with `as_`").naming("as_")
    return found


# ----------------------------------------------------------------------------- adding

def _suffix(path: Path, default: str = ".csv") -> str:
    sfx = [s.lower() for s in path.suffixes if re.fullmatch(r"\.[a-z0-9]{1,7}", s, flags=re.IGNORECASE)]
    if len(sfx) >= 2 and sfx[-1] == ".gz":
        return "".join(sfx[-2:])
    return sfx[-1] if sfx else default


def _target(name: str, suffix: str, cache) -> Path:
    d = get_dataset(name)
    stem = d.filename.split(".")[0]
    return cache_dir(cache) / d.name / f"{stem}{suffix}"


def _others(folder: Path, keep: Path, name: str) -> list[Path]:
    """Files of the dataset already in the cache other than ``keep`` (each with its record, if any)."""
    catalogue = folder / get_dataset(name).filename
    recorded = [r.with_name(r.name[:-5]) for r in folder.glob("*.json") if not r.name.endswith(".part.json")]
    return [f for f in {*recorded, catalogue} if f != keep and f.is_file()]


def _write(src: Path, rec: Recognised, tmp: Path) -> None:
    if rec.layer is not None:
        import pyogrio

        frame = pyogrio.read_dataframe(src, layer=rec.layer, use_arrow=True)
        pyogrio.write_dataframe(frame, tmp, driver="GPKG", layer=rec.layer, use_arrow=True)
    elif rec.member is not None:
        with zipfile.ZipFile(src) as z, z.open(rec.member) as f, tmp.open("wb") as out:
            shutil.copyfileobj(f, out, 1 << 20)
    else:
        shutil.copyfile(src, tmp)


def add(paths, *, cache: str | os.PathLike | None = None, as_: str | None = None, force: bool = False) -> list[Added]:
    """Add files to the data cache, each as the catalogue dataset its layout shows (see the module notes).

    Parameters
    ----------
    paths
        One file or several (CSV, CSV.gz, zip, GeoPackage, GeoJSON ...). They are never changed.
    cache
        The cache folder (default ``$GEOTARGET_CACHE``, else the system cache folder).
    as_
        The catalogue name to add the file as, when its layout does not say (ambiguous or unknown).
    force
        Replace a different file already in the cache for the same dataset.

    Returns
    -------
    list of Added
        One per dataset: added, replaced, or unchanged (the same file was added before).

    Raises
    ------
    SchemaError
        A file that matches no layout or several, or a truncated gzip/zip (nothing is recorded).
    GeotargetError
        A different file of the same dataset is already in the cache and ``force`` is not set.
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if as_ is not None:
        get_dataset(as_)
    out: list[Added] = []
    for path in paths:
        src = Path(path).expanduser().resolve()
        if as_ is not None:
            found = _forced(src, as_)
        else:
            found = recognise(src)
        source_sha = sha256_file(src)
        for rec in found:
            out.append(_add_one(src, rec, source_sha, cache=cache, force=force))
    return out


def _forced(src: Path, name: str) -> list[Recognised]:
    if not src.is_file():
        raise SchemaError(f"{src}: no such file")
    with src.open("rb") as f:
        magic = f.read(4)
    if magic[:2] == b"\x1f\x8b":
        _check_gzip(src)
    how = "named with `as_`"
    if src.suffix.lower() in _GIS and magic != b"PK\x03\x04":
        found, _ = _gis(src)
        same = [r for r in found if r.name == name]
        if len(same) == 1:
            return [Recognised(name, how, layer=same[0].layer)]
        import pyogrio

        layers = [str(x[0]) for x in pyogrio.list_layers(src)]
        if len(layers) > 1:
            raise SchemaError(f"{src}: {len(layers)} layers ({', '.join(layers)}) and none recognised as {name}: "
                              "save the layer you mean as its own file and add that")
    elif magic == b"PK\x03\x04":
        found, _ = _zip(src)
        if len(found) == 1:
            return [Recognised(name, how, member=found[0].member)]
    return [Recognised(name, how)]


def _add_one(src: Path, rec: Recognised, source_sha: str, *, cache, force: bool) -> Added:

    d = get_dataset(rec.name)
    existing = cached_path(d.name, cache=cache)
    had = existing.is_file()
    if had:
        rp = record_path(existing)
        info = _record_or_empty(rp)
        same = (info.get("source_sha256") == source_sha and info.get("layer") == rec.layer
                and info.get("member") == rec.member) or (rec.layer is None and rec.member is None
                                                          and info.get("sha256") == source_sha)
        if same and not force:
            verify_cached(existing)
            log.debug("%s: already in the cache, same checksum (%s)", d.name, existing)
            return Added(d.name, existing, "unchanged", rec.how, src, rec.layer)
        if not force:
            when = (f"added {info['added']} from {info.get('added_from')}" if "added" in info
                    else f"fetched {info.get('fetched', '?')}" if info else "placed there by hand")
            raise GeotargetError(f"{d.name} is already in the cache ({existing}, {when}) and {src} is a different "
                                 f"file; add it with `force` to replace it").naming("force")
    suffix = ".gpkg" if rec.layer is not None else ".csv" if rec.member is not None else _suffix(src)
    if rec.member is not None:
        suffix = _suffix(Path(rec.member))
    dest = _target(d.name, suffix, cache)
    with atomic_path(dest) as tmp:
        _write(src, rec, tmp)
    extra = {"added": now(), "added_from": str(src), "recognised": rec.how, "source_sha256": source_sha}
    if rec.layer is not None:
        extra["layer"] = rec.layer
    if rec.member is not None:
        extra["member"] = rec.member
    write_record(dest, d, source=str(src), **extra)
    for other in _others(dest.parent, dest, d.name):
        other.unlink()
        record_path(other).unlink(missing_ok=True)
    log.debug("%s: %s %s (%s)", d.name, "replaced by" if had else "added", dest, rec.how)
    return Added(d.name, dest, "replaced" if had else "added", rec.how, src, rec.layer)


def describe(added: Added) -> str:
    """One line for the command line: what happened to one dataset."""
    size = added.path.stat().st_size
    what = {"added": "added", "replaced": "replaced", "unchanged": "already in the cache, same checksum"}[added.status]
    layer = f" (layer {added.layer})" if added.layer else ""
    return (f"{added.name}: {what}: {added.path} ({size / 1e6:.1f} MB) from {added.source}{layer}\n"
            f"    recognised: {added.how}")


__all__ = ["LAYOUTS", "Added", "Recognised", "add", "area_codes", "describe", "recognise"]


def _record_or_empty(rp: Path) -> dict:
    """Return the cache record ``rp`` as a dict; empty if it is damaged or missing.

    The file then counts as different: ``--force`` replaces it, and
    :func:`~geotarget.io.fetch.verify_cached` reports the damaged record on use.
    """
    import json

    try:
        info = json.loads(rp.read_text(encoding="utf-8")) if rp.exists() else {}
    except (ValueError, OSError):
        return {}
    return info if isinstance(info, dict) else {}
