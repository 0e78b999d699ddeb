"""Calibration models fitted by analysis.validate, shipped as package data."""
