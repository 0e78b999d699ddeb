"""Readers for public reference data sets used to validate the analysis."""
