"""Build hook: the wheel carries the bundled sample as ``geotarget/_bundled/{data,boundaries}``.

All project metadata is in ``pyproject.toml``; this file only adds one step to ``build_py``.

The sample lives at the top of the repository (``data/``, ``boundaries/``), where analysts, the
build script and ``PROVENANCE.md`` expect it. A non-editable install has no checkout beside it,
so the wheel needs a copy. A custom step is used instead of a ``package-dir`` mapping
(``"geotarget._bundled.data" = "data"``) because a mapping makes every sub-folder of ``data/``
a package that must be listed by hand (a new folder would be silently left out), and it would
ship ``data/build_sample.py`` as a module. Here the copy is driven by one list of file patterns
and picks up new folders by itself.

Editable installs skip the copy: ``geotarget.core.places`` falls back to the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: Top-level folders of the sample, copied to ``geotarget/_bundled/<name>`` in the wheel.
BUNDLED_DIRS = ("data", "boundaries")
#: The sample's files: tables, GeoPackages, provenance and licence/attribution text. Anything else
#: (``build_sample.py``, caches, editor files) stays out of the wheel.
BUNDLED_PATTERNS = ("*.csv", "*.csv.gz", "*.gpkg", "*.md", "LICENCE*", "LICENSE*", "*.txt")
#: Inside the wheel.
BUNDLED_TARGET = Path("geotarget", "_bundled")


def bundled_files(root: Path = HERE) -> list[Path]:
    """Return the sample files to bundle, relative to ``root``, sorted."""
    found: set[Path] = set()
    for top in BUNDLED_DIRS:
        for pattern in BUNDLED_PATTERNS:
            for p in (root / top).rglob(pattern):
                rel = p.relative_to(root)
                if p.is_file() and not any(part.startswith((".", "__")) for part in rel.parts):
                    found.add(rel)
    return sorted(found)


class build_py_with_sample(build_py):
    """``build_py`` that also copies the sample into ``geotarget/_bundled`` (not for editable installs)."""

    def run(self) -> None:
        """Build the package, then copy the sample files into ``geotarget/_bundled``."""
        super().run()
        if self.editable_mode:
            return
        files = bundled_files()
        if not files:
            raise FileNotFoundError(f"no sample files under {', '.join(BUNDLED_DIRS)}/ in {HERE}: "
                                    "the wheel would not run `geotarget run`; build from a full checkout or sdist")
        # start clean: a file removed from the sample must not linger in an old build/ folder
        shutil.rmtree(Path(self.build_lib) / BUNDLED_TARGET, ignore_errors=True)
        for rel in files:
            dest = Path(self.build_lib) / BUNDLED_TARGET / rel
            self.mkpath(str(dest.parent))
            self.copy_file(str(HERE / rel), str(dest), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        """List the files the build writes, the copied sample files included."""
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        return outputs + [str(Path(self.build_lib) / BUNDLED_TARGET / rel) for rel in bundled_files()]


setup(cmdclass={"build_py": build_py_with_sample})
