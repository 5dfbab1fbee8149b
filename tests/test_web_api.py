"""The HIA service's JSON API end to end (FastAPI TestClient on a temporary SQLite file).

Every endpoint, with bad input (a bad postcode, a site outside England, an invalid polygon, an oversize
upload, a file of the wrong type, a zip that climbs out of its folder, XML with entities), missing CSRF
tokens, wrong passwords, stale versions, another user's submission (refused, nothing leaked), reviewer-only
actions, the whole flow draft -> submitted -> returned -> submitted -> accepted, reports reproduced from
the stored site, security headers, rate limits, the offline API docs, data surviving a restart, and the
``geotarget serve`` / ``geotarget users`` commands. One screening data load for the module.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import zipfile

import geopandas as gpd
import pytest
import shapely
from fastapi import Request
from fastapi.testclient import TestClient

from geotarget.web import service
from geotarget.web.settings import Settings

PASSWORD = "correct horse battery staple"
#: A 300 m x 200 m site by Stockton High Street (EPSG:27700), and the same in WGS84 for GeoJSON and KML.
SITE_BNG = shapely.box(444400, 518800, 444700, 519000)
SITE_WGS84 = gpd.GeoSeries([SITE_BNG], crs="EPSG:27700").to_crs("EPSG:4326").iloc[0]
BOWTIE_WKT = "POLYGON ((444400 518800, 444700 519000, 444700 518800, 444400 519000, 444400 518800))"
UPLOAD_LIMIT = 300_000

# accounts made with quick password hashes (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("fast_hashes")


@pytest.fixture(scope="module")
def screener(screener):
    """Use the session's screening data with a small upload limit, so oversize uploads are quick to make."""
    from geotarget.web.screener import Screener

    return Screener(Settings(db_url="sqlite:///:memory:", max_upload_bytes=UPLOAD_LIMIT), data=screener.data)



def _app(db_path, screener, **kw):
    from geotarget.web.app import create_app

    kw = {"max_upload_bytes": UPLOAD_LIMIT, "screen_rate_per_minute": 0, **kw}
    return create_app(Settings(db_url=str(db_path), **kw), screener=screener)


@pytest.fixture(scope="module")
def world(tmp_path_factory, screener):
    """One app on one database with an applicant (Ann), a second applicant (Bob) and a reviewer (Rita)."""
    path = tmp_path_factory.mktemp("web") / "hia.sqlite3"
    app = _app(path, screener)
    with app.state.sessions() as s:
        for email, name, role in (("ann@example.org", "Ann", "applicant"), ("bob@example.org", "Bob", "applicant"),
                                  ("rita@example.org", "Rita", "reviewer")):
            service.create_user(s, email, name, role, PASSWORD)
    return {"app": app, "path": path}


def _login(app, email):
    c = TestClient(app)
    r = c.post("/api/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return c


@pytest.fixture(scope="module")
def ann(world):
    return _login(world["app"], "ann@example.org")


@pytest.fixture(scope="module")
def bob(world):
    return _login(world["app"], "bob@example.org")


@pytest.fixture(scope="module")
def rita(world):
    return _login(world["app"], "rita@example.org")


def _answers(mitigation=()):
    return [{"topic": i, "relevant": "yes", "impact": "negative" if i == 4 else "neutral", "evidence": f"e{i}",
             "mitigation": "a 20 mph zone" if i in mitigation else ""} for i in range(1, 12)]


@pytest.fixture(scope="module")
def draft(ann):
    """Ann's draft for the postcode TS18 1AU."""
    r = ann.post("/api/submissions", json={"site": "TS18 1AU", "name": "<b>High Street</b>"})
    assert r.status_code == 201, r.text
    return r.json()


# -- accounts and sessions ------------------------------------------------------------------------------------------
def test_health_and_security_headers(world):
    c = TestClient(world["app"])
    r = c.get("/api/health")
    assert r.status_code == 200
    assert r.json()["vintage"] == "IoD2025, LSOA 2021" and r.json()["schema"] == "0001"
    from geotarget.web.security import CSP

    for resp in (r, c.get("/api/nothing-here"), c.get("/api/me")):
        assert resp.headers["content-security-policy"] == CSP
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "same-origin"
        assert resp.headers["x-frame-options"] == "SAMEORIGIN"
    assert "script-src 'self';" in CSP and "object-src 'none'" in CSP and "'unsafe-inline'" not in CSP
    assert r.headers["cache-control"] == "no-store"
    assert "no-store" not in c.get("/docs/assets/init.js").headers.get("cache-control", "")


def test_login_logout_me_and_session_cookie(world):
    c = TestClient(world["app"])
    assert c.get("/api/me").status_code == 401
    r = c.post("/api/login", json={"email": "ann@example.org", "password": "not the password"})
    assert r.status_code == 401 and r.json()["detail"] == "wrong e-mail or password"
    r = c.post("/api/login", json={"email": "nobody@example.org", "password": PASSWORD})
    assert r.status_code == 401 and r.json()["detail"] == "wrong e-mail or password"  # no account enumeration
    r = c.post("/api/login", content=json.dumps({"email": "ann@example.org", "password": PASSWORD}),
               headers={"content-type": "text/plain"})
    assert r.status_code in (415, 422)  # a cross-site form cannot log anyone in
    r = c.post("/api/login", json={"email": "ann@example.org", "password": PASSWORD})
    assert r.status_code == 200 and r.json()["user"]["role"] == "applicant"
    cookie = r.headers["set-cookie"].lower()
    assert "geotarget_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # local host: plain http
    token = r.json()["csrf_token"]
    me = c.get("/api/me").json()
    assert me["user"]["email"] == "ann@example.org" and me["csrf_token"] == token
    assert c.post("/api/logout").status_code == 403  # no CSRF token
    assert c.post("/api/logout", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert c.post("/api/logout", headers={"X-CSRF-Token": token}).json() == {"ok": True}
    assert c.get("/api/me").status_code == 401


def test_changing_a_password_ends_the_sessions_begun_with_the_old_one(tmp_path, screener):
    app = _app(tmp_path / "p.sqlite3", screener)
    with app.state.sessions() as s:
        service.create_user(s, "p@example.org", "P", "applicant", PASSWORD)
    c = _login(app, "p@example.org")
    assert c.get("/api/me").status_code == 200
    from geotarget.web.security import new_session

    @app.get("/test-login-by-id")  # a session begun with the user's id only (as a page may): stamped on first use
    def by_id(request: Request):
        return {"csrf": new_session(request, 1)}

    other = TestClient(app)
    other.get("/test-login-by-id")
    assert other.get("/api/me").status_code == 200
    with app.state.sessions() as s:
        service.set_password(s, "p@example.org", "a brand new passphrase")
        with pytest.raises(service.NotFound, match="no such account"):
            service.set_password(s, "nobody@example.org", "a brand new passphrase")
    assert c.get("/api/me").status_code == 401 and other.get("/api/me").status_code == 401
    r = c.post("/api/login", json={"email": "p@example.org", "password": "a brand new passphrase"})
    assert r.status_code == 200


def test_cookies_are_secure_off_localhost(tmp_path, screener):
    app = _app(tmp_path / "s.sqlite3", screener, host="0.0.0.0")
    with app.state.sessions() as s:
        service.create_user(s, "x@example.org", "X", "applicant", PASSWORD)
    r = TestClient(app, base_url="https://testserver").post("/api/login",
                                                            json={"email": "x@example.org", "password": PASSWORD})
    assert r.status_code == 200 and "secure" in r.headers["set-cookie"].lower()


def test_unsafe_requests_need_the_csrf_token(world, ann, draft):
    bare = TestClient(world["app"], cookies=ann.cookies)
    assert bare.post("/api/screenings", json={"site": "TS18 1AU"}).status_code == 403
    assert bare.put(f"/api/submissions/{draft['id']}/answers", json={"version": 1, "answers": []}).status_code == 403
    r = bare.post(f"/api/submissions/{draft['id']}/submit", json={"version": 1},
                  headers={"X-CSRF-Token": "not-the-token"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]


def test_login_is_rate_limited(tmp_path, screener):
    app = _app(tmp_path / "l.sqlite3", screener, login_rate_per_minute=3)
    c = TestClient(app)
    codes = [c.post("/api/login", json={"email": "a@example.org", "password": "wrong one!"}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    other = TestClient(app, client=("192.0.2.7", 50000))  # another address, the same account
    assert other.post("/api/login", json={"email": "a@example.org", "password": "wrong"}).status_code == 429
    assert other.post("/api/login", json={"email": "b@example.org", "password": "wrong"}).status_code == 401


# -- screening --------------------------------------------------------------------------------------------------
def test_screening_a_postcode_gives_the_evidence_of_geotarget_hia(ann, screener):
    from geotarget.hia.report import render_report

    r = ann.post("/api/screenings", json={"site": "TS18 1AU"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    site = screener.site_from_text("TS18 1AU")
    # the same data as the report's JSON file, written compact (no indentation) for an API client
    assert r.json() == json.loads(render_report(screener.screen(site), "json"))
    assert b"\n" not in r.content
    ev = r.json()
    assert ev["council"]["name"] == "Stockton-on-Tees" and len(ev["topics"]) == 11


def test_screening_a_drawn_polygon_and_an_easting_northing(ann):
    geom = shapely.geometry.mapping(SITE_WGS84)
    r = ann.post("/api/screenings", json={"geojson": {"type": "Feature", "properties": {}, "geometry": geom},
                                          "name": "Drawn"})
    assert r.status_code == 200, r.text
    ev = r.json()
    assert ev["site"]["kind"] == "polygon" and abs(ev["site"]["area_ha"] - 6.0) < 0.05
    r = ann.post("/api/screenings", json={"site": "444600,518900"})
    assert r.status_code == 200 and r.json()["site"]["easting"] == 444600


@pytest.mark.parametrize(("body", "message"), [
    ({"site": "ZZ99 9ZZ"}, "postcode ZZ99 9ZZ is not in"),
    ({"site": "TS18 1XX"}, "is not in"),
    ({"site": "CF10 1AA"}, "Wales, outside England"),
    ({"site": "lat=55.9533, lon=-3.1883"}, "lies outside England"),
    ({"site": "lat=51.5074, lon=-0.1278"}, "outside the data's coverage"),
    ({"site": BOWTIE_WKT}, "the polygon is invalid: Self-intersection"),
    ({"site": "/etc/passwd"}, "files are uploaded, not named"),
    ({"site": "hello"}, "expected to be a file, WKT, a postcode"),
    ({"site": "TS18 1AU", "name": "x" * 201}, "at most 200"),
    ({"site": "TS18 1AU", "geojson": {"type": "Point", "coordinates": [-1.3, 54.5]}}, "exactly one of"),
    ({"geojson": {"type": "LineString", "coordinates": [[-1.3, 54.5], [-1.2, 54.6]]}}, "must be a Polygon"),
    ({"geojson": {"type": "Polygon", "coordinates": [[[-1.31, 54.56], [-1.30, 54.57], [-1.30, 54.56],
                                                       [-1.31, 54.57], [-1.31, 54.56]]]}},
     "the polygon is invalid: Self-intersection"),
    ({"geojson": {"type": "Point", "coordinates": [444600, 518900]}}, "not longitude/latitude"),
])
def test_bad_sites_are_refused_with_a_clear_message(ann, body, message):
    r = ann.post("/api/screenings", json=body)
    assert r.status_code in (400, 422), r.text
    assert message in r.json()["detail"]
    assert "\n" not in r.json()["detail"]


def _kml(coords, extra=""):
    ring = " ".join(f"{x},{y}" for x, y in coords)
    return (f'<?xml version="1.0" encoding="UTF-8"?>{extra}<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<Placemark><name>Allocation H12</name><Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}"
            "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document></kml>").encode()


def _shapefile_zip(tmp_path, *, members=None):
    folder = tmp_path / "shp"
    folder.mkdir(exist_ok=True)
    gpd.GeoDataFrame({"name": ["Portrack Lane"]}, geometry=[SITE_BNG], crs="EPSG:27700").to_file(
        folder / "site.shp")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for ext in ("shp", "shx", "dbf", "prj"):
            zf.write(folder / f"site.{ext}", f"allocation/site.{ext}")
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_uploads_geojson_kml_kmz_and_zipped_shapefile_recognised_by_content(ann, tmp_path):
    gj = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "From file"}, "geometry": shapely.geometry.mapping(SITE_WGS84)}]})
    r = ann.post("/api/screenings", files={"site_file": ("site.txt", gj.encode(), "text/plain")})
    assert r.status_code == 200, r.text
    assert r.json()["site_name"] == "From file" and abs(r.json()["site"]["area_ha"] - 6.0) < 0.05
    r = ann.post("/api/screenings", files={"site_file": ("h12.kml", _kml(SITE_WGS84.exterior.coords),
                                                         "application/vnd.google-earth.kml+xml")})
    assert r.status_code == 200, r.text
    assert abs(r.json()["site"]["area_ha"] - 6.0) < 0.05
    bng = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
           "features": [{"type": "Feature", "properties": {"name": "QGIS export"},
                         "geometry": shapely.geometry.mapping(SITE_BNG)}]}
    r = ann.post("/api/screenings", files={"site_file": ("qgis.geojson", json.dumps(bng).encode(), "application/json")})
    assert r.status_code == 200, r.text
    assert r.json()["site"]["wkt"] == SITE_BNG.wkt and r.json()["site_name"] == "QGIS export"
    kmz = zipfile_with({"doc.kml": _kml(SITE_WGS84.exterior.coords)})
    r = ann.post("/api/screenings", files={"site_file": ("h12.kmz", kmz, "application/vnd.google-earth.kmz")})
    assert r.status_code == 200, r.text
    assert abs(r.json()["site"]["area_ha"] - 6.0) < 0.05
    r = ann.post("/api/screenings", files={"site_file": ("upload.bin", _shapefile_zip(tmp_path), "application/zip")},
                 data={"name": "Portrack"})
    assert r.status_code == 200, r.text
    assert r.json()["site_name"] == "Portrack" and abs(r.json()["site"]["area_ha"] - 6.0) < 0.01


@pytest.mark.parametrize(("make", "status", "message"), [
    (lambda p: b"\x89PNG\r\n\x1a\n" + b"0" * 100, 400, "not a GeoJSON, KML or zipped Shapefile"),
    (lambda p: b"just some text", 400, "not a GeoJSON, KML or zipped Shapefile"),
    (lambda p: b"<html><body>hi</body></html>", 400, "XML but not KML"),
    (lambda p: _kml([(0, 0), (1, 1), (1, 0), (0, 0)], '<!DOCTYPE kml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'),
     400, "DOCTYPE or ENTITY declaration is refused"),
    (lambda p: b'{"type": "Feature", "properties": {}}', 400, "has no geometry"),
    (lambda p: b"{not json", 400, "not valid GeoJSON"),
    (lambda p: json.dumps({"type": "Point", "coordinates": [0, 0], "crs": {"type": "name", "properties": {
        "name": "my local grid"}}}).encode(), 400, "'crs' 'my local grid' is not one geotarget reads"),
    (lambda p: json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1e5, 0], [1e5, 1e5], [0, 0]]], "crs": {
        "type": "name", "properties": {"name": "EPSG:27700"}}}).encode(), 400, "at most 5,000 ha"),
    (lambda p: _shapefile_zip(p, members={"../../evil.txt": b"x"}), 400, "unsafe path"),
    (lambda p: _shapefile_zip(p, members={"/etc/cron.d/x": b"x"}), 400, "unsafe path"),
    (lambda p: _shapefile_zip(p, members={"big.bin": b"\0" * (UPLOAD_LIMIT * 10 + 1)}), 413, "uncompressed"),
    (lambda p: zipfile_with({"readme.txt": b"no shapefile"}), 400, "exactly one .shp"),
    (lambda p: zipfile_with({"a.kml": b"<kml/>", "b.kml": b"<kml/>"}), 400, "a KMZ exactly one .kml"),
    (lambda p: zipfile_with({"doc.kml": b"<!DOCTYPE x><kml/>"}), 400, "DOCTYPE or ENTITY"),
    (lambda p: b"PK\x03\x04 broken", 400, "not a readable zip"),
    (lambda p: _kml(SITE_WGS84.exterior.coords) + b" " * UPLOAD_LIMIT, 413, "at most"),
])
def test_bad_uploads_are_refused(ann, tmp_path, make, status, message):
    r = ann.post("/api/screenings", files={"site_file": ("site.geojson", make(tmp_path), "application/geo+json")})
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]


def zipfile_with(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_an_oversize_body_is_refused_before_it_is_read(ann):
    r = ann.post("/api/screenings", content=b"x" * (UPLOAD_LIMIT + 100_000), headers={"content-type":
                                                                                     "application/json"})
    assert r.status_code == 413 and "too large" in r.json()["detail"]
    assert r.headers["x-content-type-options"] == "nosniff"


def test_screening_is_rate_limited_per_client(tmp_path, screener):
    app = _app(tmp_path / "r.sqlite3", screener, screen_rate_per_minute=2)
    with app.state.sessions() as s:
        service.create_user(s, "r@example.org", "R", "applicant", PASSWORD)
    c = _login(app, "r@example.org")
    codes = [c.post("/api/screenings", json={"site": "not a site"}).status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    r = c.post("/api/screenings", json={"site": "TS18 1AU"})
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 30


def test_the_rate_limiter_refills_at_its_rate():
    from geotarget.web.security import RateLimited, RateLimiter

    now = [0.0]
    lim = RateLimiter(6, clock=lambda: now[0])  # 6 a minute: one every 10 s, bursts of 6
    for _ in range(6):
        lim.hit("a")
    with pytest.raises(RateLimited) as e:
        lim.hit("a")
    assert e.value.retry_after == 10
    lim.hit("b")  # another client has its own bucket
    now[0] = 10.0
    lim.hit("a")
    with pytest.raises(RateLimited):
        lim.hit("a")
    RateLimiter(0).hit("a")  # 0 disables


# -- submissions: the whole flow --------------------------------------------------------------------------------
def test_the_whole_flow_draft_submitted_returned_submitted_accepted(world, ann, rita, draft):
    sid = draft["id"]
    assert draft["status"] == "draft" and draft["version"] == 1 and draft["site"]["name"] == "<b>High Street</b>"
    assert rita.get(f"/api/submissions/{sid}").status_code == 404  # a draft is Ann's own
    r = ann.post(f"/api/submissions/{sid}/submit", json={"version": 1})
    assert r.status_code == 400 and "topics 1, 2, 3" in r.json()["detail"]
    r = ann.put(f"/api/submissions/{sid}/answers", json={"version": 1, "answers": _answers()})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = ann.put(f"/api/submissions/{sid}/answers", json={"version": 1, "answers": _answers()})
    assert r.status_code == 409 and r.json()["current_version"] == 2
    r = ann.put(f"/api/submissions/{sid}/answers", json={"version": 2, "answers": [{"topic": 12}]})
    assert r.status_code == 422 and "topic" in r.json()["detail"]
    r = ann.put(f"/api/submissions/{sid}/answers", json={"version": 2, "answers": [{"topic": 1, "impact": "great"}]})
    assert r.status_code == 422
    assert ann.post(f"/api/submissions/{sid}/submit", json={"version": 2}).json()["status"] == "submitted"
    assert ann.post(f"/api/submissions/{sid}/review", json={"version": 3, "decision": "accepted"}).status_code == 403
    listed = rita.get("/api/submissions", params={"status": "submitted"}).json()
    assert [s["id"] for s in listed] == [sid]
    r = rita.post(f"/api/submissions/{sid}/review", json={"version": 3, "decision": "returned", "comments": [
        {"topic": 4, "text": "How will traffic be calmed? <script>alert(1)</script>"}, {"text": "Thanks."}]})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    seen = ann.get(f"/api/submissions/{sid}").json()
    assert [(c["topic"], c["text"], c["author"]) for c in seen["comments"]] == [
        (4, "How will traffic be calmed? <script>alert(1)</script>", "Rita"), (None, "Thanks.", "Rita")]
    assert seen["evidence"]["council"]["name"] == "Stockton-on-Tees"
    r = ann.put(f"/api/submissions/{sid}/answers", json={"version": 4, "answers": _answers(mitigation=(4,))})
    assert r.json()["version"] == 5
    assert ann.post(f"/api/submissions/{sid}/submit", json={"version": 5}).json()["status"] == "submitted"
    r = rita.post(f"/api/submissions/{sid}/review", json={"version": 6, "decision": "accepted"})
    assert r.status_code == 200
    done = r.json()
    assert (done["status"], done["version"], done["review_round"]) == ("accepted", 7, 2)
    assert [(e["from"], e["to"], e["by"]) for e in done["events"]] == [
        (None, "draft", "Ann"), ("draft", "submitted", "Ann"), ("submitted", "returned", "Rita"),
        ("returned", "submitted", "Ann"), ("submitted", "accepted", "Rita")]
    dash = rita.get("/api/dashboard").json()
    assert dash["sites"] >= 1 and dash["by_status"]["accepted"] >= 1 and dash["review"]["reviews"] >= 2
    assert ann.get("/api/dashboard").status_code == 403
    assert ann.get("/api/dashboard.csv").status_code == 403


def test_two_clients_saving_the_same_version_at_once_one_wins(world, ann):
    import threading

    sid = ann.post("/api/submissions", json={"site": "TS18 1AU", "name": "Race"}).json()["id"]
    second = TestClient(world["app"], cookies=ann.cookies, headers={"X-CSRF-Token": ann.headers["X-CSRF-Token"]})
    results = {}

    def save(label, client):
        r = client.put(f"/api/submissions/{sid}/answers", json={"version": 1, "answers": [
            {"topic": 6, "evidence": f"from {label}"}]})
        results[label] = (r.status_code, r.json())

    threads = [threading.Thread(target=save, args=(k, c)) for k, c in (("one", ann), ("two", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(code for code, _ in results.values()) == [200, 409]
    winner = next(k for k, (code, _) in results.items() if code == 200)
    loser = next(body for code, body in results.values() if code == 409)
    assert loser["current_version"] == 2
    got = ann.get(f"/api/submissions/{sid}").json()
    assert got["version"] == 2 and got["answers"][5]["evidence"] == f"from {winner}"


def test_another_users_submission_is_refused_and_nothing_leaks(world, bob, draft):
    sid = draft["id"]
    for r in (bob.get(f"/api/submissions/{sid}"), bob.get(f"/api/submissions/{sid}/report.json"),
              bob.put(f"/api/submissions/{sid}/answers", json={"version": 1, "answers": _answers()}),
              bob.post(f"/api/submissions/{sid}/submit", json={"version": 1})):
        assert r.status_code == 404
        assert "High Street" not in r.text and "Stockton" not in r.text
    assert bob.get("/api/submissions").json() == []
    assert bob.get("/api/submissions/999999").status_code == 404
    r = bob.get("/api/submissions/not-a-number")
    assert r.status_code == 422


def test_reviewers_do_not_create_submissions_and_filters_are_checked(rita):
    r = rita.post("/api/submissions", json={"site": "TS18 1AU"})
    assert r.status_code == 403
    assert rita.get("/api/submissions", params={"status": "lost"}).status_code == 400
    r = rita.get("/api/submissions", params={"from": "last week"})
    assert r.status_code == 400 and "YYYY-MM-DD" in r.json()["detail"]


def test_filters_by_ward_and_date(world, ann, rita):
    import datetime as dt

    sid = ann.post("/api/submissions", json={"site": "TS18 1AU", "name": "Filtered"}).json()["id"]
    ann.put(f"/api/submissions/{sid}/answers", json={"version": 1, "answers": _answers()})
    ann.post(f"/api/submissions/{sid}/submit", json={"version": 2})
    today = dt.date.today().isoformat()
    got = rita.get("/api/submissions", params={"ward": "Stockton Town Centre", "from": today, "to": today}).json()
    assert sid in [s["id"] for s in got]
    assert [s["id"] for s in rita.get("/api/submissions", params={"ward": "E05014882"}).json()].count(sid) == 1
    assert rita.get("/api/submissions", params={"ward": "Nowhere"}).json() == []
    assert rita.get("/api/submissions", params={"from": "2100-01-01"}).json() == []


# -- reports -------------------------------------------------------------------------------------------------
def test_reports_are_reproduced_from_the_stored_site(world, ann, draft):
    sid = draft["id"]
    stored = ann.get(f"/api/submissions/{sid}").json()["evidence"]
    r = ann.get(f"/api/submissions/{sid}/report.json")
    assert r.status_code == 200 and r.headers["x-geotarget-reproduced"] == "yes" and r.json() == stored
    r = ann.get(f"/api/submissions/{sid}/report.html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "sandbox allow-scripts" in csp and "'unsafe-inline'" in csp and "allow-same-origin" not in csp
    assert "&lt;b&gt;High Street&lt;/b&gt;" in r.text and "<b>High Street</b>" not in r.text
    r = ann.get(f"/api/submissions/{sid}/report.md")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert ann.get(f"/api/submissions/{sid}/report.exe").status_code == 404
    drawn = ann.post("/api/submissions", json={"geojson": shapely.geometry.mapping(SITE_WGS84), "name": "Drawn"})
    assert drawn.status_code == 201 and drawn.json()["site"]["kind"] == "polygon"
    r = ann.get(f"/api/submissions/{drawn.json()['id']}/report.md")  # reprojected coordinates survive storage
    assert r.status_code == 200 and r.headers["x-geotarget-reproduced"] == "yes"


@pytest.mark.slow  # WeasyPrint takes ~10 s here; the browser story opens a PDF too
def test_a_pdf_report_is_a_pdf(world, ann):
    r = ann.post("/api/submissions", json={"site": "444600,518900", "name": "PDF site"})
    sid = r.json()["id"]
    r = ann.get(f"/api/submissions/{sid}/report.pdf")
    assert r.status_code == 200 and r.content[:5] == b"%PDF-"
    from pypdf import PdfReader

    assert "PDF site" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages[:1])


def test_when_the_data_changed_only_the_json_snapshot_is_served(world, ann):
    from sqlalchemy import text

    sid = ann.post("/api/submissions", json={"site": "TS18 1AU", "name": "Changed"}).json()["id"]
    with world["app"].state.sessions() as s:  # as if it had been screened on other data
        ev = json.loads(s.execute(text("SELECT evidence FROM submissions WHERE id = :i"), {"i": sid}).scalar())
        ev["profile"][0]["residents"] = 1.0
        ev["vintage"] = "IoD2019, LSOA 2011"
        s.execute(text("UPDATE submissions SET evidence = :e, vintage = :v WHERE id = :i"),
                  {"e": json.dumps(ev), "v": "IoD2019, LSOA 2011", "i": sid})
        s.commit()
    r = ann.get(f"/api/submissions/{sid}/report.json")
    assert r.status_code == 200 and r.headers["x-geotarget-reproduced"] == "no" and r.json() == ev
    r = ann.get(f"/api/submissions/{sid}/report.md")
    assert r.status_code == 409
    assert "IoD2019, LSOA 2011" in r.json()["detail"] and "IoD2025, LSOA 2021" in r.json()["detail"]


# -- evaluation ---------------------------------------------------------------------------------------------------
def test_dashboard_csv_neutralises_formulas(world, ann, rita):
    evil = '=HYPERLINK("http://evil.example","x")'
    sub = ann.post("/api/submissions", json={"site": "TS18 1AU", "name": evil}).json()
    ann.put(f"/api/submissions/{sub['id']}/answers", json={"version": 1, "answers": _answers()})
    ann.post(f"/api/submissions/{sub['id']}/submit", json={"version": 2})
    r = rita.get("/api/dashboard.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert rows[str(sub["id"])]["site_name"] == "'" + evil
    dash = rita.get("/api/dashboard").json()
    assert sub["id"] in [p["id"] for p in dash["points"]]


# -- the API description -----------------------------------------------------------------------------------------
def test_openapi_lists_every_endpoint_and_docs_work_offline(world):
    c = TestClient(world["app"])
    spec = c.get("/openapi.json").json()
    want = {("post", "/api/login"), ("post", "/api/logout"), ("get", "/api/me"), ("post", "/api/screenings"),
            ("post", "/api/submissions"), ("get", "/api/submissions"), ("get", "/api/submissions/{submission_id}"),
            ("put", "/api/submissions/{submission_id}/answers"), ("post", "/api/submissions/{submission_id}/submit"),
            ("post", "/api/submissions/{submission_id}/review"),
            ("get", "/api/submissions/{submission_id}/report.{fmt}"), ("get", "/api/dashboard"),
            ("get", "/api/dashboard.csv"), ("get", "/api/health")}
    have = {(m, p) for p, item in spec["paths"].items() for m in item}
    assert want <= have
    params = {p["name"] for p in spec["paths"]["/api/submissions"]["get"]["parameters"]}
    assert params == {"status", "ward", "from", "to"}
    body = spec["paths"]["/api/screenings"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)
    assert {"AnswersIn", "ReviewIn", "SubmissionOut", "ErrorOut"} <= set(spec["components"]["schemas"])
    r = c.get("/docs/reference")  # the reference as plain HTML: no script, nothing from elsewhere
    assert r.status_code == 200 and "<script" not in r.text.lower() and "http" not in r.text.split("/openapi.json")[0]
    assert "PUT /api/submissions/{submission_id}/answers" in r.text
    r = c.get("/docs")  # Swagger UI from the vendored copy: scripts are files of the service, none inline
    import re

    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", r.text, flags=re.S)
    assert [(a.strip(), body) for a, body in scripts] == [('src="/docs/assets/swagger-ui-bundle.js"', ""),
                                                          ('src="/docs/assets/init.js"', "")]
    assert 'href="/docs/assets/swagger-ui.css"' in r.text and "https://" not in r.text
    for name in ("swagger-ui-bundle.js", "init.js", "swagger-ui.css", "LICENSE"):
        got = c.get(f"/docs/assets/{name}")
        assert got.status_code == 200 and got.headers["content-security-policy"], name


def test_vendored_swagger_ui_is_the_published_files():
    import hashlib
    from pathlib import Path

    import geotarget.web.swagger as swagger

    folder = Path(swagger.__file__).parent
    manifest = json.loads((folder / "MANIFEST.json").read_text())["swagger-ui"]
    assert manifest["licence"] == "Apache-2.0" and "Apache License" in (folder / "LICENSE").read_text()
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


# -- restart ----------------------------------------------------------------------------------------------------
def test_data_and_sessions_survive_a_restart(world, ann, draft, screener):
    again = _app(world["path"], screener)  # a new app on the same database file
    c = TestClient(again, cookies=ann.cookies)  # the old session cookie: the secret is kept in the database
    assert c.get("/api/me").json()["user"]["email"] == "ann@example.org"
    got = _login(again, "ann@example.org").get(f"/api/submissions/{draft['id']}").json()
    assert got["site"]["name"] == "<b>High Street</b>" and got["version"] >= 1


# -- the commands ---------------------------------------------------------------------------------------------
def test_serve_migrate_only_users_and_clear_errors(tmp_path, capsys, monkeypatch):
    from geotarget.cli.main import main

    db = tmp_path / "cli.sqlite3"
    assert main(["serve", "--migrate-only", "--db", str(db)]) == 0
    assert "schema at revision 0001" in capsys.readouterr().out
    monkeypatch.setenv("GEOTARGET_PASSWORD", PASSWORD)
    assert main(["users", "add", "--email", "Lead@Example.org", "--name", "Lead", "--role", "reviewer",
                 "--db", str(db)]) == 0
    assert main(["users", "list", "--db", str(db)]) == 0
    assert "reviewer\tlead@example.org\tLead" in capsys.readouterr().out
    assert main(["users", "add", "--email", "lead@example.org", "--name", "Again", "--role", "reviewer",
                 "--db", str(db)]) == 2
    assert "already registered" in capsys.readouterr().err
    monkeypatch.setenv("GEOTARGET_PASSWORD", "another long passphrase")
    assert main(["users", "password", "--email", "lead@example.org", "--db", str(db)]) == 0
    assert "new password for lead@example.org" in capsys.readouterr().out
    from geotarget.web import db as wdb

    engine = wdb.make_engine(f"sqlite:///{db}")
    with wdb.session_factory(engine)() as s:
        assert service.authenticate(s, "lead@example.org", "another long passphrase") is not None
        assert service.authenticate(s, "lead@example.org", PASSWORD) is None
    engine.dispose()
    assert main(["users", "password", "--email", "ghost@example.org", "--db", str(db)]) == 2
    assert "no such account" in capsys.readouterr().err
    assert main(["serve", "--migrate-only", "--db", "mysql://x@y/z"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected to be a SQLite file path" in err
    assert main(["serve", "--migrate-only", "--db", str(tmp_path / "no" / "such" / "x.sqlite3")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--db", str(db), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"127.0.0.1:{port} cannot be used" in err


def test_settings_travel_to_worker_processes_through_the_environment():
    s = Settings(place="trafford", db_url="/tmp/hia.sqlite3", host="0.0.0.0", port=8080, workers=3,
                 screen_rate_per_minute=0, secret_key="s3cret", forwarded_allow_ips="10.0.0.1,10.0.0.2")
    env = s.to_env()
    assert env["GEOTARGET_SERVE_DB_URL"] == "sqlite:////tmp/hia.sqlite3"
    assert env["GEOTARGET_SERVE_SECURE_COOKIES"] == "1"
    assert Settings.from_env(env) == s
    assert Settings.from_env({}) == Settings()
    from geotarget.core.errors import ParameterError

    with pytest.raises(ParameterError, match="GEOTARGET_SERVE_PORT was 'eighty' but is expected to be an integer"):
        Settings.from_env({"GEOTARGET_SERVE_PORT": "eighty"})
    with pytest.raises(ParameterError, match="port was 70000"):
        Settings(port=70000)
    with pytest.raises(ParameterError, match="source was 'files'"):
        Settings(source="files")
