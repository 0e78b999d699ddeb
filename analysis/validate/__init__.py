"""Validation of the angle pipeline against marker-based reference data."""
