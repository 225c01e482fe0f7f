"""tipsom.store"""
