"""tipsom.exchange"""
