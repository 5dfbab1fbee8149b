r"""The HTML page: a folium map with Leaflet, its plugins and geotarget's script inlined.

No CDN: the vendored JavaScript and CSS (``vendor/``, see ``vendor/MANIFEST.json``)
and geotarget's own (``assets/``) are embedded in the page, and the images their CSS
refers to become data URIs. The map data is embedded as JSON in a
``<script type="application/json">`` element, with ``<``, ``>`` and ``&`` written as
``\u003c`` etc. so no string can close the element; larger data is gzip-compressed
and base64-encoded, and the browser decompresses it (``DecompressionStream``).
Only map tiles come from the network, and the map works without them.
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import mimetypes
import re
from importlib import resources
from typing import Any

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from geotarget.render.text import html_text

#: Vendored files inlined into every page, in load order (folder/file under ``vendor/``).
VENDOR_CSS = (
    "leaflet/leaflet.css", "markercluster/MarkerCluster.css", "markercluster/MarkerCluster.Default.css",
    "fullscreen/Control.FullScreen.css", "polylinemeasure/Leaflet.PolylineMeasure.css",
    "minimap/Control.MiniMap.min.css", "search/leaflet-search.min.css",
)  # fmt: skip
VENDOR_JS = (
    "leaflet/leaflet.js", "markercluster/leaflet.markercluster.js",
    "fullscreen/Control.FullScreen.umd.js", "polylinemeasure/Leaflet.PolylineMeasure.js",
    "minimap/Control.MiniMap.min.js", "search/leaflet-search.min.js",
)  # fmt: skip

_JS_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
_URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")


def to_json(obj: Any) -> str:
    """JSON that is also safe inside an HTML ``<script>`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in _JS_ESCAPES:  # (str.replace is much faster than str.translate on MBs)
        if char in text:
            text = text.replace(char, escaped)
    return text


def _read(package: str, name: str) -> bytes:
    return resources.files(package).joinpath(name).read_bytes()


def _inline_css(folder: str, name: str) -> str:
    """Return a vendored stylesheet with its relative image URLs turned into data URIs."""
    text = _read("geotarget.render.maps.vendor", name).decode("utf-8")
    base = name.rsplit("/", 1)[0]

    def data_uri(m: re.Match) -> str:
        url = m.group(2)
        if url.startswith(("data:", "#", "http:", "https:")):
            return m.group(0)
        path = f"{base}/{url}".replace("/./", "/")
        parts: list[str] = []
        for part in path.split("/"):
            if part == "..":
                parts.pop()
            else:
                parts.append(part)
        try:
            raw = _read("geotarget.render.maps.vendor", "/".join(parts))
        except FileNotFoundError:  # e.g. leaflet-search's loader.gif, not shipped by npm
            return "none"
        mime = mimetypes.guess_type(url)[0] or "application/octet-stream"
        return f"url(data:{mime};base64,{base64.b64encode(raw).decode('ascii')})"

    return _URL.sub(data_uri, text)


@functools.cache
def assets() -> tuple[str, str]:
    """(CSS, JavaScript) of the vendored libraries and geotarget's own map script."""
    css = [f"/* {name} */\n" + _inline_css(name.split("/")[0], name) for name in VENDOR_CSS]
    css.append(_read("geotarget.render.maps.assets", "geotarget.css").decode("utf-8"))
    js = [f"/* {name} */\n" + _read("geotarget.render.maps.vendor", name).decode("utf-8") for name in VENDOR_JS]
    js.append(_read("geotarget.render.maps.assets", "geotarget.js").decode("utf-8"))
    # A script or style element ends at the first "</script" / "</style": make sure none occurs.
    css_text = "\n".join(css).replace("\r\n", "\n")  # some vendored files have Windows line ends
    js_text = "\n;\n".join(js).replace("\r\n", "\n")
    assert "</style" not in css_text.lower() and "</script" not in js_text.lower()
    return css_text, js_text


class _Assets(Element):
    """The inlined stylesheets and scripts, in the page's ``<head>``."""

    def __init__(self) -> None:
        super().__init__(template="<style>\n{{ this.css }}\n</style>\n<script>\n{{ this.js }}\n</script>\n")
        self.css, self.js = assets()


class _Data(Element):
    """The map data, in the page's ``<body>``, as ``<script id="geotarget_data_<id>">``."""

    def __init__(self, payload: str, compressed: bool):
        super().__init__(
            template='<script type="{{ this.mime }}" id="{{ this.element_id }}">{{ this.payload }}</script>\n')
        self.element_id = "geotarget_data_" + self.get_name().rpartition("_")[2]  # numbered by render_html
        self.payload = payload
        self.mime = "application/gzip+base64" if compressed else "application/json"


class _Render(MacroElement):
    """Calls geotarget's script with the map and the id of its data element, after the map is made.

    A folium custom element: ``_template`` with a ``script`` macro is the extension point branca
    documents for :class:`~branca.element.MacroElement` subclasses.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        'geotarget.load({{ this.map_name }}, "{{ this.data_id }}");'
        "{% endmacro %}"
    )

    def __init__(self, map_name: str, data_id: str):
        super().__init__()
        self.map_name = map_name
        self.data_id = data_id


def build(spec: dict[str, Any], *, title: str, bounds: tuple[float, float, float, float],
          compress: bool | None, compress_above: int) -> folium.Map:
    """Return a folium map rendering ``spec`` with geotarget's script (:func:`render_html` writes its page)."""
    text = to_json(spec)
    if compress is None:
        compress = len(text.encode("utf-8")) > compress_above
    if compress:
        payload = base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)).decode("ascii")
    else:
        payload = text
    west, south, east, north = bounds
    m = folium.Map(
        location=[round((south + north) / 2, 5), round((west + east) / 2, 5)],
        zoom_start=11,
        tiles=None,
        control_scale=False,  # geotarget's script adds the scale bar where it belongs
        zoom_snap=0.25,  # let fitBounds fill the window rather than snap a whole level out
    )
    m.default_js = []  # no CDN: everything is inlined by _Assets
    m.default_css = []
    root = m.get_root()
    root.title = html_text(title)
    root.header.add_child(_Assets(), name="geotarget_assets")
    data = _Data(payload, compress)
    root.html.add_child(data, name="geotarget_data")
    _Render(m.get_name(), data.element_id).add_to(m)
    return m


def render_html(m: folium.Map) -> str:
    """Return the complete HTML page of a folium map, with folium's random element ids numbered in tree order.

    Element ids (``map_<id>``) become JavaScript variable names and HTML ids; folium draws them at
    random, so they are replaced by ``0000``, ``0001`` ... in the order of the element tree (from
    branca's public ``to_dict``), which makes the page a pure function of the inputs.
    """
    root = m.get_root()
    ids: list[str] = []

    def collect(node: dict) -> None:
        ids.append(node["id"])
        for child in node.get("children", {}).values():
            collect(child)

    for part in (root, root.header, root.html, root.script):  # a Figure's sections are not its children
        collect(part.to_dict())
    page = root.render()
    for n, element_id in enumerate(ids):
        page = page.replace(element_id, f"{n:04d}")
    return page


def read_data(page: str) -> dict[str, Any]:
    """Return the map data embedded in a page written by geotarget (for tests and tools)."""
    m = re.search(r'<script type="(application/json|application/gzip\+base64)" id="geotarget_data_\d+">(.*?)</script>',
                  page, flags=re.DOTALL)
    if m is None:
        raise ValueError("no geotarget map data in this page")
    if m.group(1) == "application/json":
        return json.loads(m.group(2))
    return json.loads(gzip.decompress(base64.b64decode(m.group(2))).decode("utf-8"))
