"""Faulty downloads are never accepted as complete (issue 15, defect class 7).

A local ``http.server`` in a thread serves each fault: a body cut short without Content-Length
(plain and chunked), an HTML error page (by Content-Type and by content), gzip bodies (encoded,
mislabelled, truncated), a wrong checksum, a stalled body past the deadline, ArcGIS paging that
never ends, a truncated zip or GeoJSON; and a cached file edited by hand is caught on every use.
Each must give its exact one-line message, a non-zero exit from the CLI, and leave nothing
recorded (only a ``.part`` where a resume can use it).
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import re
import threading
import time
import urllib.parse
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geotarget as gt
from geotarget import FetchError
from geotarget.cli.main import main
from geotarget.io import fetch as fetch_mod
from geotarget.io.fetch import (
    CATALOGUE,
    Dataset,
    download_arcgis,
    download_file,
    fetch,
    list_data,
    page_limit,
    verify_cached,
)
from geotarget.io.transfer import check_content
from tests.conftest import ROOT

PAYLOAD = (ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv").read_bytes()  # a real File-7-like CSV, 107,889 bytes
SHA = hashlib.sha256(PAYLOAD).hexdigest()
POPULATION = ROOT / "data/population/iod2025_population_denominators_lsoa21_tees_valley.csv"
CUT = PAYLOAD.index(b"\n", 50_000) + 40  # mid-row
HTML = (b"<!DOCTYPE html>\n<html><head><title>404 - Page not found | GOV.UK</title></head>"
        b"<body><h1>Page not found</h1></body></html>\n")


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Data/CSV/ts.csv", PAYLOAD)
    return buf.getvalue()


ZIP = _zip_bytes()


def _bad_crc_zip() -> bytes:
    """Return a complete zip (stored, not deflated) with one byte of its member changed: only the CRC tells."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("Data/CSV/ts.csv", PAYLOAD)
    raw = bytearray(buf.getvalue())
    i = raw.index(PAYLOAD[:200]) + 100
    raw[i] ^= 0x01
    return bytes(raw)


class _Handler(BaseHTTPRequestHandler):
    """Serves one fault per path (``/nolength.csv`` -> ``_nolength_csv``)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        self.server.faults.requests.append({"path": url.path, "range": self.headers.get("Range"),
                                            "query": dict(urllib.parse.parse_qsl(url.query))})
        name = url.path.strip("/").replace(".", "_").replace("/", "_")
        getattr(self, f"_{name}", lambda: self.send_error(404, "Not Found"))()

    def _send(self, body: bytes, *, ctype="text/csv", length=True, extra=None, status=200):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    def _good_csv(self):  # Range support, ETag; cut short once if asked
        start = 0
        rng = self.headers.get("Range")
        extra = {"ETag": '"v1"', "Accept-Ranges": "bytes"}
        if rng:
            start = int(rng.removeprefix("bytes=").split("-")[0])
            extra["Content-Range"] = f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}"
        body = PAYLOAD[start:]
        if self.server.faults.cut_once is not None:
            n, self.server.faults.cut_once = self.server.faults.cut_once, None
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body[:n])
            self.close_connection = True
            return
        self._send(body, extra=extra, status=206 if rng else 200)

    def _nolength_csv(self):  # no Content-Length, connection closed mid-row
        self._send(PAYLOAD[:CUT], length=False)

    def _nolength_whole_csv(self):  # no Content-Length, but complete
        self._send(PAYLOAD, length=False)

    def _chunked_csv(self):  # chunked transfer that stops before its last (empty) chunk
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        for i in range(0, 30_000, 10_000):
            block = PAYLOAD[i:i + 10_000]
            self.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
        self.wfile.flush()
        self.close_connection = True

    def _html_csv(self):  # an error page with status 200 and Content-Type text/html
        self._send(HTML, ctype="text/html; charset=utf-8")

    def _disguised_csv(self):  # an error page labelled as CSV
        self._send(HTML, ctype="text/csv")

    def _encoded_csv(self):  # Content-Encoding gzip although identity was asked for
        self._send(gzip.compress(PAYLOAD, mtime=0), extra={"Content-Encoding": "gzip"})

    def _gzipped_csv(self):  # a .csv that is in fact gzip, no Content-Encoding
        self._send(gzip.compress(PAYLOAD, mtime=0), ctype="application/octet-stream")

    def _gzipcut_csv(self):  # gzip-encoded, cut short without Content-Length
        body = gzip.compress(PAYLOAD, mtime=0)
        self._send(body[: len(body) - 100], extra={"Content-Encoding": "gzip"}, length=False)

    def _ragged_csv(self):  # complete transfer, but the last row has lost its columns
        self._send(b"a,b,c\n1,2,3\n4,5,6\n7,8\n")

    def _stall_csv(self):  # a byte every 50 ms: the socket timeout never fires
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        try:
            for i in range(200):
                self.wfile.write(PAYLOAD[i:i + 1])
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass

    def _silent_csv(self):  # a few bytes, then silence (longer than the deadline, shorter than the timeout)
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        try:
            self.wfile.write(PAYLOAD[:5])
            self.wfile.flush()
            time.sleep(2)
        except OSError:
            pass

    def _cut_zip(self):
        self._send(ZIP[: len(ZIP) // 2], ctype="application/zip", length=False)

    def _badcrc_zip(self):
        self._send(_bad_crc_zip(), ctype="application/zip")

    def _good_zip(self):
        self._send(ZIP, ctype="application/zip")

    def _cut_geojson(self):
        self._send(b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geom', length=False,
                   ctype="application/geo+json")

    def _endless_FeatureServer_0_query(self):  # new features forever, always "more to come"
        off, n = int(self._q("resultOffset")), int(self._q("resultRecordCount"))
        feats = [{"type": "Feature", "geometry": None, "properties": {"CODE": f"E{off + k:08d}"}}
                 for k in range(n)]
        self._send(json.dumps({"type": "FeatureCollection", "features": feats,
                               "properties": {"exceededTransferLimit": True}}).encode(),
                   ctype="application/geo+json")

    def _stuck_FeatureServer_0_query(self):  # ignores resultOffset: the first page again and again
        feats = [{"type": "Feature", "geometry": None, "properties": {"CODE": f"E{k:08d}"}} for k in range(10)]
        self._send(json.dumps({"type": "FeatureCollection", "features": feats,
                               "exceededTransferLimit": True}).encode(), ctype="application/geo+json")

    def _htmlpage_FeatureServer_0_query(self):
        self._send(HTML, ctype="text/html")

    def _cutpage_FeatureServer_0_query(self):
        self._send(b'{"type": "FeatureCollection", "features": [{"type": "Fea', length=False,
                   ctype="application/geo+json")

    def _q(self, key):
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))[key]


class Faults:
    """A local HTTP server; each path serves one fault (or a good file)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.cut_once: int | None = None  # /good.csv: close after this many bytes, once
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.faults = self
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def srv():
    s = Faults()
    yield s
    s.close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GEOTARGET_CACHE", str(tmp_path))
    return tmp_path


def _files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _fails(url, dest, message, **kw):
    """``download_file`` raises exactly ``message``; nothing is left at ``dest``."""
    with pytest.raises(FetchError) as e:
        download_file(url, dest, timeout=5, **kw)
    assert str(e.value) == message
    assert not dest.exists()
    return e.value


# ----------------------------------------------------------------------------- bodies cut short

def test_body_cut_short_without_content_length_is_refused(srv, tmp_path):
    url = f"{srv.url}/nolength.csv"
    tail = PAYLOAD[:CUT].splitlines()[-1][-60:].decode()
    _fails(url, tmp_path / "iod.csv",
           f"{url}: the CSV ends mid-row ({tail!r}, no line break after it): the body was cut short after {CUT:,} "
           "bytes and the server sent no Content-Length to check it against. Nothing was saved; try again.")
    assert _files(tmp_path) == []  # nothing a resume could use: no .part either


def test_complete_body_without_content_length_is_accepted(srv, tmp_path):
    assert download_file(f"{srv.url}/nolength_whole.csv", tmp_path / "iod.csv", sha256=SHA).read_bytes() == PAYLOAD
    assert _files(tmp_path) == ["iod.csv"]


def test_chunked_body_ended_early_is_refused_and_kept_for_resume(srv, tmp_path):
    url = f"{srv.url}/chunked.csv"
    _fails(url, tmp_path / "iod.csv",
           f"download of {url} was cut short after 30,000 bytes (the chunked body ended before its last chunk). The "
           f"partial file is kept at {tmp_path / 'iod.csv.part'}: run the same command again to resume.")
    assert _files(tmp_path) == ["iod.csv.part", "iod.csv.part.json"]


def test_csv_whose_last_row_lost_columns_is_refused(srv, tmp_path):
    url = f"{srv.url}/ragged.csv"
    _fails(url, tmp_path / "x.csv", f"{url}: the CSV's last row has 2 columns but its first row has 3: the body was "
                                    "cut short or is not one table. Nothing was saved.")
    assert _files(tmp_path) == []


def test_truncated_zip_is_refused(srv, tmp_path):
    url = f"{srv.url}/cut.zip"
    with pytest.raises(FetchError, match=re.escape(f"{url}: the zip archive is incomplete or damaged (") +
                       r".*\)\. Nothing was saved; try again\.$"):
        download_file(url, tmp_path / "codepo_gb.zip", timeout=5)
    assert _files(tmp_path) == []
    assert download_file(f"{srv.url}/good.zip", tmp_path / "codepo_gb.zip").read_bytes() == ZIP


def test_zip_failing_its_crc_is_refused(srv, tmp_path):
    url = f"{srv.url}/badcrc.zip"
    _fails(url, tmp_path / "codepo_gb.zip", f"{url}: Data/CSV/ts.csv in the zip archive fails its CRC check (damaged "
                                            "in transfer). Nothing was saved; try again.")
    assert _files(tmp_path) == []


def test_truncated_geojson_is_refused(srv, tmp_path):
    url = f"{srv.url}/cut.geojson"
    _fails(url, tmp_path / "x.geojson", f"{url}: the GeoJSON file is not complete JSON (Unterminated string starting "
                                        "at at byte 63 of 68): the body was cut short or is not JSON. Nothing was "
                                        "saved.")


# ----------------------------------------------------------------------------- not what was asked for

def test_html_error_page_is_refused_by_content_type(srv, tmp_path):
    url = f"{srv.url}/html.csv"
    _fails(url, tmp_path / "iod.csv",
           f"{url} sent an HTML page titled '404 - Page not found | GOV.UK' (Content-Type text/html), not the CSV file "
           "expected: the address is wrong or the server answered with an error page. Nothing was saved.")
    assert _files(tmp_path) == []


def test_html_error_page_labelled_csv_is_refused_by_content(srv, tmp_path):
    url = f"{srv.url}/disguised.csv"
    _fails(url, tmp_path / "iod.csv",
           f"{url} sent an HTML page titled '404 - Page not found | GOV.UK', not the CSV file expected: the address "
           "is wrong or the server answered with an error page. Nothing was saved.")
    assert _files(tmp_path) == []


def test_gzip_encoded_body_is_decoded_and_checked(srv, tmp_path):
    dest = download_file(f"{srv.url}/encoded.csv", tmp_path / "iod.csv", sha256=SHA)  # the plain file's checksum
    assert dest.read_bytes() == PAYLOAD and _files(tmp_path) == ["iod.csv"]


def test_csv_that_is_gzip_is_detected_and_decoded(srv, tmp_path, caplog):
    with caplog.at_level("INFO", logger="geotarget.progress"):
        dest = download_file(f"{srv.url}/gzipped.csv", tmp_path / "iod.csv", sha256=SHA)
    assert dest.read_bytes() == PAYLOAD
    assert "iod.csv: the body was a gzip stream, not the plain CSV file its name says; decompressed" in caplog.text


def test_truncated_gzip_body_is_refused(srv, tmp_path):
    url = f"{srv.url}/gzipcut.csv"
    _fails(url, tmp_path / "iod.csv",
           f"{url}: the body is gzip-encoded (Content-Encoding gzip) and is truncated or damaged (Compressed file "
           "ended before the end-of-stream marker was reached): the gzip CRC/length check failed; nothing was saved, "
           "try again")
    assert _files(tmp_path) == []


def test_wrong_checksum_is_refused_and_nothing_recorded(srv, cache, monkeypatch, capsys):
    monkeypatch.setitem(CATALOGUE, "iod2025", dataclasses.replace(CATALOGUE["iod2025"], sha256="ab" * 32))
    url = f"{srv.url}/good.csv"
    assert main(["data", "fetch", "iod2025", "--url", url, "-q"]) == 2
    err = capsys.readouterr().err
    assert err == (f"geotarget data: error: {url}: checksum mismatch: the download has SHA-256 {SHA} but {'ab' * 32} "
                   f"was expected; the file was discarded and {cache / 'iod2025' / CATALOGUE['iod2025'].filename} "
                   "left unchanged\n")
    assert _files(cache) == []


# ----------------------------------------------------------------------------- stalls and endless paging

def test_stalled_body_stops_at_the_deadline(srv, tmp_path):
    url = f"{srv.url}/stall.csv"
    t = time.monotonic()
    with pytest.raises(FetchError) as e:
        download_file(url, tmp_path / "iod.csv", timeout=5, deadline=0.3)
    assert time.monotonic() - t < 2  # the 5 s socket timeout never fired: a byte arrived every 50 ms
    m = re.fullmatch(rf"download of {re.escape(url)} did not finish within the deadline of 0.3 s \((\d+) of "
                     rf"{len(PAYLOAD):,} bytes received\): the server stalled or is too slow\. The partial file is "
                     rf"kept at {re.escape(str(tmp_path / 'iod.csv.part'))}: run the same command again to resume\. "
                     r"Allow longer with `deadline`\.", str(e.value))
    assert m and 3 <= int(m.group(1)) <= 10
    assert _files(tmp_path) == ["iod.csv.part", "iod.csv.part.json"]


def test_silent_server_stops_at_the_deadline_not_the_timeout(srv, tmp_path):
    url = f"{srv.url}/silent.csv"
    t = time.monotonic()
    with pytest.raises(FetchError) as e:
        download_file(url, tmp_path / "iod.csv", timeout=5, deadline=0.3)
    assert time.monotonic() - t < 1.5
    assert str(e.value) == (f"download of {url} did not finish within the deadline of 0.3 s (5 of {len(PAYLOAD):,} "
                            "bytes received): the server stalled or is too slow. The partial file is kept at "
                            f"{tmp_path / 'iod.csv.part'}: run the same command again to resume. Allow longer with "
                            "`deadline`.")


def test_silent_server_within_the_deadline_is_a_timeout(srv, tmp_path):
    url = f"{srv.url}/silent.csv"
    with pytest.raises(FetchError) as e:
        download_file(url, tmp_path / "iod.csv", timeout=0.3, deadline=60)
    assert str(e.value) == (f"download of {url} was interrupted after 5 bytes (the server sent nothing for 0.3 s). "
                            f"The partial file is kept at {tmp_path / 'iod.csv.part'}: run the same command again to "
                            "resume.")


def test_cli_deadline_is_an_option_and_errors_are_one_line(srv, cache, capsys):
    assert main(["data", "fetch", "iod2025", "--url", f"{srv.url}/stall.csv", "--deadline", "0.2", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "did not finish within the deadline of 0.2 s" in err and err.endswith("Allow longer with --deadline.\n")
    assert not (cache / "iod2025" / CATALOGUE["iod2025"].filename).exists()
    assert not list(cache.rglob("*.csv.json"))  # nothing recorded
    assert main(["data", "fetch", "iod2025", "--url", f"{srv.url}/good.csv", "--deadline", "0", "-q"]) == 2
    assert capsys.readouterr().err == ("geotarget data: error: --deadline was 0.0 but is expected to be a positive "
                                       "number of seconds\n")


def _layer(kind: str, features: int = 45) -> Dataset:
    return Dataset("t", "test table", "ONS", "", f"{{}}/{kind}/FeatureServer/0", "t.csv", kind="arcgis",
                   order_by="CODE", table=True, features=features, checked="test")


def test_arcgis_paging_that_never_ends_is_capped(srv, tmp_path):
    d = _layer("endless")
    assert page_limit(d, 10) == (67, 28)  # 45 features expected: 25% more plus a page
    assert page_limit(CATALOGUE["lsoa21-boundaries"]) == (46_590, 96)  # 35,672 LSOAs, 2,000 a page
    query = f"{srv.url}/endless/FeatureServer/0/query"
    with pytest.raises(FetchError) as e:
        download_arcgis(d, tmp_path / "t.csv", url=d.url.format(srv.url), page_size=10)
    assert str(e.value) == (f"{query}: the server was still paging after 7 pages and 70 features, more than this layer "
                            "can have (about 45 expected; geotarget stops at 67 features or 28 pages) and never said "
                            "exceededTransferLimit=false. Nothing was saved: check the address (another layer?).")
    assert _files(tmp_path) == [] and not (tmp_path / "t.csv.pages").exists()


def test_arcgis_server_ignoring_the_offset_is_stopped(srv, tmp_path):
    d = _layer("stuck")
    with pytest.raises(FetchError) as e:
        download_arcgis(d, tmp_path / "t.csv", url=d.url.format(srv.url), page_size=10)
    assert str(e.value) == (f"{srv.url}/stuck/FeatureServer/0/query: the server sent the same page again for "
                            "resultOffset=10 (it ignores paging) and would never finish. Nothing was saved.")
    assert _files(tmp_path) == []
    assert sum(r["path"].startswith("/stuck/") for r in srv.requests) == 2


def test_arcgis_html_and_cut_pages_are_refused(srv, tmp_path):
    d = _layer("htmlpage")
    with pytest.raises(FetchError, match=r"/htmlpage/FeatureServer/0/query\?.* sent an HTML page titled '404 - "
                                         r"Page not found \| GOV.UK' \(Content-Type text/html\), not the JSON page "
                                         "expected"):
        download_arcgis(d, tmp_path / "t.csv", url=d.url.format(srv.url), page_size=10)
    d = _layer("cutpage")
    with pytest.raises(FetchError, match=r"/cutpage/FeatureServer/0/query\?.*: the page is not complete JSON "
                                         r"\(Unterminated string .*\): the body was cut short or is not JSON"):
        download_arcgis(d, tmp_path / "t.csv", url=d.url.format(srv.url), page_size=10)
    assert _files(tmp_path) == [] and list(tmp_path.iterdir()) == []  # not even an empty .pages folder


def test_catalogue_layers_declare_their_size():
    for d in CATALOGUE.values():
        if d.kind == "arcgis":
            assert d.features and page_limit(d)[0] > d.features


# ----------------------------------------------------------------------------- good downloads still work

def test_good_download_resumes_after_a_cut(srv, cache):
    srv.cut_once = 30_000
    with pytest.raises(FetchError, match=r"ended after 30,000 of 107,889 bytes"):
        fetch("iod2025", url=f"{srv.url}/good.csv", timeout=5)
    path = fetch("iod2025", url=f"{srv.url}/good.csv")
    assert path.read_bytes() == PAYLOAD and srv.requests[-1]["range"] == "bytes=30000-"
    assert _files(cache) == [f"iod2025/{path.name}", f"iod2025/{path.name}.json"]
    assert json.loads((cache / "iod2025" / f"{path.name}.json").read_text())["sha256"] == SHA


# ----------------------------------------------------------------------------- a cached file edited by hand

def test_hand_edited_cache_is_caught_on_every_use(srv, cache, capsys):
    path = fetch("iod2025", url=f"{srv.url}/good.csv")
    files = {"imd": path, "population": POPULATION, "councils": ["Middlesbrough"]}
    assert len(gt.load(source="files", **files).lsoas) == 90
    text = PAYLOAD.decode()
    path.write_text(text.replace(",1,", ",2,", 1), encoding="utf-8")  # one decile changed, same size
    fetch_mod._VERIFIED.clear()
    got = hashlib.sha256(path.read_bytes()).hexdigest()
    message = (f"{path}: the cached file has changed since it was fetched or added (SHA-256 {got[:16]}… but its "
               f"record {path.name}.json says {SHA[:16]}…); replace it with `geotarget data add FILE --force` or "
               "`geotarget data fetch iod2025 --force`")
    # the paths `geotarget init --files` writes, named explicitly
    with pytest.raises(FetchError) as e:
        gt.load(source="files", **files)
    assert str(e.value) == message
    # found in the cache by name
    with pytest.raises(FetchError) as e:
        gt.load(source="cache", councils=["Middlesbrough"])
    assert str(e.value) == message
    # fetch again without --force
    assert main(["data", "fetch", "iod2025", "-q"]) == 2
    assert capsys.readouterr().err == f"geotarget data: error: {message}\n"
    # data list
    row = {r.name: r for r in list_data()}["iod2025"]
    assert row.status == "changed" and row.detail == message
    assert main(["data", "list"]) == 0
    assert any(x.startswith("changed     iod2025") for x in capsys.readouterr().out.splitlines())
    assert fetch("iod2025", url=f"{srv.url}/good.csv", force=True).read_bytes() == PAYLOAD


def test_cli_reports_an_edited_cache_in_one_line(srv, cache, capsys):
    path = fetch("iod2025", url=f"{srv.url}/good.csv")
    path.write_bytes(PAYLOAD[:-2] + b"9\n")
    assert main(["data", "fetch", "iod2025", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"geotarget data: error: {path}: the cached file has changed since it was fetched or added")
    assert err.endswith("replace it with `geotarget data add FILE --force` or `geotarget data fetch iod2025 "
                        "--force`\n") and err.count("\n") == 1


def test_damaged_record_is_an_error_and_foreign_json_is_ignored(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a\n1\n")
    (tmp_path / "x.csv.json").write_text("{not json")
    with pytest.raises(FetchError, match=r"x.csv.json: the record of the cached file .*x.csv is not readable JSON; "
                                         r"replace it with `geotarget data add FILE"):
        verify_cached(f)
    (tmp_path / "x.csv.json").write_text(json.dumps({"file": "x.csv", "sha256": None}))
    with pytest.raises(FetchError, match=r"has no valid SHA-256 \(None\)"):
        verify_cached(f)
    (tmp_path / "x.csv.json").write_text(json.dumps(["someone else's JSON"]))
    assert verify_cached(f) == f


def test_unwritable_cache_is_one_clear_line(srv, tmp_path, capsys):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    assert main(["data", "fetch", "iod2025", "--url", f"{srv.url}/good.csv", "--cache", str(blocker), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"geotarget data: error: could not write to the data cache at {blocker}")
    assert err.endswith("choose another folder with --cache\n") and err.count("\n") == 1


# ----------------------------------------------------------------------------- every cut, and the CLI over the corpus

GEOJSON = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-1.2, 54.6]}, "properties": {"n": i}}
    for i in range(20)]}).encode()
GZ = gzip.compress(PAYLOAD, mtime=0)


def _check(tmp, name: str, body: bytes, *, length_known: bool) -> None:
    path = tmp / name
    path.write_bytes(body)
    check_content(path, url="http://x/" + name, name=name, length_known=length_known)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=len(PAYLOAD) - 1))
def test_any_cut_csv_without_a_length_is_refused_unless_at_a_row_end(tmp_path, cut):
    body = PAYLOAD[:cut]
    if body.endswith(b"\n"):  # cut between rows: cannot be told from a shorter file (a Content-Length can)
        _check(tmp_path, "iod.csv", body, length_known=False)
    else:
        with pytest.raises(FetchError, match="the CSV ends mid-row"):
            _check(tmp_path, "iod.csv", body, length_known=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(["codepo_gb.zip", "x.csv.gz", "x.geojson"]), frac=st.floats(0.0, 0.999))
def test_any_cut_zip_gzip_or_geojson_is_refused(tmp_path, which, frac):
    whole = {"codepo_gb.zip": ZIP, "x.csv.gz": GZ, "x.geojson": GEOJSON}[which]
    _check(tmp_path, which, whole, length_known=False)  # the whole file passes
    body = whole[: max(1, int(len(whole) * frac))]
    with pytest.raises(FetchError, match=r"incomplete or damaged|truncated or damaged|not complete JSON|not the zip"):
        _check(tmp_path, which, body, length_known=False)


CORPUS = [  # (path served, what the one-line error must say)
    ("nolength.csv", "the CSV ends mid-row"),
    ("chunked.csv", "was cut short after 30,000 bytes (the chunked body ended before its last chunk)"),
    ("html.csv", "sent an HTML page titled '404 - Page not found | GOV.UK' (Content-Type text/html)"),
    ("disguised.csv", "sent an HTML page titled '404 - Page not found | GOV.UK', not the CSV file expected"),
    ("gzipcut.csv", "the body is gzip-encoded (Content-Encoding gzip) and is truncated or damaged"),
    ("ragged.csv", "the CSV's last row has 2 columns but its first row has 3"),
    ("stall.csv", "did not finish within the deadline of 0.25 s"),
    ("missing.csv", "HTTP 404 Not Found"),
]


@pytest.mark.parametrize(("path", "says"), CORPUS)
def test_cli_refuses_each_fault_in_one_line_and_records_nothing(srv, cache, capsys, path, says):
    assert main(["data", "fetch", "iod2025", "--url", f"{srv.url}/{path}", "--deadline", "0.25", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("geotarget data: error: ") and says in err and err.count("\n") == 1, err
    assert not list(cache.rglob("*.csv")) and not list(cache.rglob("*.csv.json"))  # nothing cached or recorded
    assert {p.name for p in cache.rglob("*")} <= {"iod2025", f"{CATALOGUE['iod2025'].filename}.part",
                                                  f"{CATALOGUE['iod2025'].filename}.part.json"}
