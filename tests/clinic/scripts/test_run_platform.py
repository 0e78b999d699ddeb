"""The README's run command: web, worker and beat come up together and Ctrl-C stops all three."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def platform_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    """The embedded default in a private folder: never the developer's var/ or a shared Redis."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        TELEREHAB_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="clinic.settings.dev",
        PORT=str(port),
        WEB_WORKERS="1",
        CELERY_CONCURRENCY="1",
        **extra,
    )
    return env


def platform_start(
    env: dict[str, str], *manage_commands: str
) -> tuple[subprocess.Popen, list[bytes], threading.Thread]:
    """Run ``manage.py`` commands (``migrate`` gets ``--noinput``), then start the supervisor.

    Returns the process, the list its output lines are collected into, and the reader thread.
    """
    for command in manage_commands:
        args = [command, "--noinput"] if command == "migrate" else [command]
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT, env=env, check=True, capture_output=True, timeout=180,
        )  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "scripts/run_platform.py"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    lines: list[bytes] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(process.stdout.readline, b"")), daemon=True
    )
    reader.start()
    return process, lines, reader


@pytest.mark.slow
def test_platform_starts_and_stops_cleanly_on_ctrl_c(tmp_path):
    port = _free_port()
    env = platform_env(tmp_path, port)
    process, lines, reader = platform_start(env, "migrate")
    try:
        deadline = time.monotonic() + 120
        web_ok = False
        # web, worker and beat each announce themselves in their own time: wait for all three
        while time.monotonic() < deadline and not (
            web_ok
            and any(b"ready." in line for line in lines)
            and any(b"beat: Starting" in line for line in lines)
        ):
            assert process.poll() is None, b"".join(lines).decode(errors="replace")
            try:
                web_ok = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        output = b"".join(lines).decode(errors="replace")
        assert web_ok, output
        assert "celery@" in output and " ready." in output, output
        assert "beat: Starting" in output, output

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    reader.join(timeout=5)
    output = b"".join(lines).decode(errors="replace")
    assert "[run] all processes stopped" in output
    assert "Warm shutdown" in output
    assert "exited unexpectedly" not in output
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
