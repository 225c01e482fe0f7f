"""tipsom.screening"""
