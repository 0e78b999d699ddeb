#!/usr/bin/env bash
# The README's test command: ruff, then the whole pytest suite.
# Honours DATABASE_URL and REDIS_URL (unset: SQLite + embedded Celery broker).
# Extra arguments go to pytest, e.g. ./scripts/test.sh -n 2 or -k audit.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bootstrap.sh
. scripts/bootstrap.sh
unset DJANGO_SETTINGS_MODULE  # pytest takes clinic.settings.test from pyproject.toml

echo "[test] database: ${DATABASE_URL:-SQLite (default)}; broker: ${REDIS_URL:-embedded SQLite}"
# Run every stage even if an earlier one fails, so one report shows everything.
failed=()
echo "[test] ruff check"
ruff check . || failed+=("ruff check")
echo "[test] ruff format --check"
ruff format --check . || failed+=("ruff format")

echo "[test] pytest"
set +e
python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "[test] pytest collected no tests (exit 5); the suite must not be empty." >&2
    failed+=("pytest: no tests")
elif [ "$status" -ne 0 ]; then
    failed+=("pytest (exit $status)")
fi

if [ "${#failed[@]}" -gt 0 ]; then
    echo "[test] FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "[test] passed: ruff check, ruff format, pytest"
