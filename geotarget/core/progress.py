"""Progress of long steps: a bar on a terminal, one log line at the start and end of a step otherwise.

Two helpers mark the long steps: :func:`stage` (a step: ``with stage("reading the IoD"): ...``)
and :func:`progress` (a loop: ``for site in progress(sites, desc="screening sites")``).

* Without bars (the default; what a pipe, a file or a library caller gets), :func:`stage` logs
  ``NAME ...`` and ``NAME: 1.2 s`` to the ``geotarget.progress`` logger at INFO (the CLI shows
  them for study runs and data fetch/add unless ``-q``) and :func:`progress` returns the loop
  untouched; a step marked ``stage(NAME, log=False)`` says nothing.
* Inside ``with show_bars(stream):`` -- which the CLI enters when stderr is a terminal and ``-q``
  is not given -- both draw a tqdm bar on ``stream`` instead: a loop shows its count and rate, a
  step its elapsed time (redrawn twice a second); the log lines are not written then, so the
  terminal shows each step once. Bars are drawn from the main thread only (parallel partitions
  stay quiet).

A :class:`StageLog` collects the timings (and, if asked, the peak memory of each step, sampled
from the process's resident set size) of every step, nested ones with their depth, for benchmarks
and summaries, with or without bars.

Memory is read from Linux's ``/proc`` or, elsewhere on Unix, the ``resource`` module. Where neither
exists (Windows) memory is reported as ``None`` and everything else works the same.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

try:  # Unix only: absent on Windows
    import resource
except ImportError:  # pragma: no cover - exercised by tests/test_portability.py in a subprocess
    resource = None

log = logging.getLogger("geotarget.progress")
_log = log  # ``stage`` takes a ``log`` flag

#: Where Linux reports the process's current memory.
PROC_STATUS = "/proc/self/status"

_ACTIVE: list[StageLog] = []
_DEPTH = [0]  # how many steps are open (the main thread's; steps are not run in parallel)

T = TypeVar("T")

#: Where bars go while :func:`show_bars` is active (``None``: no bars), and the bars open now.
_BARS: dict = {"stream": None, "open": 0}

#: Seconds between redraws of a step's elapsed time.
REFRESH = 0.5


@contextlib.contextmanager
def show_bars(stream: TextIO | None) -> Iterator[None]:
    """Draw progress bars on ``stream`` (a terminal) inside the block; ``None`` leaves bars off.

    Parameters
    ----------
    stream
        The terminal to draw on, normally ``sys.stderr`` when ``sys.stderr.isatty()``.
    """
    before = dict(_BARS)
    _BARS.update(stream=stream, open=0)
    try:
        yield
    finally:
        _BARS.update(before)


def bars_shown() -> bool:
    """Return True when :func:`stage` and :func:`progress` draw bars (inside :func:`show_bars`, main thread)."""
    return _BARS["stream"] is not None and threading.current_thread() is threading.main_thread()


def _screen(stream) -> tuple[int, int]:
    """Return the terminal's columns and lines; 80 x 24 where it reports none (a fresh pty says 0 x 0)."""
    try:
        size = os.get_terminal_size(stream.fileno())
        return size.columns or 80, size.lines or 24
    except (AttributeError, OSError, ValueError):
        return 80, 24


def _bar(**kw):
    from tqdm import tqdm

    # nested bars disappear when done; the outermost stays as the record of the step
    stream = _BARS["stream"]
    cols, lines = _screen(stream)
    return tqdm(file=stream, leave=_BARS["open"] == 0, ncols=cols, nrows=lines, mininterval=0.1, **kw)


def progress(iterable: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "it") -> Iterable[T]:
    """Return ``iterable``, drawn as a progress bar while bars are shown (:func:`show_bars`).

    Parameters
    ----------
    iterable
        The loop's items.
    total
        How many items (default: ``len(iterable)`` when it has one).
    desc, unit
        What the loop does and what it counts, e.g. ``desc="screening sites", unit="site"``.

    Returns
    -------
    Iterable
        ``iterable`` itself without bars (nothing logged); a tqdm wrapper with them.
    """
    if not bars_shown():
        return iterable
    return _progress(iterable, total, desc, unit)


def _progress(iterable, total, desc, unit):
    bar = _bar(iterable=iterable, total=total, desc=desc, unit=unit)
    _BARS["open"] += 1
    try:
        yield from bar
    finally:
        _BARS["open"] -= 1
        bar.close()


def rss_mb() -> float | None:
    """Return the current resident set size in MB (Linux ``/proc``; other Unix: the peak so far; else ``None``)."""
    try:
        with open(PROC_STATUS, encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    if resource is None:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _max(*values: float | None) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


@dataclass
class Stage:
    """A finished step: its name, wall time in seconds, peak memory in MB (``None`` if not sampled), nesting."""

    name: str
    seconds: float
    peak_mb: float | None = None
    depth: int = 0  #: 0 for a top-level step, 1 for a step inside it, ...
    start: float = 0.0  #: ``time.perf_counter()`` when it started (steps are recorded as they end)
    cpu_seconds: float | None = None  #: CPU time of the process (all threads) during the step


@dataclass(eq=False)
class StageLog:
    """Collects the steps run inside ``with StageLog() as stages: ...`` (nested logs all collect)."""

    memory: bool = False  #: sample memory every ``interval`` seconds during each step
    interval: float = 0.02
    stages: list[Stage] = field(default_factory=list)

    def __enter__(self) -> StageLog:
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc) -> None:
        _ACTIVE.remove(self)

    @property
    def active(self) -> bool:
        """True inside its ``with`` block."""
        return any(s is self for s in _ACTIVE)

    def total(self) -> float:
        """Return the total wall time of the recorded steps, in seconds."""
        return sum(s.seconds for s in self.stages)


class _Sampler(threading.Thread):
    def __init__(self, interval: float):
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = rss_mb()
        self._stop_event = threading.Event()

    def run(self) -> None:
        if self.peak is None:  # memory cannot be read on this platform
            return
        while not self._stop_event.wait(self.interval):
            self.peak = _max(self.peak, rss_mb())

    def stop(self) -> float | None:
        self._stop_event.set()
        self.join()
        return _max(self.peak, rss_mb())


class _Ticker(threading.Thread):
    """Redraws a step's bar every :data:`REFRESH` seconds so its elapsed time moves."""

    def __init__(self, bar):
        super().__init__(daemon=True)
        self.bar = bar
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(REFRESH):
            self.bar.refresh()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@contextlib.contextmanager
def _step_bar(name: str) -> Iterator[None]:
    bar = _bar(total=None, desc=name, bar_format="geotarget: {desc} ... {elapsed_s:.1f} s")
    _BARS["open"] += 1
    ticker = _Ticker(bar)
    ticker.start()
    try:
        yield
    finally:
        ticker.stop()
        _BARS["open"] -= 1
        bar.bar_format = "geotarget: {desc}: {elapsed_s:.1f} s"
        bar.close()


@contextlib.contextmanager
def stage(name: str, *, log: bool = True) -> Iterator[None]:
    """Mark a long step: a bar while bars are shown, else log its start and end (with wall time).

    Parameters
    ----------
    name
        What the step does, e.g. ``"reading the IoD"``.
    log
        Without bars, log the two lines (default); ``False`` marks a step that shows a bar on a
        terminal and says nothing otherwise. Either way the step is recorded in every active
        :class:`StageLog`, with its nesting depth.
    """
    sampler = None
    if any(s.memory for s in _ACTIVE):
        sampler = _Sampler(min(s.interval for s in _ACTIVE if s.memory))
        sampler.start()
    bar = bars_shown()
    if log and not bar:
        _log.info("%s ...", name)
    depth = _DEPTH[0]
    _DEPTH[0] += 1
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        with _step_bar(name) if bar else contextlib.nullcontext():
            yield
    finally:
        _DEPTH[0] -= 1
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = sampler.stop() if sampler else None
        if log and not bar:
            _log.info("%s: %.1f s", name, dt)
        for s in _ACTIVE:
            s.stages.append(Stage(name, dt, peak, depth, t0, cpu))
