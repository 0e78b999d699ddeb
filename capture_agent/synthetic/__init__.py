"""The synthetic patient: real UI-PRMD motion rendered to depth and colour."""
