"""HTML to PDF with WeasyPrint, which renders locally and is refused every network fetch.

A report prints from a machine that may be offline or watched; a page that
asked for a font or image by URL would either fail there or tell a server who
is reading what. Only ``data:`` and ``file:`` resources are served.
"""

from __future__ import annotations

from pathlib import Path

from tipsom.core.errors import InputError


def html_to_pdf(html: str, out: Path, base_url: str | None = None) -> Path:
    """Render ``html`` to ``out``; resources resolve against ``base_url`` only."""
    from weasyprint import HTML

    def _no_fetch(url: str, timeout: int = 10, ssl_context: object = None) -> dict[str, object]:
        if url.startswith(("data:", "file:")):
            from weasyprint.urls import default_url_fetcher

            return default_url_fetcher(url)  # type: ignore[no-any-return]
        raise InputError(f"refusing to fetch {url}: reports render offline", file=out)

    HTML(string=html, base_url=base_url, url_fetcher=_no_fetch).write_pdf(str(out))
    return out


def write_page(html: str, out: Path) -> Path:
    """Write ``html`` to ``out``, as PDF when its name ends in ``.pdf``, else as the HTML itself."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".pdf":
        return html_to_pdf(html, out)
    out.write_text(html, encoding="utf-8")
    return out
