"""Celery workers SIGKILLed at random points of processing: every recording analysed exactly once.

The recordings go to a queue of their own, so only the workers this test
starts and kills can take them (not the suite's long-lived worker).
"""

from __future__ import annotations

import os
import random
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from clinic.audit.models import AuditEvent
from clinic.recordings import ingest
from clinic.recordings.models import Recording, RecordingResult, RecordingState
from clinic.recordings.processing import recordings_stale
from clinic.recordings.tasks import recording_process_task
from tests.clinic.recording_helpers import device_create, envelope_for, knee_flexion_session
from tests.conftest import celery_worker_start, celery_worker_stop
from tests.e2e.test_home_to_clinic import _wait_final
from tests.factories import patient_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

#: Worker kills; raise with TELEREHAB_CRASH_RUNS for a longer soak.
KILL_ROUNDS = max(1, int(os.environ.get("TELEREHAB_CRASH_RUNS", "8")) // 2)
RECORDINGS = 6


def test_worker_killed_mid_processing_loses_and_doubles_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    from django.db import connection

    database_name = str(connection.settings_dict["NAME"])
    queue = f"crash-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(ingest, "_enqueue", lambda recording_id: None)
    device, key = device_create(patient=patient_create())
    ids = []
    for i in range(RECORDINGS):
        body = envelope_for(
            device, key, knee_flexion_session(duration_s=600, seed=100 + i), exercise="inline_lunge"
        )
        ids.append(str(ingest.recording_ingest(body=body).recording.id))
    for rid in ids:
        recording_process_task.apply_async(args=[rid], queue=queue)

    rng = random.Random(int(os.environ.get("TELEREHAB_CRASH_SEED", "7")))
    final_after_kill = []
    for round_ in range(KILL_ROUNDS):
        worker = celery_worker_start(
            database_name=database_name,
            log_path=tmp_path / f"worker-{round_}.log",
            extra_args=("-Q", queue),
        )
        time.sleep(rng.uniform(0.5, 5.0))
        assert worker.process.poll() is None, (
            f"worker exited by itself:\n{worker.log_text()[-3000:]}"
        )
        worker.process.send_signal(signal.SIGKILL)  # solo pool: the worker is this one process
        worker.process.wait(timeout=10)
        final_after_kill.append(
            Recording.objects.filter(id__in=ids, state=RecordingState.ANALYSED).count()
        )

    # A killed worker may take its unacknowledged task with it (the embedded broker keeps
    # no copy); the stale sweep (recordings.requeue_stale, run by beat) re-enqueues.
    worker = celery_worker_start(
        database_name=database_name,
        log_path=tmp_path / "worker-final.log",
        extra_args=("-Q", queue),
    )
    try:
        for rid in recordings_stale(older_than=timedelta(0)):
            if rid in ids:
                recording_process_task.apply_async(args=[rid], queue=queue)
        states = _wait_final(ids, timeout_s=240)
    finally:
        celery_worker_stop(worker)
    assert states == dict.fromkeys(ids, RecordingState.ANALYSED), worker.log_text()[-3000:]
    assert RecordingResult.objects.filter(recording_id__in=ids).count() == RECORDINGS
    for rid in ids:
        moves = AuditEvent.objects.filter(action="recording.state", object_id=rid)
        assert [(e.details["from"], e.details["to"]) for e in moves.order_by("sequence")] == [
            ("received", "verified"),
            ("verified", "analysed"),
        ]
    attempts = sum(
        Recording.objects.filter(id__in=ids).values_list("processing_attempts", flat=True)
    )
    print(
        f"worker SIGKILLs: {KILL_ROUNDS}; analysed after each kill: {final_after_kill}; "
        f"processing attempts {attempts} for {RECORDINGS} recordings "
        f"({attempts - RECORDINGS} interrupted)"
    )
