#!/usr/bin/env python
"""Demo sessions the real way: one capture agent process per demo patient, against the running server.

Why not write rows directly: a new user's first charts should come from the
same path a patient's home uses (synthetic source → sealed envelope → outbox
→ ingest API → Celery worker), dated back a few weeks. So, once ``/healthz``
answers, this asks the server for pairing codes (``manage.py
demo_pairing_codes``: through the pairing service, audited, only for demo
patients without recordings) and runs ``capture-agent demo-sessions`` for
each, with its own agent home under ``var/demo-agents/`` (git-ignored;
``$TELEREHAB_VAR_DIR/demo-agents`` when that is set).

Idempotent: patients with recordings are skipped; an agent home still paired
to its patient's device resumes its outbox instead of pairing again. Runs as
a child of ``scripts/run_platform.py``; SIGTERM/Ctrl-C stop it (the agent's
outbox is durable, so the next run finishes what was cut short). No Django
in this process: it only starts other processes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
#: UI-PRMD subject offset per demo patient, by position: subjects whose
#: recordings have every marker and whose "incorrect" repetitions move less than
#: the correct ones (so charts show progress). The exercise comes from the
#: server (``clinic.core.demo.DEMO_EXERCISES``), the same one the demo plan prescribes.
DEMO_SUBJECT_OFFSETS = (3, 0, 1, 3, 4)


def log(message: str) -> None:
    print(f"[demo] {message}", flush=True)


def server_wait(url: str, *, timeout_s: float) -> bool:
    """Poll ``/healthz`` until it answers 200 (True) or the time is up (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=3) as response:  # noqa: S310 - our own server
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1.0)
    return False


def _paired_device(home: Path, server_url: str) -> str | None:
    """The device id an agent home holds, if it is paired with this very server URL."""
    try:
        identity = json.loads((home / "identity.json").read_text())
    except (OSError, ValueError):
        return None
    if identity.get("server_url", "").rstrip("/") != server_url.rstrip("/"):
        return None
    return identity.get("device_id")


def demo_tasks(*, known: dict[str, str], only: list[str] | None, python: str) -> list[dict]:
    """Ask the server (``manage.py demo_pairing_codes``) which demo patients still need sessions."""
    command = [python, "manage.py", "demo_pairing_codes"]
    if only:
        command += ["--only", *only]
    for username, device_id in sorted(known.items()):
        command += ["--known", f"{username}={device_id}"]
    result = subprocess.run(  # noqa: S603 - fixed argument list
        command, cwd=REPO_ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def demo_sessions_seed(
    *,
    server_url: str,
    agents_dir: Path,
    weeks: int,
    per_week: int,
    only: list[str] | None = None,
    python: str = sys.executable,
) -> int:
    """Send each demo patient's sessions; returns how many agents failed."""
    from capture_agent.synthetic.motion import uiprmd_root

    try:
        uiprmd_root()
    except Exception as exc:  # noqa: BLE001 - no motion data: the demo simply has no sessions
        log(f"skipped: {exc}")
        return 0
    agents_dir.mkdir(parents=True, exist_ok=True)
    known = {}
    for home in sorted(p for p in agents_dir.iterdir() if p.is_dir()):
        device_id = _paired_device(home, server_url)
        if device_id:
            known[home.name] = device_id
    tasks = demo_tasks(known=known, only=only, python=python)
    if not tasks:
        log("every demo patient already has sessions; nothing to send")
        return 0
    log(
        f"sending {weeks} weeks × {per_week} back-dated sessions for {len(tasks)} demo patients "
        f"through agent → API → worker"
    )
    failures = 0
    started = time.monotonic()
    for task in tasks:
        username, index = task["username"], task["index"]
        if task.get("error"):
            log(f"{username}: skipped ({task['error']})")
            failures += 1
            continue
        home = agents_dir / username
        if task["code"] is not None and home.exists():
            shutil.rmtree(home)  # paired with a server that no longer knows it
        exercise = task["exercise"]
        subject_offset = DEMO_SUBJECT_OFFSETS[index % len(DEMO_SUBJECT_OFFSETS)]
        command = [
            python, "-m", "capture_agent.cli", "demo-sessions",
            "--server", server_url,
            "--exercise", exercise,
            "--weeks", str(weeks),
            "--per-week", str(per_week),
            "--subject-offset", str(subject_offset),
            "--weekdays", ",".join(str(d) for d in task["weekdays"]),
            "--home", str(home),
        ]  # fmt: skip
        if task["code"] is not None:
            command += ["--code", task["code"]]
        env = dict(os.environ)
        env.pop("DJANGO_SETTINGS_MODULE", None)  # the agent is not a Django process
        t0 = time.monotonic()
        result = subprocess.run(  # noqa: S603 - fixed argument list
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900
        )
        summary = (result.stdout.strip().splitlines() or [""])[-1]
        if result.returncode == 0:
            log(f"{username}: {exercise}, {summary} ({time.monotonic() - t0:.1f} s)")
        else:
            failures += 1
            log(f"{username}: agent failed ({result.returncode}): {result.stderr.strip()[-300:]}")
    log(
        f"done in {time.monotonic() - started:.1f} s; the worker analyses the sessions "
        "in the background and the charts fill as it goes"
    )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="e.g. http://127.0.0.1:8000")
    var_dir = Path(os.environ.get("TELEREHAB_VAR_DIR") or REPO_ROOT / "var")
    parser.add_argument("--agents-dir", type=Path, default=var_dir / "demo-agents")
    parser.add_argument("--weeks", type=int, default=3)
    parser.add_argument("--per-week", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="demo user names (default: all)")
    parser.add_argument("--wait-s", type=float, default=180.0, help="how long to wait for /healthz")
    args = parser.parse_args(argv)

    def on_term(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    server = args.server.rstrip("/")
    try:
        if not server_wait(server, timeout_s=args.wait_s):
            log(f"{server}/healthz did not answer in {args.wait_s:.0f} s; no demo sessions sent")
            return 1
        failures = demo_sessions_seed(
            server_url=server,
            agents_dir=args.agents_dir,
            weeks=args.weeks,
            per_week=args.per_week,
            only=args.only,
        )
    except KeyboardInterrupt:
        log("interrupted; the next run finishes the demo sessions")
        return 130
    except subprocess.CalledProcessError as exc:
        log(f"could not get pairing codes: {exc.stderr.strip()[-300:]}")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    raise SystemExit(main())
