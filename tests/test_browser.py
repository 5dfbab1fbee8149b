"""The maps in a real browser: headless Chromium (Debian's package) driven by Playwright.

Each test opens a map written by geotarget from disk (file://) and checks what a
person would: the page raises no console errors, every layer toggles from the layer
control, legends appear and disappear with their layers, hovering an LSOA shows its
name, the search box finds LSOAs and wards, an asset named ``<script>alert(1)</script>``
is shown as text and no dialog opens, and the England map is interactive (how fast it becomes
interactive is measured by ``benchmarks/bench_browser.py``, not asserted here).

Map tiles are answered locally with a grey image (the map must work without tiles);
any other network request fails the test. Skipped when playwright or chromium is
missing, unless ``GEOTARGET_REQUIRE_BROWSER=1`` (as in CI), which turns that into a
failure. One browser serves the whole session. Every test here is marked ``browser``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest

from geotarget.core.crs import WGS84

from .conftest import TILE  # the session's browser is the conftest fixture `browser`
from .test_maps import EVIL

pytestmark = pytest.mark.browser


def expect(locator):
    from playwright.sync_api import expect as _expect

    return _expect(locator)



class MapPage:
    """A browser tab with one map, recording console errors, page errors and dialogs."""

    def __init__(self, browser, path: Path, *, timeout_ms: int = 20_000):
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.route(re.compile(r"^https?://"), self._route)
        self.started = time.perf_counter()
        self.page.goto(path.as_uri())
        self.page.wait_for_function("window.geotarget && window.geotarget.state", timeout=timeout_ms, polling=50)
        self.ready_after = time.perf_counter() - self.started

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        url = route.request.url
        if re.match(r"https://tile\.openstreetmap\.org/\d+/\d+/\d+\.png$", url):
            route.fulfill(body=TILE, content_type="image/png")
        else:
            self.requests.append(url)
            route.abort()

    def js(self, expression: str, arg=None):
        return self.page.evaluate(expression, arg)

    def on_map(self, name: str) -> bool:
        return self.js("n => window.geotarget.state.map.hasLayer(window.geotarget.state.layers[n])", name)

    def toggle(self, name: str) -> None:
        """Switch a layer on or off from the layer control, as a person would.

        A layer of a radio group (the decile layers) is switched off by choosing the group's "none".
        """
        label = self.page.locator(".leaflet-control-layers-overlays label",
                                  has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))
        if label.locator("input[type=radio]").count() and self.on_map(name):
            label.locator("xpath=following-sibling::label[contains(@class, 'gt-group-none')][1]").locator(
                "input").click()
        else:
            label.locator("input").click()

    def overlay_labels(self) -> list[str]:
        """Names of the overlays in the layer control, in order (not the radio groups' "none")."""
        labels = self.page.locator(".leaflet-control-layers-overlays label:not(.gt-group-none)")
        return [t.strip() for t in labels.all_inner_texts()]

    def legend_visible(self) -> dict[str, bool]:
        """Legend section title -> shown (its panel shown and the section shown)."""
        sections = self.page.locator(".gt-legend-section")
        return {sections.nth(i).locator(".gt-legend-title").text_content(): sections.nth(i).is_visible()
                for i in range(sections.count())}

    def point(self, lat: float, lon: float) -> tuple[float, float]:
        """Page coordinates of a place on the map."""
        xy = self.js("([lat, lon]) => { const m = window.geotarget.state.map;"
                     " const p = m.latLngToContainerPoint([lat, lon]); const r = m.getContainer()"
                     ".getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }", [lat, lon])
        return xy[0], xy[1]

    def close(self) -> None:
        assert self.requests == [], f"unexpected network requests: {self.requests}"
        self.page.close()


@pytest.fixture(scope="module")
def tees_map(tmp_path_factory, sample25):
    """Return the Tees Valley map of geotarget run, plus the assets (one named EVIL) and a typology."""
    from geotarget.analysis.aggregate import aggregate
    from geotarget.render.maps import deprivation_map

    s = sample25
    mb = deprivation_map(s.lsoas, wards=s.wards, lads=s.lads,
                         ward_profiles=aggregate(s.lsoas, to="ward", vintage=s.vintage.year), ranked_in="Tees Valley",
                         title="Deprivation in Tees Valley", vintage=s.vintage.label)
    lsoas = s.lsoas.assign(band=np.where(s.lsoas["imd_decile"] <= 2, "Most deprived fifth", "Other"))
    mb.add_categories(lsoas, "band", "Deprivation band")
    assets = s.assets.copy()
    assets.loc[assets.index[0], "name"] = EVIL
    mb.add_points(assets, "Assets", category_column="asset_type", label_column="name",
                  popup={"name": "Name", "asset_type": "Type", "postcode": "Postcode"})
    from geotarget.data.sample import postcode_points

    mb.add_search(postcode_points(2025), "postcode")
    path = mb.save(tmp_path_factory.mktemp("browser") / "tees.html")
    return path, mb, assets


@pytest.fixture(scope="module")
def tees_page(browser, tees_map):
    page = MapPage(browser, tees_map[0])
    yield page
    page.close()


@pytest.fixture
def tees(tees_page, tees_map):
    """Return the Tees Valley page, back as it opened: default layers, whole area, nothing open."""
    shown = [layer.name for layer in tees_map[1].layers if layer.show]
    tees_page.js("""shown => {
        const s = window.geotarget.state, m = s.map;
        m.closePopup();
        for (const [name, layer] of Object.entries(s.layers)) {
            if (shown.includes(name) && !m.hasLayer(layer)) m.addLayer(layer);
            if (!shown.includes(name) && m.hasLayer(layer)) m.removeLayer(layer);
        }
        m.fitBounds(s.spec.bounds, {animate: false});
        delete s.lastSearch;
    }""", shown)
    tees_page.page.mouse.move(0, 0)
    return tees_page


def search(page: MapPage, text: str) -> None:
    """Type ``text`` into the search box (the last key press triggers the search)."""
    box = page.page.locator(".leaflet-control-search input")
    box.fill(text[:-1])
    box.press(text[-1])


def test_map_opens_without_console_errors(tees):
    assert tees.errors == [] and tees.dialogs == []
    assert tees.page.title() == "Deprivation in Tees Valley"
    assert tees.page.locator(".gt-title h1").inner_text() == "Deprivation in Tees Valley"
    assert "Open Government Licence" in tees.page.locator(".leaflet-control-attribution").inner_text()
    # The tools are there: fullscreen, measure, print, search, minimap, scale.
    for selector in (".leaflet-control-zoom-fullscreen", ".polyline-measure-unicode-icon", ".gt-print",
                     ".leaflet-control-search input", ".leaflet-control-minimap", ".leaflet-control-scale"):
        assert tees.page.locator(selector).count() >= 1, selector


def test_every_layer_toggles(tees, tees_map):
    mb = tees_map[1]
    names = [layer.name for layer in mb.layers]
    assert tees.overlay_labels() == names
    for name in names:
        before = tees.on_map(name)
        tees.toggle(name)
        assert tees.on_map(name) is (not before), name
        if not before:  # now drawn: the layer has content
            assert tees.js("n => window.geotarget.state.layers[n].getLayers().length", name) > 0, name
        tees.toggle(name)
        assert tees.on_map(name) is before, name
    assert tees.errors == []


def test_legends_follow_their_layers(tees):
    imd_title = "Index of Multiple Deprivation (IMD) decile — 1 = most deprived 10% nationally"
    income_title = "Income decile — 1 = most deprived 10% nationally"
    shown = tees.legend_visible()
    assert shown[imd_title] is True and shown["Ward boundaries"] is True and shown["Assets"] is True
    assert shown["Deprivation band"] is False
    assert shown["Ward IMD average score — rank among 103 wards in Tees Valley; 1 = most deprived"] is False
    tees.toggle("IMD decile")  # no decile layer: no decile legend
    assert imd_title not in tees.legend_visible() or tees.legend_visible()[imd_title] is False
    tees.toggle("Income decile")  # the decile legend names the decile layer shown
    shown = tees.legend_visible()
    assert shown[income_title] is True and imd_title not in shown
    tees.toggle("Income decile")
    tees.toggle("Deprivation band")
    shown = tees.legend_visible()
    assert shown["Deprivation band"] is True and shown[income_title] is False
    for name in ("Deprivation band", "Ward boundaries", "Council boundaries", "Assets"):
        tees.toggle(name)
    expect(tees.page.locator(".gt-legend")).to_be_hidden()  # nothing on: no legend panel
    tees.toggle("Ward boundaries")
    assert tees.legend_visible()["Ward boundaries"] is True


def test_hovering_an_lsoa_shows_its_name(tees, sample25):
    code = "E01012060"  # an LSOA in Middlesbrough
    lsoa = sample25.lsoas.loc[[code]]
    point = lsoa.geometry.representative_point().to_crs(WGS84).iloc[0]
    x, y = tees.point(point.y, point.x)
    tip = tees.page.locator(".gt-tooltip")
    for attempt in range(8):  # a loaded machine may paint the canvas after the first move: hover again
        tees.page.mouse.move(x - 3, y - 3)
        tees.page.mouse.move(x, y)
        try:
            tip.wait_for(state="visible", timeout=2_500)
            break
        except Exception as e:  # playwright's TimeoutError; the last attempt re-raises it
            if attempt == 7 or "Timeout" not in type(e).__name__:
                raise
    text = tip.inner_text()
    assert f"{code} {lsoa['lsoa_name'].iloc[0]}" in text
    assert f"Ward: {lsoa['ward_name'].iloc[0]}" in text
    assert re.search(rf"IMD\s+{int(lsoa['imd_decile'].iloc[0])}\s+{int(lsoa['imd_rank'].iloc[0]):,}", text)


def test_search_finds_an_lsoa_and_a_ward(tees, sample25):
    lsoa = sample25.lsoas.loc["E01012060"]
    search(tees, lsoa["lsoa_name"])
    tip = tees.page.locator(".search-tip", has_text=lsoa["lsoa_name"]).first
    tip.wait_for(state="visible", timeout=5_000)
    tip.click()
    tees.page.wait_for_function("window.geotarget.state.lastSearch !== undefined")
    found = tees.js("window.geotarget.state.lastSearch")
    assert found == {"layer": "IMD decile", "row": list(sample25.lsoas.index).index("E01012060")}
    # The map now shows the LSOA, outlined.
    centre = sample25.lsoas.loc[["E01012060"]].to_crs(WGS84).geometry.representative_point().iloc[0]
    assert tees.js("([lat, lon]) => window.geotarget.state.map.getBounds().contains([lat, lon])",
                   [centre.y, centre.x])
    assert tees.js("window.geotarget.state.map.getZoom()") >= 13
    ward = sample25.wards.iloc[5]
    search(tees, ward["ward_name"][:8])
    tees.page.locator(".search-tip", has_text=f"{ward['ward_name']} — Ward boundaries").first.click()
    assert tees.js("window.geotarget.state.lastSearch") == {"layer": "Ward boundaries", "row": 5}
    assert tees.errors == []


def test_search_finds_a_postcode(tees):
    from geotarget.data.sample import postcode_points

    pc = postcode_points(2025)
    position = 1234
    row = pc.iloc[[position]]
    code = row["postcode"].iloc[0]
    search(tees, code)
    tees.page.locator(".search-tip", has_text=f"{code} — Postcode").first.click()
    assert tees.js("window.geotarget.state.lastSearch") == {"kind": "Postcode", "row": position}
    point = row.to_crs(WGS84).geometry.iloc[0]
    centre = tees.js("(() => { const c = window.geotarget.state.map.getCenter(); return [c.lat, c.lng]; })()")
    assert abs(centre[0] - point.y) < 1e-4 and abs(centre[1] - point.x) < 1e-4
    assert tees.js("window.geotarget.state.map.getZoom()") == 16


def test_script_in_an_asset_name_is_shown_as_text(tees, tees_map):
    search(tees, "alert(1")
    tip = tees.page.locator(".search-tip").first
    tip.wait_for(state="visible", timeout=5_000)
    assert tip.inner_text().startswith(EVIL)
    tip.click()
    popup = tees.page.locator(".gt-popup")
    popup.wait_for(state="visible", timeout=10_000)
    assert f"Name: {EVIL}" in popup.inner_text()
    assert tees.js("document.querySelectorAll('.leaflet-container script').length") == 0
    tees.page.wait_for_timeout(200)
    assert tees.dialogs == [] and tees.errors == []


def test_offline_base_layer_and_print_view(tees):
    base = tees.page.locator(".leaflet-control-layers-base label", has_text="No basemap").locator("input")
    base.click()
    assert tees.js("window.geotarget.state.map.getPane('tilePane').querySelectorAll('.leaflet-tile').length") == 0
    assert tees.errors == []
    tees.page.emulate_media(media="print")
    assert not tees.page.locator(".leaflet-control-layers").is_visible()
    assert tees.page.locator(".gt-legend").is_visible() and tees.page.locator(".gt-title").is_visible()
    tees.page.emulate_media(media="screen")
    tees.page.locator(".leaflet-control-layers-base label", has_text="OpenStreetMap").locator("input").click()


def test_england_map_is_interactive(browser, shared_data, tmp_path):
    from benchmarks.bench_maps import england_lsoas
    from geotarget.render.maps import deprivation_map

    eng = england_lsoas(shared_data)
    path = deprivation_map(eng, title="Deprivation in England", vintage="IoD2025, LSOA 2021").save(
        tmp_path / "england.html")
    assert path.stat().st_size <= 10_000_000
    page = MapPage(browser, path)
    try:
        assert page.errors == []
        assert page.js("window.geotarget.state.layers['IMD decile'].getLayers().length") == 33_755
        # Interactive: hovering an LSOA in central Manchester shows it.
        page.js("window.geotarget.state.map.setView([53.4794, -2.2453], 14, {animate: false})")
        x, y = page.point(53.4794, -2.2453)
        page.page.mouse.move(x - 2, y - 2)
        page.page.mouse.move(x, y)
        tip = page.page.locator(".gt-tooltip")
        tip.wait_for(state="visible", timeout=5_000)
        assert re.match(r"E01\d{6} Manchester \d{3}[A-Z]", tip.inner_text())
    finally:
        page.close()


def test_outline_tooltip_on_the_line_and_area_tooltip_inside(browser, tmp_path):
    """Outlines with a tooltip answer on their line; the area below answers inside."""
    import geopandas as gpd
    import shapely

    from geotarget.core.crs import BNG
    from geotarget.render.maps import MapBuilder

    cells = gpd.GeoDataFrame({"cell": ["west", "east"]},
                             geometry=[shapely.box(450_000, 520_000, 451_000, 521_000),
                                       shapely.box(451_000, 520_000, 452_000, 521_000)], crs=BNG)
    zone = gpd.GeoDataFrame({"zone": ["Zone " + EVIL]}, geometry=[shapely.box(450_000, 520_000, 452_000, 521_000)],
                            crs=BNG)
    mb = MapBuilder("Grid", tiles=False).add_categories(cells, "cell", "Cells", show=True, tooltip=["cell"])
    mb.add_outlines(zone, "Zone", tooltip={"zone": "Zone"}, weight=8)
    page = MapPage(browser, mb.save(tmp_path / "grid.html"))
    try:
        edge = gpd.GeoSeries([shapely.Point(451_500, 521_000)], crs=BNG).to_crs(WGS84).iloc[0]  # north edge
        inside = gpd.GeoSeries([shapely.Point(451_500, 520_400)], crs=BNG).to_crs(WGS84).iloc[0]
        tip = page.page.locator(".gt-tooltip")
        for point, text in ((inside, "cell: east"), (edge, f"Zone: Zone {EVIL}")):
            x, y = page.point(point.y, point.x)
            page.page.mouse.move(x - 3, y + 3)
            page.page.mouse.move(x, y)
            expect(tip).to_have_count(1)  # the area's tooltip closes when the line takes over
            expect(tip).to_have_text(text)
        assert page.errors == [] and page.dialogs == []
    finally:
        page.close()


def test_geotarget_run_map_with_every_analysis_layer(browser, tees_run):
    """Check the map `geotarget run` writes: every analysis layer listed, toggled, with content.

    The action areas' names are drawn as labels.
    """
    import pandas as pd

    page = MapPage(browser, tees_run / "imd2025_map.html")
    try:
        labels = [t.strip() for t in page.page.locator(".leaflet-control-layers-overlays label").all_inner_texts()]
        wanted = ["Targeted action areas", "Area types (outcome gaps)", "Hot spots: IMD score (Gi*)",
                  "Asset deserts (IMD deciles 1-2)", "Community assets"]
        assert set(wanted) <= set(labels), labels
        for name in wanted:
            before = page.on_map(name)
            page.toggle(name)
            assert page.on_map(name) is (not before), name
            if not before:
                assert page.js("n => window.geotarget.state.layers[n].getLayers().length", name) > 0, name
            page.toggle(name)
        assert page.on_map("Targeted action areas")
        first = pd.read_csv(tees_run / "action_areas.csv")["name"].iloc[0]
        assert page.page.get_by_text(first, exact=True).count() >= 1
        assert page.errors == []
    finally:
        page.close()
