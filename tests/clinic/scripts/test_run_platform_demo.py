"""The run command's demo sessions never hold up Ctrl-C: agents in flight are stopped with the rest."""

import signal
import sys
import time
from pathlib import Path

import pytest

from tests.clinic.scripts.test_run_platform import _free_port, platform_env, platform_start

REPO_ROOT = Path(__file__).resolve().parents[3]


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_while_demo_agents_send_stops_everything(tmp_path):
    port = _free_port()
    env = platform_env(tmp_path, port, TELEREHAB_DEMO_SESSIONS="1")
    process, lines, reader = platform_start(env, "migrate", "seed_demo")
    agents_home = str(tmp_path / "demo-agents")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _processes_mentioning(agents_home + "/"):
            assert process.poll() is None, b"".join(lines).decode(errors="replace")
            time.sleep(0.2)
        assert _processes_mentioning(agents_home + "/"), b"".join(lines).decode(errors="replace")
        process.send_signal(signal.SIGINT)  # while a demo agent is sending
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    reader.join(timeout=5)
    output = b"".join(lines).decode(errors="replace")
    assert "[demo] sending 3 weeks × 3 back-dated sessions for 5 demo patients" in output, output
    assert "[demo] interrupted" in output, output
    assert "[run] all processes stopped" in output, output
    assert "exited unexpectedly" not in output, output
    assert _processes_mentioning(agents_home) == []
