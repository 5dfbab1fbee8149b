"""Vendor Leaflet and the plugins geotarget's maps inline, from the npm registry.

Run from the repository root with npm on the PATH::

    python tools/vendor_js.py

It packs each package below with ``npm pack NAME@VERSION`` (the ordinary npm client,
nothing else is downloaded), copies the listed files unchanged into
``geotarget/render/maps/vendor/<folder>/`` with the package's licence, and writes
``geotarget/render/maps/vendor/MANIFEST.json`` (name, version, licence, sha256 of every
file). The map writer inlines these files into each HTML map (images referenced by
the CSS become data URIs at render time), so a map needs no CDN.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "geotarget" / "render" / "maps" / "vendor"

#: folder -> (npm package, version, licence, files inside the package; js and css in load order)
PACKAGES = {
    "leaflet": ("leaflet", "1.9.4", "BSD-2-Clause", [
        "dist/leaflet.js", "dist/leaflet.css", "dist/images/layers.png", "dist/images/layers-2x.png",
        "dist/images/marker-icon.png", "LICENSE"]),
    "markercluster": ("leaflet.markercluster", "1.5.3", "MIT", [
        "dist/leaflet.markercluster.js", "dist/MarkerCluster.css", "dist/MarkerCluster.Default.css",
        "MIT-LICENCE.txt"]),
    "fullscreen": ("leaflet.fullscreen", "5.3.3", "MIT", [
        "dist/Control.FullScreen.umd.js", "dist/Control.FullScreen.css", "LICENSE.md"]),
    "polylinemeasure": ("leaflet.polylinemeasure", "3.0.0", "BSD-2-Clause", [
        "Leaflet.PolylineMeasure.js", "Leaflet.PolylineMeasure.css", "LICENSE.txt"]),
    "minimap": ("leaflet-minimap", "3.6.1", "BSD-2-Clause", [
        "dist/Control.MiniMap.min.js", "dist/Control.MiniMap.min.css", "dist/images/toggle.svg",
        "dist/images/toggle.png", "LICENSE.txt"]),
    "search": ("leaflet-search", "4.0.0", "MIT", [
        "dist/leaflet-search.min.js", "dist/leaflet-search.min.css", "images/search-icon.png", "license.txt"]),
}  # fmt: skip


def main() -> None:
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for folder, (name, version, licence, files) in PACKAGES.items():
            out = subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"], cwd=tmp, check=True,
                                 capture_output=True, text=True).stdout.split()[-1]
            unpacked = Path(tmp) / folder
            with tarfile.open(Path(tmp) / out) as tar:
                tar.extractall(unpacked, filter="data")
            target = VENDOR / folder
            shutil.rmtree(target, ignore_errors=True)
            entries = {}
            for rel in files:
                src = unpacked / "package" / rel
                dst = target / rel.removeprefix("dist/")
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                entries[dst.relative_to(target).as_posix()] = hashlib.sha256(dst.read_bytes()).hexdigest()
            manifest[folder] = {"package": name, "version": version, "licence": licence, "files": entries}
    (VENDOR / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
