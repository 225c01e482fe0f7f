"""The multi-user web application: accounts, organisations, casework, dashboards and the API."""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = ["accounts", "app", "i18n", "labels", "organisations", "tables"]
