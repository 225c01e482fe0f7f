"""HTML to PDF with WeasyPrint, which renders locally and is refused every fetch.

A report prints from a machine that may be offline or watched; a page that
asked for a font or image by URL would either fail there or tell a server who
is reading what, and a ``file:`` URL would copy a local file into the PDF.
tipsom's pages inline everything they show, so only ``data:`` resources are
served; any other reference stops the rendering with the URL named.
"""

from __future__ import annotations

from pathlib import Path

from tipsom.core.errors import InputError

#: The only URL scheme a report may reference: resources written into the page itself.
ALLOWED_SCHEMES = ("data",)


def html_to_pdf(html: str, out: Path) -> Path:
    """Render ``html`` to ``out``, refusing any resource that is not inside the page."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    fetcher = URLFetcher(allowed_protocols=ALLOWED_SCHEMES, fail_on_errors=True, allow_redirects=False)
    try:
        HTML(string=html, url_fetcher=fetcher).write_pdf(str(out))
    except FatalURLFetchingError as exc:
        raise InputError(f"{exc.__cause__ or exc}: reports render offline, from the page alone", file=out) from None
    return out


def write_page(html: str, out: Path) -> Path:
    """Write ``html`` to ``out``, as PDF when its name ends in ``.pdf``, else as the HTML itself."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".pdf":
        return html_to_pdf(html, out)
    out.write_text(html, encoding="utf-8")
    return out
