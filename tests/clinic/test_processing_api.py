"""Reading results and the quarantine list: scoped by care team and role, audited."""

from __future__ import annotations

import pytest

from clinic.audit.models import AuditEvent
from clinic.recordings.ingest import recording_ingest
from clinic.recordings.models import Recording, RecordingState
from clinic.recordings.processing import recording_process
from tests.clinic.recording_helpers import device_create, envelope_for
from tests.factories import (
    clinic_admin_create,
    patient_create,
    staff_login_verified,
    therapist_create,
)

pytestmark = pytest.mark.django_db


def _analysed_recording(patient) -> Recording:
    device, key = device_create(patient=patient)
    recording = recording_ingest(body=envelope_for(device, key, exercise="inline_lunge")).recording
    return recording_process(recording_id=recording.id)


def test_patient_reads_own_results(client) -> None:
    patient = patient_create()
    recording = _analysed_recording(patient)
    client.force_login(patient.user)
    body = client.get(f"/api/v1/recordings/{recording.id}/").json()
    assert body["state"] == RecordingState.ANALYSED
    assert any(m["measure"] == "knee_flexion" for m in body["measures"])
    assert AuditEvent.objects.filter(action="recording.view", object_id=str(recording.id)).exists()


def test_care_team_therapist_reads_results_others_get_404(client) -> None:
    therapist = therapist_create()
    patient = patient_create(therapists=[therapist])
    recording = _analysed_recording(patient)
    staff_login_verified(client, therapist)
    assert client.get(f"/api/v1/recordings/{recording.id}/").status_code == 200
    client.logout()
    client.force_login(patient_create().user)
    assert client.get(f"/api/v1/recordings/{recording.id}/").status_code == 404


def test_quarantine_list_is_for_administrators_only(client, monkeypatch) -> None:
    patient = patient_create()
    device, key = device_create(patient=patient)
    recording = recording_ingest(body=envelope_for(device, key)).recording
    Recording.objects.filter(id=recording.id).update(server_key_id="e" * 32)
    recording_process(recording_id=recording.id)

    client.force_login(patient.user)
    assert client.get("/api/v1/recordings/quarantined/").status_code == 403
    client.logout()
    admin = clinic_admin_create()
    staff_login_verified(client, admin)
    rows = client.get("/api/v1/recordings/quarantined/").json()
    assert [(r["id"], r["state"], r["state_code"]) for r in rows] == [
        (str(recording.id), "quarantined", "server_key_unavailable")
    ]
    assert "measures" not in rows[0]
