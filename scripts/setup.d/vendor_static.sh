#!/usr/bin/env bash
# Front-end libraries from the npm registry (pinned in package-lock.json) into
# static/vendor/, never from a CDN. Idempotent: does nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=static/vendor/chart.js/chart.umd.min.js
if [ -f "$target" ] && [ "$target" -nt package-lock.json ]; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "[vendor_static] installing Debian's npm"
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm
    else
        echo "[vendor_static] npm is missing: sudo apt-get install -y npm" >&2
        exit 1
    fi
fi
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
mkdir -p static/vendor/chart.js
cp node_modules/chart.js/dist/chart.umd.min.js static/vendor/chart.js/
cp node_modules/chart.js/LICENSE.md static/vendor/chart.js/ 2>/dev/null || true
touch "$target"
echo "[vendor_static] static/vendor/ is up to date"
