"""PDF from the HTML documents geotarget writes (HIA reports, action areas), with WeasyPrint.

WeasyPrint lays out HTML and CSS for paged media itself: it needs no browser, runs no script and
fetches nothing but what the page names (the documents are self-contained, so nothing), and its
output is the same on every machine with the same fonts. That is why it, not a headless browser,
writes geotarget's PDFs: a council analyst's ``pip install`` brings it, where Chromium may be
absent or locked down. It needs the Pango text library, which Linux desktops and servers have;
where it is missing the error says how to get it.

The documents' ``@media print`` / ``@page`` rules decide the page (A4 portrait), so printing the
HTML from a browser and :func:`write_pdf` give the same pages.
"""

from __future__ import annotations

import os
from pathlib import Path

from geotarget.core.errors import GeotargetError
from geotarget.io.files import atomic_path

__all__ = ["pdf_bytes", "write_pdf"]


def _weasyprint():
    try:
        import weasyprint
    except (ImportError, OSError) as e:  # OSError: the Pango library is missing
        raise GeotargetError(
            f"cannot write PDF: WeasyPrint could not start ({e}). It is installed with geotarget and needs the "
            "Pango library: on Debian/Ubuntu `apt-get install libpango-1.0-0 libpangoft2-1.0-0`, on macOS "
            "`brew install pango`; see https://doc.courtbouillon.org/weasyprint/stable/first_steps.html") from e
    return weasyprint


def pdf_bytes(html: str, *, base_url: str | os.PathLike | None = None) -> bytes:
    """Return ``html`` laid out as a PDF (A4 unless the page's CSS says otherwise)."""
    weasyprint = _weasyprint()
    return weasyprint.HTML(string=html, base_url=str(base_url) if base_url else None).write_pdf()


def write_pdf(html: str, path: str | os.PathLike, *, base_url: str | os.PathLike | None = None) -> Path:
    """Write ``html`` as a PDF to ``path`` atomically (nothing is left at ``path`` if it fails)."""
    data = pdf_bytes(html, base_url=base_url)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return Path(path)
