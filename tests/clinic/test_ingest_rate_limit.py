"""Per-device upload limit: 429 ``rate_limited`` with Retry-After, audited, nothing stored."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import override_settings

from capture_agent import wire
from clinic.audit.models import AuditEvent
from clinic.recordings.models import Recording
from tests.clinic.recording_helpers import device_create, envelope_for
from tests.factories import patient_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("limit_three")]

URL = "/api/v1/recordings/"


@pytest.fixture
def limit_three():
    with override_settings(TELEREHAB_INGEST_UPLOADS_PER_MINUTE=3):
        yield


def _post(client, body: bytes):
    return client.post(URL, data=body, content_type=wire.CONTENT_TYPE)


def test_uploads_beyond_the_limit_are_refused_audited_and_not_stored(client) -> None:
    device, key = device_create(patient=patient_create())
    bodies = [envelope_for(device, key) for _ in range(4)]
    assert [_post(client, b).status_code for b in bodies[:3]] == [201, 201, 201]
    response = _post(client, bodies[3])
    assert response.status_code == 429, response.content
    assert (
        response.json()["code"] == "rate_limited" and "3 per minute" in response.json()["message"]
    )
    assert response["Retry-After"] == "60"
    assert Recording.objects.filter(device=device).count() == 3
    event = AuditEvent.objects.filter(action="recording.ingest", outcome="denied").get()
    assert event.details["code"] == "rate_limited"
    assert event.patient_id == device.patient_id  # verified before the limit applies
    assert event.details["device_id"] == str(device.id)


def test_identical_retries_and_other_devices_are_not_limited(client) -> None:
    device, key = device_create(patient=patient_create())
    bodies = [envelope_for(device, key) for _ in range(3)]
    for body in bodies:
        assert _post(client, body).status_code == 201
    assert _post(client, bodies[0]).status_code == 200  # a retry the agent could not confirm
    other, other_key = device_create(patient=patient_create())
    assert _post(client, envelope_for(other, other_key)).status_code == 201


def test_the_limit_is_per_minute(client) -> None:
    device, key = device_create(patient=patient_create())
    for _ in range(3):
        assert _post(client, envelope_for(device, key)).status_code == 201
    assert _post(client, envelope_for(device, key)).status_code == 429
    Recording.objects.filter(device=device).update(
        received_at=Recording.objects.filter(device=device).first().received_at
        - dt.timedelta(seconds=61)
    )
    assert _post(client, envelope_for(device, key)).status_code == 201


def test_forged_uploads_do_not_use_up_a_devices_quota(client) -> None:
    device, key = device_create(patient=patient_create())
    forger = Ed25519PrivateKey.generate()
    for _ in range(4):
        assert _post(client, envelope_for(device, forger)).status_code == 401
    assert [_post(client, envelope_for(device, key)).status_code for _ in range(3)] == [201] * 3
