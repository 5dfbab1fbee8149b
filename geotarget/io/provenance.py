"""Provenance: a manifest in every output folder, and the standard "Data: ...; parameters: ..." line.

Every command that writes outputs records what it read and what it wrote::

    with Provenance(out_dir, command="run", parameters={"vintage": 2025}) as prov:
        prov.add_input("File_7_IoD2025.csv", role="imd", vintage="IoD2025, LSOA 2021")
        ...                                    # compute and write outputs
        prov.add_output(out_dir / "imd2025_lsoas.csv")

On leaving the block, ``manifest.json`` is written atomically to ``out_dir``:

* ``inputs``: path, role, SHA-256, size and vintage of every file read;
* ``outputs``: path (relative to the folder), SHA-256 and size of every file written;
* ``parameters`` as given; ``notes`` (e.g. "ward outlines built from LSOAs");
* the geotarget version and the versions of the libraries that shape the numbers (numpy,
  pandas, geopandas, shapely/GEOS, pyogrio/GDAL, pyproj/PROJ, libpysal, scikit-learn, folium...);
* the platform, and the run time: ``started``, ``finished``, ``duration_seconds``
  (:data:`TIME_FIELDS`, the only fields that differ between two runs on the same inputs).

If the block raises after some outputs were written, the manifest still records them, with
``"status": "failed"`` and the error, so a folder never carries a stale "ok" manifest. If it
raises before anything was written, nothing is written (and an older manifest is kept).
Commands that write a folder use :func:`geotarget.io.publish.publishing`, which writes the
manifest itself (listing every file of the folder) and publishes the folder as a whole.

The recorder is also the one place that knows every input of a run: :meth:`Provenance.protect`
and :meth:`Provenance.check_output` refuse an output that is, holds or links to an input;
:func:`verify_outputs` (``geotarget verify DIR``) checks a folder against its manifest.

Outputs that state their data in words (HTML maps, Markdown reports) use
:meth:`Provenance.data_line` or :func:`data_line`, which hold no time stamp, so the outputs
stay byte-identical between runs.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import platform
import time
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from geotarget.core.errors import ParameterError
from geotarget.io.files import sha256_file, write_text_atomic

log = logging.getLogger(__name__)

#: File name of the manifest in an output folder.
MANIFEST = "manifest.json"
#: Format version of the manifest (bump when fields change meaning).
MANIFEST_VERSION = 1
#: The fields that record when a run happened: everything else is reproducible.
TIME_FIELDS = ("started", "finished", "duration_seconds")
#: Python distributions whose versions are recorded (those installed).
LIBRARIES = ("numpy", "pandas", "geopandas", "shapely", "pyogrio", "pyproj", "pyarrow", "scipy", "libpysal",
             "esda", "spopt", "mapclassify", "scikit-learn", "folium", "branca", "jinja2", "matplotlib", "dask",
             "dask-geopandas")

_INPUT_HASHES: dict[tuple[str, int, int, int], str] = {}


def _input_sha256(p: Path) -> str:
    """SHA-256 of an input file, remembered per (path, inode, size, modification time) in this process."""
    st = p.stat()
    key = (str(p.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _INPUT_HASHES:
        _INPUT_HASHES[key] = sha256_file(p)
    return _INPUT_HASHES[key]


def library_versions() -> dict[str, str]:
    """Versions of geotarget's key libraries and of the C libraries beneath them (GDAL, GEOS, PROJ)."""
    out: dict[str, str] = {}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    try:
        import pyogrio

        out["GDAL"] = pyogrio.__gdal_version_string__
    except (ImportError, AttributeError):  # pragma: no cover - pyogrio is a dependency
        pass
    try:
        import shapely

        out["GEOS"] = shapely.geos_version_string
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    try:
        import pyproj

        out["PROJ"] = pyproj.proj_version_str
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    return out


def platform_info() -> dict[str, str]:
    """Return the Python version and implementation, and the system, release and machine, for the manifest."""
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "system": platform.system(), "release": platform.release(), "machine": platform.machine()}


def _geotarget_version() -> str:
    from geotarget.core.version import __version__

    return __version__


def _jsonable(value: Any) -> Any:
    """Parameters as JSON: paths as text, tuples and sets as lists, mappings recursively."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return [_jsonable(v) for v in sorted(value, key=str)]
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def format_value(value: Any) -> str:
    """Format a parameter value as people read it: lists joined with commas, booleans as yes/no."""
    value = _jsonable(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k} {format_value(v)}" for k, v in value.items())
    return "none" if value is None else str(value)


def data_line(vintages: Iterable[str], parameters: Mapping[str, Any] | None = None) -> str:
    """Return the standard statement of data and parameters for HTML and Markdown outputs.

    >>> data_line(["IoD2025, LSOA 2021 (MHCLG)", "wards May 2025"], {"councils": ["E06000004"], "map": True})
    'Data: IoD2025, LSOA 2021 (MHCLG); wards May 2025. Parameters: councils = E06000004; map = yes.'
    """
    seen = list(dict.fromkeys(v for v in vintages if v))
    text = "Data: " + ("; ".join(seen) if seen else "not stated") + "."
    if parameters:
        text += " Parameters: " + "; ".join(f"{k} = {format_value(v)}" for k, v in parameters.items()) + "."
    return text


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


class Provenance:
    """Record the inputs, parameters and outputs of one command; write the folder's manifest.

    Parameters
    ----------
    out_dir
        The output folder; the manifest is written there.
    command
        The command or function, e.g. ``"run"``, ``"aggregate"``.
    parameters
        What the user chose (JSON-able values; paths become text).
    manifest
        File name of the manifest (default ``manifest.json``). Commands whose output is one
        file in a folder the user may share with other outputs use ``<file>.manifest.json``.
    """

    def __init__(self, out_dir: str | os.PathLike, *, command: str, parameters: Mapping[str, Any] | None = None,
                 manifest: str = MANIFEST):
        self.out_dir = Path(out_dir)
        self.command = command
        self.parameters: dict[str, Any] = dict(parameters or {})
        self.manifest_name = manifest
        self.inputs: list[dict[str, Any]] = []
        self.outputs: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.started = _now()
        self._t0 = time.perf_counter()
        self.path: Path | None = None
        self.protected: list[Path] = []  #: outputs about to be (re)placed: never an input (:meth:`check_output`)

    # ------------------------------------------------------------------ recording
    def add_input(self, path: str | os.PathLike, *, role: str, vintage: str | None = None,
                  description: str | None = None) -> dict[str, Any]:
        """Record a file that was read (hashed now); the same role and path are recorded once."""
        p = Path(path).expanduser()
        resolved = str(p.resolve())
        for entry in self.inputs:
            if entry["role"] == role and entry["path"] == resolved:
                return entry
        for target in self.protected:
            _refuse_overlap(target, [p])
        entry: dict[str, Any] = {"role": role, "path": resolved, "sha256": _input_sha256(p),
                                 "bytes": p.stat().st_size, "vintage": vintage}
        if description:
            entry["description"] = description
        self.inputs.append(entry)
        return entry

    def add_sources(self, sources: Iterable[Any]) -> None:
        """Record data files: objects with ``path``, ``role`` and ``vintage`` (``StudyData.sources``)."""
        for s in sources:
            self.add_input(s.path, role=s.role, vintage=getattr(s, "vintage", None))

    def protect(self, target: str | os.PathLike) -> None:
        """Declare ``target`` (an output folder or file) as about to be replaced: inputs must lie outside it.

        Checks the inputs recorded so far now, and every later :meth:`add_input` as it is recorded.
        """
        t = Path(os.path.abspath(target))
        if t not in self.protected:
            self.protected.append(t)
        self.check_output(t)

    def check_output(self, target: str | os.PathLike) -> None:
        """Raise :class:`~geotarget.core.errors.ParameterError` if writing ``target`` would replace an input.

        ``target`` is refused if it is an input, holds one (a folder), or is the same file as one
        through a symlink or a hard link (same device and inode), naming both.
        """
        _refuse_overlap(Path(os.path.abspath(target)), [Path(e["path"]) for e in self.inputs])

    def record_folder(self, folder: str | os.PathLike) -> None:
        """Record every file under ``folder`` (but the manifest) as an output, with its SHA-256, in sorted order."""
        root = Path(folder)
        self.outputs = {}
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.relative_to(root).as_posix() != self.manifest_name:
                self.add_output(p)

    def add_output(self, path: str | os.PathLike) -> Path:
        """Record a file that was written (hashed now). Returns ``path``."""
        p = Path(path)
        self.outputs[self._relative(p)] = {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        return p

    def add_note(self, text: str) -> None:
        """Record a note for the manifest (each text once)."""
        if text not in self.notes:
            self.notes.append(text)

    def update_parameters(self, **parameters: Any) -> None:
        """Record (add or replace) parameters of the run."""
        self.parameters.update(parameters)

    def _relative(self, p: Path) -> str:
        try:
            return p.resolve().relative_to(self.out_dir.resolve()).as_posix()
        except ValueError:
            return str(p.resolve())

    # ------------------------------------------------------------------ statements
    def vintages(self) -> list[str]:
        """Return the distinct vintage statements of the inputs, in the order they were read."""
        return list(dict.fromkeys(e["vintage"] for e in self.inputs if e.get("vintage")))

    def data_line(self, parameters: Mapping[str, Any] | None = None) -> str:
        """Return ``"Data: ...; parameters: ..."`` for HTML/Markdown outputs (the recorded parameters by default)."""
        return data_line(self.vintages(), self.parameters if parameters is None else parameters)

    def markdown(self, parameters: Mapping[str, Any] | None = None) -> str:
        """Return a short Markdown paragraph: the data line and the geotarget version (no time stamp)."""
        return f"*{self.data_line(parameters)} Made with geotarget {_geotarget_version()}.*\n"

    # ------------------------------------------------------------------ writing
    def to_dict(self, *, status: str = "ok", error: str | None = None) -> dict[str, Any]:
        """Return the manifest as a dict: command, status, parameters, inputs, outputs, notes, environment, times.

        ``error`` is recorded only if given; ``finished`` and ``duration_seconds`` are taken now.
        """
        finished = _now()
        out: dict[str, Any] = {
            "manifest_version": MANIFEST_VERSION,
            "command": self.command,
            "status": status,
            "geotarget": _geotarget_version(),
            "parameters": _jsonable(self.parameters),
            "inputs": self.inputs,
            "outputs": [{"path": k, **v} for k, v in sorted(self.outputs.items())],
            "notes": self.notes,
            "libraries": library_versions(),
            "platform": platform_info(),
            "started": self.started,
            "finished": finished,
            "duration_seconds": round(time.perf_counter() - self._t0, 3),
        }
        if error is not None:
            out["error"] = error
        return out

    def write(self, *, status: str = "ok", error: str | None = None) -> Path:
        """Write the manifest atomically to ``out_dir`` and return its path."""
        text = json.dumps(self.to_dict(status=status, error=error), indent=2, ensure_ascii=False) + "\n"
        self.path = write_text_atomic(self.out_dir / self.manifest_name, text)
        log.info("provenance: %s (%d inputs, %d outputs)", self.path, len(self.inputs), len(self.outputs))
        return self.path

    def __enter__(self) -> Provenance:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None:
            self.write()
        elif self.outputs:
            self.write(status="failed", error=f"{exc_type.__name__}: {exc}")
        return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _refuse_overlap(target: Path, inputs: Iterable[Path]) -> None:
    """Raise if ``target`` (to be replaced) is, holds, or links to one of ``inputs``."""
    real = Path(os.path.realpath(target))
    files = ([target] if not target.is_dir() else [p for p in target.rglob("*") if p.is_file()]) \
        if os.path.lexists(target) else []
    for inp in inputs:
        rin = Path(os.path.realpath(inp))
        clash = rin == real or real in rin.parents or any(
            _same_file(f, rin) or Path(os.path.realpath(f)) == rin for f in files)
        if clash and rin == real and os.path.realpath(target) == os.path.abspath(target) == os.path.abspath(inp):
            raise ParameterError(f"out was {str(target)!r} but is one of the input files of this run and would be "
                                 "overwritten; choose another name", parameter="out")
        if clash:
            raise ParameterError(f"out was {str(target)!r} but {inp} is an input of this run and would be "
                                 "overwritten by its outputs; choose another output "
                                 + ("folder" if target.is_dir() or not target.suffix else "file"),
                                 parameter="out")


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """Read a manifest (a folder's ``manifest.json`` or the file itself)."""
    p = Path(path)
    if p.is_dir():
        p = p / MANIFEST
    return json.loads(p.read_text(encoding="utf-8"))


def without_time(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Return the manifest minus :data:`TIME_FIELDS`: equal for two runs on the same inputs and machine."""
    return {k: v for k, v in manifest.items() if k not in TIME_FIELDS}


def verify_outputs(folder: str | os.PathLike) -> list[str]:
    """Check an output folder (or a single-file manifest) against its manifest; return the problems.

    ``folder`` is an output folder (its ``manifest.json``) or a manifest file (``<file>.manifest.json``
    beside a single-file output). Problems: no readable manifest; a status other than ``ok``; a file
    listed but missing; a file whose SHA-256 differs; and, for a folder, a file present but not listed.
    An empty list means the outputs are exactly those the run wrote.
    """
    path = Path(folder)
    manifest_path = path / MANIFEST if path.is_dir() else path
    base = manifest_path.parent
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = list(manifest["outputs"])
    except FileNotFoundError:
        return [f"{manifest_path}: no manifest (not a geotarget output folder, or its run did not finish)"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        return [f"{manifest_path}: not a readable geotarget manifest ({type(e).__name__}: {e})"]
    problems = []
    if manifest.get("status") != "ok":
        error = f": {manifest['error']}" if manifest.get("error") else ""
        problems.append(f"{manifest_path}: status is {manifest.get('status')!r}, not 'ok' (the run did not "
                        f"finish{error})")
    listed = set()
    for entry in entries:
        p = Path(entry["path"]) if Path(entry["path"]).is_absolute() else base / entry["path"]
        listed.add(p.resolve())
        if not p.is_file():
            problems.append(f"{p}: listed in the manifest but missing")
        elif sha256_file(p) != entry.get("sha256"):
            problems.append(f"{p}: changed since the manifest was written (SHA-256 differs)")
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and p != manifest_path and p.resolve() not in listed:
                problems.append(f"{p}: not in the manifest (a file the run did not write)")
    return problems


__all__ = [
    "LIBRARIES",
    "MANIFEST",
    "TIME_FIELDS",
    "Provenance",
    "data_line",
    "format_value",
    "library_versions",
    "platform_info",
    "read_manifest",
    "sha256_file",
    "verify_outputs",
    "without_time",
]
