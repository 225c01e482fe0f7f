"""tipsom.money"""
