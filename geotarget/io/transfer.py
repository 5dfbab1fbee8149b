"""Receive a download and check it is the complete file it claims to be.

Used by :mod:`geotarget.io.fetch` for every file and every ArcGIS page:

* :func:`read_body` copies a response body as it arrives, stopping at a total deadline (a socket
  timeout restarts with every byte, so it alone cannot stop a transfer that trickles) and turning
  a cut-off transfer (a reset, a chunked body that ends before its last chunk) into one message;
* :func:`refuse_html` refuses an HTML error or login page served in place of the data
  (``Content-Type: text/html``);
* :func:`check_content` checks a complete body against the kind its file name says: not an HTML
  or XML page, a zip or gzip read to its end (every CRC checked), a GeoJSON that parses, a CSV
  whose last rows have as many columns as its first and which, when the server gave no length to
  check the transfer against, ends with a line break.
"""

from __future__ import annotations

import csv
import gzip
import http.client
import json
import logging
import re
import time
import zipfile
import zlib
from pathlib import Path

from geotarget.core.errors import FetchError

log = logging.getLogger("geotarget.progress")

#: Bytes read at a time.
CHUNK = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_MARKUP = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")


def read_body(resp, write, *, url: str, timeout: float, deadline: float, started: float, done: int = 0,
              expected: int | None = None, keep: Path | None = None, label: str = "") -> int:
    """Copy a response body to ``write`` as it arrives; return the bytes received (``done`` before it).

    Reads whatever has arrived (``read1``), so the ``deadline`` (seconds since ``started``) is
    checked however slowly the bytes trickle in; before each read the socket waits at most
    ``timeout`` seconds or what is left of the deadline, whichever is shorter, so a silent server
    is stopped at the deadline too.

    Raises
    ------
    FetchError
        The transfer was cut off (a reset, a silent server, a chunked body ended early) or passed the
        deadline; the message says where the partial file is kept (``keep``) or that it is fetched again.
    """
    again = (f"The partial file is kept at {keep}: run the same command again to resume." if keep is not None
             else "Run the same command again: the pages already received are kept.")
    got = done
    next_report = got + (50 << 20)
    sock = _socket(resp)

    def stalled() -> FetchError:
        of = f" of {expected:,}" if expected else ""
        return FetchError(f"download of {url} did not finish within the deadline of {deadline:g} s ({got:,}{of} "
                          f"bytes received): the server stalled or is too slow. {again} Allow longer with "
                          "`deadline`.").naming("deadline")

    while True:
        left = deadline - (time.monotonic() - started)
        if left <= 0:
            raise stalled()
        if sock is not None:
            sock.settimeout(min(timeout, left))
        try:
            block = resp.read1(CHUNK)
        except TimeoutError:
            if time.monotonic() - started >= deadline:
                raise stalled() from None
            raise FetchError(f"download of {url} was interrupted after {got:,} bytes (the server sent nothing for "
                             f"{timeout:g} s). {again}") from None
        except http.client.IncompleteRead:
            raise FetchError(f"download of {url} was cut short after {got:,} bytes (the chunked body ended before "
                             f"its last chunk). {again}") from None
        except (OSError, http.client.HTTPException) as e:  # a timeout, a reset connection
            raise FetchError(f"download of {url} was interrupted after {got:,} bytes ({type(e).__name__}: {e}). "
                             f"{again}") from None
        if not block:
            return got
        try:
            write(block)
        except OSError as e:
            raise FetchError(f"could not write {keep or label}: {e.strerror or e}") from None
        got += len(block)
        if got >= next_report:
            of = f" of {expected / 1e6:.0f} MB" if expected else ""
            log.info("%s: %.0f MB%s", label, got / 1e6, of)
            next_report += 50 << 20


def _socket(resp):
    """Return the socket under an ``http.client`` response (to bound each wait by the deadline), if reachable."""
    raw = getattr(getattr(resp, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if hasattr(sock, "settimeout") else None


def kind_of(name: str) -> str:
    """Return what a file of this name is, in words: "CSV file", "GeoJSON file", "zip archive" ..."""
    n = name.lower()
    for suffix, kind in ((".csv.gz", "gzip-compressed CSV"), (".gz", "gzip file"), (".csv", "CSV file"),
                         (".geojson", "GeoJSON file"), (".json", "JSON file"), (".zip", "zip archive"),
                         (".gpkg", "GeoPackage")):
        if n.endswith(suffix):
            return kind
    return "file"


def markup(head: bytes) -> str | None:
    """Return ``"an HTML page titled 'Not Found'"`` when ``head`` (a body's first bytes) is HTML or XML."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not text.startswith(_MARKUP):
        return None
    m = re.search(rb"<title[^>]*>(.*?)</title", head, re.IGNORECASE | re.DOTALL)
    title = " ".join(m.group(1).decode("utf-8", "replace").split())[:80] if m else ""
    kind = "an XML document" if text.startswith(b"<?xml") and b"<html" not in text[:2000] else "an HTML page"
    return kind + (f" titled {title!r}" if title else "")


def describe_body(head: bytes) -> str:
    """Return what a body is, from its first bytes, in words."""
    if head.startswith(GZIP_MAGIC):
        return "a gzip stream"
    if head.startswith(_ZIP_MAGIC):
        return "a zip archive"
    if b"\0" in head[:1024]:
        return "binary data"
    shown = head[:60].decode("utf-8", "replace")
    return markup(head) or f"text starting {shown!r}"


def refuse_html(resp, *, url: str, name: str) -> None:
    """Refuse a response whose Content-Type is HTML: an error or login page served in place of the data."""
    ctype = resp.headers.get_content_type()
    if ctype in ("text/html", "application/xhtml+xml") and not name.lower().endswith((".html", ".htm")):
        head = resp.read(4096)
        raise FetchError(f"{url} sent {markup(head) or 'an HTML page'} (Content-Type {ctype}), not the "
                         f"{kind_of(name)} expected: the address is wrong or the server answered with an error page. "
                         "Nothing was saved.")


def check_content(path: Path, *, url: str, name: str, length_known: bool) -> None:
    """Check that a downloaded body is a complete file of the kind ``name`` says (its suffix).

    Always: not an HTML/XML page, not empty; a zip or gzip is read to its end (every CRC checked);
    a GeoJSON/JSON must parse; a CSV's last rows must have as many columns as its first. When the
    server gave no length to check the transfer against (``length_known`` false), a CSV must also
    end with a line break (a body cut short mid-row does not).

    Raises
    ------
    FetchError
        Naming the URL, what came back and what was expected.
    """
    kind = kind_of(name)
    with path.open("rb") as f:
        head = f.read(4096)
    if not head:
        raise FetchError(f"{url} sent an empty body, not the {kind} expected. Nothing was saved.")
    what = markup(head)
    if what:
        raise FetchError(f"{url} sent {what}, not the {kind} expected: the address is wrong or the server answered "
                         "with an error page. Nothing was saved.")
    n = name.lower()
    if n.endswith(".zip"):
        if not head.startswith(_ZIP_MAGIC):
            raise FetchError(f"{url} sent {describe_body(head)}, not the zip archive expected. Nothing was saved.")
        try:
            with zipfile.ZipFile(path) as z:
                bad = z.testzip()
        except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as e:
            raise FetchError(f"{url}: the zip archive is incomplete or damaged ({e}). Nothing was saved; try "
                             "again.") from None
        if bad is not None:
            raise FetchError(f"{url}: {bad} in the zip archive fails its CRC check (damaged in transfer). Nothing "
                             "was saved; try again.")
    elif n.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as f:
                while f.read(1 << 20):
                    pass
        except (EOFError, gzip.BadGzipFile, zlib.error) as e:
            raise FetchError(f"{url}: the gzip file is truncated or damaged ({e}). Nothing was saved; try "
                             "again.") from None
    elif n.endswith((".geojson", ".json")):
        try:
            with path.open("rb") as f:
                data = json.load(f)
        except ValueError as e:
            raise FetchError(f"{url}: the {kind} is not complete JSON ({getattr(e, 'msg', e)} at byte "
                             f"{getattr(e, 'pos', 0):,} of {path.stat().st_size:,}): the body was cut short or is "
                             "not JSON. Nothing was saved.") from None
        if n.endswith(".geojson") and not (isinstance(data, dict) and "type" in data):
            raise FetchError(f"{url}: the body is JSON but not GeoJSON (no \"type\"). Nothing was saved.")
    elif n.endswith(".csv"):
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text: the readers decode it; not checked here
            return
        if head.startswith((_ZIP_MAGIC, GZIP_MAGIC)) or b"\0" in head[:1024]:
            raise FetchError(f"{url} sent {describe_body(head)}, not the CSV file expected. Nothing was saved.")
        _check_csv_end(path, url=url, length_known=length_known)


def _check_csv_end(path: Path, *, url: str, length_known: bool) -> None:
    size = path.stat().st_size
    with path.open("rb") as f:
        first = f.readline(1 << 16)
        f.seek(max(0, size - (1 << 16)))
        tail = f.read()
    if not length_known and not tail.endswith(b"\n"):
        last = tail.splitlines()[-1][-60:].decode("utf-8", "replace") if tail.strip() else ""
        raise FetchError(f"{url}: the CSV ends mid-row ({last!r}, no line break after it): the body was cut short "
                         f"after {size:,} bytes and the server sent no Content-Length to check it against. Nothing "
                         "was saved; try again.")
    header = first.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n")
    sep = max(",;\t|", key=header.count)

    def columns(line: str) -> int:
        return len(next(csv.reader([line], delimiter=sep), []))

    want = columns(header)
    lines = tail.splitlines()[1 if size > len(tail) else 0:]  # the first may be a piece of a row
    lines = [ln.decode("utf-8", "replace") for ln in lines if ln.strip()][-20:]
    for i, line in enumerate(lines):
        if line.count('"') % 2:  # a quoted line break: this piece of a row cannot be counted alone
            continue
        got = columns(line)
        if got != want:
            where = "last row" if i == len(lines) - 1 else f"row {len(lines) - i} from the end"
            raise FetchError(f"{url}: the CSV's {where} has {got} columns but its first row has {want}: the body "
                             f"was cut short or is not one table. Nothing was saved.")


__all__ = ["CHUNK", "GZIP_MAGIC", "check_content", "describe_body", "kind_of", "markup", "read_body", "refuse_html"]
