"""The run command's demo sessions: scripts/demo_sessions.py against a live server and worker.

The orchestrator, ``manage.py demo_pairing_codes`` and each capture agent run
as their own processes, as ``scripts/run.sh`` runs them; the test only reads
the database they wrote.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.core.demo import DEMO_PLAN_WEEKDAYS, demo_clinic_seed
from clinic.devices.models import PairingCode
from clinic.portal.models import SessionFigure
from clinic.recordings.models import Recording, RecordingState
from tests.e2e.conftest import REPO_ROOT
from tests.e2e.test_home_to_clinic import _wait_final

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEMO = ("patient1", "patient2")


def _seed_run(server_url: str, agents_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.test",
        TELEREHAB_WORKER_DATABASE_NAME=str(connection.settings_dict["NAME"]),
    )
    command = [
        sys.executable, "scripts/demo_sessions.py", "--server", server_url,
        "--agents-dir", str(agents_dir), "--weeks", "2", "--per-week", "2", "--only", *DEMO,
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_demo_sessions_arrive_back_dated_analysed_and_charted_once(
    clinic_server, celery_worker_process, tmp_path: Path
) -> None:
    demo_clinic_seed()
    agents_dir = tmp_path / "demo-agents"
    first = _seed_run(clinic_server.url, agents_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "queued 4; uploaded 4, refused 0" in first.stdout, first.stdout

    recordings = Recording.objects.filter(patient__user__username__in=DEMO)
    ids = [str(i) for i in recordings.values_list("id", flat=True)]
    assert len(ids) == 8
    assert _wait_final(ids) == dict.fromkeys(ids, RecordingState.ANALYSED)
    by_patient = {
        username: set(
            recordings.filter(patient__user__username=username).values_list("exercise", flat=True)
        )
        for username in DEMO
    }
    assert by_patient == {"patient1": {"inline_lunge"}, "patient2": {"deep_squat"}}
    now = timezone.now()
    dates = sorted(recordings.values_list("recorded_at", flat=True))
    # On the demo plan's weekdays, the last session within 3 days: adherence reads true.
    assert {d.weekday() for d in dates} <= set(DEMO_PLAN_WEEKDAYS)
    assert now - timedelta(days=15) < dates[0] and now - timedelta(days=4) < dates[-1] <= now
    # Each agent paired with a code its patient's therapist created (audited), in its own home.
    codes = PairingCode.objects.filter(patient__user__username__in=DEMO)
    assert codes.count() == 2 and all(c.used_at is not None for c in codes)
    assert set(codes.values_list("created_by__username", flat=True)) == {"therapist1"}
    assert (
        AuditEvent.objects.filter(
            action="device.pairing_code.create",
            outcome="success",
            object_id__in=[str(c.id) for c in codes],
        ).count()
        == 2
    )
    assert {p.name for p in agents_dir.iterdir()} == set(DEMO)
    # The charts' figure rows were written by processing, without any portal read.
    assert set(SessionFigure.objects.filter(recording_id__in=ids).values_list("recording_id", flat=True)) == {
        r.id for r in recordings
    }  # fmt: skip

    again = _seed_run(clinic_server.url, agents_dir)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to send" in again.stdout, again.stdout
    assert recordings.count() == 8
    assert codes.count() == 2
