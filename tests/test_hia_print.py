"""The printed HIA report: a static map on page 1, A4 portrait, no table wider than the page.

Two ways to print are checked: the PDF geotarget writes itself (``render_report(sc, "pdf")``,
WeasyPrint), whose layout boxes are measured against the page, and the HTML printed by Chromium
(``page.pdf``, print media), whose tables are measured in the page. The site names carry an
ampersand and a tag, so each format's escaping is checked on the way.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
import re

import numpy as np
import pandas as pd
import pytest

from geotarget import load
from geotarget.cli.main import main
from geotarget.hia.report import render_report, report_blocks, run_hia, static_map_png, to_html
from geotarget.hia.screen import hia_data, screen_site
from geotarget.hia.topics import TOPIC_TITLES, TOPICS
from geotarget.io.sites import parse_site

pypdf = pytest.importorskip("pypdf")
weasyprint = pytest.importorskip("weasyprint")

HOSTILE = "Mandale & Victoria <b>x</b>"
#: TS17 8BP: Thornaby, in LSOA E01012239 and the ward "Mandale & Victoria" (a name with "&" in the data)
POSTCODE = "TS17 8BP"
POLYGON = "POLYGON ((444400 518800, 444900 518800, 444900 519200, 444400 519200, 444400 518800))"
#: A4 in PDF points, and the page's CSS margins (12 mm either side) as CSS pixels (96 per inch)
A4 = (595.28, 841.89)
CONTENT_PX = (210 - 2 * 12) / 25.4 * 96


@pytest.fixture(scope="module")
def data():
    return hia_data(load())


@pytest.fixture(scope="module")
def sites(data):
    """Return the postcode site (hostile name) and a polygon site, each with its PDF."""
    out = {}
    for kind, where, name in (("postcode", POSTCODE, HOSTILE), ("polygon", POLYGON, "Land at Portrack Lane")):
        sc = screen_site(parse_site(where, name=name), data, generated="2025-11-01")
        out[kind] = (sc, render_report(sc, "pdf"))
    return out


def drawn_images(page) -> list:
    """Return the image XObjects a PDF page draws (``Do`` in its content, through forms), not just those it lists.

    WeasyPrint shares one resource dictionary between pages, so ``page.images`` lists the map on every page.
    """
    found = []

    def visit(content: bytes, resources) -> None:
        xobjects = (resources or {}).get("/XObject") or {}
        for name in re.findall(rb"/([^\s/\[\]()<>]+)\s+Do\b", content):
            ref = xobjects.get("/" + name.decode())
            obj = ref.get_object() if ref is not None else None
            if obj is None:
                continue
            if obj.get("/Subtype") == "/Image":
                found.append(obj)
            elif obj.get("/Subtype") == "/Form":
                visit(obj.get_data(), obj.get("/Resources"))

    visit(page.get_contents().get_data(), page["/Resources"])
    return found


def _boxes(box):
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _boxes(child)


# -- the static map ---------------------------------------------------------------------------------
def test_static_map_is_a_small_png_of_the_site(sites):
    from PIL import Image

    sc, _ = sites["polygon"]
    png = static_map_png(sc)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) < 250_000
    im = Image.open(io.BytesIO(png)).convert("RGB")
    assert 800 <= im.width <= 1200 and im.height >= 600
    colours = set(map(tuple, np.asarray(im).reshape(-1, 3).tolist()))
    assert (0xd7, 0x19, 0x1c) in colours  # the site's red outline
    assert (0x44, 0x01, 0x54) in colours  # IMD decile 1 (the site lies in decile-1 LSOAs)


def test_html_shows_the_static_map_in_print_and_the_interactive_map_on_screen(sites):
    sc, _ = sites["postcode"]
    page = render_report(sc, "html").decode("utf-8")
    (img,) = re.findall(r'<img class="map-static print-only" alt="[^"]+" src="data:image/png;base64,([^"]+)">', page)
    assert base64.b64decode(img).startswith(b"\x89PNG")
    assert page.index("<h2>Map</h2>") < page.index('<iframe class="map"') < page.index("<img")
    css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    assert "img.print-only{display:none}" in css
    printed = css[css.index("@media print{"):]
    assert "iframe.map{display:none}" in printed and re.search(r"img\.map-static\{display:block", printed)
    assert "@page{size:A4 portrait;" in css


def test_no_map_no_map_heading(sites):
    sc, _ = sites["postcode"]
    page = render_report(sc, "html", with_map=False).decode("utf-8")
    assert "<h2>Map</h2>" not in page and "<img" not in page and "<iframe" not in page
    pdf = pypdf.PdfReader(io.BytesIO(render_report(sc, "pdf", with_map=False)))
    assert all(not p.images and not drawn_images(p) for p in pdf.pages)
    assert "Map" not in " ".join(pdf.pages[0].extract_text().split())
    assert "## Map" not in render_report(sc, "md", with_map=False).decode("utf-8")
    # a page with only the static map shows it everywhere, under its heading
    page = to_html(report_blocks(sc), title="t", map_html=None, map_png=b"\x89PNG")
    assert re.search(r'<h2>Map</h2>\n<img class="map-static" alt=', page)


# -- the PDF ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["postcode", "polygon"])
def test_pdf_page_one_carries_the_map(sites, kind):
    sc, pdf = sites[kind]
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 5
    for p in reader.pages:  # A4 portrait
        assert (float(p.mediabox.width), float(p.mediabox.height)) == pytest.approx(A4, abs=0.5)
    (image,) = drawn_images(reader.pages[0])  # the map, drawn on page 1 and on no other page
    assert image["/Width"] >= 800 and image["/Height"] >= 600
    assert not any(drawn_images(p) for p in reader.pages[1:])
    text = " ".join(reader.pages[0].extract_text().split())
    assert f"Health Impact Assessment screening: {sc.site.name}" in text  # the name, as text
    assert "Map" in text and "Summary" in text


def laid_out(page_html: str) -> tuple[int, list[int]]:
    """Return the number of tables and the pages images are on, once ``page_html`` is laid out by WeasyPrint.

    Checks that every table, cell, line of text and image lies within the content box of an A4 page
    less 12 mm margins.
    """
    from weasyprint.formatting_structure import boxes

    doc = weasyprint.HTML(string=page_html).render()
    tables, images = 0, []
    for number, page in enumerate(doc.pages, 1):
        pb = page._page_box
        left, right = pb.content_box_x(), pb.content_box_x() + pb.width
        assert right - left == pytest.approx(CONTENT_PX, abs=1)
        for box in _boxes(pb):
            if isinstance(box, boxes.MarginBox):
                continue
            if isinstance(box, (boxes.TableBox, boxes.TableCellBox, boxes.LineBox, boxes.ReplacedBox)):
                x0, x1 = box.position_x, box.position_x + box.margin_width()
                assert left - 0.5 <= x0 and x1 <= right + 0.5, (number, type(box).__name__, x0, x1, right)
            tables += isinstance(box, boxes.TableBox)
            if isinstance(box, boxes.ReplacedBox):
                images.append(number)
                assert box.width >= 400  # the map, over half the page wide
    return tables, images


@pytest.mark.parametrize("kind", ["postcode", "polygon"])
def test_no_table_is_wider_than_the_page(sites, kind):
    sc, _ = sites[kind]
    tables, images = laid_out(to_html(report_blocks(sc), title="t", map_html=None, map_png=static_map_png(sc)))
    assert images == [1] and tables >= 10  # one image, the map, on page 1


def test_long_words_in_names_do_not_widen_the_page(sites):
    """A service or site name with no space in it (140-150 characters) is broken, not pushed off the page."""
    sc, _ = sites["polygon"]
    access = sc.access.copy()
    access.loc["gp", "nearest_name"] = "Surgery" * 20
    long = dataclasses.replace(sc, access=access, site=dataclasses.replace(sc.site, name="Site_" + "x" * 150))
    blocks = report_blocks(long, with_map=False)
    assert any("Surgery" * 20 in row for b in blocks if b[0] == "table" for row in b[2])
    tables, images = laid_out(to_html(blocks, title="t", map_html=None))
    assert tables >= 10 and images == []


def test_hostile_name_is_text_in_every_format(sites):
    sc, pdf = sites["postcode"]
    assert sc.site.name == HOSTILE and "Mandale & Victoria" in set(sc.lsoas["ward_name"])
    md = render_report(sc, "md").decode("utf-8")
    assert "&amp;" not in md and "&lt;" not in md
    assert "Health Impact Assessment screening: Mandale & Victoria \\<b\\>x\\</b\\>" in md
    assert "| Mandale & Victoria |" in md  # the ward, in the LSOA table
    page = render_report(sc, "html").decode("utf-8")
    outer = re.sub(r'srcdoc="[^"]*"', "", page)  # the map page inside is an attribute value: escaped twice
    assert "&amp;amp;" not in outer and "<b>" not in outer
    assert "<h1>Health Impact Assessment screening: Mandale &amp; Victoria &lt;b&gt;x&lt;/b&gt;</h1>" in outer
    assert "<td>Mandale &amp; Victoria</td>" in outer
    assert html.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1)).count("&amp;amp;") == 0
    ev = json.loads(render_report(sc, "json"))
    assert ev["site_name"] == HOSTILE and "Mandale & Victoria" in {x["ward"] for x in ev["lsoas"]}
    text = " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())
    assert HOSTILE in text and "&amp;" not in text


# -- the HUDU topics ----------------------------------------------------------------------------------
def test_topic_titles_are_the_hudu_tools():
    """The eleven topics as the HUDU Rapid HIA tool (4th edition, October 2019) titles them."""
    assert [t for _, t, _ in TOPICS] == [
        "Housing design and affordability",
        "Access to health and social care services and other social infrastructure",
        "Access to open space and nature",
        "Air quality, noise and neighbourhood amenity",
        "Accessibility and active travel",
        "Crime reduction and community safety",
        "Access to healthy food",
        "Access to work and training",
        "Social cohesion and inclusive design",
        "Minimising the use of resources",
        "Climate change",
    ]
    assert TOPIC_TITLES["access_health"] == "Access to health and social care services and other social infrastructure"


# -- the command line ---------------------------------------------------------------------------------
def test_cli_pdf_beside_the_other_reports(tmp_path, capsys):
    out = tmp_path / "one"
    assert main(["hia", "--site", POSTCODE, "--name", "Thornaby", "--pdf", "--out", str(out)]) == 0
    assert "thornaby.pdf" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} == {"thornaby.html", "thornaby.md", "thornaby.json", "thornaby.pdf",
                                              "manifest.json"}
    pdf = (out / "thornaby.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and drawn_images(pypdf.PdfReader(io.BytesIO(pdf)).pages[0])
    listed = {e["path"] for e in json.loads((out / "manifest.json").read_text())["outputs"]}
    assert "thornaby.pdf" in listed
    assert main(["hia", "--site", POSTCODE, "--name", "Thornaby", "--out", str(tmp_path / "two")]) == 0
    assert not (tmp_path / "two" / "thornaby.pdf").exists()  # only when asked


def test_batch_writes_one_pdf_per_site(tmp_path):
    sites = tmp_path / "sites.csv"
    pd.DataFrame({"name": ["Thornaby", "Portrack"], "location": [POSTCODE, POLYGON]}).to_csv(sites, index=False)
    res = run_hia(sites=str(sites), out=tmp_path / "out", generated="2025-11-01", pdf=True)
    for slug in res.slugs:
        reader = pypdf.PdfReader(tmp_path / "out" / f"{slug}.pdf")
        assert drawn_images(reader.pages[0]) and f"{slug}.pdf" in res.outputs


# -- printed by a browser -----------------------------------------------------------------------------
#: In the page, printed: every table no wider than its container and the page; the static map shown, the
#: interactive map hidden. Returns the problems found and what was measured.
PRINTED = """() => {
    const problems = [], body = document.body.getBoundingClientRect();
    const tables = [...document.querySelectorAll("table")];
    for (const [i, t] of tables.entries()) {
        const box = t.getBoundingClientRect(), parent = t.parentElement;
        if (t.scrollWidth > parent.clientWidth + 1 || box.right > body.right + 1) {
            problems.push(`table ${i}: ${t.scrollWidth} px in ${parent.clientWidth} px`);
        }
    }
    const img = document.querySelector("img.map-static"), frame = document.querySelector("iframe.map");
    return {problems, tables: tables.length, width: body.width,
            img: img && {display: getComputedStyle(img).display, width: img.getBoundingClientRect().width,
                         loaded: img.complete && img.naturalWidth > 0},
            iframe: frame && getComputedStyle(frame).display};
}"""


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["postcode", "polygon"])
def test_chromium_prints_the_html_on_a4_with_the_static_map(browser, sites, tmp_path, kind):  # noqa: F811
    sc, _ = sites[kind]
    path = tmp_path / "report.html"
    path.write_bytes(render_report(sc, "html"))
    # the viewport as wide as the printed page's content (A4 less the @page margins), as printing lays it out
    page = browser.new_page(viewport={"width": round(CONTENT_PX), "height": 1000})
    page.route(re.compile(r"^https?://"), lambda route: route.abort())
    try:
        page.goto(path.as_uri())
        screen = page.evaluate(PRINTED)
        assert screen["iframe"] == "inline" and screen["img"]["display"] == "none"  # on screen: the live map
        page.emulate_media(media="print")
        printed = page.evaluate(PRINTED)
        assert printed["problems"] == [] and printed["tables"] >= 10, printed
        assert printed["iframe"] == "none"
        assert printed["img"]["display"] == "block" and printed["img"]["loaded"]
        assert printed["img"]["width"] >= 0.6 * printed["width"]
        pdf = pypdf.PdfReader(io.BytesIO(page.pdf(format="A4")))
    finally:
        page.close()
    first = pdf.pages[0]
    assert (float(first.mediabox.width), float(first.mediabox.height)) == pytest.approx(A4, abs=1)
    (image,) = drawn_images(first)  # the static map, on page 1
    assert image["/Width"] >= 800
    assert sc.site.name in " ".join(first.extract_text().split())
