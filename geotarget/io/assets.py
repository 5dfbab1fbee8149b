"""Read community asset lists as councils hold them: locate every row, or say why not.

:func:`read_assets` takes a spreadsheet export (CSV in UTF-8, UTF-8 with BOM, UTF-16 or
Windows-1252; comma, semicolon or tab separated) or a GeoJSON, GeoPackage or Shapefile and
returns an :class:`AssetRead`: the located assets (a GeoDataFrame in EPSG:27700) and the
rejected rows, each with its row number and a reason. ``len(assets) + len(rejects)`` is
always the number of rows in the file.

A row is located, in this order, by

1. its geometry (vector files), kept as it is: a park polygon stays a polygon;
2. easting/northing (British National Grid), if both are filled in;
3. latitude/longitude (WGS84), if both are filled in;
4. its postcode, looked up in a postcode file: the postcodes bundled with geotarget (Tees
   Valley and Trafford) by default, or an ONS Postcode Directory / OS Code-Point Open file.

Reject reasons: ``missing_location`` (no coordinates, no postcode), ``unknown_postcode``
(malformed or not in the lookup; a likely correction is suggested), ``swapped_lat_lon`` /
``swapped_easting_northing`` (the pair only makes sense the other way round: geotarget does
not fix it silently), ``invalid_coordinates`` and ``outside_england`` (more than 1 km outside
a light outline of England).

Categories are mapped to the standard :data:`CATEGORIES` from the values of a category
column (:data:`DEFAULT_CATEGORY_MAP`, extended or overridden by a user mapping); values that
match nothing become ``"other"`` and are counted in a warning. Assets with the same name
(ignoring case, punctuation and a leading "The") within ``duplicate_distance`` metres of
each other are flagged as near-duplicates (``near_duplicate``, ``duplicate_of``), not dropped.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geotarget.core.crs import BNG
from geotarget.core.errors import CRSError, DataNotFoundError, SchemaError
from geotarget.io.ods import EXCLUDE_REASONS, NON_ENGLISH_AREAS, ods_frame, ods_layout, postcode_area
from geotarget.io.postcodes import normalise_postcode, normalise_postcodes, postcode_candidates, read_postcodes
from geotarget.io.tables import normalise_text, parse_numbers, read_text_table, to_bng_xy

log = logging.getLogger(__name__)

#: The standard asset categories (column-name friendly).
CATEGORIES = ("gp", "pharmacy", "dentist", "library",
              "school", "park", "community_centre", "leisure", "food_support", "other")
#: Labels for tables and maps.
CATEGORY_LABELS = {
    "gp": "GP practice", "pharmacy": "Pharmacy", "dentist": "Dentist", "library": "Library", "school": "School",
    "park": "Park or green space", "community_centre": "Community centre", "leisure": "Leisure centre",
    "food_support": "Food support", "other": "Other",
}

_SYNONYMS = {
    "gp": ["gp", "gps", "gp practice", "gp practices", "gp surgery", "general practice", "general practitioner",
           "doctor", "doctors", "doctors surgery", "surgery", "medical practice", "medical centre", "health centre"],
    "pharmacy": ["pharmacy", "pharmacies", "chemist", "chemists", "dispensary", "community pharmacy"],
    "dentist": ["dentist", "dentists", "dental practice", "dental practices", "dental surgery"],
    "library": ["library", "libraries", "public library"],
    "school": ["school", "schools", "primary school", "secondary school", "infant school", "junior school",
               "academy", "special school", "free school", "nursery school"],
    "park": ["park", "parks", "park green space", "park or green space", "public park or garden", "park or garden",
             "playing field", "playing fields", "green space", "greenspace", "open space", "recreation ground"],
    "community_centre": ["community centre", "community center", "community centres", "community hub",
                         "community hubs", "community hall", "village hall", "community building"],
    "leisure": ["leisure", "leisure centre", "leisure center", "leisure centres", "sports centre", "sports center",
                "swimming pool", "gym"],
    "food_support": ["food support", "food bank", "foodbank", "food banks", "food pantry", "pantry",
                     "community fridge", "social supermarket", "community food"],
    "other": ["other"],
}


#: Category text (normalised with :func:`normalise_text`) -> standard category.
DEFAULT_CATEGORY_MAP: dict[str, str] = {normalise_text(w): c for c, words in _SYNONYMS.items() for w in words}
DEFAULT_CATEGORY_MAP.update({normalise_text(c): c for c in CATEGORIES})
DEFAULT_CATEGORY_MAP.update({normalise_text(label): c for c, label in CATEGORY_LABELS.items()})

REJECT_REASONS = ("missing_location", "unknown_postcode", "invalid_coordinates", "swapped_lat_lon",
                  "swapped_easting_northing", "outside_england",
                  *(r for r in EXCLUDE_REASONS if r != "outside_england"))
#: Reasons a row is left out by choice (a default a user can change), not because it could not be located.
EXCLUDED = ("closed", "dormant", "proposed", "not_gp_practice")

#: Allowance for the generalised England outline (metres).
ENGLAND_TOLERANCE_M = 1000.0
# Header names recognised without being told (compared after normalise_text).
_AUTO = {
    "postcode": ["postcode", "post code", "postal code", "pcds", "pcd", "pcd7", "pcd8", "pcd2"],
    "lat": ["latitude", "lat"],
    "lon": ["longitude", "lon", "long", "lng"],
    "x": ["easting", "eastings", "bng e", "x", "oseast1m"],
    "y": ["northing", "northings", "bng n", "y", "osnrth1m"],
    "category": ["category", "asset category", "asset type", "type", "service type", "site type"],
    "name": ["name", "asset name", "site name", "organisation name", "practice name"],
    "id": ["asset id", "id", "ref", "reference", "asset ref", "org code", "ods code", "urn", "site id"],
}


@functools.lru_cache(maxsize=1)
def england_outline() -> shapely.Geometry:
    """Return the bundled light outline of England (EPSG:27700), prepared for fast tests."""
    from geotarget.core.places import ENGLAND_OUTLINE, sample_path

    geom = gpd.read_file(sample_path(ENGLAND_OUTLINE)).to_crs(BNG).geometry.iloc[0]
    shapely.prepare(geom)
    return geom


def in_england(geoms, *, tolerance: float = ENGLAND_TOLERANCE_M) -> np.ndarray:
    """Return True where a geometry (EPSG:27700) is within ``tolerance`` metres of England."""
    return shapely.dwithin(england_outline(), np.asarray(geoms), tolerance)


# -- the reader -------------------------------------------------------------------------------
@dataclass(frozen=True)
class AssetRead:
    """What :func:`read_assets` found: located ``assets`` and ``rejects`` (row, reason, detail)."""

    assets: gpd.GeoDataFrame
    rejects: pd.DataFrame
    source: str
    n_rows: int

    def summary(self) -> str:
        """One line: rows read, assets by category, rejects by reason, near-duplicates."""
        cats = self.assets["category"].value_counts()
        chosen = self.rejects["reason"].isin(EXCLUDED)
        left = self.rejects.loc[chosen, "reason"].value_counts()
        why = self.rejects.loc[~chosen, "reason"].value_counts()
        dups = int(self.assets["duplicate_of"].notna().sum())
        return (f"{self.source}: {self.n_rows:,} rows -> {len(self.assets):,} assets ("
                + ", ".join(f"{c} {n:,}" for c, n in cats.items()) + ")"
                + (f", {int(chosen.sum()):,} left out by default (" + ", ".join(f"{r} {n:,}" for r, n in left.items())
                   + ")" if len(left) else "")
                + f", {int((~chosen).sum()):,} rejected"
                + (" (" + ", ".join(f"{r} {n:,}" for r, n in why.items()) + ")" if len(why) else "")
                + f", {dups:,} near-duplicates flagged")

    @property
    def excluded(self) -> pd.DataFrame:
        """The rows left out by choice (closed, dormant, proposed, not a GP practice), not for want of a location."""
        return self.rejects[self.rejects["reason"].isin(EXCLUDED)]


def read_category_map(path: str | os.PathLike) -> dict[str, str]:
    """Read a user category mapping: a two-column CSV ``value,category`` (header row required)."""
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"{p}: category mapping file not found")
    t = read_text_table(p)
    if len(t.columns) < 2:
        raise SchemaError(f"{p}: expected two columns, the value found in your data and a category from "
                          f"{', '.join(CATEGORIES)}; found {list(t.columns)}")
    return dict(zip(t.iloc[:, 0], t.iloc[:, 1], strict=True))


def _category_lookup(mapping: Mapping[str, str] | None, source: str) -> dict[str, str]:
    out = dict(DEFAULT_CATEGORY_MAP)
    for value, cat in (mapping or {}).items():
        c = normalise_text(cat).replace(" ", "_")
        if c not in CATEGORIES:
            raise SchemaError(f"{source}: category mapping {value!r} -> {cat!r}: {cat!r} is not a standard "
                              f"category; expected one of {', '.join(CATEGORIES)}")
        out[normalise_text(value)] = c
    return out


def _find(columns, kind: str, given: str | None, source: str, option: str) -> str | None:
    if given is not None:
        if given not in columns:
            raise SchemaError(f"{source}: column {given!r} (given as {option}) not found; columns are {list(columns)}")
        return given
    norm = {normalise_text(c): c for c in columns}
    return next((norm[n] for n in _AUTO[kind] if n in norm), None)


def read_assets(path: str | os.PathLike, *, layer: str | None = None, ods_include: Sequence[str] = (),
                **options) -> AssetRead:
    """Read and locate an asset file. See :func:`assets_from_frame` for the options.

    CSV rows are numbered as in a spreadsheet (the header is row 1, the first asset row 2);
    features of GeoJSON/GeoPackage/Shapefile files from 1.

    The NHS ODS files as published (``epraccur`` GP practices, ``edispensary`` pharmacies,
    ``egdpprac`` dentists: no header row, 27 columns; :mod:`geotarget.io.ods`) are recognised
    from their content: the category comes from the file, rows are numbered from 1 (2 when a
    header row was added), and by default only **active** organisations -- and, for epraccur,
    only GP practices (prescribing setting 4) -- are kept. Closed, dormant and proposed
    organisations, other settings (out of hours, walk-in centres, prisons ...) and Welsh
    practices are listed in the rejects with their reason, never dropped silently;
    ``ods_include`` (any of ``closed, dormant, proposed, other_settings``) keeps them.

    Examples
    --------
    >>> r = read_assets("tests/fixtures/assets_messy.csv", category_column="Type")
    >>> len(r.assets) + len(r.rejects) == r.n_rows
    True
    """
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(f"{p}: asset file not found")
    suffix = "".join(p.suffixes[-2:]).lower() if p.suffix.lower() == ".gz" else p.suffix.lower()
    if suffix in (".xlsx", ".xls", ".xlsm", ".ods"):
        raise SchemaError(f"{p}: spreadsheets are read as CSV; save the sheet as 'CSV UTF-8 (comma delimited)' "
                          "and pass that file")
    if suffix == ".zip":
        member = _zipped_table(p)
        if member is not None:  # e.g. epraccur.zip as NHS England publishes it
            import tempfile
            import zipfile

            with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(p) as z:
                inner = Path(z.extract(member, tmp))
                res = read_assets(inner, layer=layer, ods_include=ods_include, **options)
            return AssetRead(res.assets, res.rejects, f"{p}!{member}", res.n_rows)
    if suffix in (".csv", ".txt", ".tsv", ".csv.gz"):
        layout = ods_layout(read_text_table(p, header=None, nrows=50))
        if layout is not None:
            return _read_ods(p, *layout, ods_include=ods_include, **options)
        frame = read_text_table(p)
        return assets_from_frame(frame, source=os.fspath(p), first_row=2, **options)
    import pyogrio

    try:
        layers = [str(n) for n, _ in pyogrio.list_layers(p)]
    except Exception as e:  # noqa: BLE001 - GDAL raises several types
        raise SchemaError(f"{p}: not a readable CSV, GeoJSON, GeoPackage or Shapefile ({e})") from None
    if layer is None and len(layers) > 1:
        raise SchemaError(f"{p}: has {len(layers)} layers ({', '.join(layers)}); name one with `layer`"
                          ).naming("layer")
    if layer is not None and layer not in layers:
        raise SchemaError(f"{p}: no layer {layer!r}; layers are {', '.join(layers)}")
    gdf = gpd.read_file(p, layer=layer)
    if gdf.crs is None and gdf.geometry.notna().any():
        raise CRSError(f"{p}: the data has no coordinate reference system; expected one to be declared "
                       "(e.g. a .prj file next to a Shapefile)")
    return assets_from_frame(gdf, source=os.fspath(p), first_row=1, **options)


#: OS Open Greenspace GeoPackage layers and the canonical names of their fields.
OS_GREENSPACE_LAYERS = ("greenspace_site", "access_point")
_OS_GREENSPACE_FIELDS = {"id": "site_id", "function": "site_type", "distName1": "site_name"}


def is_os_greenspace(path: str | os.PathLike) -> bool:
    """Return True for an OS Open Greenspace GeoPackage (a ``greenspace_site`` layer)."""
    p = Path(path)
    if p.suffix.lower() != ".gpkg" or not p.is_file():
        return False
    import pyogrio

    return OS_GREENSPACE_LAYERS[0] in {str(n) for n, _ in pyogrio.list_layers(p)}


def read_os_greenspace(path: str | os.PathLike, *, bbox=None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """Read OS Open Greenspace sites and access points (EPSG:27700), within ``bbox`` (a box in EPSG:27700).

    Sites get the canonical ``site_id``, ``site_type`` (OS ``function``) and ``site_name``
    (``distName1``), as :func:`geotarget.analysis.access.park_targets` expects; access points
    (entrances) are ``None`` when the file has no ``access_point`` layer.
    """
    import pyogrio

    p = Path(path)
    layers = {str(n) for n, _ in pyogrio.list_layers(p)}
    if OS_GREENSPACE_LAYERS[0] not in layers:
        raise SchemaError(f"{p}: no layer {OS_GREENSPACE_LAYERS[0]!r}; is it OS Open Greenspace? Layers: "
                          f"{', '.join(sorted(layers))}")
    box = None if bbox is None else gpd.GeoSeries([shapely.box(*bbox)], crs=BNG)
    sites = gpd.read_file(p, layer=OS_GREENSPACE_LAYERS[0], bbox=box)
    sites = sites.to_crs(BNG) if sites.crs is not None and not sites.crs.equals(BNG) else sites
    sites = sites.rename(columns={k: v for k, v in _OS_GREENSPACE_FIELDS.items() if k in sites})
    entrances = None
    if OS_GREENSPACE_LAYERS[1] in layers:
        entrances = gpd.read_file(p, layer=OS_GREENSPACE_LAYERS[1], bbox=box)
        entrances = entrances.to_crs(BNG) if entrances.crs is not None and not entrances.crs.equals(BNG) \
            else entrances
    log.info("%s: %d green space sites, %d access points", p, len(sites), 0 if entrances is None else len(entrances))
    return sites, entrances


def is_table(path: str | os.PathLike) -> bool:
    """Return True for an asset file read as a text table (CSV, or a zip holding one CSV), located by postcode."""
    p = Path(path)
    name = p.name.lower()
    if name.endswith((".csv", ".txt", ".tsv", ".csv.gz")):
        return True
    return name.endswith(".zip") and p.is_file() and _zipped_table(p) is not None


def _zipped_table(p: Path) -> str | None:
    """Return the one CSV in a zip without a Shapefile (GIS zips are read by GDAL), else None."""
    import zipfile

    try:
        with zipfile.ZipFile(p) as z:
            names = [n for n in z.namelist() if not n.endswith("/")]
    except zipfile.BadZipFile:
        raise SchemaError(f"{p}: not a readable zip file") from None
    csvs = [n for n in names if n.lower().endswith(".csv")]
    if len(csvs) == 1 and not any(n.lower().endswith(".shp") for n in names):
        return csvs[0]
    return None


def _read_ods(p: Path, kind: str, has_header: bool, *, ods_include: Sequence[str] = (), **options) -> AssetRead:
    """Read an NHS ODS file (:mod:`geotarget.io.ods`): keep the active GP practices (by default), report the rest."""
    raw = read_text_table(p, header=None)
    first_row = 2 if has_header else 1
    body = raw.iloc[1:].reset_index(drop=True) if has_header else raw
    source = os.fspath(p)
    frame, reason, detail = ods_frame(body, kind, source=source, include=ods_include, first_row=first_row)
    keep = reason == ""
    rows = np.arange(len(frame)) + first_row
    opts = {"category_column": "category", "name_column": "name", "id_column": "org_code",
            "postcode_column": "postcode", **options}
    label = f"{source} (the {int(keep.sum()):,} rows kept by default)" if (~keep).any() else source
    read = assets_from_frame(frame[keep].reset_index(drop=True), source=label, first_row=1, **opts)
    kept_rows = rows[keep]
    assets = read.assets.copy()
    assets["source_row"] = kept_rows[assets["source_row"].to_numpy(int) - 1]
    located = read.rejects.copy()
    located["row"] = kept_rows[located["row"].to_numpy(int) - 1]
    pcs = located["postcode"].fillna("").astype(str) if "postcode" in located else pd.Series("", index=located.index)
    area = pcs.map(postcode_area)
    unknown = located["reason"] == "unknown_postcode"
    abroad = unknown & area.isin(NON_ENGLISH_AREAS)
    located.loc[abroad, "reason"] = "outside_england"
    located.loc[abroad, "detail"] = located.loc[abroad, "detail"] + " (a postcode outside England)"
    valid = unknown & ~abroad & normalise_postcodes(pcs).notna()
    located.loc[valid, "detail"] = located.loc[valid, "detail"].str.replace(
        " is not in the postcode lookup", " is not in the postcode lookup: probably terminated (retired postcodes are "
        "not in OS Code-Point Open) or newer than the lookup", regex=False)
    out = frame[~keep].astype("string").reset_index(drop=True)
    left = pd.concat([pd.DataFrame({"row": rows[~keep], "reason": reason[~keep], "detail": detail[~keep]}), out],
                     axis=1)
    rejects = pd.concat([left, located], ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)
    res = AssetRead(assets, rejects, source, len(frame))
    if (~keep).any():
        log.info("%s (ODS %s): %s", source, kind, res.summary())
    return res


def assets_near(assets: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, *, margin: float
                ) -> tuple[gpd.GeoDataFrame, str]:
    """Keep the assets within ``margin`` metres of ``areas`` (e.g. the study's councils), and say so.

    People near a council's edge use the surgery over the border: assets in neighbouring
    councils count when they are within ``margin`` metres. Returns the kept assets with
    ``area_code`` (the area holding them, ``None`` for those over the border) and
    ``distance_to_area_m`` (0 inside), and a one-sentence note for the outputs.
    """
    if margin < 0:
        raise SchemaError(f"asset_margin was {margin!r} but is expected to be 0 or more metres").naming("asset_margin")
    if assets.empty or areas.empty:
        out = assets.assign(area_code=pd.Series(dtype=object), distance_to_area_m=pd.Series(dtype=float))
        return out, f"{len(assets):,} assets; no study areas to measure their distance from"
    geoms = areas.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    pts = assets.geometry.to_numpy()
    (i, j), d = tree.query_nearest(pts, return_distance=True, all_matches=False)
    dist = np.full(len(assets), np.inf)
    code = np.full(len(assets), None, dtype=object)
    dist[i] = d
    code[i[d == 0]] = np.asarray(areas.index, dtype=object)[j[d == 0]]
    keep = dist <= margin
    out = assets[keep].copy()
    out["area_code"] = code[keep]
    out["distance_to_area_m"] = np.round(dist[keep], 1)
    over = int((keep & (dist > 0)).sum())
    note = (f"Assets within {margin:,.0f} m of the study councils count (services over a council border): "
            f"{int(keep.sum()):,} of {len(assets):,} located assets, {over:,} of them in neighbouring areas"
            + (f"; {int((~keep).sum()):,} farther away left out." if (~keep).any() else "."))
    return out, note


def assets_from_frame(
    frame: pd.DataFrame,
    *,
    source: str = "assets",
    first_row: int = 1,
    postcode_column: str | None = None,
    lat_column: str | None = None,
    lon_column: str | None = None,
    x_column: str | None = None,
    y_column: str | None = None,
    category_column: str | None = None,
    category: str | None = None,
    category_map: Mapping[str, str] | None = None,
    name_column: str | None = None,
    id_column: str | None = None,
    capacity_column: str | None = None,
    postcodes: pd.DataFrame | str | os.PathLike | None = None,
    duplicate_distance: float = 10.0,
) -> AssetRead:
    """Locate and categorise the rows of a (Geo)DataFrame of assets.

    Parameters
    ----------
    frame
        A table (text or numbers) or a GeoDataFrame; row ``i`` is reported as ``first_row + i``.
    postcode_column, lat_column, lon_column, x_column, y_column
        Location columns; recognised from common headers (``postcode``, ``latitude``,
        ``easting``...) when not given.
    category_column, category
        The column holding each asset's type, or one ``category`` for every row.
    category_map
        ``{value in your data: standard category}``, on top of :data:`DEFAULT_CATEGORY_MAP`.
    name_column, id_column, capacity_column
        Name, identifier (default: recognised, else ``row<N>``) and capacity (e.g. GP list size,
        for the two-step floating catchment).
    postcodes
        A lookup from :func:`read_postcodes` or a path to one; default the bundled postcodes.
    duplicate_distance
        Metres within which two assets with the same name are flagged as near-duplicates.

    Returns
    -------
    AssetRead
        ``assets`` (EPSG:27700): ``asset_id, name, category, category_source, source_row,
        location_source, postcode, easting, northing, area_ha, capacity, near_duplicate,
        duplicate_of`` then the file's own columns; ``rejects``: ``row, reason, detail`` then
        the file's columns as text.
    """
    cols = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    c = _Columns(
        postcode=_find(cols, "postcode", postcode_column, source, "postcode column"),
        lat=_find(cols, "lat", lat_column, source, "latitude column"),
        lon=_find(cols, "lon", lon_column, source, "longitude column"),
        x=_find(cols, "x", x_column, source, "easting column"),
        y=_find(cols, "y", y_column, source, "northing column"),
        category=None if category is not None else _find(cols, "category", category_column, source,
                                                         "category column"),
        name=_find(cols, "name", name_column, source, "name column"),
        id=_find(cols, "id", id_column, source, "id column"),
        capacity=_find(cols, "id", capacity_column, source, "capacity column") if capacity_column else None,
    )
    has_geom = isinstance(frame, gpd.GeoDataFrame)
    _check_columns(c, cols, has_geom, category, source, explicit=bool(lat_column or lon_column or x_column or y_column))
    st = _Rows.empty(len(frame), first_row)
    if has_geom:
        _locate_by_geometry(st, frame)
    if c.x and c.y:
        _locate_by_easting_northing(st, frame, c.x, c.y)
    if c.lat and c.lon:
        _locate_by_lat_lon(st, frame, c.lat, c.lon)
    pc_text = _text(frame, c.postcode)
    pc_norm = normalise_postcodes(pd.Series(pc_text)).to_numpy(object)
    if c.postcode and st.todo.any():
        lookup = postcodes if isinstance(postcodes, pd.DataFrame) else read_postcodes(postcodes)
        _locate_by_postcode(st, c.postcode, pc_text, pc_norm, lookup)
    missing = st.todo & (st.reason == "")
    where = ", ".join(x for x in (c.postcode, c.lat, c.lon, c.x, c.y) if x) or "geometry"
    st.reject(missing, "missing_location", [f"{s}no usable location: {where} all blank or not numbers"
                                            for s in st.notes[missing]])
    _check_england(st, c.postcode, pc_text)

    keep = st.reason == ""
    cat_src = np.full(len(frame), category, dtype=object) if category is not None else _text(frame, c.category)
    cats = _categorise(cat_src, {category: category} if category is not None else category_map, source, keep)
    assets = _assets_frame(frame, st, c, keep, cats, cat_src, pc_text, pc_norm, source, has_geom)
    assets = flag_near_duplicates(assets, distance=duplicate_distance)
    first = ["asset_id", "name", "category", "category_source", "source_row", "location_source", "postcode",
             "easting", "northing", "area_ha", "capacity", "near_duplicate", "duplicate_of"]
    assets = assets[[*first, *(x for x in assets.columns if x not in first and x != "geometry"), "geometry"]]
    rejects = _rejects_frame(frame, st, has_geom)
    if len(assets) + len(rejects) != len(frame):  # pragma: no cover - an internal invariant
        raise RuntimeError(f"{source}: {len(frame)} rows but {len(assets)} assets and {len(rejects)} rejects")
    res = AssetRead(assets, rejects, source, len(frame))
    log.info("%s", res.summary())
    if len(rejects):
        log.warning("%s: %d of %d rows could not be located (%s); see the rejects table", source, len(rejects),
                    len(frame), ", ".join(f"{r} {k}" for r, k in rejects["reason"].value_counts().items()))
    return res


@dataclass(frozen=True)
class _Columns:
    postcode: str | None
    lat: str | None
    lon: str | None
    x: str | None
    y: str | None
    category: str | None
    name: str | None
    id: str | None
    capacity: str | None


@dataclass
class _Rows:
    """Per-row state while locating: geometry, how it was found, or why it was rejected."""

    rows: np.ndarray
    geom: np.ndarray
    how: np.ndarray
    reason: np.ndarray
    detail: np.ndarray
    notes: np.ndarray
    todo: np.ndarray

    @classmethod
    def empty(cls, n: int, first_row: int) -> _Rows:
        return cls(np.arange(n) + first_row, np.full(n, None, dtype=object),
                   *(np.full(n, "", dtype=object) for _ in range(4)), np.ones(n, dtype=bool))

    def locate(self, mask: np.ndarray, geoms, how: str) -> None:
        self.geom[mask], self.how[mask], self.todo[mask] = geoms, how, False

    def reject(self, mask: np.ndarray, reason: str, details) -> None:
        self.reason[mask], self.detail[mask], self.todo[mask] = reason, details, False
        self.geom[mask], self.how[mask] = None, ""


def _text(frame: pd.DataFrame, col: str | None) -> np.ndarray:
    if not col:
        return np.full(len(frame), "", dtype=object)
    return frame[col].astype("string").str.strip().fillna("").to_numpy(object)


def _check_columns(c: _Columns, cols, has_geom: bool, category, source: str, *, explicit: bool) -> None:
    if category is None and c.category is None:
        raise SchemaError(f"{source}: no category column found (looked for {', '.join(_AUTO['category'])}); name it "
                          f"with `category_column`, or give one category for every row with "
                          f"`category`, one of {', '.join(CATEGORIES)}").naming("category_column", "category")
    if category is not None and normalise_text(category).replace(" ", "_") not in CATEGORIES:
        raise SchemaError(f"{source}: category={category!r} is not a standard category; expected one of "
                          f"{', '.join(CATEGORIES)}")
    for a, b, what in ((c.lat, c.lon, "latitude and longitude"), (c.x, c.y, "easting and northing")):
        if explicit and (a is None) != (b is None):
            raise SchemaError(f"{source}: give both columns of {what} (found only {a or b!r})")
    if not (has_geom or c.postcode or (c.lat and c.lon) or (c.x and c.y)):
        raise SchemaError(f"{source}: no location columns; expected a postcode column, latitude and longitude, or "
                          f"easting and northing (name them with `postcode_column`, `lat_column`/`lon_column` or "
                          f"`x_column`/`y_column`). Columns found: {list(cols)}").naming(
                              "postcode_column", "lat_column", "lon_column", "x_column", "y_column")


def _locate_by_geometry(st: _Rows, frame: gpd.GeoDataFrame) -> None:
    g = frame.geometry
    if g.crs is not None and not g.crs.equals(BNG):
        g = g.to_crs(BNG)
    present = ~(g.isna().to_numpy() | g.is_empty.to_numpy())
    st.locate(present, g.to_numpy()[present], "geometry")


def _locate_by_easting_northing(st: _Rows, frame: pd.DataFrame, cx: str, cy: str) -> None:
    x, y = parse_numbers(frame[cx], thousands=True), parse_numbers(frame[cy], thousands=True)
    tx, ty = _text(frame, cx), _text(frame, cy)
    both = (x.notna() & y.notna()).to_numpy() & st.todo
    half = (x.notna() ^ y.notna()).to_numpy() & st.todo
    st.notes[half] = f"only one of {cx}/{cy} filled in; "
    xv, yv = x.to_numpy(float), y.to_numpy(float)
    looks_ll = both & (np.abs(xv) <= 180) & (np.abs(yv) <= 90)
    st.reject(looks_ll, "invalid_coordinates",
              [f"{cx}={tx[i]!r}, {cy}={ty[i]!r} look like longitude/latitude, not British National Grid metres; "
               "name them as lon_column/lat_column" for i in np.flatnonzero(looks_ll)])
    sel = both & ~looks_ll
    if not sel.any():
        return
    pts = shapely.points(xv[sel], yv[sel])
    st.locate(sel, pts, "easting_northing")
    idx = np.flatnonzero(sel)[~in_england(pts)]
    if len(idx):
        swapped = idx[in_england(shapely.points(yv[idx], xv[idx]))]
        st.reject(np.isin(np.arange(len(st.rows)), swapped), "swapped_easting_northing",
                  [f"{cx}={tx[i]!r}, {cy}={ty[i]!r} is outside England but the other way round is in England; "
                   "swap the columns" for i in swapped])


def _locate_by_lat_lon(st: _Rows, frame: pd.DataFrame, clat: str, clon: str) -> None:
    lat, lon = parse_numbers(frame[clat]), parse_numbers(frame[clon])
    tla, tlo = _text(frame, clat), _text(frame, clon)
    both = (lat.notna() & lon.notna()).to_numpy() & st.todo
    half = (lat.notna() ^ lon.notna()).to_numpy() & st.todo
    st.notes[half] = [s + f"only one of {clat}/{clon} filled in; " for s in st.notes[half]]
    la, lo = lat.to_numpy(float), lon.to_numpy(float)
    gb = (la >= 49) & (la <= 62) & (lo >= -9) & (lo <= 3)
    swapped = both & ~gb & (lo >= 49) & (lo <= 62) & (la >= -9) & (la <= 3)
    st.reject(swapped, "swapped_lat_lon",
              [f"{clat}={tla[i]!r}, {clon}={tlo[i]!r}: latitude and longitude look swapped (in England latitude is "
               "about 50 to 56 and longitude -6 to 2); swap the columns" for i in np.flatnonzero(swapped)])
    bad = both & ~swapped & ((np.abs(la) > 90) | (np.abs(lo) > 180))
    st.reject(bad, "invalid_coordinates", [f"{clat}={tla[i]!r}, {clon}={tlo[i]!r} are not a latitude and longitude"
                                           for i in np.flatnonzero(bad)])
    sel = both & ~swapped & ~bad
    if sel.any():
        px, py = to_bng_xy(lo[sel], la[sel])
        st.locate(sel, shapely.points(px, py), "lat_lon")


def _locate_by_postcode(st: _Rows, col: str, pc_text, pc_norm, lookup: pd.DataFrame) -> None:
    want = st.todo & (pc_text != "")
    if not want.any():
        return
    idx = lookup.index.get_indexer(pd.Index(pc_norm[want].astype(str)))
    hit = np.zeros(len(st.rows), dtype=bool)
    hit[np.flatnonzero(want)[idx >= 0]] = True
    xy = lookup[["easting", "northing"]].to_numpy(float)[idx[idx >= 0]]
    st.locate(hit, shapely.points(xy[:, 0], xy[:, 1]), "postcode")
    miss = want & ~hit
    details = []
    for i in np.flatnonzero(miss):
        fix = [x for x in postcode_candidates(pc_text[i]) if x in lookup.index]
        if pc_norm[i]:
            what = "is not in the postcode lookup"
        elif re.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]?", pc_text[i].upper().replace(" ", "")):
            what = "is only a postcode district, not a full postcode"
        else:
            what = "is not a valid UK postcode"
        details.append(f"{st.notes[i]}{col}={pc_text[i]!r} {what}" + (
            f"; did you mean {fix[0]!r}?" if fix else
            "; check it, or pass a fuller lookup (ONS Postcode Directory or OS Code-Point Open) as postcodes"))
    st.reject(miss, "unknown_postcode", details)


def _check_england(st: _Rows, pc_col: str | None, pc_text) -> None:
    located = np.flatnonzero(st.reason == "")
    if not len(located):
        return
    pts = shapely.point_on_surface(np.asarray(st.geom[located], dtype=object))
    outside = ~in_england(pts)
    idx, pts = located[outside], pts[outside]
    st.reject(np.isin(np.arange(len(st.rows)), idx), "outside_england",
              [f"located by {st.how[i].replace('_', '/')} at easting {p.x:,.0f}, northing {p.y:,.0f}, more than "
               f"{ENGLAND_TOLERANCE_M:,.0f} m outside England"
               + (f" ({pc_col}={pc_text[i]!r})" if st.how[i] == "postcode" else "")
               for i, p in zip(idx, pts, strict=True)])


def _categorise(values, mapping, source: str, keep) -> np.ndarray:
    lookup = _category_lookup(mapping, source)
    cats = np.array([lookup.get(normalise_text(v), "other") for v in values], dtype=object)
    unmapped = pd.Series(values[keep & (cats == "other")], dtype=object)
    unmapped = unmapped[unmapped.map(normalise_text) != "other"]
    if mapping:  # types the user mapped to "other" on purpose are not news
        chosen = {normalise_text(k) for k, v in dict(mapping).items() if normalise_text(v) == "other"}
        unmapped = unmapped[~unmapped.map(normalise_text).isin(chosen)]
    if len(unmapped):
        counts = unmapped.replace("", "(blank)").value_counts()
        log.warning("%s: %d assets with a category that maps to no standard category were put in 'other': %s. "
                    "Map them with a category mapping (category_map).", source, len(unmapped),
                    ", ".join(f"{v!r} ({k})" for v, k in counts.head(10).items()))
    return cats


_RESERVED = {"asset_id", "name", "category", "category_source", "source_row", "location_source", "postcode",
             "easting", "northing", "area_ha", "capacity", "near_duplicate", "duplicate_of", "geometry"}


def _own_columns(frame: pd.DataFrame, has_geom: bool) -> pd.DataFrame:
    return pd.DataFrame(frame.drop(columns=frame.geometry.name) if has_geom else frame).reset_index(drop=True)


def _assets_frame(frame, st: _Rows, c: _Columns, keep, cats, cat_src, pc_text, pc_norm, source,
                  has_geom) -> gpd.GeoDataFrame:
    own = _own_columns(frame, has_geom)
    own = own.drop(columns=[x for x in (c.name, c.id, c.category) if x])
    # GeoPackage field names are case-insensitive: "Postcode" in the file would clash with "postcode"
    own = own.rename(columns={x: f"{x}_in_file" for x in own.columns if str(x).lower() in _RESERVED})
    ids = _text(frame, c.id)
    ids = np.where(ids == "", np.array([f"row{r}" for r in st.rows], dtype=object), ids)
    kg = np.asarray(st.geom[keep], dtype=object)
    rep = shapely.point_on_surface(kg)
    is_area = np.isin(shapely.get_type_id(kg), [3, 6])
    cap = (parse_numbers(frame[c.capacity], thousands=True).to_numpy(float)[keep] if c.capacity
           else np.full(len(kg), np.nan))
    if c.capacity and np.isnan(cap).any():
        log.warning("%s: %d assets have no numeric %s; the capacity-weighted score leaves them out", source,
                    int(np.isnan(cap).sum()), c.capacity)
    out = pd.DataFrame({
        "asset_id": ids[keep], "name": _text(frame, c.name)[keep], "category": cats[keep],
        "category_source": cat_src[keep], "source_row": st.rows[keep], "location_source": st.how[keep],
        "postcode": np.array([n or t for n, t in zip(pc_norm, pc_text, strict=True)], dtype=object)[keep],
        "easting": np.round(shapely.get_x(rep), 1), "northing": np.round(shapely.get_y(rep), 1),
        "area_ha": np.where(is_area, np.round(shapely.area(kg) / 1e4, 4), np.nan), "capacity": cap,
    })
    out = pd.concat([out, own.loc[keep].reset_index(drop=True)], axis=1)
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(kg, crs=BNG), crs=BNG)


def _rejects_frame(frame, st: _Rows, has_geom: bool) -> pd.DataFrame:
    idx = np.flatnonzero(st.reason != "")
    rejects = pd.DataFrame({"row": st.rows[idx], "reason": st.reason[idx], "detail": st.detail[idx]})
    own = _own_columns(frame, has_geom).iloc[idx].astype("string").reset_index(drop=True)
    own = own.rename(columns={x: f"{x}_in_file" for x in own.columns if x in rejects.columns})
    return pd.concat([rejects, own], axis=1)


def flag_near_duplicates(assets: gpd.GeoDataFrame, *, distance: float = 10.0) -> gpd.GeoDataFrame:
    """Flag assets with the same name (normalised, leading "the" ignored) within ``distance`` metres.

    Adds ``near_duplicate`` (True for every member of a group) and ``duplicate_of`` (the
    ``asset_id`` of the group's first row, on the others). Nothing is dropped.
    """
    out = assets.copy()
    out["near_duplicate"] = False
    out["duplicate_of"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    names = out["name"].map(lambda v: re.sub(r"^the ", "", normalise_text(v))).to_numpy(object)
    geoms = out.geometry.to_numpy()
    if len(out) < 2:
        return out
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=distance)
    same = (left < right) & (names[left] == names[right]) & (names[left] != "")
    left, right = left[same], right[same]
    if not len(left):
        return out
    parent = np.arange(len(out))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(left, right, strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([root(i) for i in range(len(out))])
    grouped = pd.Series(roots).duplicated(keep=False).to_numpy()
    ids = out["asset_id"].to_numpy(object)
    out["near_duplicate"] = grouped
    dup = grouped & (roots != np.arange(len(out)))
    out.loc[out.index[dup], "duplicate_of"] = ids[roots[dup]]
    log.info("%d near-duplicate assets flagged (same name within %g m)", int(dup.sum()), distance)
    return out


def asset_layer(assets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the assets to draw on a map: ``asset_id, name, category, category_label, popup`` and geometry.

    ``popup`` is plain text (name, category, postcode, size, a duplicate warning), not HTML:
    the map builder escapes it.
    """
    n = len(assets)

    def col(name, default):
        return assets[name].to_numpy() if name in assets else np.full(n, default, dtype=object)

    out = gpd.GeoDataFrame({
        "asset_id": col("asset_id", ""), "name": pd.Series(col("name", "")).fillna("").astype(str).to_numpy(),
        "category": col("category", "other"), "postcode": pd.Series(col("postcode", "")).fillna("").to_numpy(),
        "area_ha": pd.to_numeric(pd.Series(col("area_ha", np.nan)), errors="coerce").to_numpy(),
        "near_duplicate": pd.Series(col("near_duplicate", False)).fillna(False).astype(bool).to_numpy(),
    }, geometry=assets.geometry.to_numpy(), crs=assets.crs)
    out["category_label"] = out["category"].map(CATEGORY_LABELS).fillna(out["category"])
    name = out["name"].where(out["name"] != "", out["category_label"])
    size = out["area_ha"].map(lambda a: f" — {a:,.2f} ha" if pd.notna(a) else "")
    out["popup"] = (name + " — " + out["category_label"] + out["postcode"].map(lambda p: f" — {p}" if p else "")
                    + size + np.where(out["near_duplicate"], " — possible duplicate", ""))
    return out


__all__ = ["AssetRead", "CATEGORIES", "CATEGORY_LABELS", "DEFAULT_CATEGORY_MAP", "EXCLUDED", "REJECT_REASONS",
           "asset_layer", "assets_near", "is_os_greenspace", "is_table", "read_os_greenspace",
           "assets_from_frame", "england_outline", "flag_near_duplicates", "in_england", "normalise_postcode",
           "normalise_text", "read_assets", "read_category_map", "read_postcodes"]
