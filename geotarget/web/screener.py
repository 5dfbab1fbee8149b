"""Screening for the web service: the evidence data loaded once per process, sites from what a browser sends.

:class:`Screener` loads the data of the place the service screens (:func:`geotarget.data.load` and
:func:`geotarget.hia.screen.hia_data`) once, turns what an applicant gives -- a postcode, coordinates,
WKT, a polygon drawn on the map (GeoJSON), an uploaded GeoJSON, KML or zipped Shapefile -- into a
:class:`~geotarget.io.sites.Site`, and screens it (:func:`geotarget.hia.screen.screen_site`, the same
evidence as ``geotarget hia``), keeping recent screenings in a bounded LRU cache.

What comes from the public is checked before anything reads it: text is length-limited and never taken
as a file name on the server; uploads are size-limited and recognised by their content (not their
name); XML with a DTD or entities is refused; zip members must be plain names (no ``..``, no folders
outside the archive) with a bounded uncompressed size; polygons must be valid (the problem is named:
:func:`shapely.is_valid_reason`), not too large, and in England.
"""

from __future__ import annotations

import io
import json
import logging
import re
import tempfile
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import geopandas as gpd
import shapely
from shapely.geometry import shape

from geotarget.core.crs import BNG
from geotarget.core.errors import GeotargetError
from geotarget.hia.evidence import DEFAULT_BUFFERS
from geotarget.hia.screen import HiaData, Screening, hia_data, parse_buffers, screen_site
from geotarget.io.sites import Site, is_file, parse_site, require_in_england
from geotarget.web.service import Invalid, TooLarge
from geotarget.web.settings import Settings

log = logging.getLogger(__name__)

#: Longest site text (a postcode, coordinates or WKT) and site name accepted, in characters.
MAX_SITE_TEXT = 200_000
MAX_SITE_NAME = 200
#: Most vertices a site polygon may have, and its largest area (hectares): a site, not a district.
MAX_VERTICES = 20_000
MAX_SITE_HA = 5_000.0
#: Zip uploads: most members, and the largest total uncompressed size as a multiple of the upload limit.
MAX_ZIP_MEMBERS = 20
ZIP_EXPANSION = 10
#: Shapefile parts taken from a zip (others are ignored).
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_KML_NS = re.compile(r"^\{https?://(www\.)?opengis\.net/kml/[0-9.]+\}kml$|^\{http://earth\.google\.com/kml/")


def load_study(settings: Settings):
    """Load the data of the place ``settings`` names, as ``geotarget hia`` does without a site.

    ``place=None`` is the bundled Tees Valley sample; a bundled place by key; any other place (a
    council, several, a region) is read from the data cache (``source="cache"``, or the sample's
    fallback to the cache).
    """
    from geotarget.data.load import load

    kw = {}
    if settings.place:
        kw["place"] = settings.place
    if settings.source and settings.source != "sample":
        kw["source"] = settings.source
    return load(**kw)


class Screener:
    """The screening side of the service: data loaded once, sites checked, screenings cached.

    Parameters
    ----------
    settings
        The service's settings (place, source, upload limit, cache size).
    data
        Already-gathered screening data (tests share one); default: loaded from ``settings``.
    """

    def __init__(self, settings: Settings, *, data: HiaData | None = None):
        from geotarget.io.sites import load_postcodes

        self.settings = settings
        self.data = data if data is not None else hia_data(load_study(settings))
        study = self.data.sample
        if study.source.codepoint is not None or study.postcode_locations is not None:
            self.postcodes = load_postcodes(study.postcode_table)
        else:
            self.postcodes = load_postcodes(None)
        #: the data vintage label, e.g. "IoD2025, LSOA 2021"
        self.vintage: str = study.vintage.label
        self.place: str = self.data.place_name
        self.buffers: tuple[float, ...] = parse_buffers(DEFAULT_BUFFERS)
        _ = study.lsoas.sindex  # built once here, not by the first concurrent requests
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    # -- sites ---------------------------------------------------------------------------------------------
    def site_from_text(self, text: str, name: str | None = None) -> Site:
        """Return the site of a postcode, ``"E,N"``, ``"lat=..., lon=..."`` or WKT typed by the applicant.

        Never reads a file: text that names one (or looks like a path) is refused.
        """
        raw = (text or "").strip()
        name = clean_name(name)
        if not raw:
            raise Invalid("site: enter a postcode (e.g. TS18 1AU), coordinates ('444600,518900' or "
                          "'lat=54.5646, lon=-1.3127') or WKT, draw the site on the map, or upload a file",
                          field="site")
        if len(raw) > MAX_SITE_TEXT:
            raise TooLarge(f"site: the text is {len(raw):,} characters; at most {MAX_SITE_TEXT:,} are accepted "
                           "(upload a file for a detailed boundary)")
        if "/" in raw or "\\" in raw or is_file(raw):
            raise Invalid(f"site: {_short(raw)!r} is not a postcode, coordinates or WKT (files are uploaded, not "
                          "named)", field="site")
        if re.match(r"^\s*(SRID\s*=\s*\d+\s*;\s*)?(MULTI)?POLYGON\b", raw, re.I):
            body = raw.split(";", 1)[1] if raw.upper().startswith("SRID") else raw
            try:
                geom = shapely.from_wkt(body)
            except shapely.errors.ShapelyError as e:
                raise Invalid(f"site: not valid WKT ({e})", field="site") from None
            check_polygon(geom, where="site")
        site = _parse(raw, name=name, postcodes=self.postcodes)
        return self._checked(site)

    def site_from_geojson(self, obj, name: str | None = None) -> Site:
        """Return the site of a GeoJSON geometry, Feature or one-feature FeatureCollection in WGS84 (RFC 7946).

        ``obj`` is parsed JSON or its text (e.g. the hidden field filled by the drawing map).
        """
        if isinstance(obj, (str, bytes)):
            if len(obj) > self.settings.max_upload_bytes:
                raise TooLarge(f"site_geojson: {len(obj):,} bytes; at most {self.settings.max_upload_bytes:,} "
                               "are accepted")
            try:
                obj = json.loads(obj)
            except (ValueError, UnicodeDecodeError) as e:
                raise Invalid(f"site_geojson: not valid JSON ({e})", field="site_geojson") from None
        geom, props = geojson_geometry(obj, where="site_geojson")
        name = clean_name(name) or clean_name(props.get("name") if isinstance(props, dict) else None)
        return self._checked(_site_from_wgs84(geom, name=name or "Drawn site", source="a boundary drawn on the map",
                                              where="site_geojson"))

    def site_from_upload(self, data: bytes, filename: str, name: str | None = None) -> Site:
        """Return the site of an uploaded GeoJSON, KML or zipped Shapefile, recognised by its content.

        ``filename`` is used only in messages and in the site's source (never as a path).
        """
        label = _short(PurePosixPath(str(filename or "upload").replace("\\", "/")).name or "upload", 80)
        if len(data) > self.settings.max_upload_bytes:
            raise TooLarge(f"site_file {label!r}: {len(data):,} bytes; at most {self.settings.max_upload_bytes:,} "
                           "are accepted")
        if not data:
            raise Invalid(f"site_file {label!r}: the file is empty", field="site_file")
        kind = sniff(data)
        name = clean_name(name)
        if kind == "zip":
            return self._checked(self._from_zip(data, label, name))
        if kind == "kml":
            return self._checked(self._from_kml(data, label, name))
        if kind == "geojson":
            try:
                obj = json.loads(data.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError) as e:
                raise Invalid(f"site_file {label!r}: not valid GeoJSON ({e})", field="site_file") from None
            where = f"site_file {label!r}"
            geom, props = geojson_geometry(obj, where=where)
            name = name or clean_name(props.get("name") if isinstance(props, dict) else None)
            crs = declared_crs(obj, where=where)
            if crs is not None and crs != "EPSG:4326":  # pre-RFC 7946 GeoJSON (e.g. QGIS in British National Grid)
                check_polygon(geom, where=where)
                bng = gpd.GeoSeries([geom], crs=crs).to_crs(BNG).iloc[0] if crs != BNG else geom
                note = () if crs == BNG else (f"{where}: reprojected from {crs} to EPSG:27700.",)
                return self._checked(Site(name or _stem(label), bng, f"upload {label}", note))
            return self._checked(_site_from_wgs84(geom, name=name or _stem(label), source=f"upload {label}",
                                                  where=where))
        raise Invalid(f"site_file {label!r}: not a GeoJSON, KML or zipped Shapefile (recognised by content: "
                      "GeoJSON is JSON with a geometry, KML is XML in the KML namespace, a Shapefile is a zip "
                      "holding .shp, .shx and .dbf)", field="site_file")

    def _from_kml(self, data: bytes, label: str, name: str | None) -> Site:
        check_kml(data, where=f"site_file {label!r}")
        with tempfile.TemporaryDirectory(prefix="geotarget-upload-") as tmp:
            path = Path(tmp) / "site.kml"
            path.write_bytes(data)
            site = _parse(path, name=name, postcodes=None, where=f"site_file {label!r}")
        return Site(name or (site.name if site.name != "site" else _stem(label)), site.geometry, f"upload {label}",
                    site.notes)

    def _from_zip(self, data: bytes, label: str, name: str | None) -> Site:
        """Return the site of a zipped Shapefile or a KMZ (zipped KML), members checked first."""
        where = f"site_file {label!r}"
        limit = self.settings.max_upload_bytes * ZIP_EXPANSION
        parts = shapefile_members(data, where=where, limit=limit)
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if ".kml" in parts:
                return self._from_kml(_bounded_read(zf, parts[".kml"], limit, where), label, name)
            with tempfile.TemporaryDirectory(prefix="geotarget-upload-") as tmp:
                for ext, member in parts.items():  # written under names chosen here, never the archive's
                    (Path(tmp) / f"site{ext}").write_bytes(_bounded_read(zf, member, limit, where))
                site = _parse(Path(tmp) / "site.shp", name=name, postcodes=None, where=where)
        stem = PurePosixPath(parts[".shp"]).stem
        return Site(name or (site.name if site.name != "site" else clean_name(stem) or _stem(label)), site.geometry,
                    f"upload {label}", site.notes)

    def _checked(self, site: Site) -> Site:
        """Refuse a site that is invalid, too large or outside England; return it otherwise (every route ends here)."""
        if site.kind == "polygon":
            check_polygon(site.geometry, where=f"site {site.name!r}")
            if site.area_ha > MAX_SITE_HA:
                raise Invalid(f"site {site.name!r}: covers {site.area_ha:,.0f} ha; at most {MAX_SITE_HA:,.0f} ha are "
                              "screened as one site", field="site")
        try:
            return require_in_england(site)
        except GeotargetError as e:
            raise Invalid(str(e), field="site") from None

    # -- screening -----------------------------------------------------------------------------------------
    def screen(self, site: Site, *, buffers: Sequence[float] | None = None, generated: str | None = None) -> Screening:
        """Screen ``site`` (as ``geotarget hia``); a repeated site is answered from a bounded LRU cache.

        ``generated`` (the report's date, default today) is given when a stored screening is reproduced.
        Raises :class:`~geotarget.web.service.Invalid` for a site outside the data's coverage.
        """
        import datetime as dt

        buffers = parse_buffers(buffers if buffers is not None else self.buffers)
        generated = generated or dt.date.today().isoformat()
        key = (shapely.to_wkb(site.geometry), buffers, site.name, site.source, site.notes, generated)
        with self._lock:
            sc = self._cache.get(key)
            if sc is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return sc
        try:
            sc = screen_site(site, self.data, buffers=buffers, generated=generated)
        except GeotargetError as e:
            raise Invalid(str(e), field="site") from None
        with self._lock:
            self.misses += 1
            if self.settings.screen_cache_size:
                self._cache[key] = sc
                while len(self._cache) > self.settings.screen_cache_size:
                    self._cache.popitem(last=False)
        return sc


# -- checks (pure functions, tested on their own) ----------------------------------------------------------------
def clean_name(name) -> str | None:
    """Return a site name as plain one-line text of at most :data:`MAX_SITE_NAME` characters (``None`` if blank)."""
    if name is None:
        return None
    text = " ".join(str(name).split())
    text = "".join(ch for ch in text if ch.isprintable())
    if not text:
        return None
    if len(text) > MAX_SITE_NAME:
        raise Invalid(f"name: {len(text)} characters; at most {MAX_SITE_NAME} are accepted", field="name")
    return text


def sniff(data: bytes) -> str | None:
    """Return ``"zip"``, ``"kml"``, ``"geojson"`` or ``None`` from the first bytes of an upload (not its name)."""
    if data[:4] == b"PK\x03\x04":
        return "zip"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] == b"<":
        return "kml"  # checked to be KML (namespace, no DTD) by check_kml
    if head[:1] == b"{":
        return "geojson"
    return None


def check_kml(data: bytes, *, where: str) -> None:
    """Refuse XML that is not KML, or that declares a DTD or entities (no entity expansion, no external files)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(f"{where}: KML must be UTF-8 text", field="site_file") from None
    if re.search(r"<!\s*(DOCTYPE|ENTITY)", text, re.I):
        raise Invalid(f"{where}: XML with a DOCTYPE or ENTITY declaration is refused (KML needs neither)",
                      field="site_file")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise Invalid(f"{where}: not well-formed XML ({e})", field="site_file") from None
    if not _KML_NS.match(root.tag):
        raise Invalid(f"{where}: XML but not KML (root element {root.tag!r}; expected <kml> in the "
                      "http://www.opengis.net/kml/2.2 namespace)", field="site_file")


def shapefile_members(data: bytes, *, where: str, limit: int) -> dict[str, str]:
    """Return the Shapefile parts of a zip (suffix -> member name), or its one ``.kml`` (a KMZ), after checking it.

    Refused: a corrupt zip, more than :data:`MAX_ZIP_MEMBERS` members, a member name that is absolute or
    climbs out of the archive (``..``), a total uncompressed size over ``limit``, no or several ``.shp``,
    or a ``.shp`` without its ``.shx`` and ``.dbf``.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError) as e:
        raise Invalid(f"{where}: not a readable zip ({e})", field="site_file") from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise Invalid(f"{where}: {len(infos)} files in the zip; at most {MAX_ZIP_MEMBERS} (one Shapefile) are "
                      "accepted", field="site_file")
    total = 0
    for info in infos:
        n = info.filename
        parts = PurePosixPath(n.replace("\\", "/")).parts
        if n.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", n):
            raise Invalid(f"{where}: the zip member {n!r} has an unsafe path (absolute or with '..'); refused",
                          field="site_file")
        total += info.file_size
    if total > limit:
        raise TooLarge(f"{where}: the zip holds {total:,} bytes uncompressed; at most {limit:,} are accepted")
    files = [i.filename for i in infos if not i.is_dir() and not PurePosixPath(i.filename).name.startswith(".")
             and "__MACOSX" not in i.filename]
    shps = [f for f in files if f.lower().endswith(".shp")]
    kmls = [f for f in files if f.lower().endswith(".kml")]
    if not shps and len(kmls) == 1:  # a KMZ: zipped KML
        _bounded_read(zf, kmls[0], limit, where)
        return {".kml": kmls[0]}
    if len(shps) != 1:
        raise Invalid(f"{where}: a zipped Shapefile must hold exactly one .shp (found {len(shps)}"
                      + (f": {', '.join(shps[:5])}" if shps else "") + "); a KMZ exactly one .kml", field="site_file")
    stem = shps[0][:-4]
    found = {}
    for ext in SHAPEFILE_PARTS:
        match = [f for f in files if f[: len(stem)] == stem and f[len(stem):].lower() == ext]
        if match:
            found[ext] = match[0]
    missing = [e for e in (".shx", ".dbf") if e not in found]
    if missing:
        raise Invalid(f"{where}: the Shapefile {shps[0]!r} has no {' or '.join(missing)} beside it in the zip",
                      field="site_file")
    if ".prj" not in found:
        raise Invalid(f"{where}: the Shapefile {shps[0]!r} has no .prj, so its coordinate system is unknown; "
                      "include the .prj", field="site_file")
    for member in found.values():
        _bounded_read(zf, member, limit, where)
    return found


def _bounded_read(zf: zipfile.ZipFile, member: str, limit: int, where: str) -> bytes:
    """Read a zip member, refusing it past ``limit`` bytes (a member whose declared size lies is caught here)."""
    try:
        with zf.open(member) as fh:
            data = fh.read(limit + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as e:  # corrupt, encrypted ...
        raise Invalid(f"{where}: {member!r} cannot be read from the zip ({e})", field="site_file") from None
    if len(data) > limit:
        raise TooLarge(f"{where}: {member!r} is larger than {limit:,} bytes uncompressed")
    return data


def geojson_geometry(obj, *, where: str) -> tuple[shapely.Geometry, dict]:
    """Return the one geometry (and its properties) of a GeoJSON geometry, Feature or one-feature collection."""
    if not isinstance(obj, dict):
        raise Invalid(f"{where}: expected a GeoJSON object (geometry, Feature or FeatureCollection)", field=where)
    props: dict = {}
    kind = obj.get("type")
    if kind == "FeatureCollection":
        feats = obj.get("features")
        if not isinstance(feats, list) or len(feats) != 1:
            n = len(feats) if isinstance(feats, list) else 0
            raise Invalid(f"{where}: a FeatureCollection with {n} features; one site (one feature) is expected "
                          "(dissolve the parts of a site into one feature)", field=where)
        obj = feats[0]
        kind = obj.get("type") if isinstance(obj, dict) else None
    if kind == "Feature":
        props = obj.get("properties") or {}
        obj = obj.get("geometry")
        if not isinstance(obj, dict):
            raise Invalid(f"{where}: the feature has no geometry", field=where)
    if not isinstance(obj, dict) or obj.get("type") not in ("Point", "Polygon", "MultiPolygon"):
        got = obj.get("type") if isinstance(obj, dict) else type(obj).__name__
        raise Invalid(f"{where}: the geometry is {got!r}; a site must be a Polygon, MultiPolygon or Point",
                      field=where)
    try:
        geom = shape(obj)
    except Exception as e:  # noqa: BLE001 - shapely raises several types for malformed coordinates
        raise Invalid(f"{where}: the {obj.get('type')} coordinates are malformed ({e})", field=where) from None
    return geom, props


def check_polygon(geom: shapely.Geometry, *, where: str) -> None:
    """Refuse an invalid, empty, huge or over-detailed polygon, naming the problem."""
    if geom is None or geom.is_empty:
        raise Invalid(f"{where}: the geometry is empty", field="site")
    if geom.geom_type not in ("Polygon", "MultiPolygon", "Point"):
        raise Invalid(f"{where}: a site must be a polygon or a point; got {geom.geom_type}", field="site")
    n = shapely.get_num_coordinates(geom)
    if n > MAX_VERTICES:
        raise Invalid(f"{where}: the boundary has {n:,} vertices; at most {MAX_VERTICES:,} are accepted "
                      "(simplify it)", field="site")
    if not geom.is_valid:
        raise Invalid(f"{where}: the polygon is invalid: {shapely.is_valid_reason(geom)}; redraw the boundary so "
                      "that its edges do not cross", field="site")


def declared_crs(obj, *, where: str) -> str | None:
    """Return the ``EPSG:n`` a GeoJSON object's (pre-RFC 7946) ``crs`` member names, or ``None`` if it has none.

    >>> declared_crs({"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}}, where="f")
    'EPSG:27700'
    >>> declared_crs({"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}, where="f")
    'EPSG:4326'
    """
    crs = obj.get("crs") if isinstance(obj, dict) else None
    if crs is None:
        return None
    text = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, dict) else ""
    if re.search(r"CRS84$", text):
        return "EPSG:4326"
    m = re.search(r"EPSG:{1,2}(\d+)$", text, re.I)
    if not m:
        raise Invalid(f"{where}: the GeoJSON 'crs' {text[:80]!r} is not one geotarget reads; expected e.g. "
                      "'urn:ogc:def:crs:EPSG::27700', or no 'crs' (longitude/latitude, RFC 7946)", field="site_file")
    code = f"EPSG:{int(m.group(1))}"
    if code not in ("EPSG:4326", BNG):
        try:
            gpd.GeoSeries([], crs=code)
        except Exception:  # noqa: BLE001 - pyproj raises several types
            raise Invalid(f"{where}: the GeoJSON 'crs' {code} is not a coordinate reference system geotarget "
                          "knows", field="site_file") from None
    return code


def _site_from_wgs84(geom: shapely.Geometry, *, name: str, source: str, where: str) -> Site:
    """Return a site from a longitude/latitude geometry, checked and reprojected to EPSG:27700."""
    if geom.is_empty:
        raise Invalid(f"{where}: the geometry is empty", field="site")
    x0, y0, x1, y1 = geom.bounds
    if not (-9.0 <= x0 <= x1 <= 2.5 and 49.0 <= y0 <= y1 <= 61.5):
        raise Invalid(f"{where}: coordinates ({x0:g}, {y0:g}) to ({x1:g}, {y1:g}) are not longitude/latitude in "
                      "Great Britain; GeoJSON is longitude, latitude in WGS84 degrees (RFC 7946)", field="site")
    check_polygon(geom, where=where)
    bng = gpd.GeoSeries([geom], crs="EPSG:4326").to_crs(BNG).iloc[0]
    if bng.geom_type != "Point" and not bng.is_valid:  # reprojection can make a sliver invalid: refuse, not repair
        check_polygon(bng, where=where)
    return Site(name, bng, source, (f"{where}: longitude/latitude (WGS84) reprojected to EPSG:27700.",))


def _parse(text, *, name, postcodes, where: str = "site") -> Site:
    """:func:`geotarget.io.sites.parse_site`, its errors as :class:`Invalid` (400) naming ``where``.

    A file's polygons are checked first: :func:`~geotarget.io.sites.parse_site` would repair an invalid
    one, but an applicant's boundary is refused with the problem named, to be redrawn.
    """
    if isinstance(text, Path):
        try:
            frame = gpd.read_file(text)
        except Exception as e:  # noqa: BLE001 - GDAL raises several types
            raise Invalid(f"{where}: not a readable KML or Shapefile ({_short(str(e), 160)})", field="site") from None
        for i, g in enumerate(frame.geometry, 1):
            if g is not None and not g.is_empty:
                check_polygon(shapely.force_2d(g), where=f"{where}, feature {i}")
    try:
        site = parse_site(text, name=name, postcodes=postcodes)
    except GeotargetError as e:
        msg = str(e)
        if isinstance(text, Path):  # the temporary file's name means nothing to the applicant
            msg = msg.replace(str(text), where).replace(text.name, where)
        raise Invalid(msg, field="site") from None
    return site


def _short(text: str, n: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _stem(label: str) -> str:
    return clean_name(PurePosixPath(label).stem) or "Uploaded site"


__all__ = ["MAX_SITE_HA", "MAX_SITE_NAME", "MAX_SITE_TEXT", "MAX_VERTICES", "Screener", "check_kml",
           "check_polygon", "clean_name", "declared_crs", "geojson_geometry", "load_study", "shapefile_members",
           "sniff"]
