"""Device and pairing refusals; each has a code the API returns as is."""

from __future__ import annotations


class DeviceError(Exception):
    code = "device_error"
    http_status = 400


class PairingCodeInvalidError(DeviceError):
    """Unknown, expired or already used; one code for all three so codes cannot be probed."""

    code = "pairing_code_invalid"
    http_status = 400


class PairingRateLimitedError(DeviceError):
    code = "rate_limited"
    http_status = 429


class DevicePublicKeyInvalidError(DeviceError):
    code = "public_key_invalid"
    http_status = 400


class DeviceKeyInUseError(DeviceError):
    code = "public_key_in_use"
    http_status = 409


class DeviceAlreadyRevokedError(DeviceError):
    code = "device_already_revoked"
    http_status = 409
