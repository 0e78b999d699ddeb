#!/usr/bin/env bash
# Make a fresh machine ready: Debian libraries, the virtual environment, the
# project with all its extras, then any set-up hooks other parts of the
# project drop into scripts/setup.d/ (e.g. front-end assets from npm).
# Sourced by run.sh and test.sh; safe to run again (does nothing twice).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
    if [ "$(id -u)" = 0 ]; then
        echo "[bootstrap] installing libusb-1.0-0 (needed by the RealSense camera SDK)"
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libusb-1.0-0
    else
        echo "[bootstrap] WARNING: libusb-1.0-0 is missing and this is not root." >&2
        echo "            Run: sudo apt-get install -y libusb-1.0-0   (RealSense cameras need it)" >&2
    fi
fi

if [ ! -x .venv/bin/python ]; then
    PYTHON_BIN="${PYTHON:-}"
    if [ -z "$PYTHON_BIN" ]; then
        if command -v python3.11 >/dev/null 2>&1; then PYTHON_BIN=python3.11; else PYTHON_BIN=python3; fi
    fi
    echo "[bootstrap] creating .venv with $PYTHON_BIN ($("$PYTHON_BIN" --version))"
    "$PYTHON_BIN" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate

stamp=.venv/.telerehab-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "[bootstrap] installing telerehab with extras server,agent,cameras,dev"
    python -m pip install --quiet --upgrade pip
    python -m pip install --quiet -e '.[server,agent,cameras,dev]'
    touch "$stamp"
fi

mkdir -p var
for hook in scripts/setup.d/*.sh; do
    [ -e "$hook" ] || continue
    echo "[bootstrap] running $hook"
    bash "$hook"
done
