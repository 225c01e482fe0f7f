"""Seeded synthetic data (cases, ads, transactions, agency lists) for demos, tests and benchmarks."""

#: The public modules other packages may import from (the rest are this package's own).
__all__ = ["ads", "cases", "demo", "linkage", "transactions"]
