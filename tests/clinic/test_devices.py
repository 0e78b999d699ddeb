"""Pairing codes and devices: short-lived, single use, rate-limited, revocable, all audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.devices import services
from clinic.devices.errors import PairingCodeInvalidError, PairingRateLimitedError
from clinic.devices.models import Device, PairingCode
from tests.clinic.recording_helpers import public_keys_b64
from tests.factories import patient_create, staff_login_verified, therapist_create

pytestmark = pytest.mark.django_db

PAIR_URL = "/api/v1/devices/pair/"


def _code_for(patient) -> str:
    _, code = services.pairing_code_create(actor=patient.user, patient=patient)
    return code


def _pair(client, code: str, **extra):
    _, keys = public_keys_b64()
    return client.post(
        PAIR_URL,
        {"code": code, "label": "living room", **keys, **extra},
        content_type="application/json",
    )


def test_patient_creates_a_code_through_the_api(client) -> None:
    patient = patient_create()
    client.force_login(patient.user)
    response = client.post(f"/api/v1/patients/{patient.id}/pairing-codes/")
    assert response.status_code == 201
    code = response.json()["code"]
    assert len(code) == 9 and code[4] == "-"
    row = PairingCode.objects.get(patient=patient)
    assert code.replace("-", "") not in row.code_sha256  # only the hash is stored
    assert AuditEvent.objects.filter(
        action="device.pairing_code.create", outcome="success"
    ).exists()


def test_therapist_on_the_care_team_creates_a_code(client) -> None:
    therapist = therapist_create()
    patient = patient_create(therapists=[therapist])
    staff_login_verified(client, therapist)
    assert client.post(f"/api/v1/patients/{patient.id}/pairing-codes/").status_code == 201


def test_therapist_outside_the_care_team_gets_404_audited(client) -> None:
    therapist = therapist_create()
    patient = patient_create()
    staff_login_verified(client, therapist)
    assert client.post(f"/api/v1/patients/{patient.id}/pairing-codes/").status_code == 404
    assert not PairingCode.objects.exists()
    assert AuditEvent.objects.filter(action="patient.access", outcome="denied").exists()


def test_pairing_registers_public_keys_and_returns_the_server_key(client) -> None:
    patient = patient_create()
    response = _pair(client, _code_for(patient))
    assert response.status_code == 201, response.content
    body = response.json()
    device = Device.objects.get(id=body["device_id"])
    assert body["patient_id"] == str(patient.id)
    assert len(body["server_key_id"]) == 32
    assert device.patient == patient and len(bytes(device.signing_public_key)) == 32
    assert AuditEvent.objects.filter(action="device.pair", outcome="success").count() == 1


def test_code_is_single_use(client) -> None:
    code = _code_for(patient_create())
    assert _pair(client, code).status_code == 201
    response = _pair(client, code)
    assert response.status_code == 400
    assert response.json()["code"] == "pairing_code_invalid"
    assert Device.objects.count() == 1


def test_expired_code_is_refused(client) -> None:
    patient = patient_create()
    code = _code_for(patient)
    PairingCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _pair(client, code).json()["code"] == "pairing_code_invalid"
    assert not Device.objects.exists()


def test_code_is_forgiving_about_case_and_dashes(client) -> None:
    code = _code_for(patient_create())
    assert _pair(client, code.lower().replace("-", " ")).status_code == 201


def test_invalid_public_key_is_refused(client) -> None:
    code = _code_for(patient_create())
    response = client.post(
        PAIR_URL,
        {"code": code, "signing_public_key": "AAAA", "encryption_public_key": "AAAA"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["code"] == "public_key_invalid"
    assert not Device.objects.exists()


def test_code_creation_is_rate_limited_per_patient() -> None:
    patient = patient_create()
    for _ in range(services.PAIRING_CODES_PER_HOUR):
        services.pairing_code_create(actor=patient.user, patient=patient)
    with pytest.raises(PairingRateLimitedError):
        services.pairing_code_create(actor=patient.user, patient=patient)
    assert AuditEvent.objects.filter(
        action="device.pairing_code.create", outcome="denied", details__code="rate_limited"
    ).exists()


def test_guessing_codes_is_rate_limited_per_address(client) -> None:
    for _ in range(services.PAIRING_FAILURES_PER_WINDOW):
        assert _pair(client, "ZZZZ-ZZZZ").status_code == 400
    real = _code_for(patient_create())
    response = _pair(client, real)
    assert response.status_code == 429 and response.json()["code"] == "rate_limited"
    assert not Device.objects.exists()


def test_unknown_code_service_error_is_specific() -> None:
    _, keys = public_keys_b64()
    with pytest.raises(PairingCodeInvalidError):
        services.device_pair(code="NOPE-NOPE", label="x", **keys)


def test_devices_listed_and_revoked_by_the_patient(client) -> None:
    patient = patient_create()
    device_id = _pair(client, _code_for(patient)).json()["device_id"]
    client.force_login(patient.user)
    listed = client.get(f"/api/v1/patients/{patient.id}/devices/").json()
    assert [d["id"] for d in listed] == [device_id] and listed[0]["revoked_at"] is None
    response = client.post(
        f"/api/v1/devices/{device_id}/revoke/",
        {"reason": "lost laptop"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert Device.objects.get(id=device_id).is_revoked
    assert AuditEvent.objects.filter(action="device.revoke", object_id=device_id).exists()
    again = client.post(f"/api/v1/devices/{device_id}/revoke/", {}, content_type="application/json")
    assert again.status_code == 409


def test_another_patient_cannot_revoke_my_device(client) -> None:
    mine = patient_create()
    device_id = _pair(client, _code_for(mine)).json()["device_id"]
    client.force_login(patient_create().user)
    assert (
        client.post(
            f"/api/v1/devices/{device_id}/revoke/", {}, content_type="application/json"
        ).status_code
        == 404
    )
    assert not Device.objects.get(id=device_id).is_revoked
