"""The HIA service in a real browser: the whole story of issue 18, as an applicant and a reviewer would walk it.

A real uvicorn server runs the app (``create_app``) on 127.0.0.1 on a free port, with a new SQLite database;
the reviewer account is made with :func:`geotarget.web.app.add_user` (what ``geotarget users add`` calls) and
the applicant registers through the pages. In headless Chromium (the session's ``browser`` fixture):

1. the applicant registers, screens a postcode from the bundled Tees Valley postcodes, and a boundary drawn by
   clicking on the map, named ``<img src=x onerror=alert(1)>`` (shown as text; no dialog);
2. answers the 11 topics; a save from a second tab makes the first tab's save stale: the page says so and the
   first tab's text is still in the form; submits;
3. the reviewer filters the list (status and ward), returns it with a comment on a topic and a general one;
4. the applicant sees both comments, revises and resubmits; the reviewer accepts;
5. the dashboard counts it (numbers checked against the submission's own evidence), its map shows the site;
   the CSV and the PDF download (``%PDF``, the site named in the text) open.

Every page carries the Content-Security-Policy header; no page logs a CSP violation or a script error, and
no request leaves 127.0.0.1 except for map tiles (answered locally with a grey image). Only the story is
marked ``browser``; the tests after it drive the pages with FastAPI's TestClient (what the story does not
reach: redirects after sign-in, CSRF, another applicant's submission, uploads, an incomplete submission).
"""

from __future__ import annotations

import io
import json
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from .conftest import TILE

HOSTILE = "<img src=x onerror=alert(1)>"
POSTCODE = "TS18 1AU"  # Stockton High Street, in data/postcodes/postcodes_tees_valley.csv.gz
REVIEWER = {"email": "ph.reviewer@stockton.example", "name": "Pat Reviewer", "password": "reviewer-pass-2026"}
APPLICANT = {"email": "consultant@planning.example", "name": "Sam Consultant", "password": "applicant-pass-2026"}
NEGATIVE = {2, 7}  # topics the applicant judges negative
MITIGATED = {2, 4, 7}  # topics with mitigation

# accounts made with quick password hashes; `screener`: the screening data, loaded once (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("fast_hashes")



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, screener):
    """Run the service with uvicorn in a thread on a free port; yield its base URL."""
    import uvicorn

    from geotarget.web.app import add_user, create_app
    from geotarget.web.settings import Settings

    db = tmp_path_factory.mktemp("hia_web") / "hia.sqlite3"
    settings = Settings(db_url=str(db), screen_rate_per_minute=0)
    app = create_app(settings, screener=screener)
    add_user(settings.db_url, email=REVIEWER["email"], name=REVIEWER["name"], role="reviewer",
             password=REVIEWER["password"])
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=15)


class User:
    """One person's browser context (own cookies), recording dialogs, script errors and CSP violations."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.csp: list[str] = []
        self.report_csp: list[str] = []
        self.outside: list[str] = []
        self.context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), self._route)
        self.page = self.new_page()

    def new_page(self):
        page = self.context.new_page()
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", self._console)
        return page

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, msg) -> None:
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            where = msg.location.get("url", "")
            in_report = where == "about:srcdoc" or where.endswith(".html") and "/report." in where  # its map: srcdoc
            (self.report_csp if in_report else self.csp).append(msg.text)
        elif msg.type == "error" and "Failed to load resource: the server responded with a status of 4" not in msg.text:
            self.errors.append(msg.text)

    def _route(self, route) -> None:
        url = route.request.url
        if re.match(r"^https://([abc]\.)?tile\.openstreetmap\.org/\d+/\d+/\d+\.png$", url):
            route.fulfill(body=TILE, content_type="image/png")
        else:
            self.outside.append(url)
            route.abort()

    def go(self, path: str):
        response = self.page.goto(self.base + path)
        assert "script-src 'self'" in response.headers.get("content-security-policy", ""), path
        return response

    def clean(self) -> None:
        """Nothing ran that should not have: no dialog, no script error, no CSP violation, no request outside."""
        assert self.dialogs == []
        assert self.errors == []
        assert self.csp == []
        # The sandboxed report (its own CSP) runs its script and styles, and its map's tiles are allowed.
        assert self.report_csp == []
        assert self.outside == []


def _expect(locator):
    from playwright.sync_api import expect

    return expect(locator)


def _sign_in(user: User, who: dict) -> None:
    user.go("/login")
    user.page.fill("#email", who["email"])
    user.page.fill("#password", who["password"])
    user.page.click("form[action='/login'] button[type=submit]")
    _expect(user.page.locator(".site-nav .who")).to_contain_text(who["name"])


def _sub_id(user: User) -> int:
    return int(re.search(r"/submissions/(\d+)$", user.page.url).group(1))


def _draw_square(user: User) -> None:
    """Zoom in three steps and click four corners of a square near the middle of the map, then finish."""
    page = user.page
    page.wait_for_selector("#draw-map[data-ready='1']")
    areas = user.context.request.get(f"{user.base}/screen/areas.geojson").json()["features"]
    labels = {f["properties"]["label"] for f in areas}
    assert {"Stockton Town Centre, Stockton-on-Tees", "Victoria, Hartlepool"} <= labels
    _expect(page.locator("#draw-map")).to_have_attribute("data-areas-loaded", str(len(areas)))  # the ward outlines
    for _ in range(3):
        page.click(".leaflet-control-zoom-in")
        page.wait_for_timeout(350)
    box = page.locator("#draw-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-40, -30), (40, -30), (40, 30), (-40, 30)):
        page.mouse.click(cx + dx, cy + dy)
    _expect(page.locator("#draw-status")).to_contain_text("4 corners placed")
    page.click("#draw-finish")
    _expect(page.locator("#draw-status")).to_contain_text("Boundary drawn with 4 corners")


def _answer(page, n: int, *, evidence: str) -> None:
    page.check(f"input[name=relevant_{n}][value=yes]")
    page.check(f"input[name=impact_{n}][value={'negative' if n in NEGATIVE else 'neutral'}]")
    page.fill(f"#evidence_{n}", evidence)
    page.fill(f"#mitigation_{n}", f"Mitigation for topic {n}" if n in MITIGATED else "")


@pytest.mark.browser
def test_the_whole_story(browser, server):  # noqa: PLR0915 - one story, told in order
    applicant, reviewer = User(browser, server), User(browser, server)
    try:
        # -- 1. the applicant registers and screens a postcode ---------------------------------------------
        a = applicant.page
        applicant.go("/")
        _expect(a.locator("h1")).to_have_text("Health Impact Assessment for development sites")
        a.click("main >> text=Create an account")
        a.fill("#name", APPLICANT["name"])
        a.fill("#email", APPLICANT["email"])
        a.fill("#password", APPLICANT["password"])
        a.click("main button[type=submit]")
        _expect(a.locator("h1")).to_have_text("Screen a site")
        _expect(a.locator(".banner")).to_contain_text("Account created")

        a.fill("#site", "ZZ99 9ZZ")  # not a postcode in the data: the error is on the form, the input kept
        a.click("#screen-button")
        _expect(a.locator(".error-summary")).to_contain_text("ZZ99 9ZZ")
        _expect(a.locator("#site")).to_have_value("ZZ99 9ZZ")
        a.fill("#site", POSTCODE)
        a.fill("#name", "Stockton High Street homes")
        a.click("#screen-button")
        _expect(a.locator("#site-name")).to_have_text("Stockton High Street homes")
        postcode_id = _sub_id(applicant)
        council = a.locator("#council").inner_text()
        ward = a.locator("#ward").inner_text()
        assert council == "Stockton-on-Tees" and ward not in ("", "–")
        _expect(a.locator("section.topic")).to_have_count(11)

        # -- a drawn polygon with a hostile name (first given two ways at once: refused, input kept) ----------
        applicant.go("/screen")
        _draw_square(applicant)
        drawn = json.loads(a.input_value("#site_geojson"))
        assert drawn["type"] == "Polygon" and len(drawn["coordinates"][0]) == 5
        a.fill("#name", HOSTILE)
        a.fill("#site", POSTCODE)
        a.click("#screen-button")
        _expect(a.locator(".error-summary")).to_contain_text("Give the site one way")
        _expect(a.locator("#name")).to_have_value(HOSTILE)
        assert json.loads(a.input_value("#site_geojson")) == drawn  # the boundary is kept, and drawn again
        a.wait_for_selector("#draw-map[data-ready='1']")
        _expect(a.locator("#draw-status")).to_contain_text("Boundary drawn with 4 corners")
        a.fill("#site", "")
        a.click("#screen-button")
        _expect(a.locator("#site-name")).to_have_text(HOSTILE)  # the name, as text
        drawn_id = _sub_id(applicant)
        assert a.locator("img[src='x']").count() == 0
        _expect(a.locator("dl.summary-list")).to_contain_text("a boundary drawn on the map")

        # -- 2. the 11 topics; a save from another tab makes this one stale; submit ---------------------------
        applicant.go(f"/submissions/{postcode_id}")
        for n in range(1, 12):
            _answer(a, n, evidence=f"First tab: evidence for topic {n}")
        other = applicant.new_page()
        other.goto(f"{server}/submissions/{postcode_id}")
        other.fill("#evidence_1", "Second tab's evidence")
        other.click("#save-button")
        _expect(other.locator(".banner")).to_contain_text("Draft saved")
        other.close()
        a.click("#save-button")
        _expect(a.locator("#conflict")).to_contain_text("Someone else changed this submission")
        _expect(a.locator("#evidence_1")).to_have_value("First tab: evidence for topic 1")  # nothing lost
        _expect(a.locator("#theirs-evidence-1")).to_contain_text("Second tab's evidence")
        _expect(a.locator("input[name=impact_2][value=negative]")).to_be_checked()
        a.click("#submit-button")
        _expect(a.locator("#status")).to_have_text("Submitted for review")
        _expect(a.locator("#topic-1 .answer-text").first).to_have_text(
            "First tab: evidence for topic 1")

        # the report, in its sandboxed frame, and the links to every format
        a.click("details.panel summary")
        frame = a.frame_locator("iframe.report-frame")
        _expect(frame.locator("h1")).to_contain_text("Stockton High Street homes")
        for fmt in ("html", "pdf", "md", "json"):
            assert a.locator(f"a[href='/submissions/{postcode_id}/report.{fmt}']").count() == 1

        # -- 3. the reviewer filters the list and returns it with comments ----------------------------------
        r = reviewer.page
        _sign_in(reviewer, REVIEWER)
        reviewer.go("/submissions")
        r.select_option("#status", "submitted")
        r.select_option("#ward", ward)
        r.click("#filter-button")
        _expect(r.locator("#submissions tbody tr")).to_have_count(1)
        _expect(r.locator("#submissions tbody")).to_contain_text("Stockton High Street homes")
        assert HOSTILE not in r.locator("main").inner_text()  # a draft is the applicant's own
        r.select_option("#status", "accepted")
        r.click("#filter-button")
        _expect(r.locator("#count")).to_contain_text("0 submissions")
        reviewer.go(f"/submissions/{postcode_id}")
        _expect(r.locator("#impact-2")).to_have_text("Negative")
        r.fill("#comment_6", "Please say how the layout follows Secured by Design.")
        r.fill("#comment_general", "Good evidence overall; one point to address.")
        r.check("input[name=decision][value=returned]")
        r.click("#review-button")
        _expect(r.locator("#status")).to_have_text("Returned for changes")

        # -- 4. the applicant sees the comments, revises and resubmits; the reviewer accepts -----------------
        applicant.go(f"/submissions/{postcode_id}")
        _expect(a.locator("#topic-6 .topic-comment")).to_contain_text("Secured by Design")
        _expect(a.locator(".general-comment")).to_contain_text("one point to address")
        a.fill("#evidence_6", "The layout follows Secured by Design: active frontages and lighting.")
        a.click("#submit-button")
        _expect(a.locator("#status")).to_have_text("Submitted for review")

        reviewer.go(f"/submissions/{postcode_id}")
        _expect(r.locator("#topic-6")).to_contain_text("active frontages and lighting")
        r.check("input[name=decision][value=accepted]")
        r.click("#review-button")
        _expect(r.locator("#status")).to_have_text("Accepted")
        _expect(r.locator("#history li")).to_have_count(5)  # draft, submitted, returned, submitted, accepted
        _expect(r.locator("#history li").nth(2)).to_contain_text(f"Returned for changes – {REVIEWER['name']}")

        # -- 5. the dashboard counts it ----------------------------------------------------------------------
        evidence = reviewer.context.request.get(f"{server}/submissions/{postcode_id}/report.json").json()
        flagged = {n for n, t in enumerate(evidence["topics"], 1) if t["flag_texts"]}
        reviewer.go("/dashboard")
        _expect(r.locator("#n-sites")).to_have_text("1")  # the draft is not counted
        _expect(r.locator("#n-accepted")).to_have_text("1")
        _expect(r.locator("#n-submitted")).to_have_text("0")
        _expect(r.locator("#n-returned")).to_have_text("0")
        _expect(r.locator("#n-reviews")).to_have_text("2")
        _expect(r.locator("#n-waiting")).to_have_text("0")
        _expect(r.locator("#mitigation-share")).to_contain_text("1 of 1 (100%)")
        for n in range(1, 12):
            row = r.locator(f"#topic-row-{n}")
            _expect(row.locator(".flagged")).to_have_text(str(int(n in flagged)))
            _expect(row.locator(".negative")).to_have_text(str(int(n in NEGATIVE)))
            _expect(row.locator(".mitigation")).to_have_text(str(int(n in MITIGATED)))
        order = r.locator("#topics-table tbody tr").evaluate_all("rows => rows.map(row => row.id)")
        assert order == [f"topic-row-{n}" for n in sorted(range(1, 12), key=lambda n: (-(n in flagged),
                                                                                        -(n in NEGATIVE), n))]
        _expect(r.locator("#sites-map")).to_have_attribute("data-features", "1")
        _expect(r.locator("#sites-map .leaflet-interactive")).to_have_count(1)
        assert r.locator("#median-review").inner_text() not in ("", "–")

        csv = reviewer.context.request.get(f"{server}/dashboard.csv")
        assert csv.ok and csv.text().splitlines()[1].startswith(f"{postcode_id},Stockton High Street homes,accepted")

        # -- the PDF download opens --------------------------------------------------------------------------
        from pypdf import PdfReader

        with a.expect_download() as dl:
            a.click(f"a[href='/submissions/{postcode_id}/report.pdf']")
        pdf = open(dl.value.path(), "rb").read()  # noqa: SIM115 - a temporary file Playwright removes
        assert pdf.startswith(b"%PDF")
        reader = PdfReader(io.BytesIO(pdf))
        assert len(reader.pages) >= 2
        assert len(reader.pages[0].images) >= 1  # the static map, on page 1
        assert "Stockton High Street homes" in " ".join(reader.pages[0].extract_text().split())

        # -- the applicant's list shows the hostile name as text -----------------------------------------------
        applicant.go("/submissions")
        _expect(a.locator(f"#submissions a[href='/submissions/{drawn_id}']")).to_have_text(HOSTILE)
        assert a.locator("img[src='x']").count() == 0
        applicant.clean()
        reviewer.clean()
    finally:
        applicant.context.close()
        reviewer.context.close()


# -- the pages without a browser (FastAPI's TestClient): what the story does not reach --------------------------
WEB = Path(__file__).resolve().parent.parent / "geotarget" / "web"


@pytest.fixture(scope="module")
def pages(tmp_path_factory, screener):
    """Make an app on its own database with a reviewer; ``pages.client()`` is a new browser-like session."""
    from fastapi.testclient import TestClient

    from geotarget.web.app import add_user, create_app
    from geotarget.web.settings import Settings

    settings = Settings(db_url=str(tmp_path_factory.mktemp("hia_pages") / "hia.sqlite3"), screen_rate_per_minute=0,
                        max_upload_bytes=200_000)
    app = create_app(settings, screener=screener)
    add_user(settings.db_url, email=REVIEWER["email"], name=REVIEWER["name"], role="reviewer",
             password=REVIEWER["password"])

    class Pages:
        def client(self):
            return TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)

    return Pages()


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _register(client, name: str, email: str):
    token = _token(client.get("/register").text)
    r = client.post("/register", data={"csrf_token": token, "name": name, "email": email,
                                       "password": APPLICANT["password"]})
    assert r.status_code == 303 and r.headers["location"] == "/screen"
    return _token(client.get("/screen").text)


def _login(client, who: dict) -> str:
    token = _token(client.get("/login").text)
    r = client.post("/login", data={"csrf_token": token, "email": who["email"], "password": who["password"]})
    assert r.status_code == 303
    return _token(client.get("/").text)


def test_templates_and_scripts_hold_no_inline_code_and_build_no_html_from_strings():
    """The CSP allows no inline script or style: every script and style is a file; JS never parses HTML."""
    for path in sorted((WEB / "templates").glob("*.html")):
        text = path.read_text(encoding="utf-8")
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text) == [], path.name
        assert re.findall(r"<style|\sstyle=|\son[a-z]+=|javascript:", text, re.I) == [], path.name
        assert "|safe" not in text and "autoescape false" not in text, path.name
    for path in sorted((WEB / "static").glob("*.js")):
        text = path.read_text(encoding="utf-8")
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert forbidden not in text, (path.name, forbidden)


def test_sign_in_goes_back_only_to_this_site_and_forms_need_the_csrf_token(pages):
    c = pages.client()
    token = _token(c.get("/login?next=//evil.example/x").text)
    for target, expected in (("//evil.example/x", "/"), ("/\\evil.example", "/"), ("https://evil.example", "/"),
                             ("/submissions?status=submitted", "/submissions?status=submitted")):
        r = c.post("/login", data={"csrf_token": token, "email": REVIEWER["email"], "password": REVIEWER["password"],
                                   "next": target})
        assert r.status_code == 303 and r.headers["location"] == expected, target
        token = _token(c.get("/").text)
    wrong = pages.client()
    wrong_token = _token(wrong.get("/login").text)
    r = wrong.post("/login", data={"csrf_token": wrong_token, "email": REVIEWER["email"], "password": "not it at all"})
    assert r.status_code == 400 and "The e-mail address or the password is wrong." in r.text
    assert f'value="{REVIEWER["email"]}"' in r.text  # the e-mail is kept on the form
    assert pages.client().post("/login", data={"email": REVIEWER["email"]}).status_code == 403  # no token
    assert c.post("/logout", data={}).status_code == 403
    assert c.post("/logout", data={"csrf_token": token}).status_code == 303
    assert c.get("/submissions").headers.get("location") == "/login?next=/submissions"


def test_pages_keep_each_applicants_submissions_to_themselves_and_roles_apart(pages):
    ann, bob, rita = pages.client(), pages.client(), pages.client()
    token = _register(ann, "Ann Applicant", "ann@dev.example")
    r = ann.post("/screen", data={"csrf_token": token, "site": POSTCODE, "name": HOSTILE})
    assert r.status_code == 303
    sub = r.headers["location"]
    page = ann.get(sub).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and HOSTILE not in page  # text, never markup
    _register(bob, "Bob Applicant", "bob@dev.example")
    for path in (sub, f"{sub}/report.json", f"{sub}/report.html"):
        r = bob.get(path)
        assert r.status_code == 404 and "onerror" not in r.text, path
    _login(rita, REVIEWER)
    assert rita.get(sub).status_code == 404  # a draft is the applicant's own until submitted
    assert rita.get("/screen").status_code == 403
    assert ann.get("/dashboard").status_code == 403 and ann.get("/dashboard.csv").status_code == 403
    assert ann.get("/dashboard/sites.geojson").status_code == 403


def test_screening_by_upload_and_errors_shown_on_the_form_with_the_input_kept(pages, tmp_path):
    import geopandas as gpd
    import shapely

    c = pages.client()
    token = _register(c, "Una Uploader", "una@dev.example")
    site = gpd.GeoSeries([shapely.box(444400, 518800, 444700, 519000)], crs="EPSG:27700").to_crs("EPSG:4326")
    geojson = site.to_json().encode()
    r = c.post("/screen", data={"csrf_token": token, "name": "Uploaded site"},
               files={"site_file": ("allocation.geojson", geojson, "application/geo+json")})
    assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "Uploaded site" in page and "allocation.geojson" in page and "6.00 ha" in page
    r = c.post("/screen", data={"csrf_token": token, "name": "Kept name"},
               files={"site_file": ("site.geojson", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")})
    assert r.status_code == 400 and 'value="Kept name"' in r.text and "site.geojson" in r.text
    big = b'{"type": "Polygon", "coordinates": [[' + b"[0, 0], " * 40_000 + b"[0, 0]]]}"
    r = c.post("/screen", data={"csrf_token": token}, files={"site_file": ("big.geojson", big, "application/json")},
               headers={"Accept": "text/html,application/xhtml+xml"})  # as a browser's form post sends it
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")
    assert "File too large" in r.text and "at most" in r.text
    r = c.post("/screen", data={"csrf_token": token, "site": "54.56,-1.31", "name": "Lat lon"})
    assert r.status_code == 400 and "54.56,-1.31" in r.text and 'value="Lat lon"' in r.text
    r = c.post("/screen", data={"csrf_token": token, "site": "", "name": ""})
    assert r.status_code == 400 and "Give the site" in r.text


def test_submitting_an_incomplete_assessment_saves_it_and_names_the_topics_left(pages):
    c = pages.client()
    token = _register(c, "Ida Incomplete", "ida@dev.example")
    sub = c.post("/screen", data={"csrf_token": token, "site": POSTCODE}).headers["location"]
    page = c.get(sub).text
    data = {"csrf_token": _token(page), "version": re.search(r'name="version" value="(\d+)"', page).group(1)}
    for n in range(1, 10):  # topics 10 and 11 left unanswered
        data |= {f"relevant_{n}": "no", f"impact_{n}": "neutral", f"evidence_{n}": f"Evidence <b>{n}</b>"}
    r = c.post(f"{sub}/submit", data=data)
    assert r.status_code == 400 and "Your answers are saved, but not submitted" in r.text
    assert "topics 10, 11 need an answer" in r.text
    assert re.findall(r'id="missing-(\d+)"', r.text) == ["10", "11"]
    assert "Evidence &lt;b&gt;9&lt;/b&gt;</textarea>" in c.get(sub).text  # saved, as text
    data["version"] = re.search(r'name="version" value="(\d+)"', c.get(sub).text).group(1)
    r = c.post(f"{sub}/answers", data=data | {"relevant_1": "perhaps"})  # not a choice: refused, nothing saved
    assert r.status_code == 400 and "missing-" not in r.text and "relevant" in r.text
    assert f'name="version" value="{data["version"]}"' in c.get(sub).text
