"""The data standard: entities, fields and code lists read from YAML, used by every other layer."""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = ["consent", "dictionary", "document", "enums", "model", "values"]
