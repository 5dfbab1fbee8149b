"""Progress of long steps: one log line when a step starts and one when it ends, with its time.

Steps log to the ``geotarget.progress`` logger at INFO; the CLI shows them for study runs
unless ``-q``. A :class:`StageLog` collects the timings (and, if asked, the peak memory of
each step, sampled from the process's resident set size) for benchmarks and summaries.

Memory is read from Linux's ``/proc`` or, elsewhere on Unix, the ``resource`` module. Where neither
exists (Windows) memory is reported as ``None`` and everything else works the same.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

try:  # Unix only: absent on Windows
    import resource
except ImportError:  # pragma: no cover - exercised by tests/test_portability.py in a subprocess
    resource = None

log = logging.getLogger("geotarget.progress")

#: Where Linux reports the process's current memory.
PROC_STATUS = "/proc/self/status"

_ACTIVE: list[StageLog] = []


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
    """A finished step: its name, wall time in seconds and peak memory in MB (``None`` if not sampled)."""

    name: str
    seconds: float
    peak_mb: float | None = None


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


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Log the start and end (with wall time) of a step; record it in every active :class:`StageLog`."""
    sampler = None
    if any(s.memory for s in _ACTIVE):
        sampler = _Sampler(min(s.interval for s in _ACTIVE if s.memory))
        sampler.start()
    log.info("%s ...", name)
    t0 = time.perf_counter()
    try:
        yield
    finally:
        dt = time.perf_counter() - t0
        peak = sampler.stop() if sampler else None
        log.info("%s: %.1f s", name, dt)
        for s in _ACTIVE:
            s.stages.append(Stage(name, dt, peak))
