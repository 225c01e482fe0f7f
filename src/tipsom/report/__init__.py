"""The national statistical report: figures, tables, SDG 16.2.2, dashboards and protected microdata.

Other modules read published figures through ``compute`` and ``statistics``; the web dashboard through
``dashboard``; ``warehouse`` gives a DuckDB view of the store without personal columns.
"""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = ["build", "compute", "dashboard", "disclosure", "microdata", "population", "sdg", "statistics", "warehouse"]
