"""Plumbing for reading and writing files: encodings, atomic writes."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from ._errors import DataNotFoundError, SchemaError

ENCODINGS = ("utf-8-sig", "cp1252")

#: The ``last_change`` time stamp GDAL writes into every GeoPackage geotarget writes, pinned
#: (GDAL's ``OGR_CURRENT_DATE``) so that the same inputs give byte-identical files; the real
#: time of a run is in the output folder's ``manifest.json``.
GPKG_TIMESTAMP = "2025-10-30T00:00:00Z"


def require_file(path: str | os.PathLike, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"{p}: {what} file not found")
    return p


def read_csv_text(path: Path) -> pd.DataFrame:
    """Read a CSV (optionally gzipped) with every cell as text, trying UTF-8 then Windows-1252.

    Reading as text lets validation report the value exactly as it appears in the file.
    """
    last: Exception | None = None
    for enc in ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError as e:
            last = e
        except pd.errors.ParserError as e:
            raise SchemaError(f"{path}: not a readable CSV file ({e})") from None
        except pd.errors.EmptyDataError:
            raise SchemaError(f"{path}: the file is empty; expected a header row and data") from None
    raise SchemaError(f"{path}: could not decode the file as UTF-8 or Windows-1252 ({last})")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_csv(path: str | os.PathLike, frame: pd.DataFrame, *, index: bool = False) -> Path:
    """Write a table as UTF-8 CSV with ``\\n`` line ends, atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=index, lineterminator="\n")
    return Path(path)


def write_geopackage(path: str | os.PathLike, layers: dict) -> Path:
    """Write one or more GeoDataFrames as the layers of one GeoPackage, atomically.

    ``layers`` maps layer name to frame; a named index (e.g. ``lsoa_code``) becomes a column.
    Every GeoPackage geotarget writes goes through here, so they share one set of conventions.
    """
    import pyogrio

    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        with atomic_path(path) as tmp:
            for i, (name, frame) in enumerate(layers.items()):
                flat = frame.reset_index() if frame.index.name is not None else frame.reset_index(drop=True)
                pyogrio.write_dataframe(flat, tmp, layer=name, driver="GPKG", append=i > 0)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return Path(path)
