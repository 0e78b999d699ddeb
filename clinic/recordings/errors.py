"""Ingest refusals: one code per reason, each with the HTTP status the API answers with."""

from __future__ import annotations

from capture_agent import wire


class IngestRejectedError(Exception):
    """A refused upload; nothing of it is stored, the refusal is audited."""

    def __init__(
        self, code: str, message: str, http_status: int, *, retry_after_s: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.retry_after_s = retry_after_s


#: HTTP status for each envelope error code (wire's exception ``code``).
ENVELOPE_ERROR_STATUS: dict[str, int] = {
    wire.MalformedEnvelopeError.code: 400,
    wire.OversizedEnvelopeError.code: 413,
    wire.UnsupportedSchemaVersionError.code: 400,
    wire.WrongSigningKeyError.code: 401,
    wire.TamperedHeaderError.code: 401,
    wire.BadSignatureError.code: 401,
    wire.TamperedCiphertextError.code: 400,
    wire.WrongServerKeyError.code: 400,
}

UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
OVERSIZED = wire.OversizedEnvelopeError.code
TRUNCATED = "truncated_body"
DEVICE_UNKNOWN = "device_unknown"
DEVICE_REVOKED = "device_revoked"
PATIENT_MISMATCH = "patient_mismatch"
RECORDING_CONFLICT = "recording_conflict"
RATE_LIMITED = "rate_limited"
