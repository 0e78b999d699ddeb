#!/usr/bin/env bash
# Chart figures for sessions analysed before processing wrote them itself (idempotent, cheap when none are missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
python manage.py session_figures_backfill
