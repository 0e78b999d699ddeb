"""Authenticating a device's own requests (e.g. plan download) by its Ed25519 signature.

The same trust as the ingest path: the device proves possession of the
private key registered at pairing, and a revoked device is refused. The signed
message binds method, path, device id and a timestamp, so a captured
signature cannot be used on another URL, by another device, or after
MAX_CLOCK_SKEW_S. (Within the window a replayed GET only returns the same plan
to the same device.)
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid

from cryptography.exceptions import InvalidSignature

from capture_agent import wire
from clinic.devices.models import Device
from clinic.devices.services import device_public_key
from clinic.plans.errors import DeviceRequestError

# The signed message and headers are the wire module's, shared with the agent.
SIGNING_CONTEXT = wire.DEVICE_REQUEST_CONTEXT
device_request_message = wire.device_request_message
device_request_headers = wire.device_request_headers
HEADER_DEVICE = "HTTP_X_TELEREHAB_DEVICE"
HEADER_TIME = "HTTP_X_TELEREHAB_TIME"
HEADER_SIGNATURE = "HTTP_X_TELEREHAB_SIGNATURE"
MAX_CLOCK_SKEW_S = 300


def device_request_authenticate(
    *, meta: dict, method: str, path: str, now_s: float | None = None
) -> Device:
    """The device that signed this request, or DeviceRequestError with a code for the response."""
    raw_id, raw_time, raw_sig = (
        meta.get(HEADER_DEVICE, ""),
        meta.get(HEADER_TIME, ""),
        meta.get(HEADER_SIGNATURE, ""),
    )
    if not (raw_id and raw_time and raw_sig):
        raise DeviceRequestError(
            "signature_missing",
            "X-Telerehab-Device, -Time and -Signature headers are required",
            401,
        )
    try:
        device_id = uuid.UUID(raw_id)
    except ValueError:
        raise DeviceRequestError(
            "device_unknown", "X-Telerehab-Device is not a device id", 401
        ) from None
    try:
        timestamp_s = int(raw_time)
    except ValueError:
        raise DeviceRequestError(
            "bad_timestamp", "X-Telerehab-Time must be whole Unix seconds", 401
        ) from None
    now_s = time.time() if now_s is None else now_s
    if abs(now_s - timestamp_s) > MAX_CLOCK_SKEW_S:
        raise DeviceRequestError(
            "stale_request",
            f"request time is more than {MAX_CLOCK_SKEW_S} s from the server's clock",
            401,
        )
    try:
        signature = base64.b64decode(raw_sig, validate=True)
    except (binascii.Error, ValueError):
        raise DeviceRequestError(
            "bad_signature", "X-Telerehab-Signature is not base64", 401
        ) from None
    device = Device.objects.filter(id=device_id).first()
    if device is None:
        raise DeviceRequestError("device_unknown", "device is not paired with this clinic", 401)
    message = device_request_message(
        method=method, path=path, device_id=str(device_id), timestamp_s=timestamp_s
    )
    try:
        device_public_key(device).verify(signature, message)
    except InvalidSignature:
        raise DeviceRequestError(
            "bad_signature", "signature does not verify with the device's key", 401
        ) from None
    if device.is_revoked:
        raise DeviceRequestError("device_revoked", "device was revoked; pair it again", 403)
    return device
