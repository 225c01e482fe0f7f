"""Context data beside the registry: events, displacement, routes and country indicators.

The command line and the web use the public modules below; ``db`` holds the context tables and
:class:`~tipsom.context.db.ContextStore`.
"""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = [
    "assemble", "boundaries", "card", "db", "flags", "importing", "index", "index_report", "mmp", "panel",
    "registry", "routes", "sources", "spec", "uncertainty",
]
