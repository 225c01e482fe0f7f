"""Rendering shared by every analysis: charts and PDF.

It sits in ``core`` (below the analyses) because evidence, context, estimate,
OSINT and screening all draw charts and print PDFs; while it lived in
``report`` each of them had to import a sibling analysis to do so.
"""

__all__ = ["charts", "pdf"]
