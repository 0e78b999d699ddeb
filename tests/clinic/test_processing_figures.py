"""Processing stores the chart figures with the result, so trends and alerts need no write on read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.portal import services as portal_services
from clinic.portal.models import SessionFigure
from clinic.portal.selectors import caseload_for_therapist
from clinic.recordings.ingest import recording_ingest
from clinic.recordings.models import Recording, RecordingResult, RecordingState
from clinic.recordings.processing import recording_process
from tests.clinic.recording_helpers import device_create, envelope_for, knee_flexion_session
from tests.factories import care_team_add, patient_create, therapist_create

pytestmark = pytest.mark.django_db


def _analysed(device, key, *, peak_deg: float, days_ago: int) -> Recording:
    created = (timezone.now() - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
    body = envelope_for(
        device,
        key,
        knee_flexion_session(peak_deg=peak_deg, seed=days_ago),
        exercise="inline_lunge",
        created_at=created,
    )
    recording = recording_ingest(body=body).recording
    done = recording_process(recording_id=recording.id)
    assert done.state == RecordingState.ANALYSED, done.state_reason
    return done


def test_processing_writes_figure_rows_without_any_portal_read() -> None:
    device, key = device_create(patient=patient_create())
    recording = _analysed(device, key, peak_deg=90, days_ago=1)
    rows = SessionFigure.objects.filter(recording=recording)
    knee = rows.get(measure="knee_flexion", side="right")
    assert knee.primary and 85 <= knee.peak_deg <= 95 and knee.rep_count == 4
    assert knee.patient_id == recording.patient_id and knee.recorded_at == recording.recorded_at
    assert recording_process(recording_id=recording.id).state == RecordingState.ANALYSED
    assert SessionFigure.objects.filter(recording=recording).count() == rows.count()  # once


def test_result_and_figures_are_one_transaction(monkeypatch) -> None:
    """If the figures cannot be written, the result is not stored either (and is retried)."""
    device, key = device_create(patient=patient_create())
    body = envelope_for(device, key, exercise="inline_lunge")
    recording = recording_ingest(body=body).recording

    def broken(*args, **kwargs):
        raise RuntimeError("figure table unavailable")

    monkeypatch.setattr(portal_services, "session_figures_for_result", broken)
    with pytest.raises(RuntimeError):
        recording_process(recording_id=recording.id)
    assert not RecordingResult.objects.filter(recording=recording).exists()
    assert Recording.objects.get(id=recording.id).state == RecordingState.VERIFIED
    monkeypatch.undo()
    assert recording_process(recording_id=recording.id).state == RecordingState.ANALYSED
    assert SessionFigure.objects.filter(recording=recording).exists()


def test_regression_alert_is_current_after_processing_and_the_caseload_only_reads() -> None:
    therapist = therapist_create()
    patient = patient_create()
    care_team_add(patient=patient, therapist=therapist, is_primary=True)
    device, key = device_create(patient=patient)
    for days_ago in (8, 6, 4):
        _analysed(device, key, peak_deg=100, days_ago=days_ago)
    _analysed(device, key, peak_deg=60, days_ago=1)
    with CaptureQueriesContext(connection) as queries:
        rows = caseload_for_therapist(user=therapist)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "audit" not in q["sql"].lower()
    ]
    assert writes == []
    alerts = [a for row in rows for a in row.alerts]
    assert [a.kind for a in alerts if a.kind == "regression"] == ["regression"], alerts


def test_backfill_command_repairs_missing_figures_and_is_audited() -> None:
    device, key = device_create(patient=patient_create())
    recording = _analysed(device, key, peak_deg=90, days_ago=1)
    expected = SessionFigure.objects.filter(recording=recording).count()
    SessionFigure.objects.filter(recording=recording).delete()
    call_command("session_figures_backfill")
    assert SessionFigure.objects.filter(recording=recording).count() == expected > 0
    assert AuditEvent.objects.filter(action="session_figures.backfill").count() == 1
    call_command("session_figures_backfill")  # nothing missing: nothing written
    assert AuditEvent.objects.filter(action="session_figures.backfill").count() == 1
