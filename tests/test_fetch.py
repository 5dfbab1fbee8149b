"""geotarget data fetch/list against a local HTTP server: Range resume, checksums, offline errors, ArcGIS paging."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from geotarget import FetchError, GeotargetError, read_boundaries, read_lsoa_lookup
from geotarget.cli.main import main
from geotarget.io.fetch import CATALOGUE, Dataset, download_arcgis, download_file, fetch, list_data
from tests.conftest import ROOT

PAYLOAD = (ROOT / "data/imd/iod2025_lsoa21_tees_valley.csv").read_bytes()  # a real File-7-like CSV, 108 kB
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class Server:
    """A local HTTP server: /file.csv with Range support (optionally cut short), and an ArcGIS query endpoint."""

    def __init__(self):
        self.requests: list[dict] = []
        self.cut_after: int | None = None  # close the connection after this many body bytes (once)
        self.ignore_range = False
        self.features: list[dict] = []
        self.arcgis_error = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                server.requests.append({"path": url.path, "range": self.headers.get("Range"),
                                        "if_range": self.headers.get("If-Range"),
                                        "query": dict(urllib.parse.parse_qsl(url.query))})
                if url.path == "/file.csv":
                    return self._file()
                if url.path.endswith("/FeatureServer/0/query"):
                    return self._query(dict(urllib.parse.parse_qsl(url.query)))
                self.send_error(404, "Not Found")

            def _file(self):
                start = 0
                rng = self.headers.get("Range")
                if rng and not server.ignore_range:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(PAYLOAD):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(PAYLOAD)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
                else:
                    self.send_response(200)
                body = PAYLOAD[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", '"v1"')
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if server.cut_after is not None:
                    self.wfile.write(body[: server.cut_after])
                    self.wfile.flush()
                    server.cut_after = None
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def _query(self, q):
                if server.arcgis_error:
                    data = {"error": {"code": 400, "message": "Invalid query", "details": []}}
                else:
                    feats = sorted(server.features, key=lambda f: f["properties"][q["orderByFields"]])
                    off, n = int(q["resultOffset"]), int(q["resultRecordCount"])
                    page = feats[off: off + n]
                    data = {"type": "FeatureCollection", "features": page}
                    if off + n < len(feats):
                        data["properties"] = {"exceededTransferLimit": True}
                body = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/geo+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/file.csv"


# ----------------------------------------------------------------------------- single files

def test_download_is_complete_and_checked(server, tmp_path):
    dest = download_file(f"{server.url}/file.csv", tmp_path / "iod.csv", sha256=SHA)
    assert dest.read_bytes() == PAYLOAD and not (tmp_path / "iod.csv.part").exists()


def test_interrupted_download_resumes_with_range(server, tmp_path):
    server.cut_after = 40_000
    with pytest.raises(FetchError, match=r"ended after 40,000 of 107,889 bytes.*partial file is kept at .*part"):
        download_file(f"{server.url}/file.csv", tmp_path / "iod.csv", timeout=5)
    part = tmp_path / "iod.csv.part"
    assert part.stat().st_size == 40_000 and not (tmp_path / "iod.csv").exists()
    dest = download_file(f"{server.url}/file.csv", tmp_path / "iod.csv", sha256=SHA)
    assert dest.read_bytes() == PAYLOAD
    last = server.requests[-1]
    assert last["range"] == "bytes=40000-" and last["if_range"] == '"v1"'  # only the rest was asked for


def test_server_ignoring_range_restarts_cleanly(server, tmp_path):
    (tmp_path / "iod.csv.part").write_bytes(PAYLOAD[:1000])
    (tmp_path / "iod.csv.part.json").write_text(json.dumps({"url": f"{server.url}/file.csv", "etag": '"v1"'}))
    server.ignore_range = True
    assert download_file(f"{server.url}/file.csv", tmp_path / "iod.csv", sha256=SHA).read_bytes() == PAYLOAD


def test_complete_partial_file_is_finished_on_416(server, tmp_path):
    (tmp_path / "iod.csv.part").write_bytes(PAYLOAD)
    (tmp_path / "iod.csv.part.json").write_text(json.dumps({"url": f"{server.url}/file.csv"}))
    assert download_file(f"{server.url}/file.csv", tmp_path / "iod.csv", sha256=SHA).read_bytes() == PAYLOAD
    assert server.requests[-1]["range"] == f"bytes={len(PAYLOAD)}-"


def test_partial_file_of_another_url_is_discarded(server, tmp_path):
    (tmp_path / "iod.csv.part").write_bytes(b"garbage")
    (tmp_path / "iod.csv.part.json").write_text(json.dumps({"url": "http://elsewhere/x.csv"}))
    assert download_file(f"{server.url}/file.csv", tmp_path / "iod.csv", sha256=SHA).read_bytes() == PAYLOAD
    assert server.requests[-1]["range"] is None


def test_checksum_mismatch_discards_the_download(server, tmp_path):
    with pytest.raises(FetchError, match=f"checksum mismatch: the download has SHA-256 {SHA} but 0+ was expected"):
        download_file(f"{server.url}/file.csv", tmp_path / "iod.csv", sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_offline_error_names_url_and_cache(tmp_path):
    url = _closed_port_url()
    with pytest.raises(FetchError, match=rf"could not download {url}: .*Check that this computer is online .*"
                                         rf"Cache: {tmp_path}/iod.csv"):
        download_file(url, tmp_path / "iod.csv", timeout=5)


def test_http_error(server, tmp_path):
    with pytest.raises(FetchError, match=r"could not download .*/missing.csv: HTTP 404"):
        download_file(f"{server.url}/missing.csv", tmp_path / "x.csv")


# ----------------------------------------------------------------------------- the catalogue and cache

def test_fetch_into_cache_records_checksum_and_reuses_it(server, tmp_path, monkeypatch):
    monkeypatch.setenv("GEOTARGET_CACHE", str(tmp_path / "cache"))
    path = fetch("iod2025", url=f"{server.url}/file.csv")
    assert path == tmp_path / "cache/iod2025" / CATALOGUE["iod2025"].filename and path.read_bytes() == PAYLOAD
    record = json.loads(path.with_name(path.name + ".json").read_text())
    assert record["sha256"] == SHA and record["bytes"] == len(PAYLOAD) and record["publisher"] == "MHCLG"
    n = len(server.requests)
    assert fetch("iod2025", url=f"{server.url}/file.csv") == path and len(server.requests) == n  # no download
    path.write_bytes(PAYLOAD[:-1] + b"x")
    with pytest.raises(FetchError, match="has changed since it was fetched or added"):
        fetch("iod2025")
    assert fetch("iod2025", url=f"{server.url}/file.csv", force=True).read_bytes() == PAYLOAD


def test_fetched_file_reads_as_the_iod(server, tmp_path):
    import geotarget as gt

    path = fetch("iod2025", cache=tmp_path, url=f"{server.url}/file.csv")
    imd, v = gt.read_imd(path)
    assert len(imd) == 425 and v.year == 2025


def test_unknown_dataset_suggests_a_name():
    with pytest.raises(GeotargetError, match="no dataset named 'iod2052'; did you mean 'iod2025'"):
        fetch("iod2052")


def test_catalogue_entries_are_complete():
    for d in CATALOGUE.values():
        assert d.url.startswith("https://") and d.filename and d.checked and d.kind in ("file", "arcgis", "manual")
        assert d.publisher in ("MHCLG", "ONS", "OS", "NHS England", "OCSI for Local Trust")
        if d.kind == "arcgis":
            assert d.url.endswith("/FeatureServer/0") and d.order_by


# ----------------------------------------------------------------------------- ArcGIS layers

def _lsoa_features(sample25):
    g = sample25.lsoas.to_crs(4326).head(45)
    out = []
    for code, row in g.iterrows():
        out.append({"type": "Feature", "geometry": json.loads(__import__("shapely").to_geojson(row.geometry)),
                    "properties": {"LSOA21CD": code, "LSOA21NM": row["lsoa_name"], "WD24CD": row["ward_code"],
                                   "LAD24CD": row["lad_code"]}})
    return out[::-1]  # the server returns them in code order whatever the storage order


def test_arcgis_layer_is_fetched_page_by_page(server, tmp_path, sample25):
    server.features = _lsoa_features(sample25)
    d = Dataset("t", "test layer", "ONS", "", f"{server.url}/arcgis/rest/services/X/FeatureServer/0", "x.geojson",
                kind="arcgis", order_by="LSOA21CD", checked="test")
    dest = download_arcgis(d, tmp_path / "x.geojson", page_size=10)
    pages = [r for r in server.requests if r["path"].endswith("/query")]
    assert [int(r["query"]["resultOffset"]) for r in pages] == [0, 10, 20, 30, 40]
    assert pages[0]["query"]["orderByFields"] == "LSOA21CD" and pages[0]["query"]["f"] == "geojson"
    b = read_boundaries(dest)
    assert list(b.index) == sorted(sample25.lsoas.index[:45]) and b.crs.to_epsg() == 27700
    assert not (tmp_path / "x.geojson.pages").exists()


def test_arcgis_fetch_resumes_at_the_next_page(server, tmp_path, sample25):
    server.features = _lsoa_features(sample25)
    d = Dataset("t", "lookup", "ONS", "", f"{server.url}/arcgis/rest/services/LU/FeatureServer/0", "lu.csv",
                kind="arcgis", order_by="LSOA21CD", table=True, checked="test")
    pages = tmp_path / "lu.csv.pages"
    pages.mkdir()
    first = {"type": "FeatureCollection", "features": sorted(server.features, key=lambda f: f["properties"]
                                                            ["LSOA21CD"])[:20], "exceededTransferLimit": True}
    (pages / "00000.json").write_text(json.dumps(first))
    dest = download_arcgis(d, tmp_path / "lu.csv", page_size=20)
    assert [int(r["query"]["resultOffset"]) for r in server.requests] == [20, 40]
    assert server.requests[0]["query"]["returnGeometry"] == "false"
    lk = read_lsoa_lookup(dest)
    assert len(lk) == 45 and lk.loc["E01011949", "ward_code"] == sample25.lsoas.loc["E01011949", "ward_code"]
    assert list(pd.read_csv(dest).columns) == ["LSOA21CD", "LSOA21NM", "WD24CD", "LAD24CD"]


def test_arcgis_error_is_reported(server, tmp_path):
    server.arcgis_error = True
    d = Dataset("t", "x", "ONS", "", f"{server.url}/a/FeatureServer/0", "x.geojson", kind="arcgis",
                order_by="LSOA21CD", checked="test")
    with pytest.raises(FetchError, match="the ArcGIS server reported an error: 400 Invalid query"):
        download_arcgis(d, tmp_path / "x.geojson")


# ----------------------------------------------------------------------------- the command

def test_cli_fetch_and_list(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GEOTARGET_CACHE", str(tmp_path))
    assert main(["data", "fetch", "iod2019", "--url", f"{server.url}/file.csv", "-q"]) == 0
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert f"Cache: {tmp_path}" in out
    line = next(x for x in out.splitlines() if " iod2019 " in f" {x} ")
    assert line.startswith("cached") and str(tmp_path / "iod2019") in line
    assert any(x.startswith("not cached  iod2025") for x in out.splitlines())
    assert any(x.startswith("bundled") and "boundaries/tees_valley.gpkg" in x for x in out.splitlines())
    assert "Fetch with: geotarget data fetch iod2025" in out


def test_cli_list_shows_partial_downloads(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GEOTARGET_CACHE", str(tmp_path))
    server.cut_after = 5_000
    assert main(["data", "fetch", "iod2025", "--url", f"{server.url}/file.csv", "--timeout", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"geotarget: iod2025: downloading {server.url}/file.csv"  # progress, unless -q
    assert err[-1].startswith("geotarget data: error: download of") and "again to resume" in err[-1]
    rows = {r.name: r for r in list_data()}
    assert rows["iod2025"].status == "partial" and rows["iod2025"].bytes == 5_000
    assert main(["data", "fetch", "iod2025", "--url", f"{server.url}/file.csv", "-q"]) == 0
    assert {r.name: r for r in list_data()}["iod2025"].status == "cached"


def test_cli_offline_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GEOTARGET_CACHE", str(tmp_path))
    url = _closed_port_url()
    assert main(["data", "fetch", "iod2025", "--url", url, "--timeout", "5", "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and url in err and str(tmp_path / "iod2025") in err


def test_cli_url_needs_one_name(capsys):
    assert main(["data", "fetch", "iod2025", "iod2019", "--url", "http://x"]) == 2
    assert "--url names the address of one dataset" in capsys.readouterr().err


def test_arcgis_damaged_kept_page_is_fetched_again(server, tmp_path, sample25):
    server.features = _lsoa_features(sample25)
    d = Dataset("t", "lookup", "ONS", "", f"{server.url}/arcgis/rest/services/LU/FeatureServer/0", "lu.csv",
                kind="arcgis", order_by="LSOA21CD", table=True, checked="test", features=45)
    pages = tmp_path / "lu.csv.pages"
    pages.mkdir()
    (pages / "00000.json").write_text('{"type": "FeatureCollection", "feat')  # cut short by hand
    dest = download_arcgis(d, tmp_path / "lu.csv", page_size=20)
    assert [int(r["query"]["resultOffset"]) for r in server.requests] == [0, 20, 40]
    assert len(read_lsoa_lookup(dest)) == 45 and not pages.exists()
