"""One bad input or fault of the corpus: the command line it runs, the exit status and the message it must give."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Case:
    id: str
    argv: Callable[[Path], list[str]]
    exit: int
    message: str
