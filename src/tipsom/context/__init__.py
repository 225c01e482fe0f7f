"""tipsom.context"""
