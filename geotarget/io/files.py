"""Plumbing for reading and writing files: required inputs, atomic writes (text tables: :mod:`geotarget.io.tables`)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from geotarget.core.errors import DataNotFoundError, GeotargetError, SchemaError

#: The ``last_change`` time stamp GDAL writes into every GeoPackage geotarget writes, pinned
#: (GDAL's ``OGR_CURRENT_DATE``) so that the same inputs give byte-identical files; the real
#: time of a run is in the output folder's ``manifest.json``.
GPKG_TIMESTAMP = "2025-10-30T00:00:00Z"


def require_file(path: str | os.PathLike, what: str) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`, or raise :class:`DataNotFoundError` naming ``what``.

    Raises
    ------
    DataNotFoundError
        If ``path`` is not an existing file (or is a folder).
    """
    p = Path(path)
    if p.is_dir():
        raise DataNotFoundError(f"{p}: is a folder; expected the {what} file (give the file's path)")
    if not p.is_file():
        raise DataNotFoundError(f"{p}: {what} file not found")
    return p


#: What to do about an operating-system error, by errno (see :func:`os_error`).
_OS_FIXES = {
    errno.ENOSPC: "no space left on the device; free some space or write to another folder",
    errno.EDQUOT: "the disk quota is used up; free some space or write to another folder",
    errno.EROFS: "the folder is on a read-only file system; write to another folder",
    errno.EACCES: "permission denied; write to a folder you can write to, or change its permissions",
    errno.EPERM: "permission denied; write to a folder you can write to, or change its permissions",
    errno.EISDIR: "this is a folder, not a file; give a file name",
    errno.ENOTDIR: "part of this path is a file, not a folder; give a folder path",
    errno.EEXIST: "a file of this name is in the way of a folder; give another path or move the file",
    errno.ENAMETOOLONG: "the file name is too long; give a shorter path",
}


def os_error(e: OSError, path: str | os.PathLike | None = None, *, action: str = "write") -> GeotargetError:
    """Return a one-line :class:`GeotargetError` for an operating-system error ``e``, naming the path and the fix.

    ``path`` is the file being written or read (default: the one ``e`` names); ``action`` says which.
    Disk full (``ENOSPC``), read-only (``EROFS``), permission (``EACCES``), a folder where a file was
    expected (``EISDIR``) or a file where a folder was (``ENOTDIR``, ``EEXIST``) each say what to fix.
    A :class:`GeotargetError` is returned unchanged.
    """
    if isinstance(e, GeotargetError):
        return e
    where = os.fspath(path) if path is not None else os.fspath(e.filename) if e.filename is not None else None
    if e.errno == errno.ENOENT and action == "read":
        return DataNotFoundError(f"{where}: file not found; check the path")
    fix = _OS_FIXES.get(e.errno, f"{e.strerror or e}; check the path and the disk")
    if where is None:
        return GeotargetError(f"could not {action} a file: {fix}")
    named = f" ({e.filename})" if e.filename is not None and os.fspath(e.filename) != where else ""
    return GeotargetError(f"{where}: could not {action}{named}: {fix}")


#: How GDAL and SQLite word the operating-system errors of :data:`_OS_FIXES` in their own exceptions.
_WORDED = {"no space left": errno.ENOSPC, "disk is full": errno.ENOSPC, "disk quota": errno.EDQUOT,
           "read-only file system": errno.EROFS, "permission denied": errno.EACCES}


def _errno_in(e: Exception) -> int | None:
    """Return the errno a GDAL (pyogrio) or SQLite error reports in its words, or None (then it is not an OS error)."""
    if not type(e).__module__.startswith(("pyogrio", "sqlite3")):
        return None
    text = str(e).lower()
    return next((code for words, code in _WORDED.items() if words in text), None)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only if the block succeeds.

    An operating-system error while creating the folder, writing or moving the file into place
    (disk full, read-only folder, permission, a folder or file in the way) is raised as a
    one-line :class:`GeotargetError` naming ``path`` and the fix (:func:`os_error`); nothing is left behind.
    """
    target = Path(path)
    try:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
        os.close(fd)
        os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    except OSError as e:
        raise os_error(e, target) from e
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as e:
        raise os_error(e, target) from e
    except Exception as e:  # GDAL (pyogrio) and SQLite report a full disk or a refused write in their own errors
        code = _errno_in(e)
        if code is None:
            raise
        raise os_error(OSError(code, os.strerror(code)), target) from e
    finally:
        with contextlib.suppress(OSError):
            if tmp_path.is_dir():
                import shutil

                shutil.rmtree(tmp_path)
            elif tmp_path.exists():
                tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_path`) and return ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


#: First characters that make a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a
#: formula or command (OWASP "CSV Injection"): ``=``, ``+``, ``-``, ``@``, tab and carriage return.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Text that is a plain number (``-1.5``, ``+3``, ``-2e-05``): a spreadsheet reads it as that number.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def csv_cell(value: object) -> object:
    r"""``value`` as safe to open in a spreadsheet: text that would start a formula gets a leading ``'``.

    Per the OWASP guidance on CSV injection, a text cell starting with ``=``, ``+``, ``-``, ``@``, tab
    or carriage return is prefixed with a single quote, which spreadsheets show as text and never run.
    Numbers, and text that is just a number such as ``"-1.5"``, are unchanged. A carriage return inside
    text becomes a line feed: written unquoted (as Python's CSV writer does with ``\n`` line ends), a
    bare ``\r`` would end the row in a spreadsheet and start a new one with what follows it.

    >>> csv_cell("=HYPERLINK(A1)"), csv_cell("@SUM(A1)"), csv_cell("-1.5"), csv_cell(-2), csv_cell("Norton")
    ("'=HYPERLINK(A1)", "'@SUM(A1)", '-1.5', -2, 'Norton')
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


def _safe_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell, column name and index label passed through :func:`csv_cell`.

    Only text columns are looked at (numbers cannot start a formula); the input is never changed, and
    is returned as it is when nothing needs neutralising.
    """
    out = frame
    for i, dtype in enumerate(frame.dtypes):
        col = frame.iloc[:, i]
        if isinstance(dtype, pd.CategoricalDtype):
            col = col.astype(object)
        elif not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
            continue
        values = col.tolist()
        safe = [csv_cell(v) for v in values]
        if any(a is not b for a, b in zip(values, safe, strict=True)):
            if out is frame:
                out = frame.copy()
            out.isetitem(i, pd.Series(safe, index=frame.index, dtype=object))
    labels = [*frame.columns.to_flat_index(), *frame.index.to_flat_index()]
    if any(csv_cell(x) is not x for label in labels for x in (label if isinstance(label, tuple) else (label,))):
        out = out.rename(index=csv_cell, columns=csv_cell)
    names = [*frame.columns.names, *frame.index.names]
    if any(csv_cell(n) is not n for n in names):
        out = out.rename_axis(index=[csv_cell(n) for n in frame.index.names],
                              columns=[csv_cell(n) for n in frame.columns.names])
    return out



def sha256_file(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    """Return the SHA-256 of a file, hex (read in blocks): inputs, outputs, the data cache and its records."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()

def write_csv(path: str | os.PathLike, frame: pd.DataFrame, *, index: bool = False) -> Path:
    r"""Write a table as UTF-8 CSV with ``\n`` line ends, atomically, safe to open in a spreadsheet.

    This is the one place geotarget writes CSV. Text that a spreadsheet would run as a formula
    (a site called ``=HYPERLINK(...)``, a ward called ``@SUM(...)``) is written with a leading ``'``
    (see :func:`csv_cell`); numbers are written as they are.
    """
    with atomic_path(path) as tmp:
        _safe_cells(frame).to_csv(tmp, index=index, lineterminator="\n")
    return Path(path)


def write_geopackage(path: str | os.PathLike, layers: dict, *, styles: dict | None = None,
                     default_style=None) -> Path:
    """Write one or more GeoDataFrames as the layers of one GeoPackage, atomically.

    ``layers`` maps layer name to frame; a named index (e.g. ``lsoa_code``) becomes a column.
    Every GeoPackage geotarget writes goes through here, so they share one set of conventions.

    Each layer gets a default QGIS style (a row in the GeoPackage's ``layer_styles``
    table, which QGIS reads when the layer is added): ``styles`` maps a layer name to
    QML text or to ``None`` for no style; layers not in it get ``default_style(frame)``
    (a ``(qml, description)`` pair), when given. :func:`geotarget.render.qgis.write_styled_geopackage`
    passes :func:`geotarget.render.qgis.auto_style` (IMD deciles, area profiles, points by category,
    labelled outlines).
    """
    import pyogrio

    styles = styles or {}
    unknown = [name for name in styles if name not in layers]
    if unknown:
        raise SchemaError(f"{path}: styles given for layer(s) {unknown} that are not among the layers {list(layers)}")
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_TIMESTAMP})
    try:
        with atomic_path(path) as tmp:
            rows = []
            for i, (name, frame) in enumerate(layers.items()):
                flat = frame.reset_index() if frame.index.name is not None else frame.reset_index(drop=True)
                pyogrio.write_dataframe(flat, tmp, layer=name, driver="GPKG", append=i > 0,
                                        use_arrow=_arrow_writes_same(flat))
                if name in styles:
                    if styles[name] is not None:
                        rows.append((name, styles[name], "style given by the caller"))
                elif default_style is not None and hasattr(frame, "geometry"):
                    rows.append((name, *default_style(frame)))
            if rows:
                _write_layer_styles(tmp, rows)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    return Path(path)


def _arrow_writes_same(frame: pd.DataFrame) -> bool:
    """Whether pyogrio's Arrow writer gives the same GeoPackage bytes as its row writer for ``frame``.

    The Arrow path hands GDAL whole columns at once (about twice as fast on England's LSOAs). The
    two paths write identical files for numbers, booleans and text columns (with or without missing
    values); they differ for some object columns (e.g. booleans with missing values) and for empty
    frames, so anything else goes through the row writer. Needs pyarrow and GDAL >= 3.8.
    """
    import pyogrio

    if pyogrio.__gdal_version__ < (3, 8, 0) or frame.empty:  # an empty layer's field types differ
        return False
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    for name, dtype in frame.dtypes.items():
        if str(dtype) == "geometry" or isinstance(dtype, pd.StringDtype):
            continue
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            continue
        kind = pd.api.types.infer_dtype(frame[name], skipna=True) if pd.api.types.is_object_dtype(dtype) else None
        if kind in ("string", "empty"):
            continue
        return False
    return True


#: The ``layer_styles`` table as QGIS creates it in a GeoPackage.
_LAYER_STYLES_DDL = """CREATE TABLE IF NOT EXISTS "layer_styles" (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, "f_table_catalog" TEXT(256), "f_table_schema" TEXT(256),
  "f_table_name" TEXT(256), "f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT,
  "styleSLD" TEXT, "useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30),
  "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def _write_layer_styles(gpkg: Path, rows: list[tuple[str, str, str]]) -> None:
    """Add one default style per layer to ``gpkg``'s ``layer_styles`` table.

    The table is registered in ``gpkg_contents`` as an attributes table, as QGIS does.
    """
    import sqlite3

    con = sqlite3.connect(gpkg)
    try:
        with con:
            geometry_column = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
            con.execute(_LAYER_STYLES_DDL)
            con.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
                "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS layer styles', ?)", (GPKG_TIMESTAMP,)
            )
            for name, qml, description in rows:
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                    "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                    "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'geotarget', NULL, ?)",
                    (name, geometry_column.get(name, "geom"), name, qml, description, GPKG_TIMESTAMP),
                )
    finally:
        con.close()
