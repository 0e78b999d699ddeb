"""Pairing codes, device registration and revocation; every change audited in its transaction."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from django.db import IntegrityError, transaction
from django.utils import timezone

from capture_agent import wire
from clinic.audit.models import AuditEvent
from clinic.audit.services import audit_event_record
from clinic.care.models import Patient
from clinic.devices.errors import (
    DeviceAlreadyRevokedError,
    DeviceKeyInUseError,
    DevicePublicKeyInvalidError,
    PairingCodeInvalidError,
    PairingRateLimitedError,
)
from clinic.devices.models import Device, PairingCode

PAIRING_CODE_TTL = timedelta(minutes=10)
#: Codes a patient's record may get per hour (patient and therapists together).
PAIRING_CODES_PER_HOUR = 5
#: Failed pairing attempts one IP address may make per 15 minutes.
PAIRING_FAILURES_PER_WINDOW = 10
PAIRING_FAILURE_WINDOW = timedelta(minutes=15)
# Crockford base32 without look-alikes: 8 characters = 40 bits, shown as XXXX-XXXX.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def pairing_code_normalise(code: str) -> str:
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def _code_hash(code: str) -> str:
    return hashlib.sha256(pairing_code_normalise(code).encode()).hexdigest()


def pairing_code_create(*, actor, patient: Patient, request=None) -> tuple[PairingCode, str]:
    """A fresh code for ``patient``; the caller has already checked ``actor`` may see them.

    Returns the row and the plaintext code, which is shown once and never stored.
    """
    now = timezone.now()
    recent = PairingCode.objects.filter(
        patient=patient, created_at__gte=now - timedelta(hours=1)
    ).count()
    if recent >= PAIRING_CODES_PER_HOUR:
        audit_event_record(
            action="device.pairing_code.create",
            outcome="denied",
            actor=actor,
            patient_id=patient.id,
            object_type="patient",
            object_id=str(patient.id),
            request=request,
            details={"code": PairingRateLimitedError.code},
        )
        raise PairingRateLimitedError(
            f"at most {PAIRING_CODES_PER_HOUR} pairing codes per hour for one patient"
        )
    with transaction.atomic():
        plain = "".join(secrets.choice(_ALPHABET) for _ in range(8))
        pairing = PairingCode.objects.create(
            code_sha256=_code_hash(plain),
            patient=patient,
            created_by=actor,
            created_at=now,
            expires_at=now + PAIRING_CODE_TTL,
        )
        audit_event_record(
            action="device.pairing_code.create",
            outcome="success",
            actor=actor,
            patient_id=patient.id,
            object_type="pairing_code",
            object_id=str(pairing.id),
            request=request,
            details={"expires_at": pairing.expires_at.isoformat()},
        )
    return pairing, f"{plain[:4]}-{plain[4:]}"


def _public_key(value: str, kind: type) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
        kind.from_public_bytes(raw)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise DevicePublicKeyInvalidError(
            f"{kind.__name__} public key is not valid: {exc}"
        ) from None
    return raw


def _pair_denied(request, reason: str, details: dict | None = None) -> None:
    audit_event_record(
        action="device.pair",
        outcome="denied",
        request=request,
        details={"code": reason, **(details or {})},
    )


def device_pair(
    *,
    code: str,
    signing_public_key: str,
    encryption_public_key: str,
    label: str = "",
    request=None,
) -> Device:
    """Register a device with the public keys it generated, consuming the code."""
    ip = request.META.get("REMOTE_ADDR") if request is not None else None
    if ip:
        failures = AuditEvent.objects.filter(
            action="device.pair",
            outcome="denied",
            ip_address=ip,
            created_at__gte=timezone.now() - PAIRING_FAILURE_WINDOW,
        ).count()
        if failures >= PAIRING_FAILURES_PER_WINDOW:
            _pair_denied(request, PairingRateLimitedError.code)
            raise PairingRateLimitedError("too many failed pairing attempts; wait 15 minutes")
    try:
        signing_raw = _public_key(signing_public_key, Ed25519PublicKey)
        encryption_raw = _public_key(encryption_public_key, X25519PublicKey)
    except DevicePublicKeyInvalidError:
        _pair_denied(request, DevicePublicKeyInvalidError.code)
        raise
    now = timezone.now()
    signing_key_id = wire.key_id(Ed25519PublicKey.from_public_bytes(signing_raw))
    try:
        with transaction.atomic():
            pairing = (
                PairingCode.objects.select_for_update()
                .filter(code_sha256=_code_hash(code), used_at__isnull=True, expires_at__gt=now)
                .first()
            )
            if pairing is None:
                raise PairingCodeInvalidError("pairing code is unknown, expired or already used")
            pairing.used_at = now
            pairing.save(update_fields=["used_at"])
            device = Device.objects.create(
                patient_id=pairing.patient_id,
                label=(label or "capture agent")[:80],
                signing_public_key=signing_raw,
                encryption_public_key=encryption_raw,
                signing_key_id=signing_key_id,
                paired_at=now,
                pairing_code=pairing,
            )
            audit_event_record(
                action="device.pair",
                outcome="success",
                patient_id=pairing.patient_id,
                object_type="device",
                object_id=str(device.id),
                request=request,
                details={"signing_key_id": signing_key_id, "pairing_code": str(pairing.id)},
            )
    except PairingCodeInvalidError:
        _pair_denied(request, PairingCodeInvalidError.code)
        raise
    except IntegrityError:
        _pair_denied(request, DeviceKeyInUseError.code)
        raise DeviceKeyInUseError("this signing key is already registered") from None
    return device


def device_revoke(*, actor, device: Device, reason: str, request=None) -> Device:
    """Refuse this device's uploads from now on; its past recordings stay."""
    with transaction.atomic():
        device = Device.objects.select_for_update().get(id=device.id)
        if device.is_revoked:
            raise DeviceAlreadyRevokedError("device is already revoked")
        device.revoked_at = timezone.now()
        device.revoked_by = actor
        device.revoked_reason = reason[:200]
        device.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
        audit_event_record(
            action="device.revoke",
            outcome="success",
            actor=actor,
            patient_id=device.patient_id,
            object_type="device",
            object_id=str(device.id),
            request=request,
            details={"reason": reason[:200]},
        )
    return device


def device_public_key(device: Device) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes(device.signing_public_key))
