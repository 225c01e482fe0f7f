"""Prevalence: link agency lists and estimate the hidden number of victims.

``tipsom.estimate.table`` reads capture-history tables, ``mse.estimate`` selects
and fits a model with its interval, ``linkage`` and ``store_histories`` build
the table from agency records or the registry, ``report`` explains the result.
"""

from tipsom.estimate.mse import Estimate, IntervalMethod, Selection, compare_methods, estimate
from tipsom.estimate.table import CaptureTable, CaptureTableError, read_csv, read_table

#: Names defined here and the public modules other packages may import from.
__all__ = [
    "CaptureTable",
    "CaptureTableError",
    "Estimate",
    "IntervalMethod",
    "Selection",
    "compare_methods",
    "comparison",
    "dga",
    "estimate",
    "histories",
    "lcmcr",
    "linkage",
    "mse",
    "read_csv",
    "read_table",
    "registry",
    "report",
    "store_histories",
    "table",
]
