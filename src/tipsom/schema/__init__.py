"""tipsom.schema"""
