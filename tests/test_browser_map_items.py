"""The map items of issue 16, each checked in headless Chromium as a person would meet it.

* the decile layers are one choice at a time, and the legend names the one shown;
* with "No basemap", the community assets still switch on and off and cluster;
* the overview map never covers the layer list (two window sizes), whose last item stays clickable;
* ward labels never overlap: they are thinned, and zooming in shows more of them;
* the search box: Enter goes to the first suggestion, the arrow keys choose another, and postcodes
  are found typed in lower case without a space;
* asset popups show their text without a "popup:" label;
* clicking an area opens a popup whose text can be selected and copied;
* ward-profile ranks say what they are among: "103 wards in Tees Valley" or "6,784 wards in England".

Pages are opened as in ``tests/test_browser.py`` (tiles answered locally, no other network).
"""

from __future__ import annotations

import re

import pytest

from geotarget.core.crs import WGS84

from . import test_browser as browser_tests
from .test_browser import MapPage, search

# The Tees Valley page of tests/test_browser.py (its fixtures, shared here).
tees_map = browser_tests.tees_map
tees_page = browser_tests.tees_page
tees = browser_tests.tees

pytestmark = pytest.mark.browser

DECILES = ["IMD decile", "Income decile", "Employment decile", "Education decile", "Health decile", "Crime decile",
           "Barriers decile", "Living env. decile"]

#: The rectangles of the visible labels on the map (text shown, inside the map).
VISIBLE_LABELS = """sel => [...document.querySelectorAll(sel)].filter(s => s.offsetParent !== null).map(s => {
    const r = s.getBoundingClientRect(); return [s.textContent, r.left, r.top, r.right, r.bottom]; })"""


def overlapping(boxes: list) -> list[tuple[str, str]]:
    """Pairs of labels whose rectangles overlap."""
    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]]


def decile_layers_on(page: MapPage) -> list[str]:
    return [name for name in DECILES if page.on_map(name)]


@pytest.fixture(scope="module")
def run_map(tees_run):
    """Return the map ``geotarget run`` writes for the bundled Tees Valley sample."""
    return tees_run / "imd2025_map.html"


# ----------------------------------------------------------------------------- 1. deciles, one at a time


def test_decile_layers_are_one_choice_and_the_legend_names_it(tees):
    legend = tees.page.locator(".gt-legend-section").first
    assert decile_layers_on(tees) == ["IMD decile"]
    expect_title = "{} decile — 1 = most deprived 10% nationally"
    assert legend.locator(".gt-legend-title").inner_text() == expect_title.format(
        "Index of Multiple Deprivation (IMD)")
    group = tees.page.locator(".gt-group-title")
    assert group.inner_text() == "Deprivation deciles (one at a time)"
    for name, described in (("Health decile", "Health Deprivation and Disability"), ("Income decile", "Income"),
                            ("Living env. decile", "Living Environment")):
        tees.page.locator(".leaflet-control-layers-overlays label", has_text=name).locator("input").click()
        assert decile_layers_on(tees) == [name]  # exactly one decile layer on the map
        assert legend.locator(".gt-legend-title").inner_text() == expect_title.format(described)
        assert legend.is_visible()
    # Choosing "none" takes every decile layer off, and their legend with them.
    tees.page.locator(".gt-group-none input").click()
    assert decile_layers_on(tees) == []
    assert not legend.is_visible()
    # A layer switched on by the page itself (e.g. by a script or the search) still replaces the other.
    tees.js("""() => { const s = window.geotarget.state;
        s.map.addLayer(s.layers['Crime decile']); s.map.addLayer(s.layers['Education decile']); }""")
    assert decile_layers_on(tees) == ["Education decile"]
    checked = tees.page.locator(".leaflet-control-layers-overlays input[type=radio]:checked")
    assert checked.count() == 1
    assert legend.locator(".gt-legend-title").inner_text() == expect_title.format("Education, Skills and Training")
    assert tees.errors == []


# ----------------------------------------------------------------------------- 2. no basemap, assets


def test_community_assets_work_without_a_basemap(browser, run_map):
    page = MapPage(browser, run_map)
    try:
        page.page.locator(".leaflet-control-layers-base label", has_text="No basemap").locator("input").click()
        for _ in range(2):  # on, off, on, off
            page.toggle("Community assets")
            assert page.on_map("Community assets")
            drawn = page.js("() => document.querySelectorAll('.leaflet-marker-pane .gt-cluster,"
                            " .leaflet-marker-pane .gt-marker').length")
            assert drawn > 0
            page.toggle("Community assets")
            assert not page.on_map("Community assets")
        page.toggle("Community assets")
        # Zooming in splits the clusters into markers.
        page.js("() => { window.geotarget.state.map.setZoom(17, {animate: false}); }")
        assert page.js("() => window.geotarget.state.map.getMaxZoom()") == 19
        assert page.errors == []
    finally:
        page.close()


# ----------------------------------------------------------------------------- 3. overview map vs layer list


@pytest.mark.parametrize("size", [(1280, 800), (1024, 700)])
def test_overview_map_never_covers_the_layer_list(browser, run_map, size):
    page = MapPage(browser, run_map)
    try:
        page.page.set_viewport_size({"width": size[0], "height": size[1]})
        page.page.wait_for_timeout(300)
        control = page.page.locator(".leaflet-control-layers").bounding_box()
        mini = page.page.locator(".leaflet-control-minimap").bounding_box()
        assert control and mini
        apart = (control["y"] + control["height"] <= mini["y"] or mini["y"] + mini["height"] <= control["y"]
                 or control["x"] + control["width"] <= mini["x"] or mini["x"] + mini["width"] <= control["x"])
        assert apart, (control, mini)
        # The last layer can be reached and switched: scrolled into view, it is the element under the pointer.
        last = page.page.locator(".leaflet-control-layers-overlays label:not(.gt-group-none)").last
        name = last.inner_text().strip()
        last.scroll_into_view_if_needed()
        box = last.bounding_box()
        assert box["y"] + box["height"] <= mini["y"]
        hit = page.js("([x, y]) => document.elementFromPoint(x, y).closest('label') !== null",
                      [box["x"] + 10, box["y"] + box["height"] / 2])
        assert hit
        before = page.on_map(name)
        last.locator("input").click()
        assert page.on_map(name) is (not before)
        assert page.errors == []
    finally:
        page.close()


# ----------------------------------------------------------------------------- 4. ward labels


def test_ward_labels_never_overlap_and_zooming_in_shows_more(tees, sample25):
    wards = ".gt-label-Ward-boundaries span"
    every = ".gt-label span"
    assert overlapping(tees.js(VISIBLE_LABELS, every)) == []  # the initial view
    # Central Middlesbrough at zoom 12, where the wards are small and their names long.
    centre = sample25.wards[sample25.wards["lad_name"] == "Middlesbrough"].to_crs(WGS84).union_all().centroid
    tees.js("([lat, lon]) => { window.geotarget.state.map.setView([lat, lon], 12, {animate: false}); }",
            [centre.y, centre.x])
    at12 = tees.js(VISIBLE_LABELS, wards)
    assert overlapping(tees.js(VISIBLE_LABELS, every)) == []
    assert len(at12) >= 5
    # Thinned: some wards whose names would be in view are not labelled at this zoom.
    in_view = tees.js("""sel => { const m = window.geotarget.state.map, b = m.getBounds();
        return window.geotarget.state.labelGroups.flatMap(g => g.gtLabels || [])
          .filter(l => l.span.closest('.gt-label-Ward-boundaries') && b.contains(l.marker.getLatLng())).length; }""",
                      wards)
    assert len(at12) < in_view
    # Zooming in on the same centre shows more of the names of the wards then in view.
    tees.js("([lat, lon]) => { window.geotarget.state.map.setView([lat, lon], 13, {animate: false}); }",
            [centre.y, centre.x])
    at13 = tees.js(VISIBLE_LABELS, wards)
    in_view13 = set(tees.js("""() => { const m = window.geotarget.state.map, b = m.getBounds();
        return window.geotarget.state.labelGroups.flatMap(g => g.gtLabels || [])
          .filter(l => b.contains(l.marker.getLatLng())).map(l => l.span.textContent); }"""))
    was = [b[0] for b in at12 if b[0] in in_view13]  # shown at zoom 12 among the wards in view at 13
    assert overlapping(tees.js(VISIBLE_LABELS, every)) == []
    assert len(at13) > len(was), (at13, was)
    assert tees.errors == []


# ----------------------------------------------------------------------------- 5. search


def tips(page: MapPage) -> list[str]:
    page.page.locator(".search-tip").first.wait_for(state="visible", timeout=5_000)
    return page.page.locator(".search-tip").all_inner_texts()


def test_search_enter_goes_to_the_first_suggestion_and_arrows_choose(tees, sample25):
    search(tees, "Stockton")
    shown = tips(tees)
    assert len(shown) > 2
    box = tees.page.locator(".leaflet-control-search input")
    box.press("Enter")
    tees.page.wait_for_function("window.geotarget.state.lastSearch !== undefined")
    first = tees.js("window.geotarget.state.lastSearch")
    assert box.input_value() == shown[0]
    assert first is not None
    # The arrow keys move the highlight; Enter takes the highlighted suggestion.
    tees.js("delete window.geotarget.state.lastSearch")
    search(tees, "Stockton")
    shown = tips(tees)
    box.press("ArrowDown")
    box.press("ArrowDown")
    highlighted = tees.page.locator(".search-tip-select")
    assert highlighted.count() == 1 and highlighted.inner_text() == shown[1]
    box.press("Enter")
    tees.page.wait_for_function("window.geotarget.state.lastSearch !== undefined")
    assert box.input_value() == shown[1]
    assert tees.js("window.geotarget.state.lastSearch") != first
    assert tees.errors == []


@pytest.mark.parametrize("typed", ["ts181au", "TS181AU", "ts18 1au"])
def test_search_finds_a_postcode_typed_any_way(tees, typed):
    from geotarget.data.sample import postcode_points

    row = list(postcode_points(2025)["postcode"]).index("TS18 1AU")
    search(tees, typed)
    assert tips(tees)[0] == "TS18 1AU — Postcode"
    tees.page.locator(".leaflet-control-search input").press("Enter")
    tees.page.wait_for_function("window.geotarget.state.lastSearch !== undefined")
    assert tees.js("window.geotarget.state.lastSearch") == {"kind": "Postcode", "row": row}
    assert tees.errors == []


# ----------------------------------------------------------------------------- 6. asset popups


def test_asset_popups_have_no_popup_label(browser, run_map):
    page = MapPage(browser, run_map)
    try:
        page.toggle("Community assets")
        names = page.js("() => window.geotarget.state.layers['Community assets'].gtMarkers.map(m => m.options.title)")
        popup = page.page.locator(".gt-popup .leaflet-popup-content")
        for row in (0, 1, 2, 10):  # open the popup as a click on the marker does
            page.js("""row => new Promise(done => { const layer = window.geotarget.state.layers['Community assets'];
                const marker = layer.gtMarkers[row];
                layer.zoomToShowLayer(marker, () => { marker.openPopup(); done(); }); })""", row)
            popup.wait_for(state="visible", timeout=5_000)
            text = popup.inner_text().strip()
            assert "popup" not in text.lower(), text
            assert text.startswith(names[row]) and " — " in text, (text, names[row])  # name — category — postcode
            assert popup.locator(".gt-tip-label").count() == 0
        assert page.errors == []
    finally:
        page.close()


# ----------------------------------------------------------------------------- 7. area popups


def click_area(page: MapPage, lat: float, lon: float) -> None:
    x, y = page.point(lat, lon)
    popup = page.page.locator(".gt-area")
    for attempt in range(6):  # the canvas may be painted after the first event on a loaded machine
        page.page.mouse.move(x - 2, y - 2)
        page.page.mouse.click(x, y)
        try:
            popup.wait_for(state="visible", timeout=2_000)
            return
        except Exception as e:  # playwright's TimeoutError
            if attempt == 5 or "Timeout" not in type(e).__name__:
                raise


def test_clicking_an_area_gives_a_popup_to_select_and_copy(tees, sample25):
    code = "E01012060"
    lsoa = sample25.lsoas.loc[[code]]
    point = lsoa.geometry.representative_point().to_crs(WGS84).iloc[0]
    click_area(tees, point.y, point.x)
    popup = tees.page.locator(".gt-area .leaflet-popup-content")
    text = popup.inner_text()
    name = lsoa["lsoa_name"].iloc[0]
    assert f"{code} {name}" in text and f"Ward: {lsoa['ward_name'].iloc[0]}" in text
    # The text can be selected: a triple click on the heading selects it.
    head = popup.locator(".gt-tip-head")
    head.click(click_count=3)
    selected = tees.js("() => window.getSelection().toString()")
    assert code in selected and name in selected
    assert tees.js("() => getComputedStyle(document.querySelector('.gt-area .gt-popup-text')).userSelect") != "none"
    # Select all of it (as a drag would) and the selection holds the whole summary.
    tees.js("""() => { const r = document.createRange();
        r.selectNodeContents(document.querySelector('.gt-area .gt-popup-text'));
        const s = window.getSelection(); s.removeAllRanges(); s.addRange(r); }""")
    assert "Population:" in tees.js("() => window.getSelection().toString()")
    # The Copy button writes the area's summary to the clipboard.
    tees.js("""() => { window.__copied = null; Object.defineProperty(navigator, 'clipboard', {configurable: true,
        value: {writeText: t => { window.__copied = t; return Promise.resolve(); }}}); }""")
    tees.page.locator(".gt-area .gt-copy").click()
    expect_copied = tees.page.locator(".gt-area .gt-copy")
    expect_copied.filter(has_text="Copied").wait_for(timeout=2_000)
    copied = tees.js("() => window.__copied")
    assert copied.startswith(f"{code} {name}")
    assert f"Ward: {lsoa['ward_name'].iloc[0]}" in copied
    assert re.search(rf"IMD\s+{int(lsoa['imd_decile'].iloc[0])}\s+{int(lsoa['imd_rank'].iloc[0]):,}", copied)
    # While measuring a distance, clicks place points and open no popup.
    tees.js("() => { window.geotarget.state.map.closePopup(); }")
    tees.page.locator(".polyline-measure-unicode-icon").first.click()
    x, y = tees.point(point.y, point.x)
    tees.page.mouse.click(x, y)
    tees.page.wait_for_timeout(300)
    assert tees.page.locator(".gt-area").count() == 0
    tees.page.locator(".polyline-measure-unicode-icon").first.click()
    tees.page.keyboard.press("Escape")
    assert tees.errors == []


# ----------------------------------------------------------------------------- 8. what ward ranks are among


def test_ward_ranks_say_what_they_are_among(browser, run_map, sample25, tmp_path):
    from geotarget.analysis.aggregate import aggregate
    from geotarget.render.maps import deprivation_map

    page = MapPage(browser, run_map)  # the bundled sample: ranks among its own wards
    try:
        page.toggle("Ward profile: IMD average score")
        titles = page.page.locator(".gt-legend-section:visible .gt-legend-title").all_inner_texts()
        assert "Ward IMD average score — rank among 103 wards in Tees Valley; 1 = most deprived" in titles
    finally:
        page.close()
    s = sample25
    lsoas = s.lsoas[s.lsoas["lad_name"] == "Hartlepool"]
    wards = s.wards[s.wards["lad_name"] == "Hartlepool"]
    profiles = aggregate(lsoas, to="ward", vintage=s.vintage.year)
    path = deprivation_map(lsoas, wards=wards, ward_profiles=profiles, n_ranked=6784, ranked_in="England",
                           title="Hartlepool", vintage=s.vintage.label).save(tmp_path / "national.html")
    page = MapPage(browser, path)
    try:
        page.toggle("Ward profile: IMD average score")
        titles = page.page.locator(".gt-legend-section:visible .gt-legend-title").all_inner_texts()
        assert "Ward IMD average score — rank among 6,784 wards in England; 1 = most deprived" in titles
        assert page.errors == []
    finally:
        page.close()
