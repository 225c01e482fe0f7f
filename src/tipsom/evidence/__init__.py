"""tipsom.evidence"""
