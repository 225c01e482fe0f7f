"""tipsom.web"""
