"""The layer contract in pyproject.toml holds: each sub-package imports only from the layers below it
(core -> io -> data -> analysis -> render -> hia -> jobs -> study -> cli), checked by import-linter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_layer_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports.exe" if os.name == "nt" else "lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert " kept, 0 broken" in proc.stdout
