"""Figures the HIPAA suite reports at the end of a run (RBAC coverage, audit completeness, fuzz).

Tests record into JSON files under one directory per pytest run (shared by xdist workers);
``tests/hipaa/conftest.py`` sums them in the terminal summary.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def figures_dir() -> Path:
    run_id = os.environ.get("TELEREHAB_TEST_RUN_ID", "local")
    path = Path(tempfile.gettempdir()) / f"telerehab-hipaa-figures-{run_id}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def record(kind: str, key: str, values: dict) -> None:
    safe = "".join(c if c.isalnum() else "_" for c in key)
    (figures_dir() / f"{kind}--{safe}.json").write_text(json.dumps({"key": key, **values}))


def load(kind: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(figures_dir().glob(f"{kind}--*.json"))]
