"""The shape of one bad-input case of the corpus (issue 15), shared by every ``tests/corpus_*.py`` module.

Each module defines ``CASES: list[Case]``; ``tests/test_corpus.py`` collects them all and runs each
through ``geotarget.cli.main.main(argv)``, asserting the exit status, the one-line message on stderr and
that no Python traceback is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Case:
    """One bad input or fault and the one-line error it must give.

    ``argv(tmp)`` builds the files it needs under ``tmp`` (a fresh folder) and returns the command
    line (without ``geotarget``). ``message`` is a regular expression searched in the one error line.
    """

    id: str
    argv: Callable[[Path], list[str]]
    exit: int
    message: str
    #: paths (relative to ``tmp``) that must not exist after the run: nothing written on an error
    absent: tuple[str, ...] = ()
    #: ``patch(monkeypatch)`` is applied before the run (e.g. a write that fails with ENOSPC)
    patch: Callable | None = None
    #: the case needs file permissions to hold (skipped when running as root, who ignores them)
    needs_permissions: bool = False
    #: run this one in a subprocess as well (the real entry point, ``python -m geotarget``)
    subprocess: bool = False
    tags: tuple[str, ...] = field(default=())


__all__ = ["Case"]
