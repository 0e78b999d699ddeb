#!/usr/bin/env bash
# The README's run command: set up if needed, migrate, seed the demo clinic,
# then run web server + Celery worker + Celery beat in the foreground.
# Ctrl-C stops all three cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bootstrap.sh
. scripts/bootstrap.sh

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-clinic.settings.dev}"
python manage.py migrate --noinput
python manage.py seed_demo
for hook in scripts/seed.d/*.sh; do
    [ -e "$hook" ] || continue
    echo "[run] running $hook"
    bash "$hook"
done
# Once the web server answers, demo patients without recordings get weeks of
# back-dated sessions sent by real capture agents (scripts/demo_sessions.py);
# TELEREHAB_DEMO_SESSIONS=0 skips that.
export TELEREHAB_DEMO_SESSIONS="${TELEREHAB_DEMO_SESSIONS:-1}"
# Worker and beat would otherwise race to create the embedded broker's queue.
python manage.py broker_prepare
exec python scripts/run_platform.py "$@"
