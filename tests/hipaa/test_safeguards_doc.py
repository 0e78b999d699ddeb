"""docs/hipaa/safeguards.md stays true: every file and test it names exists, every safeguard
section names at least one test, and the companion documents it links to exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "hipaa" / "safeguards.md"
_REFERENCE = re.compile(r"`([\w./-]+\.(?:py|html|toml|md))(?:::(\w+))?`")
COMPANIONS = (
    "risk-analysis.md",
    "data-flow.md",
    "key-management.md",
    "incident-response.md",
    "retention.md",
)


def _references(text: str) -> list[tuple[str, str | None]]:
    return [(path, test or None) for path, test in _REFERENCE.findall(text)]


def _defined_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_file_and_test_named_in_safeguards_exists():
    references = _references(DOC.read_text())
    assert len(references) > 60  # the parser really found the references
    missing = []
    for path, test in references:
        target = REPO_ROOT / path
        if not target.is_file():
            missing.append(path)
        elif test and test not in _defined_functions(target):
            missing.append(f"{path}::{test}")
    assert not missing, f"safeguards.md names what does not exist: {missing}"


def test_every_safeguard_section_names_a_test():
    sections = re.split(r"\n(?=##+ )", DOC.read_text())
    untested = []
    for section in sections:
        title = section.splitlines()[0]
        if not title.startswith("###") or "Risk analysis" in title:
            continue
        if not any(test for _, test in _references(section)) and "tests/" not in section:
            untested.append(title)
    assert not untested, f"safeguards without a test: {untested}"


def test_companion_documents_exist_and_are_linked():
    text = DOC.read_text()
    for name in COMPANIONS:
        assert (DOC.parent / name).is_file(), name
        assert f"]({name})" in text, f"safeguards.md does not link {name}"


def test_the_checker_notices_a_missing_test():
    fake = "`tests/hipaa/test_safeguards_doc.py::test_that_does_not_exist`"
    ((path, test),) = _references(fake)
    assert test not in _defined_functions(REPO_ROOT / path)
