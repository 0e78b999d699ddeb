"""End to end: a real agent process pairs with a real server, uploads, and a real worker analyses.

gunicorn on 127.0.0.1 + a Celery worker process + the agent CLI in its own
processes, all on the test database (SQLite or PostgreSQL, whichever the
run uses) and the test broker (embedded or Redis).
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
import uuid
from pathlib import Path

import pytest

from clinic.audit.models import AuditEvent
from clinic.devices.models import Device
from clinic.devices.services import pairing_code_create
from clinic.recordings.models import Recording, RecordingResult, RecordingState
from tests.clinic.recording_helpers import knee_flexion_session
from tests.e2e.conftest import agent_popen, agent_run
from tests.factories import patient_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

#: Runs of the agent crash loop; raise with TELEREHAB_CRASH_RUNS for a longer soak.
RUNS = int(os.environ.get("TELEREHAB_CRASH_RUNS", "8"))
FINAL = (RecordingState.ANALYSED, RecordingState.REJECTED, RecordingState.QUARANTINED)


def _wait_final(ids: list[str], timeout_s: float = 120) -> dict[str, str]:
    deadline = time.monotonic() + timeout_s
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = dict(Recording.objects.filter(id__in=ids).values_list("id", "state"))
        states = {str(k): v for k, v in states.items()}
        if len(states) == len(ids) and all(s in FINAL for s in states.values()):
            break
        time.sleep(0.5)
    return states


def _paired_agent(clinic_server, tmp_path: Path):
    patient = patient_create()
    _, code = pairing_code_create(actor=patient.user, patient=patient)
    home = tmp_path / "agent"
    out = agent_run("pair", code, "--server", clinic_server.url, home=home).stdout
    assert "paired: device" in out
    return patient, home


def _skeleton_file(tmp_path: Path, seed: int) -> Path:
    path = tmp_path / f"session-{seed}.trsk"
    path.write_bytes(knee_flexion_session(duration_s=12, seed=seed).to_bytes())
    return path


def test_pair_record_upload_and_find_the_analysed_rom(
    clinic_server, celery_worker_process, tmp_path: Path
) -> None:
    patient, home = _paired_agent(clinic_server, tmp_path)
    device = Device.objects.get(patient=patient)
    assert (home / "device-ed25519.key").stat().st_mode & 0o777 == 0o600

    out = agent_run(
        "record",
        "--source",
        "synthetic:",
        "--exercise",
        "deep_squat",
        "--headless",
        "--seconds",
        "6",
        "--pose2d",
        "truth",
        home=home,
        timeout_s=180,
    ).stdout
    assert "sealed into the outbox" in out, out
    agent_run("upload", "--wait", home=home)
    status = json.loads(agent_run("status", "--json", home=home).stdout)
    assert status["counts"] == {"pending": 0, "uploaded": 1, "failed": 0}
    (rid,) = [item["recording_id"] for item in status["items"]]

    states = _wait_final([rid])
    assert states == {rid: RecordingState.ANALYSED}, celery_worker_process.log_text()[-3000:]
    recording = Recording.objects.get(id=rid)
    assert recording.device_id == device.id and recording.patient_id == patient.id
    assert recording.exercise == "deep_squat"
    result = RecordingResult.objects.get(recording_id=rid)
    assert result.analysis_method == "analysis.pipeline"
    knees = [m for m in result.measures if m["measure"] == "knee_flexion" and m["available"]]
    assert knees and all(m["session_rom"]["value_deg"] > 30 for m in knees), result.measures
    assert all(m["session_rom"]["uncertainty_deg"] is not None for m in knees)

    # a recorded skeleton file sent twice under one id is one recording on the server
    rid = str(uuid.uuid4())
    for _ in range(2):
        agent_run(
            "send",
            str(_skeleton_file(tmp_path, 1)),
            "--exercise",
            "inline_lunge",
            "--recording-id",
            rid,
            "--upload",
            "--wait",
            home=home,
        )
    assert _wait_final([rid]) == {rid: RecordingState.ANALYSED}
    knee = next(
        m
        for m in RecordingResult.objects.get(recording_id=rid).measures
        if m["measure"] == "knee_flexion" and m["side"] == "right"
    )
    assert 85 <= knee["session_rom"]["value_deg"] <= 95
    assert Recording.objects.filter(id=rid).count() == 1


def test_revoked_device_is_refused_and_the_agent_keeps_the_recording(
    clinic_server, tmp_path: Path
) -> None:
    patient, home = _paired_agent(clinic_server, tmp_path)
    Device.objects.filter(patient=patient).update(revoked_at="2026-01-01T00:00:00Z")
    result = agent_run(
        "send",
        str(_skeleton_file(tmp_path, 2)),
        "--exercise",
        "inline_lunge",
        "--upload",
        home=home,
        check=False,
    )
    assert result.returncode == 3
    status = json.loads(agent_run("status", "--json", home=home).stdout)
    assert status["counts"]["failed"] == 1 and "device_revoked" in status["items"][0]["last_error"]
    assert not Recording.objects.filter(patient=patient).exists()


def test_agent_killed_at_random_points_delivers_each_recording_exactly_once(
    clinic_server, celery_worker_process, tmp_path: Path
) -> None:
    """SIGKILL the agent during seal/commit/upload, restart it; nothing lost, nothing doubled."""
    patient, home = _paired_agent(clinic_server, tmp_path)
    rng = random.Random(int(os.environ.get("TELEREHAB_CRASH_SEED", "20261122")))
    ids: list[str] = []
    phases: dict[str, int] = {}
    for i in range(RUNS):
        rid = str(uuid.uuid4())
        ids.append(rid)
        skeleton = _skeleton_file(tmp_path, 10 + i)
        args = (
            "send",
            str(skeleton),
            "--exercise",
            "inline_lunge",
            "--recording-id",
            rid,
            "--upload",
            "--wait",
        )
        process = agent_popen(*args, home=home)
        time.sleep(rng.uniform(0.3, 1.6))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            phase = _phase_of(home, rid)
        else:
            phase = "finished before the kill"
        phases[phase] = phases.get(phase, 0) + 1
        agent_run(*args, home=home)  # the restart: same recording id
    agent_run("upload", "--wait", home=home)
    status = json.loads(agent_run("status", "--json", home=home).stdout)
    assert status["counts"] == {"pending": 0, "uploaded": RUNS, "failed": 0}
    states = _wait_final(ids)
    assert states == dict.fromkeys(ids, RecordingState.ANALYSED), celery_worker_process.log_text()[
        -3000:
    ]
    assert Recording.objects.filter(patient=patient).count() == RUNS
    assert RecordingResult.objects.filter(recording_id__in=ids).count() == RUNS
    analysed = AuditEvent.objects.filter(
        action="recording.state", details__to="analysed", object_id__in=ids
    )
    assert analysed.count() == RUNS
    print(f"agent SIGKILL at random points, {RUNS} runs: {phases}")


def _phase_of(home: Path, recording_id: str) -> str:
    """Where the killed agent had got to with this recording."""
    import sqlite3

    path = home / "outbox.sqlite3"
    row = None
    if path.exists():
        with sqlite3.connect(path) as db:
            row = db.execute(
                "SELECT state FROM outbox WHERE recording_id = ?", (recording_id,)
            ).fetchone()
    if row is None:
        return "killed before the seal was committed"
    on_server = Recording.objects.filter(id=recording_id).exists()
    if row[0] == "pending":
        return (
            "killed mid-upload (server has it)"
            if on_server
            else "killed after commit, before delivery"
        )
    return "killed after delivery"
