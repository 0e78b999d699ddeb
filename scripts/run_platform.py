#!/usr/bin/env python
"""Run web server, Celery worker and Celery beat together in the foreground.

Why a supervisor and not three terminals: the README promises one command.
Each child runs in its own session so that Ctrl-C reaches only this
supervisor, which then stops the children in order with SIGTERM (graceful:
gunicorn finishes requests, the worker finishes its task, beat saves its
schedule) and only SIGKILLs what is still alive after a grace period. If any
child dies on its own, the others are stopped too and the exit status says so.

Environment: HOST (default 127.0.0.1), PORT (8000), WEB_WORKERS (2),
CELERY_CONCURRENCY (2), TELEREHAB_DEMO_SESSIONS (1 from ``scripts/run.sh``:
also run ``scripts/demo_sessions.py`` once the web server answers, a one-shot
child whose end, success or not, stops nothing else).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
GRACE_S = 30.0


def _commands() -> dict[str, list[str]]:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    var_dir = REPO_ROOT / "var"
    return {
        "web": [
            sys.executable, "-m", "gunicorn", "clinic.wsgi:application",
            "--bind", f"{host}:{port}",
            "--workers", os.environ.get("WEB_WORKERS", "2"),
            "--access-logfile", "-",
            "--graceful-timeout", "20",
        ],
        "worker": [
            sys.executable, "-m", "celery", "-A", "clinic", "worker",
            "--loglevel", "INFO",
            "--concurrency", os.environ.get("CELERY_CONCURRENCY", "2"),
        ],
        "beat": [
            sys.executable, "-m", "celery", "-A", "clinic", "beat",
            "--loglevel", "INFO",
            "--schedule", str(var_dir / "celerybeat-schedule"),
        ],
    }  # fmt: skip


def _oneshot_commands() -> dict[str, list[str]]:
    """Children that finish on their own: the demo sessions, sent through the running platform."""
    if os.environ.get("TELEREHAB_DEMO_SESSIONS") != "1":
        return {}
    host = os.environ.get("HOST", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - reach a wildcard bind on loopback
        host = "127.0.0.1"
    port = os.environ.get("PORT", "8000")
    script = REPO_ROOT / "scripts" / "demo_sessions.py"
    return {"demo": [sys.executable, str(script), "--server", f"http://{host}:{port}"]}


def _pump(name: str, stream) -> None:
    """Prefix each child's output line with its name so the three logs stay readable."""
    for raw in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>6} | {raw.decode(errors='replace')}")
        sys.stdout.flush()


class Supervisor:
    def __init__(self) -> None:
        self.children: dict[str, subprocess.Popen] = {}
        self.oneshot: set[str] = set()  # children that end on their own without stopping the rest
        self.finished: set[str] = set()
        self.stopping = threading.Event()

    def start(self) -> None:
        env = dict(os.environ)
        env.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.dev")
        env["PYTHONUNBUFFERED"] = "1"
        oneshot = _oneshot_commands()
        self.oneshot = set(oneshot)
        # One-shot children first, so that stop() ends them before the web server they talk to.
        for name, command in {**oneshot, **_commands()}.items():
            process = subprocess.Popen(  # noqa: S603 - fixed argument lists, no shell
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self.children[name] = process
            threading.Thread(target=_pump, args=(name, process.stdout), daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        for name, process in self.children.items():
            if process.poll() is None:
                print(f"[run] stopping {name} (pid {process.pid})", flush=True)
                # To the main process only: it stops its own children gracefully
                # (a signal to the whole group would kill Celery's pool mid-task).
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for name, process in self.children.items():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                print(f"[run] {name} did not stop in {GRACE_S:.0f} s; killing it", flush=True)
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait(timeout=10)

    def wait(self) -> int:
        """Block until Ctrl-C/SIGTERM (exit 0) or a child dies on its own (exit 1)."""
        while not self.stopping.is_set():
            for name, process in self.children.items():
                code = process.poll()
                if code is None or name in self.finished:
                    continue
                if name in self.oneshot:
                    self.finished.add(name)
                    print(f"[run] {name} finished (status {code})", flush=True)
                else:
                    print(
                        f"[run] {name} exited unexpectedly with status {code}; stopping the rest",
                        flush=True,
                    )
                    self.stop()
                    return 1
            time.sleep(0.5)
        return 0


def main() -> int:
    supervisor = Supervisor()

    def on_signal(signum, frame) -> None:
        if not supervisor.stopping.is_set():
            print(f"\n[run] {signal.Signals(signum).name} received: shutting down", flush=True)
            supervisor.stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    supervisor.start()
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    print(
        f"[run] telerehab is starting: open http://{host}:{port}/  (web, worker and beat; Ctrl-C stops all)",
        flush=True,
    )
    status = supervisor.wait()
    if status == 0:
        supervisor.stop()
        print("[run] all processes stopped", flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
