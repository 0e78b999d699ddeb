"""Demo data goes the real way: agent process → ingest API → worker, back-dated, once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from clinic.devices.services import pairing_code_create
from clinic.recordings.models import Recording, RecordingResult, RecordingState
from tests.e2e.conftest import agent_run
from tests.e2e.test_home_to_clinic import _wait_final
from tests.factories import patient_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_demo_sessions_arrive_back_dated_and_analysed(
    clinic_server, celery_worker_process, tmp_path: Path
) -> None:
    patient = patient_create()
    _, code = pairing_code_create(actor=patient.user, patient=patient)
    home = tmp_path / "demo-agent"
    args = (
        "demo-sessions",
        "--server",
        clinic_server.url,
        "--code",
        code,
        "--exercise",
        "deep_squat",
        "--weeks",
        "2",
        "--per-week",
        "2",
    )
    out = agent_run(*args, home=home, timeout_s=300).stdout
    assert "queued 4; uploaded 4, refused 0" in out, out
    ids = [str(i) for i in Recording.objects.filter(patient=patient).values_list("id", flat=True)]
    assert len(ids) == 4
    assert _wait_final(ids) == dict.fromkeys(ids, RecordingState.ANALYSED)
    now = timezone.now()
    dates = sorted(Recording.objects.filter(patient=patient).values_list("recorded_at", flat=True))
    # Mon, Wed, Fri (the default, as the demo plan prescribes), the last one within 3 days.
    assert {d.weekday() for d in dates} <= {0, 2, 4}
    assert now - timedelta(days=15) < dates[0] and now - timedelta(days=4) < dates[-1] <= now

    def knee_rom(recording: Recording) -> float:
        measures = RecordingResult.objects.get(recording=recording).measures
        return max(
            m["session_rom"]["value_deg"]
            for m in measures
            if m["measure"] == "knee_flexion" and m["available"]
        )

    ordered = list(Recording.objects.filter(patient=patient).order_by("recorded_at"))
    early, late = ordered[:2], ordered[2:]
    assert min(knee_rom(r) for r in late) > max(knee_rom(r) for r in early)

    again = agent_run(*args, home=home).stdout  # already paired: the code is not used again
    assert "queued 0" in again
    assert Recording.objects.filter(patient=patient).count() == 4
