"""HTML to PDF with WeasyPrint, which renders locally with no network access."""

from __future__ import annotations

from pathlib import Path


def html_to_pdf(html: str, out: Path, base_url: str | None = None) -> Path:
    """Render ``html`` to ``out``; resources resolve against ``base_url`` only."""
    from weasyprint import HTML

    def _no_fetch(url: str, timeout: int = 10, ssl_context: object = None) -> dict[str, object]:
        if url.startswith("data:") or url.startswith("file:"):
            from weasyprint.urls import default_url_fetcher

            return default_url_fetcher(url)  # type: ignore[no-any-return]
        raise ValueError(f"refusing to fetch {url}: reports render offline")

    HTML(string=html, base_url=base_url, url_fetcher=_no_fetch).write_pdf(str(out))
    return out
