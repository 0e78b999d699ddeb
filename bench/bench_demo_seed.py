#!/usr/bin/env python
"""How long the README's run command takes to fill the demo clinic with sessions.

Runs what ``scripts/run.sh`` runs after set-up, in a private var folder
(embedded SQLite + SQLite broker; with DATABASE_URL/REDIS_URL set, a fresh
PostgreSQL database beside it, dropped afterwards, and Redis database 11):
migrate, seed_demo, the seed hooks' plans, then ``scripts/run_platform.py``
with TELEREHAB_DEMO_SESSIONS=1. Measures the time from start until the demo
agents are done (all sessions uploaded) and until the worker has analysed
every one, then Ctrl-C and how long the clean shutdown takes.

    python bench/bench_demo_seed.py            # 5 patients × 3 weeks × 3 sessions

Prints figures, then one JSON object on the last line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from scratch_server import free_port, scratch_database_drop, scratch_database_url  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


def _count_sql() -> str:
    return (
        "from clinic.recordings.models import Recording as R;"
        "print(R.objects.count(), R.objects.filter(state='analysed').count())"
    )


def main() -> int:
    var_dir = Path(tempfile.mkdtemp(prefix="telerehab-demo-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    base_url = env.get("DATABASE_URL", "")
    db_url, pg_name = scratch_database_url(base_url, var_dir, prefix="bench_demo")
    if env.get("REDIS_URL"):  # its own Redis database: no other run's worker takes its tasks
        env["REDIS_URL"] = urlunsplit(urlsplit(env["REDIS_URL"])._replace(path="/11"))
    env.update(
        DATABASE_URL=db_url,
        TELEREHAB_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="clinic.settings.dev",
        PORT=str(port),
        TELEREHAB_DEMO_SESSIONS="1",
        PYTHONUNBUFFERED="1",
    )

    def manage(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True, timeout=300,
        ).stdout  # fmt: skip

    try:
        return _run(env, manage)
    finally:
        if pg_name:
            scratch_database_drop(base_url, pg_name)
        shutil.rmtree(var_dir, ignore_errors=True)


def _run(env: dict[str, str], manage) -> int:
    manage("migrate", "--noinput")
    manage("seed_demo")
    manage("plans_seed_demo")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "scripts/run_platform.py"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(
        target=lambda: lines.extend(
            raw.decode(errors="replace") for raw in iter(process.stdout.readline, b"")
        ),
        daemon=True,
    ).start()
    agents_done_s = analysed_s = None
    total = analysed = 0
    try:
        deadline = started + 1200
        while time.monotonic() < deadline and process.poll() is None:
            if agents_done_s is None and any("[demo] done in" in line for line in lines):
                agents_done_s = time.monotonic() - started
            if agents_done_s is not None:
                last = manage("shell", "-c", _count_sql()).strip().splitlines()[-1]
                total, analysed = map(int, last.split())
                if total and analysed == total:
                    analysed_s = time.monotonic() - started
                    break
            time.sleep(2.0)
    finally:
        stop_t0 = time.monotonic()
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=120)
        stop_s = time.monotonic() - stop_t0
    for line in lines:
        if "[demo]" in line or "[run]" in line:
            print(line.rstrip())
    figures = {
        "sessions": total,
        "analysed": analysed,
        "agents_done_s": round(agents_done_s, 1) if agents_done_s else None,
        "all_analysed_s": round(analysed_s, 1) if analysed_s else None,
        "shutdown_s": round(stop_s, 1),
        "exit_status": status,
        "database": "postgresql" if env["DATABASE_URL"].startswith("postgres") else "sqlite",
        "broker": "redis" if env.get("REDIS_URL") else "embedded-sqlite",
        "cpus": os.cpu_count(),
    }
    print(
        f"{total} demo sessions: agents done after {figures['agents_done_s']} s, "
        f"all analysed after {figures['all_analysed_s']} s (from platform start); "
        f"Ctrl-C shutdown {figures['shutdown_s']} s"
    )
    print(json.dumps(figures))
    return 0 if analysed_s else 1


if __name__ == "__main__":
    raise SystemExit(main())
