"""Development sites: one from a file, WKT, a postcode, coordinates; many from a file.

:func:`parse_site` turns what a planning officer has to hand into a :class:`Site` in British
National Grid (EPSG:27700):

* a GeoJSON, GeoPackage, KML/KMZ or Shapefile (also zipped) holding one polygon or point (any declared CRS);
* WKT (``POLYGON ((...))``, ``POINT (444600 518900)``), in EPSG:27700 unless prefixed with an
  SRID (``SRID=4326;POINT (-1.31 54.56)``);
* a postcode (``TS18 1AU``), located at its grid reference in a postcode lookup (the postcodes
  bundled with geotarget by default, or an ONS Postcode Directory / Code-Point Open file: any
  English postcode with ``StudyData.postcode_table()``);
* ``"E,N"`` -- an easting and northing in metres;
* ``"lat=54.5646, lon=-1.3127"`` -- latitude and longitude (WGS84), named so nothing is guessed.

Invalid polygons (self-intersections, bow-ties) are repaired with :func:`shapely.make_valid`
and the repair is recorded in :attr:`Site.notes`; a polygon with no area left is refused.
A bare pair that looks like latitude/longitude given as ``E,N`` is refused with the converted
easting/northing, because guessing would put the site in the wrong place without saying so.
:func:`require_in_england` refuses a site outside England (the IoD covers England only), naming
the site and where it is.

:func:`read_sites` reads a file of many sites (Local Plan allocations): a vector file or a
CSV with a name column and WKT, easting/northing, latitude/longitude, postcode or a free
``site`` column. Rows that cannot be used are returned as rejects with their row number and
reason, never dropped silently.
"""

from __future__ import annotations

import logging
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotarget.core.crs import BNG
from geotarget.core.errors import (
    AreaNotFoundError,
    CRSError,
    DataNotFoundError,
    GeotargetError,
    ParameterError,
    SchemaError,
)
from geotarget.io.postcodes import normalise_postcode, postcode_candidates, read_postcodes
from geotarget.io.tables import normalise_text, parse_numbers, read_text_table, to_bng_xy

log = logging.getLogger(__name__)

#: File suffixes read as vector data.
VECTOR_SUFFIXES = (".geojson", ".json", ".gpkg", ".shp", ".fgb", ".parquet", ".zip", ".kml", ".kmz")
#: British National Grid extent (metres) accepted for an easting,northing pair.
BNG_EXTENT = (0.0, 0.0, 700_000.0, 1_300_000.0)
_NUMBER = r"[-+]?\d+(?:\.\d*)?"
_PAIR = re.compile(rf"^\s*\(?\s*(?:E\s*)?({_NUMBER})\s*[,; ]\s*(?:N\s*)?({_NUMBER})\s*\)?\s*$", re.I)
_LATLON = re.compile(rf"^\s*(lat|latitude|lon|long|longitude|lng)\s*[=:]?\s*({_NUMBER})\s*[,; ]\s*"
                     rf"(lat|latitude|lon|long|longitude|lng)\s*[=:]?\s*({_NUMBER})\s*$", re.I)
_WKT = re.compile(r"^\s*(?:SRID\s*=\s*(\d+)\s*;)?\s*((?:MULTI)?(?:POINT|POLYGON|LINESTRING)|GEOMETRYCOLLECTION)\b",
                  re.I)
#: Postcode areas wholly outside England (areas that straddle a border, e.g. CH, SY, TD, are not listed).
OUTSIDE_ENGLAND_AREAS = {**dict.fromkeys(("CF", "SA", "LL", "NP", "LD"), "Wales"),
                         **dict.fromkeys(("EH", "G", "AB", "DD", "KY", "IV", "PH", "FK", "KA", "ML", "PA", "DG", "ZE",
                                          "KW", "HS"), "Scotland"),
                         "BT": "Northern Ireland"}
# Header names recognised in a sites file (compared after normalise_text).
_HEADERS = {
    "name": ["name", "site name", "site", "site ref", "site reference", "allocation", "title", "ref", "reference",
             "id"],
    "wkt": ["wkt", "geometry", "geom", "the geom", "shape"],
    "x": ["easting", "eastings", "x", "bng e"],
    "y": ["northing", "northings", "y", "bng n"],
    "lat": ["latitude", "lat"],
    "lon": ["longitude", "lon", "long", "lng"],
    "postcode": ["postcode", "post code", "pcds"],
    "location": ["location", "where", "site location", "coordinates"],
}


@dataclass(frozen=True)
class Site:
    """A development site in EPSG:27700.

    Attributes
    ----------
    name
        The name given by the user (free text; escaped wherever it is rendered).
    geometry
        A Point or (Multi)Polygon in British National Grid metres.
    source
        How the site was given, e.g. ``"postcode TS18 1AU"`` or ``"sites.gpkg, feature 3"``.
    notes
        What was done to the input on the way (repairs, reprojection), for the report.
    """

    name: str
    geometry: shapely.Geometry
    source: str
    notes: tuple[str, ...] = ()
    row: int | None = None  #: row (CSV, spreadsheet numbering) or feature number in a sites file

    @property
    def kind(self) -> str:
        """``"point"`` or ``"polygon"``."""
        return "point" if self.geometry.geom_type == "Point" else "polygon"

    @property
    def area_ha(self) -> float:
        """The site's area in hectares (0 for a point)."""
        return float(self.geometry.area) / 1e4

    @property
    def centre(self) -> shapely.Point:
        """A point on the site (the point itself, or a point inside the polygon)."""
        return self.geometry if self.kind == "point" else self.geometry.representative_point()

    def frame(self) -> gpd.GeoDataFrame:
        """Return the site as a one-row GeoDataFrame (``name``, ``source``)."""
        return gpd.GeoDataFrame({"name": [self.name], "source": [self.source]}, geometry=[self.geometry], crs=BNG)


@dataclass(frozen=True)
class SiteRead:
    """What :func:`read_sites` found: usable ``sites`` and ``rejects`` (row, name, reason)."""

    sites: list[Site]
    rejects: pd.DataFrame
    source: str
    n_rows: int
    notes: list[str] = field(default_factory=list)


# -- single site ---------------------------------------------------------------------------------
def parse_site(text: str | os.PathLike, *, name: str | None = None,
               postcodes: pd.DataFrame | str | os.PathLike | None = None) -> Site:
    """Parse a :class:`Site` from a path, WKT, postcode or ``"E,N"`` (see the module docstring).

    Parameters
    ----------
    text
        The site as given on the command line (``--site``).
    name
        Site name; default: the file's name column, the postcode, or the text itself.
    postcodes
        A postcode lookup (:func:`geotarget.io.postcodes.read_postcodes` frame or path);
        default the bundled Tees Valley and Trafford postcodes.

    Examples
    --------
    >>> parse_site("444600,518900").geometry.wkt
    'POINT (444600 518900)'
    >>> parse_site("POLYGON ((0 0, 10 10, 10 0, 0 10, 0 0))", name="bow-tie").notes[0][:47]
    'WKT: the polygon was invalid (Self-intersection'
    """
    if isinstance(text, os.PathLike):
        return _site_from_file(Path(text), name=name)
    raw = str(text).strip()
    if not raw:
        raise ParameterError("site was '' but is expected to be a file, WKT, a postcode or 'easting,northing'",
                             parameter="site")
    p = Path(raw)
    if is_file(p):
        return _site_from_file(p, name=name)
    m = _WKT.match(raw)
    if m:
        geom, notes = _from_wkt(raw, m, where="WKT")
        return Site(name or _shorten(raw), geom, "WKT", tuple(notes))
    m = _LATLON.match(raw)
    if m:
        return _site_from_latlon(m, raw, name=name)
    m = _PAIR.match(raw)
    if m:
        x, y = float(m.group(1)), float(m.group(2))
        pt = _point_from_pair(x, y, where=f"site {raw!r}")
        return Site(name or f"{x:g},{y:g}", pt, "easting,northing (EPSG:27700)")
    pc = normalise_postcode(raw)
    if pc is not None or postcode_candidates(raw):
        pt, how = _postcode_point(raw, postcodes)
        return Site(name or (pc or raw.upper()), pt, how, (f"Located at the postcode's grid reference ({how}): a "
                                                           "point, not the site boundary.",))
    if p.suffix.lower() in (*VECTOR_SUFFIXES, ".csv") or os.sep in raw or "/" in raw:
        raise DataNotFoundError(f"{raw}: site file not found")
    raise ParameterError(f"site was {_shorten(raw)!r} but is expected to be a file, WKT, a postcode or "
                         "'easting,northing', e.g. 'allocation.geojson', 'POINT (444600 518900)', 'TS18 1AU' or "
                         "'444600,518900'", parameter="site")


def _site_from_latlon(m: re.Match, raw: str, *, name: str | None) -> Site:
    """Return the site of ``lat=..., lon=...`` (either order), converted to EPSG:27700."""
    values = {m.group(1).lower()[:3]: float(m.group(2)), m.group(3).lower()[:3]: float(m.group(4))}
    values = {("lon" if k in ("lng", "lon") else k): v for k, v in values.items()}
    if set(values) != {"lat", "lon"}:
        raise ParameterError(f"site was {raw!r} but is expected to name one latitude and one longitude, e.g. "
                             "'lat=54.5646, lon=-1.3127'", parameter="site")
    lat, lon = values["lat"], values["lon"]
    if not (49.0 <= lat <= 61.5 and -9.0 <= lon <= 2.5):
        raise SchemaError(f"site {raw!r}: latitude {lat:g}, longitude {lon:g} is not in Great Britain (expected "
                          "latitude 49 to 61.5 and longitude -9 to 2.5, WGS84 degrees)")
    e, n = to_bng_xy(np.array([lon]), np.array([lat]))
    return Site(name or f"{lat:g},{lon:g}", shapely.Point(float(e[0]), float(n[0])), "latitude,longitude (WGS84)",
                (f"Latitude {lat:g}, longitude {lon:g} converted to easting {e[0]:,.0f}, northing {n[0]:,.0f} "
                 "(EPSG:27700).",))


def require_in_england(site: Site, *, tolerance: float | None = None) -> Site:
    """Return ``site`` if it lies in England (within ``tolerance`` m of the bundled outline); else refuse it.

    The outline is generalised, so a tolerance (default that of asset locations, 1 km) allows for it.
    Raises :class:`~geotarget.AreaNotFoundError` naming the site, how it was given and where it is.
    """
    from geotarget.io.assets import ENGLAND_TOLERANCE_M, in_england

    if bool(in_england([site.geometry], tolerance=ENGLAND_TOLERANCE_M if tolerance is None else tolerance)[0]):
        return site
    raise AreaNotFoundError(outside_england_message(site))


def outside_england_message(site: Site) -> str:
    """Return the refusal of a site outside England: its name, how it was given and where it is."""
    c = site.centre
    lon, lat = gpd.GeoSeries([c], crs=BNG).to_crs("EPSG:4326").iloc[0].coords[0]
    return (f"site {site.name!r} ({site.source}; easting {c.x:,.0f}, northing {c.y:,.0f}; latitude {lat:.4f}, "
            f"longitude {lon:.4f}) lies outside England: the Indices of Deprivation, and so HIA screening, cover "
            "England only (Wales, Scotland and Northern Ireland publish their own indices)")


def is_file(path: str | os.PathLike) -> bool:
    """Return True if ``path`` names an existing file (False for text that cannot be a path, e.g. long WKT)."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def _shorten(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _point_from_pair(x: float, y: float, *, where: str) -> shapely.Point:
    """Return an easting,northing pair as a point; refuse latitude/longitude and out-of-range pairs."""
    for lat, lon in ((x, y), (y, x)):
        if 49.0 <= lat <= 61.5 and -9.0 <= lon <= 2.5:
            e, n = to_bng_xy(np.array([lon]), np.array([lat]))
            raise SchemaError(
                f"{where}: {x:g},{y:g} looks like latitude/longitude (WGS84 degrees), not an easting,northing pair "
                f"in metres (British National Grid). Latitude {lat:g}, longitude {lon:g} is at easting "
                f"{e[0]:.0f}, northing {n[0]:.0f}: pass {e[0]:.0f},{n[0]:.0f}, 'lat={lat:g}, lon={lon:g}' or WKT "
                f"'SRID=4326;POINT ({lon:g} {lat:g})'.")
    x0, y0, x1, y1 = BNG_EXTENT
    if x0 <= x <= x1 and y0 <= y <= y1:
        return shapely.Point(x, y)
    if x0 <= y <= x1 and y0 <= x <= y1:
        raise SchemaError(f"{where}: {x:.0f},{y:.0f} is not a British National Grid easting,northing; it looks like "
                          f"northing,easting: pass {y:.0f},{x:.0f}")
    raise SchemaError(f"{where}: {x:.0f},{y:.0f} is not a British National Grid easting,northing (expected easting "
                      f"0-700,000 m and northing 0-1,300,000 m, e.g. 444600,518900 in Stockton-on-Tees)")


def _from_wkt(raw: str, m: re.Match, *, where: str) -> tuple[shapely.Geometry, list[str]]:
    srid = m.group(1)
    body = raw[raw.index(";") + 1:] if srid else raw
    try:
        geom = shapely.from_wkt(body.strip())
    except shapely.errors.ShapelyError as e:
        raise SchemaError(f"{where}: not valid WKT ({e}); e.g. 'POLYGON ((444500 518800, 444700 518800, "
                          "444700 519000, 444500 518800))'") from None
    notes = []
    if srid and srid != "27700":
        try:
            geom = gpd.GeoSeries([geom], crs=f"EPSG:{srid}").to_crs(BNG).iloc[0]
        except Exception as e:  # noqa: BLE001 - pyproj raises several types
            raise CRSError(f"{where}: SRID={srid} is not a coordinate reference system geotarget can use "
                           f"({e})") from None
        notes.append(f"{where}: reprojected from EPSG:{srid} to EPSG:27700.")
    elif not geom.is_empty:
        xmin, ymin, xmax, ymax = geom.bounds
        if -9 <= xmin and xmax <= 2.5 and 49 <= ymin and ymax <= 61.5:
            raise SchemaError(f"{where}: the coordinates look like longitude/latitude (degrees), but WKT without an "
                              "SRID is read as British National Grid metres; prefix it with 'SRID=4326;' "
                              "(e.g. 'SRID=4326;POINT (-1.31 54.56)') or give eastings and northings")
    geom, repair = check_geometry(geom, where=where)
    return geom, notes + repair


def check_geometry(geom, *, where: str) -> tuple[shapely.Geometry, list[str]]:
    """Check a site geometry: return a non-empty Point or valid (Multi)Polygon, and what was done to it.

    Invalid polygons are repaired with :func:`shapely.make_valid` (keeping the polygonal
    parts); a geometry that is empty, a line, or has no area after repair is refused.
    """
    if geom is None or geom.is_empty:
        raise SchemaError(f"{where}: the site geometry is empty; expected a polygon or a point")
    if shapely.has_z(geom):  # KML and GPS exports carry heights; a site is flat
        geom = shapely.force_2d(geom)
    kind = geom.geom_type
    if kind == "MultiPoint" and len(geom.geoms) == 1:
        return geom.geoms[0], []
    if kind not in ("Point", "Polygon", "MultiPolygon"):
        raise SchemaError(f"{where}: a site must be a polygon (the red line boundary) or a point; got {kind}")
    if kind == "Point" or geom.is_valid:
        if kind != "Point" and geom.area <= 0:
            raise SchemaError(f"{where}: the polygon has no area")
        return geom, []
    reason = shapely.is_valid_reason(geom)
    fixed = shapely.make_valid(geom)
    parts = [g for g in shapely.get_parts(fixed) if g.geom_type in ("Polygon", "MultiPolygon")]
    fixed = shapely.union_all(parts) if parts else shapely.Polygon()
    if fixed.is_empty or fixed.area <= 0:
        raise SchemaError(f"{where}: the polygon is invalid ({reason}) and has no area once repaired; "
                          "redraw the site boundary")
    note = (f"{where}: the polygon was invalid ({reason}); repaired with shapely.make_valid into "
            f"{len(shapely.get_parts(fixed))} part(s), {fixed.area / 1e4:,.2f} ha. Check the boundary.")
    log.warning(note)
    return fixed, [note]


def load_postcodes(postcodes=None) -> pd.DataFrame:
    """Return a postcode lookup (see :func:`geotarget.io.postcodes.read_postcodes`) labelled for messages.

    ``postcodes`` is a lookup frame, a path, ``None`` (the bundled postcodes) or a function returning one of
    those (called here, so a large lookup is read only when a postcode is located).
    """
    if isinstance(postcodes, pd.DataFrame):
        return postcodes
    if callable(postcodes):  # read only when a postcode is to be located, e.g. StudyData.postcode_table
        return load_postcodes(postcodes())
    lookup = read_postcodes(postcodes)
    lookup.attrs["label"] = ("the postcodes bundled with geotarget (Tees Valley and Trafford)" if postcodes is None
                             else os.fspath(postcodes))
    return lookup


def _postcode_point(raw: str, postcodes) -> tuple[shapely.Point, str]:
    lookup = load_postcodes(postcodes)
    pc = normalise_postcode(raw)
    if pc is not None and pc in lookup.index:
        r = lookup.loc[pc]
        return shapely.Point(float(r["easting"]), float(r["northing"])), f"postcode {pc}"
    near = [c for c in postcode_candidates(raw) if c in lookup.index]
    hint = f" Did you mean {' or '.join(near)}?" if near else ""
    scope = lookup.attrs.get("label") or lookup.attrs.get("source") or "the postcode lookup"
    if pc is None:
        raise AreaNotFoundError(f"postcode {raw!r} is not a valid UK postcode.{hint}")
    area = re.match(r"^[A-Z]+", pc).group(0)
    if area in OUTSIDE_ENGLAND_AREAS:
        raise AreaNotFoundError(f"postcode {pc} is not in {scope}: the {area} postcode area is in "
                                f"{OUTSIDE_ENGLAND_AREAS[area]}, outside England; the Indices of Deprivation, and so "
                                "HIA screening, cover England only").naming("postcodes")
    national = (" or, with the national files in the data cache (`geotarget data add`), read the data from the "
                "cache (source = \"cache\")" if postcodes is None else "")
    raise AreaNotFoundError(f"postcode {pc} is not in {scope}.{hint} Check it, or pass a postcode lookup covering it "
                            f"as `postcodes` (an ONS Postcode Directory or OS Code-Point Open file){national}"
                            ).naming("postcodes")


def _read_vector(p: Path) -> gpd.GeoDataFrame:
    if not p.exists():
        raise DataNotFoundError(f"{p}: site file not found")
    if p.stat().st_size == 0:
        raise SchemaError(f"{p}: the file is empty; expected one or more site polygons or points")
    import pyogrio

    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(p)]
        if len(layers) > 1:
            raise SchemaError(f"{p}: has {len(layers)} layers ({', '.join(layers)}); save the sites as one layer")
        gdf = gpd.read_parquet(p) if p.suffix.lower() == ".parquet" else gpd.read_file(p)
    except GeotargetError:
        raise
    except Exception as e:  # noqa: BLE001 - GDAL raises several types
        raise SchemaError(f"{p}: not a readable GeoJSON, GeoPackage, KML or Shapefile ({e})") from None
    if len(gdf) == 0:
        raise SchemaError(f"{p}: the file has no features; expected one or more site polygons or points")
    if gdf.crs is None:
        raise CRSError(f"{p}: the data has no coordinate reference system; expected one to be declared "
                       "(e.g. a .prj file next to a Shapefile, or a 'crs' member in GeoJSON)")
    return gdf


def _site_from_file(p: Path, *, name: str | None) -> Site:
    read = read_sites(p, name_column=None, require_name=False)
    if read.n_rows > 1:
        raise SchemaError(f"{p}: has {read.n_rows} features; `site` takes one (dissolve the parts of one site "
                          "into a single feature), `sites` takes a file of many").naming("site", "sites")
    if len(read.rejects):
        r = read.rejects.iloc[0]
        raise SchemaError(f"{p}, row {r['row']}: {r['detail']}")
    s = read.sites[0]
    return Site(name or s.name, s.geometry, s.source, s.notes)


# -- many sites ----------------------------------------------------------------------------------
def read_sites(path: str | os.PathLike, *, name_column: str | None = None,
               postcodes: pd.DataFrame | str | os.PathLike | None = None, require_name: bool = True) -> SiteRead:
    """Read a file of sites, one row (feature) per site, with a name column.

    Vector files (GeoJSON, GeoPackage, Shapefile) give each feature's geometry. CSV files
    locate each row by, in order, a WKT column (``wkt``/``geometry``), ``easting``/``northing``,
    ``latitude``/``longitude``, ``postcode`` or a free ``location`` column read like
    :func:`parse_site`. Features are numbered from 1, CSV rows as in a spreadsheet (header = 1).

    Returns a :class:`SiteRead`; ``len(sites) + len(rejects) == n_rows``.
    """
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(f"{p}: sites file not found")
    suffix = "".join(p.suffixes[-2:]).lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv", ".csv.gz"):
        frame = read_text_table(p)
        if frame.empty:
            raise SchemaError(f"{p}: the file has a header but no sites; expected one row per site")
        first, geoms = 2, None
    else:
        frame = _read_vector(p)
        first, geoms = 1, frame.geometry
        crs = frame.crs
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    cols = {normalise_text(c): c for c in frame.columns}
    pick = lambda kind: next((cols[n] for n in _HEADERS[kind] if n in cols), None)  # noqa: E731
    ncol = name_column
    if ncol is not None and ncol not in frame.columns:
        raise SchemaError(f"{p}: name column {ncol!r} not found; columns are {list(frame.columns)}")
    ncol = ncol or pick("name")
    if ncol is None and require_name:
        raise SchemaError(f"{p}: no site name column; expected one of 'name', 'site_name', 'site' ... or name it "
                          f"with `name_column`. Columns are {list(frame.columns)}").naming("name_column")
    sites, rejects = [], []
    lookup = None
    for i in range(len(frame)):
        row = first + i
        where = f"{p.name}, {'feature' if geoms is not None else 'row'} {row}"
        label = str(frame[ncol].iloc[i]).strip() if ncol else ""
        label = "" if label.lower() in ("nan", "none") else label
        try:
            if geoms is not None:
                g = geoms.iloc[i]
                if g is None or g.is_empty:
                    raise SchemaError(f"{where}: the feature has no geometry")
                notes = []
                if not crs.equals(BNG):
                    g = gpd.GeoSeries([g], crs=crs).to_crs(BNG).iloc[0]
                    notes.append(f"{where}: reprojected from {crs.to_string()} to EPSG:27700.")
                g, repair = check_geometry(g, where=where)
                default = p.stem if len(frame) == 1 else f"Site {row}"
                site = Site(label or default, g, where, tuple(notes + repair))
            else:
                if lookup is None and (pick("postcode") is not None or pick("location") is not None):
                    lookup = load_postcodes(postcodes)
                site = _site_from_row(frame, i, where, label or f"Site {row}", pick, lookup)
            sites.append(Site(site.name, site.geometry, site.source, site.notes, row))
        except GeotargetError as e:
            rejects.append({"row": row, "name": label, "reason": type(e).__name__, "detail": str(e)})
    rej = pd.DataFrame(rejects, columns=["row", "name", "reason", "detail"])
    if len(rej):
        log.warning("%s: %d of %d sites could not be used (see the rejects)", p, len(rej), len(frame))
    return SiteRead(sites, rej, os.fspath(p), len(frame))


def _site_from_row(frame: pd.DataFrame, i: int, where: str, name: str, pick, lookup) -> Site:
    def cell(kind):
        c = pick(kind)
        v = str(frame[c].iloc[i]).strip() if c is not None else ""
        return "" if v.lower() in ("nan", "none") else v

    wkt = cell("wkt")
    if wkt:
        m = _WKT.match(wkt)
        if not m:
            raise SchemaError(f"{where}: {_shorten(wkt)!r} in column {pick('wkt')!r} is not WKT")
        geom, notes = _from_wkt(wkt, m, where=where)
        return Site(name, geom, where, tuple(notes))
    x, y = cell("x"), cell("y")
    if x or y:
        xs, ys = parse_numbers(pd.Series([x, y]), thousands=True)
        if pd.isna(xs) or pd.isna(ys):
            raise SchemaError(f"{where}: easting {x!r}, northing {y!r} are not numbers")
        return Site(name, _point_from_pair(float(xs), float(ys), where=where), where)
    lat, lon = cell("lat"), cell("lon")
    if lat or lon:
        la, lo = parse_numbers(pd.Series([lat, lon]))
        if pd.isna(la) or pd.isna(lo) or not (49 <= la <= 61.5 and -9 <= lo <= 2.5):
            raise SchemaError(f"{where}: latitude {lat!r}, longitude {lon!r} are not a location in Great Britain")
        e, n = to_bng_xy(np.array([lo]), np.array([la]))
        return Site(name, shapely.Point(float(e[0]), float(n[0])), where,
                    (f"{where}: latitude/longitude converted to EPSG:27700.",))
    pc = cell("postcode")
    if pc:
        pt, how = _postcode_point(pc, lookup)
        return Site(name, pt, f"{where} ({how})", (f"{name}: located at the grid reference of {how} (a point).",))
    loc = cell("location")
    if loc:
        s = parse_site(loc, name=name, postcodes=lookup)
        return Site(name, s.geometry, f"{where} ({s.source})", s.notes)
    raise SchemaError(f"{where}: no location; expected WKT, easting/northing, latitude/longitude, a postcode or a "
                      "location column")


def slugify(name: str, *, taken: set[str] | None = None) -> str:
    """Return a safe file name stem for a site name: ASCII letters, digits and ``-``; unique within ``taken``.

    >>> slugify("Land at <b>Portrack</b> Lane, Stockton!")
    'land-at-b-portrack-b-lane-stockton'
    >>> slugify("Site", taken={"site"})
    'site-2'
    """
    ascii_ = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:60].strip("-") or "site"
    if taken is not None:
        base, k = slug, 2
        while slug in taken:
            slug, k = f"{base}-{k}", k + 1
        taken.add(slug)
    return slug


__all__ = ["OUTSIDE_ENGLAND_AREAS", "Site", "SiteRead", "check_geometry", "is_file", "load_postcodes",
           "outside_england_message", "parse_site", "read_sites", "require_in_england", "slugify"]
