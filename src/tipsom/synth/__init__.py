"""tipsom.synth"""
