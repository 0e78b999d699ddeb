"""Contingency plan (45 CFR 164.308(a)(7)): encrypted backup and verified restore."""
