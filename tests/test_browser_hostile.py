"""Maps and reports built from hostile names, opened in a real browser: nothing from the data runs.

Every name in the corpus of ``tests/test_safe_outputs.py`` that could run would open a dialog
(``alert(n)``) or add an element or an event-handler attribute to the page. Each page is opened in
headless Chromium (as in ``tests/test_browser.py``), every layer is switched on, popups and search
results are opened, and the test fails on any dialog, any element or ``on*`` attribute the page did
not make itself, or any script element beyond the page's own. The names must also be *shown*, as
written, in the layer control, the title and the labels.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .test_browser import MapPage
from .test_safe_outputs import (
    FILE_NAMES,
    SCRIPT_NAMES,
    hostile_builder,
    hostile_files,
    hostile_study,
)

pytestmark = pytest.mark.browser

#: Elements and attributes a script from the data would add (Leaflet and its plugins add none of these).
INJECTED = """() => {
    const found = [];
    for (const el of document.querySelectorAll("*")) {
        for (const a of el.getAttributeNames()) {
            if (a.toLowerCase().startsWith("on")) found.push(el.tagName + "[" + a + "]");
        }
        const tag = el.tagName.toLowerCase();
        if (["img", "iframe", "math", "object", "embed"].includes(tag) && !el.closest(".leaflet-tile-pane")) {
            found.push(tag + ":" + (el.getAttribute("src") || el.getAttribute("srcdoc") || ""));
        }
        if (tag === "a" && (el.getAttribute("href") || "").trim().toLowerCase().startsWith("javascript:")) {
            found.push("a[href=javascript:]");
        }
        if (tag === "b" && !el.closest(".gt-tip-head")) found.push("b");
    }
    return found;
}"""


@pytest.fixture(scope="module")
def study():
    return hostile_study()


def _exercise(page: MapPage) -> None:
    """Switch every layer on, open every point's popup and search for hostile text, as a person would."""
    page.js("""() => {
        const s = window.geotarget.state, m = s.map;
        for (const layer of Object.values(s.layers)) { if (!m.hasLayer(layer)) m.addLayer(layer); }
        for (const layer of Object.values(s.layers)) {
            for (const marker of (layer.gtMarkers || []).slice(0, 30)) { marker.openPopup(); marker.closePopup(); }
        }
    }""")
    box = page.page.locator(".leaflet-control-search input")
    for text in ("<img", "scri", "alert"):
        box.fill(text[:-1])
        box.press(text[-1])
        page.page.wait_for_timeout(300)
    page.page.wait_for_timeout(300)


def _assert_nothing_ran(page: MapPage, scripts: int) -> None:
    assert page.dialogs == []
    assert page.errors == []
    assert page.js(INJECTED) == []
    assert page.js("() => document.scripts.length") == scripts


def _page_scripts(path: Path) -> int:
    return path.read_text(encoding="utf-8").lower().count("<script")


def test_geotarget_map_of_hostile_files(browser, tmp_path, study):  # noqa: F811
    from geotarget.cli.main import main

    layers = hostile_files(tmp_path / "in", study)
    out = tmp_path / "map.html"
    assert main(["map", "--layers", *layers, "--out", str(out), "-q"]) == 0
    page = MapPage(browser, out)
    try:
        _exercise(page)
        _assert_nothing_ran(page, _page_scripts(out))
        labels = page.page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
        shown = [t.strip() for t in labels]
        for name in (FILE_NAMES[0], SCRIPT_NAMES[1], f"{FILE_NAMES[0]}: {SCRIPT_NAMES[2]}", FILE_NAMES[-1]):
            assert name in shown, name  # the layer control shows the names as written
    finally:
        page.close()


def test_map_builder_with_every_text_hostile(browser, tmp_path, study):  # noqa: F811
    mb = hostile_builder(study)
    out = mb.save(tmp_path / "m.html")
    page = MapPage(browser, out)
    try:
        _exercise(page)
        _assert_nothing_ran(page, _page_scripts(out))
        assert page.page.title() == SCRIPT_NAMES[0]
        assert page.page.locator(".gt-title h1").inner_text() == SCRIPT_NAMES[0]
        assert SCRIPT_NAMES[5] in page.page.locator(".leaflet-control-attribution").inner_text()
        assert page.overlay_labels() == [layer.name.strip() for layer in mb.layers]
        # ward labels on the map are the hostile names, as text
        ward_labels = set(page.js("() => [...document.querySelectorAll('.gt-label span')].map(s => s.textContent)"))
        assert set(study.wards["ward_name"]) <= ward_labels
        tips = page.page.locator(".search-tip").all_inner_texts()
        assert tips and all("alert" in t for t in tips)
    finally:
        page.close()


def test_hia_report_and_its_map(browser, tmp_path):  # noqa: F811
    from geotarget.hia.report import run_hia
    from geotarget.io.sites import parse_site

    name = SCRIPT_NAMES[0] + " " + SCRIPT_NAMES[2] + " " + SCRIPT_NAMES[6]
    res = run_hia(site=parse_site("TS18 1AU", name=name), out=tmp_path, generated="2025-11-01")
    report = tmp_path / f"{res.slugs[0]}.html"
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.route(re.compile(r"^https?://"), lambda route: route.abort())
    try:
        page.goto(report.as_uri())
        frame = page.frame_locator("iframe.map")
        frame.locator(".gt-ready").wait_for(timeout=20_000)
        (inner,) = [f for f in page.frames if f is not page.main_frame]
        inner.evaluate("""() => { const s = window.geotarget.state;
            for (const l of Object.values(s.layers)) { if (!s.map.hasLayer(l)) s.map.addLayer(l); }
            for (const l of Object.values(s.layers)) for (const m of (l.gtMarkers || [])) { m.openPopup(); } }""")
        page.wait_for_timeout(300)
        assert dialogs == []
        # the page's own elements: the interactive map and the static map for print (a PNG data: URI)
        static = page.locator("img.map-static").get_attribute("src")
        assert static.startswith("data:image/png;base64,")
        assert page.evaluate(INJECTED) == ["iframe:" + page.locator("iframe.map").get_attribute("srcdoc"),
                                           "img:" + static]
        assert inner.evaluate(INJECTED) == []
        assert page.locator("h1").inner_text() == f"Health Impact Assessment screening: {name}"
        assert inner.locator(".gt-title h1").inner_text() == f"HIA screening: {name}"
    finally:
        page.close()


def test_action_area_markdown_rendered_as_html(browser, tmp_path, study):  # noqa: F811
    """The committee Markdown, rendered by a CommonMark renderer that passes raw HTML through, runs nothing.

    Its only images are the maps geotarget wrote beside it; the HTML version embeds the same maps and runs
    nothing either.
    """
    markdown_it = pytest.importorskip("markdown_it")
    from geotarget.analysis.target import target_areas
    from geotarget.render.action_areas import write_action_areas

    res = target_areas(study.lsoas, vintage=study.vintage, n=None)
    files = write_action_areas(res, tmp_path, title=SCRIPT_NAMES[0], lsoas=study.lsoas)
    md = files["md"].read_text(encoding="utf-8")
    maps = [f"img:{p.name}" for k, p in files.items() if k.startswith("map")]
    assert maps and all(p.endswith(".png") for p in maps)
    rendered = markdown_it.MarkdownIt("commonmark").enable("table").render(md)
    path = tmp_path / "rendered_markdown.html"
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head><body>{rendered}"
                    "</body></html>", encoding="utf-8")
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(path.as_uri())
        page.wait_for_timeout(300)
        assert dialogs == [] and sorted(page.evaluate(INJECTED)) == sorted(maps)
        assert page.evaluate("() => document.scripts.length") == 0
        assert page.locator("h1").inner_text() == SCRIPT_NAMES[0]
        page.goto(files["html"].as_uri())
        page.wait_for_timeout(300)
        found = page.evaluate(INJECTED)
        assert dialogs == [] and len(found) == len(maps)
        assert all(f.startswith("img:data:image/png;base64,") for f in found)
        assert page.evaluate("() => document.scripts.length") == 0
        assert page.locator("h1").inner_text() == SCRIPT_NAMES[0]
    finally:
        page.close()
