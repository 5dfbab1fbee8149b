"""The package's architecture, checked: layers import downwards, no cycles, no private names borrowed.

Layers only import downwards, there are no import cycles, and no private names are borrowed across
modules.

The layering contract itself lives in ``pyproject.toml`` (``[tool.importlinter]``) and is checked with
import-linter; cycles are found on grimp's import graph (the graph import-linter builds), including
imports made inside functions.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "geotarget"

grimp = pytest.importorskip("grimp")
nx = pytest.importorskip("networkx")


def test_layering_contract_is_kept():
    # In a subprocess: import-linter configures logging, which must not leak into the other tests.
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "KEPT" in done.stdout and "BROKEN" not in done.stdout


def _graph():
    g = grimp.build_graph("geotarget", cache_dir=None)
    edges = nx.DiGraph()
    for module in g.modules:
        for imported in g.find_modules_directly_imported_by(module):
            edges.add_edge(module, imported)
    # The root package only re-exports the public API from the layers; nothing in the layers imports it.
    importers_of_root = [m for m, _ in edges.in_edges("geotarget")] if "geotarget" in edges else []
    return edges, importers_of_root


def test_no_module_imports_the_root_package():
    _, importers = _graph()
    assert importers == []


def test_no_import_cycles():
    edges, _ = _graph()
    edges.remove_nodes_from(["geotarget"])
    cycles = list(nx.simple_cycles(edges))
    assert cycles == []


def test_every_module_belongs_to_a_layer():
    # the layers as the contract in pyproject.toml declares them (one declaration)
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers = {name.removeprefix("geotarget.") for name in contract["contracts"][0]["layers"]}
    assert {"core", "io", "data", "render", "hia", "cli"} <= layers
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert loose == []
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= layers, folders - layers


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geotarget"):
            if any(part.startswith("_") for part in node.module.split(".")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module}")
            found += [f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{a.name}" for a in node.names
                      if a.name.startswith("_") and a.name != "__version__"]
    return found


def test_no_private_names_imported_across_modules():
    bad = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _private_imports(path)]
    assert bad == []


def test_the_private_import_check_catches_one(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from geotarget.core.councils import _hidden\nfrom geotarget._secret import x\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert len(_private_imports(probe)) == 2
    finally:
        ROOT = saved


def test_ruff_is_clean():
    """pycodestyle, pyflakes, import order, bugbear, numpy docstrings and the complexity limit ([tool.ruff])."""
    ruff = pytest.importorskip("ruff")
    from ruff.__main__ import find_ruff_bin

    done = subprocess.run([find_ruff_bin(), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert ruff  # the module was importable: the check above ran, it was not skipped
