"""Read area boundaries (LSOA, MSOA, ward, LAD) from any common GIS format into EPSG:27700."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import pyogrio
import pyogrio.errors
import shapely

from geotarget.core.codes import find_area_columns
from geotarget.core.crs import to_bng
from geotarget.core.errors import SchemaError
from geotarget.io.files import require_file

log = logging.getLogger(__name__)

#: level -> (code prefix, year of the geography or None, index name)
LEVELS: dict[str, tuple[str, int | None, str]] = {
    "lsoa21": ("E01", 2021, "lsoa_code"),
    "lsoa11": ("E01", 2011, "lsoa_code"),
    "msoa21": ("E02", 2021, "msoa_code"),
    "msoa11": ("E02", 2011, "msoa_code"),
    "ward": ("E05", None, "ward_code"),
    "lad": ("E0", None, "lad_code"),
}
def _infer_level(found, path) -> str:
    for kind in ("lsoa", "msoa", "ward", "lad"):
        if f"{kind}_code" in found:
            col, year = found[f"{kind}_code"]
            if kind in ("lsoa", "msoa"):
                if year not in (2011, 2021):
                    raise SchemaError(
                        f"{path}: column {col!r} does not say whether these are 2011 or 2021 {kind.upper()}s; "
                        f"pass level='{kind}21' or level='{kind}11'"
                    )
                return f"{kind}{year % 100}"
            return kind
    raise SchemaError(
        f"{path}: no area code column found; expected e.g. LSOA21CD, LSOA11CD, MSOA21CD, WD25CD or LAD25CD, "
        "or pass level=... and code_column=..."
    )


#: What GDAL (through pyogrio) raises for a file it cannot read.
GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError,
               pyogrio.errors.GeometryError, pyogrio.errors.CRSError)


def read_vector(p: str | os.PathLike, layer: str | None = None, where: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer of a vector file (any GDAL format, or GeoParquet) as it is.

    GDAL's errors (a corrupt or truncated file, an unknown layer, a bad filter) are one :class:`SchemaError`
    naming the file; every reader of GIS files goes through here.
    """
    if os.fspath(p).lower().endswith(".parquet"):
        try:
            return gpd.read_parquet(p)
        except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
            raise SchemaError(f"{p}: not a readable GeoParquet file ({e}); check the file") from None
    try:
        return gpd.read_file(p, layer=layer, where=where)
    except (*GDAL_ERRORS, OSError, ValueError) as e:
        raise gdal_error(e, p, layer=layer, where=where) from None


def gdal_error(e: Exception, p: str | os.PathLike, *, layer: str | None = None, where: str | None = None
               ) -> SchemaError:
    """Return a one-line :class:`SchemaError` for GDAL's error ``e`` reading ``p``: its reason, not its hints."""
    reason = (str(e).splitlines() or [type(e).__name__])[0].replace(f"'{os.fspath(p)}' ", "")
    if "failed: " in reason:  # SQLite's statement, then its reason: the reason
        reason = reason.rsplit("failed: ", 1)[1]
    reason = reason.split("; It might help")[0].split(";")[0].rstrip(" .") or type(e).__name__
    what = f"layer {layer!r} of " if layer is not None else ""
    return SchemaError(f"{what}{p}: not a readable GIS file ({reason})" + (f" with where={where!r}" if where else "")
                       + "; expected a GeoPackage, GeoJSON, Shapefile or other vector file")


def read_boundaries(
    path: str | os.PathLike,
    *,
    level: str | None = None,
    layer: str | None = None,
    code_column: str | None = None,
    where: str | None = None,
) -> gpd.GeoDataFrame:
    """Read boundaries from GeoJSON, GeoPackage, Shapefile or GeoParquet, in any CRS.

    Parameters
    ----------
    path
        The file. A GeoPackage with several layers needs ``layer`` unless one is named ``level``.
    level
        ``"lsoa21"``, ``"lsoa11"``, ``"msoa21"``, ``"msoa11"``, ``"ward"`` or ``"lad"``.
        Inferred from the code column (``LSOA21CD`` -> ``lsoa21``) when not given.
    code_column
        Name of the area code column, when it is not recognised from its name.
    where
        An OGR SQL filter applied while reading, e.g. ``"LAD24CD LIKE 'E%'"`` to keep the
        English councils of a UK-wide file.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:27700, indexed by ``lsoa_code``/``msoa_code``/``ward_code``/``lad_code``, with
        ``*_name`` and ``lad_code`` columns where the file has them. ``attrs["level"]`` is the
        level and ``attrs["lsoa_year"]`` the LSOA geography year (LSOA levels only).
        Invalid geometries are repaired (``make_valid``) and counted in the log.

    Raises
    ------
    SchemaError
        No code column, codes of the wrong kind, duplicated codes, empty geometries.
    CRSError
        The file declares no CRS.
    """
    p = require_file(path, "boundary")
    if level is not None and level not in LEVELS:
        raise SchemaError(f"level was {level!r} but is expected to be one of {list(LEVELS)}")
    if p.suffix.lower() == ".parquet":
        if where is not None:
            raise SchemaError(f"{p}: where=... filters are not supported for GeoParquet; filter the frame instead")
        try:
            gdf = gpd.read_parquet(p)
        except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
            raise SchemaError(f"{p}: not a readable GeoParquet file ({e}); check the file") from None
    else:
        try:
            layers = [name for name, _ in pyogrio.list_layers(p)]
        except Exception as e:  # noqa: BLE001 - GDAL's own message is the useful part
            raise gdal_error(e, p) from None
        if layer is None and len(layers) > 1:
            if level in layers:
                layer = level
            else:
                raise SchemaError(f"{p} has {len(layers)} layers ({', '.join(layers)}); pass layer=... to choose one")
        gdf = read_vector(p, layer, where)
    gdf = to_bng(gdf, source=str(p))

    found = find_area_columns(gdf.columns)
    if code_column is not None:
        if code_column not in gdf.columns:
            raise SchemaError(f"{p}: code_column {code_column!r} not found; columns are {list(gdf.columns)}")
    level = level or _infer_level(found, p)
    prefix, year, index_name = LEVELS[level]
    kind = index_name.removesuffix("_code")
    if code_column is None:
        if f"{kind}_code" not in found:
            raise SchemaError(f"{p}: no {kind.upper()} code column found for level {level!r}; pass code_column=...")
        code_column, col_year = found[f"{kind}_code"]
        if year and col_year and col_year != year:
            raise SchemaError(
                f"{p}: level {level!r} was asked for but column {code_column!r} holds {kind.upper()} {col_year} codes"
            )

    rename = {code_column: index_name}
    for canon in (f"{kind}_name", "lad_code", "lad_name"):
        if canon in found and found[canon][0] not in rename and canon != index_name:
            rename[found[canon][0]] = canon
    out = gdf[[*rename, gdf.geometry.name]].rename(columns=rename)
    out = out.rename_geometry("geometry") if out.geometry.name != "geometry" else out
    out[index_name] = out[index_name].astype(str).str.strip()

    codes = out[index_name]
    bad = codes[~codes.str.startswith(prefix)]
    if len(bad):
        i = bad.index[0]
        raise SchemaError(
            f"{p}, column {code_column!r}, feature {i + 1:,}: {bad.iloc[0]!r} is not a {kind.upper()} code "
            f"(expected codes starting {prefix}); {len(bad):,} such features"
        )
    dup = codes[codes.duplicated()]
    if len(dup):
        raise SchemaError(f"{p}, column {code_column!r}: code {dup.iloc[0]!r} appears more than once "
                          f"({dup.nunique():,} duplicated codes); expected one feature per area")
    empty = out.geometry.isna() | out.geometry.is_empty
    if empty.any():
        rows = ", ".join(f"feature {i + 1:,} ({codes[i]})" for i in out.index[empty][:5])
        raise SchemaError(f"{p}: {int(empty.sum()):,} features have no geometry: {rows}")
    invalid = ~out.geometry.is_valid
    if invalid.any():
        log.warning("%s: repaired %d invalid geometries with make_valid", p, int(invalid.sum()))
        out.loc[invalid, "geometry"] = shapely.make_valid(out.geometry[invalid].values)

    out = out.set_index(index_name)
    out.attrs = {"level": level, "source": os.fspath(p)}
    if year and kind == "lsoa":
        out.attrs["lsoa_year"] = year
    log.info("%s: %d %s areas", Path(p).name, len(out), level)
    return out
