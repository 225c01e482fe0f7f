"""tipsom.osint"""
