"""Publish an output folder as a whole: lock it, write into a staging folder, then swap it into place.

Every command that writes an output folder does so through :func:`publishing`::

    with publishing(out, command="cluster", parameters={...}) as pub:
        pub.prov.add_sources(data.sources)          # every file read (or pub.prov.add_input)
        write_csv(pub.dir / "gaps.csv", table)      # write into the staging folder
        paths = pub.final({"gaps": pub.dir / "gaps.csv"})   # where the files will be once published

What this guarantees:

* **A lock.** While a run writes ``DIR`` it holds ``.DIR.geotarget.lock`` beside it (its PID, host and
  start time). A second run into ``DIR`` stops at once with "DIR is being written by another geotarget
  run (pid N) since T". A lock left by a process that is no longer running (killed) is taken over,
  and the log says so.
* **Whole-folder publication.** Everything is written into a hidden staging folder beside ``DIR``
  (``.DIR.geotarget-staging.PID``); ``manifest.json`` is written last, listing every file in it with
  its SHA-256. Only then is the old ``DIR`` renamed aside, the staging folder renamed to ``DIR`` and
  the old folder removed. Readers see the old complete folder or the new complete folder, never a
  mixture. A run that fails or is killed leaves the previous ``DIR`` as it was; the next run into
  ``DIR`` removes the staging folders it left (and puts back an old folder if the run was killed
  between the two renames).
* **No overwrites of inputs.** Before publishing (and as each input is recorded) the run's
  :class:`~geotarget.io.provenance.Provenance` refuses an output folder that is, or holds, a file the
  run read, also through symlinks and hard links (:meth:`Provenance.check_output`).
* **User files are never deleted.** ``DIR`` is replaced only if it is missing, empty, or a geotarget
  output folder holding nothing but the files its manifest lists; otherwise the run stops before
  doing any work, naming the files that are not geotarget's. The current working folder (or one
  above it) cannot be an output folder.

Nested use (a job that writes into a sub-folder of a folder being published, as ``run`` does with
``hotspots/``) is a pass-through: the outer publication records the inputs and publishes everything.

Test hook (documented, for tests only): if the environment variable ``GEOTARGET_TEST_PAUSE_BEFORE_PUBLISH``
holds a number of seconds, a publication sleeps that long after its manifest is written to the staging
folder and before the swap, so a test can kill the process at that point or start a second run.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import datetime as _dt
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from geotarget.core.errors import GeotargetError, ParameterError
from geotarget.io.provenance import MANIFEST, Provenance, read_manifest

log = logging.getLogger(__name__)

#: Suffix of the lock file beside an output folder (``.DIR.geotarget.lock``).
LOCK_SUFFIX = ".geotarget.lock"
#: Infix of the staging and old folders beside an output folder.
STAGING = ".geotarget-staging."
OLD = ".geotarget-old."
#: The environment variable of the test hook (see the module docstring).
TEST_PAUSE = "GEOTARGET_TEST_PAUSE_BEFORE_PUBLISH"

_ACTIVE: contextvars.ContextVar[tuple[tuple[Path, Provenance], ...]] = contextvars.ContextVar("_ACTIVE", default=())


class OutputBusyError(GeotargetError):
    """Another geotarget run is writing the output folder."""


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_path(out: str | os.PathLike) -> Path:
    """Return the lock file of output ``out`` (a folder or a file): ``.NAME.geotarget.lock`` beside it."""
    p = Path(os.path.abspath(out))
    return p.parent / f".{p.name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def output_lock(out: str | os.PathLike, *, command: str = "") -> Iterator[Path]:
    """Hold the lock of output ``out`` for the block; a stale lock (its process is gone) is taken over.

    Raises
    ------
    OutputBusyError
        If a live process (or one on another host) holds the lock.
    """
    path = lock_path(out)
    record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": _now(), "command": command})
    for _ in range(3):
        try:
            _parent_folder(path, out)
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            _take_over_if_stale(path, out)
            continue
        except OSError as e:
            raise GeotargetError(f"{out}: cannot write there ({e.strerror or e}: {e.filename or path}); give an "
                                 "output in a folder you can write to") from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(record)
        break
    else:  # pragma: no cover - another run took the stale lock between our attempts
        raise OutputBusyError(f"{out} is being written by another geotarget run")
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _parent_folder(path: Path, out, *, create: bool = True) -> None:
    """Create the folder that holds ``path`` (unless not ``create``); raise naming the first part that is a file."""
    for parent in [path.parent, *path.parent.parents]:
        if os.path.lexists(parent):
            if not parent.is_dir():
                raise ParameterError(f"out was {str(out)!r} but {parent} is a file, not a folder",
                                     parameter="out")
            break
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)


def _take_over_if_stale(path: Path, out) -> None:
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
        pid, host, since = int(held["pid"]), str(held["host"]), str(held.get("started", "?"))
    except FileNotFoundError:
        return
    except (ValueError, KeyError, TypeError, OSError):
        # a lock being written this instant, or a corrupt one: stale once it is a minute old
        with contextlib.suppress(FileNotFoundError):
            if time.time() - path.stat().st_mtime < 60:
                raise OutputBusyError(f"{out} is being written by another geotarget run (lock {path})") from None
            log.warning("%s: took over an unreadable lock file %s", out, path)
            path.unlink()
        return
    if host != socket.gethostname():
        raise OutputBusyError(f"{out} is being written by another geotarget run (pid {pid} on {host}) since {since}"
                              f"; if that run is gone, delete {path}")
    if pid != os.getpid() and _alive(pid):
        raise OutputBusyError(f"{out} is being written by another geotarget run (pid {pid}) since {since}")
    if pid == os.getpid():
        raise OutputBusyError(f"{out} is already being written by this process (since {since})")
    log.warning("%s: took over the lock of geotarget run pid %d (since %s), which is no longer running", out, pid,
                since)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _siblings(target: Path, infix: str) -> list[Path]:
    prefix = f".{target.name}{infix}"
    if not target.parent.is_dir():
        return []
    return sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix))


def clean_stale(target: Path) -> list[Path]:
    """Remove the staging and old folders a killed run left beside ``target`` (call with the lock held).

    If ``target`` is missing but an old folder is there (a run killed between its two renames), the
    old folder is put back first. Returns what was removed.
    """
    removed = []
    olds = _siblings(target, OLD)
    if olds and not os.path.lexists(target):
        os.rename(olds[-1], target)
        log.warning("%s: put back the previous outputs, left aside by a run that was stopped", target)
        olds = olds[:-1]
    for p in [*_siblings(target, STAGING), *olds]:
        shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        removed.append(p)
    if removed:
        log.warning("%s: removed %d folder(s) left by a run that was stopped: %s", target, len(removed),
                    ", ".join(p.name for p in removed))
    return removed


def _foreign_files(folder: Path) -> list[str]:
    """Files in ``folder`` that its geotarget manifest does not list (all of them if it has no manifest)."""
    present = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())
    if not present:
        return []
    try:
        listed = {e["path"] for e in read_manifest(folder).get("outputs", [])} | {MANIFEST}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return present
    return [p for p in present if p not in listed]


def check_replaceable(out: Path) -> None:
    """Raise unless ``out`` may be replaced as a whole (missing, empty, or nothing but geotarget outputs)."""
    if os.path.lexists(out) and not out.is_dir():
        raise ParameterError(f"out was {str(out)!r}, which is a file, not a folder: give a folder", parameter="out")
    _parent_folder(out, out, create=False)
    here = Path.cwd().resolve()
    real = out.resolve()
    if real == here or real in here.parents:
        raise ParameterError(f"out was {str(out)!r}, which is the current folder (or holds it): geotarget "
                             "replaces its output folder as a whole, so give a sub-folder (e.g. outputs)",
                             parameter="out")
    if out.is_dir():
        foreign = _foreign_files(out)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise ParameterError(f"out was {str(out)!r}, which holds files that are not outputs of a geotarget run "
                                 f"({shown}); geotarget replaces its output folder as a whole and never deletes "
                                 "other files: give an empty or new folder", parameter="out")


@dataclasses.dataclass
class Publication:
    """An output folder being written: ``dir`` (write here), ``prov`` (record inputs), ``final()`` (paths after)."""

    out: Path | None
    dir: Path | None
    prov: Provenance | None
    nested: bool = False

    def final(self, value: Any) -> Any:
        """``value`` with every path inside the staging folder mapped to where it will be once published."""
        if self.out is None or self.dir is None or self.nested:
            return value
        if isinstance(value, Mapping):
            return type(value)({k: self.final(v) for k, v in value.items()}) if isinstance(value, dict) else value
        if isinstance(value, Path):
            try:
                return self.out / value.relative_to(self.dir)
            except ValueError:
                return value
        return value


def _active_parent(out: Path) -> tuple[Path, Provenance] | None:
    real = out.resolve()
    for root, prov in reversed(_ACTIVE.get()):
        if real == root or root in real.parents:
            return root, prov
    return None


@contextlib.contextmanager
def publishing(out: str | os.PathLike | None, *, command: str, parameters: Mapping[str, Any] | None = None,
               provenance: Provenance | None = None) -> Iterator[Publication]:
    """Own output folder ``out`` while the block writes into ``pub.dir``; publish it whole at the end.

    See the module docstring. ``out=None`` writes nothing (``pub.dir`` is ``None``). A folder inside one
    being published is written in place and recorded by the outer publication. ``provenance``: a
    recorder the caller made (its ``out_dir`` is set to the staging folder).
    """
    if out is None:
        yield Publication(None, None, provenance)
        return
    target = Path(os.path.abspath(out))
    if target.is_symlink() and target.is_dir():  # a link to the folder: publish the folder itself
        target = target.resolve()
    outer = _active_parent(target)
    if outer is not None:
        target.mkdir(parents=True, exist_ok=True)
        for e in (provenance.inputs if provenance is not None and provenance is not outer[1] else []):
            outer[1].add_input(e["path"], role=e["role"], vintage=e.get("vintage"))
        yield Publication(target, target, outer[1], nested=True)
        return
    prov = provenance or Provenance(target, command=command, parameters=parameters)
    prov.protect(target)  # the inputs known so far: refused before anything else is looked at
    check_replaceable(target)
    with output_lock(target, command=command):
        clean_stale(target)
        check_replaceable(target)
        staging = target.parent / f".{target.name}{STAGING}{os.getpid()}"
        try:
            staging.mkdir()
        except OSError as e:
            raise GeotargetError(f"{out}: cannot write there ({e.strerror or e}: {staging}); give an output "
                                 "folder you can write to") from None
        prov.out_dir = staging
        token = _ACTIVE.set((*_ACTIVE.get(), (staging.resolve(), prov)))
        try:
            try:
                yield Publication(target, staging, prov)
            finally:
                _ACTIVE.reset(token)
            prov.check_output(target)
            prov.record_folder(staging)
            prov.write()
            _test_pause()
            _swap(staging, target)
            prov.path = target / prov.manifest_name
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def _test_pause() -> None:
    seconds = os.environ.get(TEST_PAUSE)
    if seconds:
        log.warning("test hook %s: pausing %s s before publishing", TEST_PAUSE, seconds)
        time.sleep(float(seconds))


def _swap(staging: Path, target: Path) -> None:
    """Put ``staging`` in place of ``target``: rename the old folder aside, rename the new one in, remove the old."""
    if not os.path.lexists(target):
        os.rename(staging, target)
        return
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()
        os.rename(staging, target)
        return
    old = target.parent / f".{target.name}{OLD}{os.getpid()}"
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except OSError:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def publishing_file(out: str | os.PathLike, provenance: Provenance) -> Iterator[Path]:
    """Own a single output file ``out`` (and its manifest beside it) while the block writes it.

    The file and its manifest are each written atomically (write then rename) by the block and the
    recorder; the lock keeps a second run out, and the recorder refuses ``out`` if it is an input.
    """
    target = Path(os.path.abspath(out))
    if target.is_dir():
        raise ParameterError(f"out was {str(out)!r}, which is a folder: give a file name", parameter="out")
    with output_lock(target, command=provenance.command):
        provenance.protect(target)
        provenance.protect(target.parent / provenance.manifest_name)
        yield target


__all__ = ["LOCK_SUFFIX", "OutputBusyError", "Publication", "TEST_PAUSE", "check_replaceable", "clean_stale",
           "lock_path", "output_lock", "publishing", "publishing_file"]
