"""recording_ingest: verify an uploaded envelope and store it as received.

Runs in the request path, so it decrypts nothing: the signature and the body
digest prove who sent it and that nothing changed; decryption is the
processing task's job.  Every refusal is audited and leaves no row behind.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from capture_agent import wire
from clinic.audit.services import audit_event_record
from clinic.devices.models import Device
from clinic.devices.selectors import device_for_ingest
from clinic.devices.services import device_public_key
from clinic.keys.keyring import transport_keys
from clinic.recordings import errors
from clinic.recordings.analysing import exercise_is_known
from clinic.recordings.models import Recording, RecordingState

MAX_ENVELOPE_BYTES = wire.MAX_ENVELOPE_BYTES
#: The window of the per-device upload limit (settings.TELEREHAB_INGEST_UPLOADS_PER_MINUTE).
RATE_WINDOW = dt.timedelta(minutes=1)


class _RateLimited(Exception):
    """Raised inside the storing transaction; audited by the caller after it rolled back."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} new recordings from this device in the last minute")
        self.count = count
        self.limit = limit


@dataclass(frozen=True)
class IngestOutcome:
    recording: Recording
    created: bool


def _reject(
    code: str,
    message: str,
    http_status: int,
    *,
    request,
    header: wire.EnvelopeHeader | None = None,
    device: Device | None = None,
    verified: bool = False,
    retry_after_s: int | None = None,
) -> errors.IngestRejectedError:
    """Audit a refusal and build the exception; claims from an unverified header are labelled so."""
    details: dict = {"code": code, "message": message[:300]}
    if header is not None:
        prefix = "" if verified else "claimed_"
        details[prefix + "recording_id"] = header.recording_id
        details[prefix + "device_id"] = header.device_id
    audit_event_record(
        action="recording.ingest",
        outcome="denied",
        patient_id=device.patient_id if (device is not None and verified) else None,
        object_type="recording",
        object_id=header.recording_id if header is not None else "",
        request=request,
        details=details,
    )
    return errors.IngestRejectedError(code, message, http_status, retry_after_s=retry_after_s)


def ingest_precheck(*, content_type: str, content_length: int | None, request=None) -> None:
    """Refuse by headers alone, before reading a byte of the body."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != wire.CONTENT_TYPE:
        raise _reject(
            errors.UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type must be {wire.CONTENT_TYPE}, got {media_type or 'none'!r}",
            415,
            request=request,
        )
    if content_length is None:
        raise _reject("length_required", "Content-Length is required", 411, request=request)
    if content_length > MAX_ENVELOPE_BYTES:
        raise _reject(
            errors.OVERSIZED,
            f"body of {content_length} bytes exceeds the limit of {MAX_ENVELOPE_BYTES}",
            413,
            request=request,
        )


def recording_ingest(*, body: bytes, request=None) -> IngestOutcome:
    """Verify and store one envelope: 201 new, 200 identical retry, 409 conflicting id."""
    try:
        envelope = wire.parse(body, max_bytes=MAX_ENVELOPE_BYTES)
    except wire.EnvelopeError as exc:
        raise _reject(
            exc.code, str(exc), errors.ENVELOPE_ERROR_STATUS.get(exc.code, 400), request=request
        ) from exc
    header = envelope.header
    device = device_for_ingest(device_id=header.device_id)
    if device is None:
        raise _reject(
            errors.DEVICE_UNKNOWN,
            "device is not paired with this clinic",
            401,
            request=request,
            header=header,
        )
    try:
        wire.verify(envelope, device_public_key(device))
    except wire.EnvelopeError as exc:
        raise _reject(
            exc.code,
            str(exc),
            errors.ENVELOPE_ERROR_STATUS.get(exc.code, 401),
            request=request,
            header=header,
            device=device,
        ) from exc
    # From here on the header is the device's own word.
    if device.is_revoked:
        raise _reject(
            errors.DEVICE_REVOKED,
            "device was revoked; pair it again to upload",
            403,
            request=request,
            header=header,
            device=device,
            verified=True,
        )
    if header.patient_id != str(device.patient_id):
        raise _reject(
            errors.PATIENT_MISMATCH,
            "device is paired to a different patient",
            403,
            request=request,
            header=header,
            device=device,
            verified=True,
        )
    if header.server_key_id not in transport_keys().by_id:
        raise _reject(
            wire.WrongServerKeyError.code,
            f"sealed for server key {header.server_key_id}, which this server does not hold",
            400,
            request=request,
            header=header,
            device=device,
            verified=True,
        )
    if not exercise_is_known(header.exercise):
        raise _reject(
            "unknown_exercise",
            f"exercise {header.exercise!r} is not one this server can analyse",
            422,
            request=request,
            header=header,
            device=device,
            verified=True,
        )
    for _ in range(2):
        try:
            outcome = _store(envelope, device, request=request)
        except IntegrityError:
            continue  # a concurrent upload won the insert: look again
        except _RateLimited as exc:
            raise _reject(
                errors.RATE_LIMITED,
                f"this device sent {exc.count} new recordings in the last minute; "
                f"the limit is {exc.limit} per minute, try again later",
                429,
                request=request,
                header=header,
                device=device,
                verified=True,
                retry_after_s=int(RATE_WINDOW.total_seconds()),
            ) from None
        if outcome is not None:
            return outcome
        break
    raise _reject(
        errors.RECORDING_CONFLICT,
        "a different recording with this id was already received",
        409,
        request=request,
        header=header,
        device=device,
        verified=True,
    )


def _store(envelope: wire.Envelope, device: Device, *, request) -> IngestOutcome | None:
    """Store, or recognise an identical retry; None when the id holds different content.

    The 409 is audited by the caller, outside this transaction, so the refusal's
    audit row is not rolled back with it.
    """
    header = envelope.header
    digest = envelope.sha256
    now = timezone.now()
    with transaction.atomic():
        existing = Recording.objects.filter(id=header.recording_id).first()
        if existing is not None:
            if existing.envelope_sha256 == digest and existing.device_id == device.id:
                audit_event_record(
                    action="recording.ingest",
                    outcome="success",
                    patient_id=device.patient_id,
                    object_type="recording",
                    object_id=str(existing.id),
                    request=request,
                    details={"replay": True, "device_id": str(device.id)},
                )
                return IngestOutcome(existing, created=False)
            return None
        _rate_check(device, now)
        recording = Recording.objects.create(
            id=header.recording_id,
            device=device,
            patient_id=device.patient_id,
            exercise=header.exercise,
            recorded_at=dt.datetime.strptime(header.created_at[:19], "%Y-%m-%dT%H:%M:%S").replace(
                tzinfo=dt.UTC
            ),
            received_at=now,
            state=RecordingState.RECEIVED,
            state_changed_at=now,
            envelope=envelope.raw,
            envelope_sha256=digest,
            envelope_bytes=len(envelope.raw),
            payload_encoding=header.payload_encoding,
            server_key_id=header.server_key_id,
        )
        Device.objects.filter(id=device.id).update(last_seen_at=now)
        audit_event_record(
            action="recording.ingest",
            outcome="success",
            patient_id=device.patient_id,
            object_type="recording",
            object_id=str(recording.id),
            request=request,
            details={
                "state": RecordingState.RECEIVED,
                "device_id": str(device.id),
                "bytes": len(envelope.raw),
            },
        )
        transaction.on_commit(lambda: _enqueue(str(recording.id)))
    return IngestOutcome(recording, created=True)


def _rate_check(device: Device, now: dt.datetime) -> None:
    """Refuse a device's new recording beyond the per-minute limit; identical retries never count.

    Why per device and counted in the database: the limit must hold across all
    web workers and machines, and a device that uploads in a loop (a bug, or a
    stolen key) must not flood storage and the processing queue. The device
    row is locked first, so concurrent uploads of one device are counted one
    after the other (SQLite's IMMEDIATE transactions serialise them anyway).
    """
    limit = int(getattr(settings, "TELEREHAB_INGEST_UPLOADS_PER_MINUTE", 60))
    Device.objects.select_for_update().filter(id=device.id).first()
    count = Recording.objects.filter(device=device, received_at__gt=now - RATE_WINDOW).count()
    if count >= limit:
        raise _RateLimited(count, limit)


def _enqueue(recording_id: str) -> None:
    """Hand to the worker; if the broker is down the stale-recording sweep picks it up later."""
    from clinic.recordings.tasks import recording_process_task

    try:
        recording_process_task.delay(recording_id)
    except Exception:  # noqa: BLE001 - broker outage must not fail an already-stored upload
        import logging

        logging.getLogger(__name__).warning(
            "could not enqueue processing of recording %s; the sweep will retry", recording_id
        )
