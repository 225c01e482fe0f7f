"""tipsom.estimate"""
