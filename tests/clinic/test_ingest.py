"""Ingest API: every bad input refused with its own code, audited, nothing stored."""

from __future__ import annotations

import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.utils import timezone

from capture_agent import wire
from clinic.audit.models import AuditEvent
from clinic.recordings.models import Recording, RecordingState
from tests.clinic.recording_helpers import device_create, envelope_for
from tests.factories import patient_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/recordings/"


def _post(client, body: bytes, content_type: str = wire.CONTENT_TYPE, **extra):
    return client.post(URL, data=body, content_type=content_type, **extra)


@pytest.fixture
def device_and_key():
    return device_create(patient=patient_create())


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def _refused(client, body: bytes, status: int, code: str, **kwargs) -> None:
    before = AuditEvent.objects.filter(action="recording.ingest", outcome="denied").count()
    response = _post(client, body, **kwargs)
    assert response.status_code == status, response.content
    payload = response.json()
    assert payload["code"] == code
    assert payload["message"]
    assert not Recording.objects.exists()
    events = AuditEvent.objects.filter(action="recording.ingest", outcome="denied")
    assert events.count() == before + 1
    assert events.order_by("-sequence").first().details["code"] == code


def test_new_recording_is_stored_as_received_ciphertext(client, device_and_key) -> None:
    device, key = device_and_key
    body = envelope_for(device, key)
    response = _post(client, body)
    assert response.status_code == 201, response.content
    recording = Recording.objects.get()
    assert str(recording.id) == response.json()["recording_id"]
    assert recording.state == RecordingState.RECEIVED
    assert bytes(recording.envelope) == body
    assert recording.patient_id == device.patient_id
    assert AuditEvent.objects.filter(action="recording.ingest", outcome="success").count() == 1


def test_identical_retry_answers_200_and_stores_nothing_new(client, device_and_key) -> None:
    device, key = device_and_key
    body = envelope_for(device, key)
    assert _post(client, body).status_code == 201
    response = _post(client, body)
    assert response.status_code == 200 and response.json()["created"] is False
    assert Recording.objects.count() == 1
    replay = AuditEvent.objects.filter(action="recording.ingest", details__replay=True)
    assert replay.count() == 1


def test_same_id_different_content_is_a_conflict(client, device_and_key) -> None:
    device, key = device_and_key
    first = envelope_for(device, key, recording_id="11111111-1111-4111-8111-111111111111")
    second = envelope_for(device, key, recording_id="11111111-1111-4111-8111-111111111111")
    assert _post(client, first).status_code == 201
    response = _post(client, second)
    assert response.status_code == 409 and response.json()["code"] == "recording_conflict"
    assert bytes(Recording.objects.get().envelope) == first
    assert AuditEvent.objects.filter(details__code="recording_conflict").count() == 1


def test_tampered_ciphertext(client, device_and_key) -> None:
    device, key = device_and_key
    body = envelope_for(device, key)
    _refused(client, _flip(body, len(body) - 64 - 32 - 10), 400, "tampered_ciphertext")


def test_tampered_header(client, device_and_key) -> None:
    device, key = device_and_key
    body = envelope_for(device, key, exercise="knee_flexion")
    _refused(client, body.replace(b"knee_flexion", b"knee_flexiom", 1), 401, "tampered_header")


def test_wrong_signature(client, device_and_key) -> None:
    device, _ = device_and_key
    _refused(client, envelope_for(device, Ed25519PrivateKey.generate()), 401, "wrong_signing_key")


def test_unknown_device(client, device_and_key) -> None:
    device, key = device_and_key
    body = envelope_for(device, key, device_id="22222222-2222-4222-8222-222222222222")
    _refused(client, body, 401, "device_unknown")


def test_revoked_device(client, device_and_key) -> None:
    device, key = device_and_key
    device.revoked_at = timezone.now()
    device.save()
    _refused(client, envelope_for(device, key), 403, "device_revoked")


def test_device_of_another_patient(client, device_and_key) -> None:
    device, key = device_and_key
    other = patient_create()
    _refused(client, envelope_for(device, key, patient_id=str(other.id)), 403, "patient_mismatch")


def test_oversized_body_is_refused_by_its_length(client, device_and_key, monkeypatch) -> None:
    monkeypatch.setattr("clinic.recordings.ingest.MAX_ENVELOPE_BYTES", 1000)
    device, key = device_and_key
    _refused(client, envelope_for(device, key), 413, "oversized")


def test_body_over_the_real_limit_is_refused_unread(client) -> None:
    _refused(client, b"\0" * (wire.MAX_ENVELOPE_BYTES + 1), 413, "oversized")


def test_truncated_body(client, device_and_key) -> None:
    device, key = device_and_key
    _refused(client, envelope_for(device, key)[:-100], 400, "truncated_envelope")


def test_malformed_json_header(client, device_and_key) -> None:
    header = b'{"schema_version":1,'
    body = struct.pack(">4sHI", wire.MAGIC, 1, len(header)) + header + b"\0" * 400
    _refused(client, body, 400, "malformed_header")


def test_not_an_envelope(client) -> None:
    _refused(client, b"GIF89a" + b"\0" * 200, 400, "malformed_envelope")


def test_wrong_schema_version(client, device_and_key) -> None:
    device, key = device_and_key
    body = bytearray(envelope_for(device, key))
    struct.pack_into(">H", body, 4, 7)
    _refused(client, bytes(body), 400, "unsupported_schema_version")


def test_wrong_content_type(client, device_and_key) -> None:
    device, key = device_and_key
    _refused(
        client,
        envelope_for(device, key),
        415,
        "unsupported_media_type",
        content_type="application/json",
    )


def test_unknown_exercise(client, device_and_key) -> None:
    device, key = device_and_key
    _refused(client, envelope_for(device, key, exercise="juggling"), 422, "unknown_exercise")


def test_sealed_for_another_server_key(client, device_and_key) -> None:
    device, key = device_and_key
    body = envelope_for(device, key, server_public_key=X25519PrivateKey.generate().public_key())
    _refused(client, body, 400, "wrong_server_key")


def test_replay_of_another_devices_envelope_under_my_id_is_refused(client) -> None:
    """An attacker re-labelling a captured envelope as another device breaks the signature."""
    device_a, key_a = device_create(patient=patient_create())
    device_b, _ = device_create(patient=patient_create())
    body = envelope_for(device_a, key_a)
    tampered = body.replace(str(device_a.id).encode(), str(device_b.id).encode(), 1)
    _refused(client, tampered, 401, "wrong_signing_key")


def test_ingest_is_in_the_openapi_schema(client) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    post = schema["paths"]["/api/v1/recordings/"]["post"]
    assert wire.CONTENT_TYPE in post["requestBody"]["content"]
    assert {"201", "200", "409", "413", "415"} <= set(post["responses"])
    assert "/api/v1/devices/pair/" in schema["paths"]
