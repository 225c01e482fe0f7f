"""tipsom.report"""
