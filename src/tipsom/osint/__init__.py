"""Screening online ads and posts, and linking them into networks.

Read ads (:mod:`~tipsom.osint.records`), scan each one for identifiers and
multilingual indicators (:mod:`~tipsom.osint.scan`), link them by shared
identifiers and verified near-duplicate text on DuckDB or Spark
(:mod:`~tipsom.osint.linkage`), then profile and report the clusters
(:mod:`~tipsom.osint.profile`, :mod:`~tipsom.osint.report`). The command line
calls the workflows in :mod:`~tipsom.osint.pipeline`; see ``docs/osint.md``.
"""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = ["choices", "evaluate", "ftm", "linkage", "pipeline", "records", "report"]
