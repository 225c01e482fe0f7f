"""Data files shipped with tipsom (Natural Earth boundaries, population tables), read through importlib.resources."""

#: Nothing to import: the package only carries files.
__all__: list[str] = []
