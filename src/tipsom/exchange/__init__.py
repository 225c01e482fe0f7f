"""Case exchange: the formats cases come in and go out in (native JSON Lines, flat CSV/Excel, CTDC, HTCDS,
ODK/KoboToolbox submissions) and the XLSForm that collects them offline.

Every import goes through :func:`tipsom.exchange.importer.import_file`; exports through
:mod:`tipsom.exchange.export`.
"""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = ["export", "formats", "importer", "native", "odk", "xlsform"]
