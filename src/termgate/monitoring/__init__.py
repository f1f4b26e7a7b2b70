"""Monitoring (clause 4.1): detectors over the usage events, and the findings they record."""
