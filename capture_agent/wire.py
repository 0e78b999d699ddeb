"""The envelope: the one wire format between a patient's device and the clinic.

Imported by the agent (to seal) and by the server (to verify and open), so the
two sides can never disagree about bytes. Only ``cryptography``, the standard
library and ``analysis`` (with its numpy) may be imported here: the agent
ships without Django.

Layout (all integers big-endian)::

    magic  b"TREN"            4
    schema_version  u16       2
    header_len      u32       4
    header          canonical JSON (sorted keys, no spaces, ASCII)
    body_len        u32       4
    body            eph_pub(32) wrap_nonce(12) wrapped_key(48) payload_nonce(12) ciphertext
                    (ciphertext = AES-256-GCM(data key, zlib(payload), aad=header);
                     wrapped_key = AES-256-GCM(HKDF-SHA256(X25519(eph, server)), data key,
                     aad=header))
    body_sha256               32
    signature  Ed25519        64

The signature covers ``SIGNING_CONTEXT + everything before body`` plus the
body digest, so the server can check who sent it and whether the body was
altered without decrypting anything.  The header is the AES-GCM associated
data of both the wrapped data key and the payload, so header and ciphertext
stay bound even for a reader that skipped the signature.

Payload encodings (header ``payload_encoding``): ``skeleton-q1+xz`` (the
default since 2026-12-01: the quantised skeleton, a 0.5 mm / 1 µs / 1/255
grid, compressed with LZMA instead of zlib), ``skeleton-q1+zlib`` (the same
payload with zlib, what earlier agents send; servers keep accepting it) and
``skeleton-v1+zlib`` (SkeletonSequence.to_bytes, bit-exact).  Test vectors:
tests/vectors/envelope_v1.json.
"""

from __future__ import annotations

import base64
import hashlib
import json
import lzma
import os
import re
import struct
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from analysis.errors import AnalysisError
from analysis.skeleton import CANONICAL_JOINTS, SkeletonSequence

SCHEMA_VERSION = 1
MAGIC = b"TREN"
SIGNING_CONTEXT = b"telerehab/envelope/v1\x00"
WRAP_INFO = b"telerehab/envelope/v1/key-wrap"
#: Exact: SkeletonSequence.to_bytes() then zlib.  Bit-for-bit, but sensor
#: noise in float32 mantissas does not compress (≈ 6 MB per 10 minutes).
ENCODING_EXACT = "skeleton-v1+zlib"
#: Quantised: positions on a 0.5 mm grid, time on a 1 µs grid, confidence in
#: 1/255 steps; positions delta-coded over time per joint and coordinate,
#: byte-shuffled, then zlib.  The grid error (≤ 0.25 mm) is far below any
#: consumer sensor's joint noise (millimetres to centimetres) and moves an
#: angle on a 25 cm segment by < 0.1°; it is what brings a 10-minute
#: session under 1 MB (measured: bench/bench_ingest.py).
ENCODING_QUANTISED = "skeleton-q1+zlib"
#: The same quantised payload compressed by LZMA (xz container, no integrity
#: check: AES-GCM already authenticates the bytes). The agent's own skeletons
#: jitter by millimetres, and on them LZMA is 17 % smaller than zlib (20 s of a
#: deep squat at 2.5 m: 36.1 → 29.8 kB; bench/agent_envelope.py), which keeps
#: a 10-minute session under 1 MB.
ENCODING_QUANTISED_XZ = "skeleton-q1+xz"
PAYLOAD_ENCODINGS = (ENCODING_QUANTISED, ENCODING_EXACT, ENCODING_QUANTISED_XZ)
#: What the agent seals with.
DEFAULT_PAYLOAD_ENCODING = ENCODING_QUANTISED_XZ
#: LZMA decoder memory bound: the encoder's preset 6 needs an 8 MiB dictionary;
#: a stream asking for more than this is refused rather than decoded.
XZ_MEMLIMIT_BYTES = 64 * 1024 * 1024
POSITION_STEP_M = 5e-4
TIME_STEP_S = 1e-6
CONFIDENCE_LEVELS = 255
#: Positions further than this from the camera are not a person in a room;
#: the bound also keeps quantised coordinates inside int32.
MAX_ABS_POSITION_M = 100.0
CONTENT_TYPE = "application/vnd.telerehab.envelope"

#: A 10-minute session compresses to well under 1 MB; 16 MiB leaves room for
#: long sessions while keeping one request's memory bounded on the server.
MAX_ENVELOPE_BYTES = 16 * 1024 * 1024
#: Decompression is capped by this too, so a small envelope cannot inflate
#: into a memory bomb.
MAX_PAYLOAD_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 8 * 1024
MAX_METADATA_BYTES = 16 * 1024
#: Two hours at 60 fps: anything longer is not an exercise session.
MAX_FRAMES = 2 * 3600 * 60

_PREFIX = struct.Struct(">4sHI")
_U32 = struct.Struct(">I")
_EPH_LEN, _NONCE_LEN, _WRAPPED_LEN, _DIGEST_LEN, _SIG_LEN = 32, 12, 48, 32, 64
_BODY_FIXED = _EPH_LEN + _NONCE_LEN + _WRAPPED_LEN + _NONCE_LEN
_HEADER_FIELDS = {
    "schema_version": int,
    "recording_id": str,
    "device_id": str,
    "patient_id": str,
    "exercise": str,
    "created_at": str,
    "payload_encoding": str,
    "payload_bytes": int,
    "server_key_id": str,
    "signer_key_id": str,
}
_EXERCISE_RE = re.compile(r"^[a-z0-9_\-]{1,64}$")
_CREATED_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


# -- errors ------------------------------------------------------------------------


class EnvelopeError(Exception):
    """Base of every envelope rejection; ``code`` is the machine-readable reason."""

    code = "envelope_invalid"


class MalformedEnvelopeError(EnvelopeError):
    """Bytes that do not follow the envelope layout or header schema."""

    code = "malformed_envelope"


class TruncatedEnvelopeError(MalformedEnvelopeError):
    """Fewer bytes than the envelope's own lengths announce: an interrupted upload."""

    code = "truncated_envelope"


class MalformedHeaderError(MalformedEnvelopeError):
    """The header is not canonical JSON with exactly the expected, well-formed fields."""

    code = "malformed_header"


class OversizedEnvelopeError(EnvelopeError):
    """Envelope or its declared payload exceeds the size limits."""

    code = "oversized"


class UnsupportedSchemaVersionError(EnvelopeError):
    """An envelope of a schema version this code does not speak."""

    code = "unsupported_schema_version"


class BadSignatureError(EnvelopeError):
    """The signature does not verify with the key the header names."""

    code = "bad_signature"


class WrongSigningKeyError(BadSignatureError):
    """Signed by a key other than the one registered for the device."""

    code = "wrong_signing_key"


class TamperedHeaderError(BadSignatureError):
    """The signer is right but the signed bytes (header) were altered."""

    code = "tampered_header"


class TamperedCiphertextError(EnvelopeError):
    """The body does not match its signed digest or fails authenticated decryption."""

    code = "tampered_ciphertext"


class WrongServerKeyError(EnvelopeError):
    """Sealed for a server key this server does not hold (or cannot unwrap)."""

    code = "wrong_server_key"


class InvalidPayloadError(EnvelopeError):
    """Decrypted fine, but the payload is not a valid skeleton sequence."""

    code = "invalid_payload"


class UnencodableSkeletonError(EnvelopeError):
    """A skeleton the quantised encoding cannot carry faithfully (agent side)."""

    code = "unencodable_skeleton"


class PrivacyViolationError(EnvelopeError):
    """Something other than a skeleton and its metadata was about to leave the device."""

    code = "privacy_violation"


# -- keys --------------------------------------------------------------------------


def key_id(public_key: X25519PublicKey | Ed25519PublicKey) -> str:
    """Short stable fingerprint of a public key, used to name keys in headers."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def public_key_bytes(public_key: X25519PublicKey | Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def private_key_bytes(private_key: X25519PrivateKey | Ed25519PrivateKey) -> bytes:
    return private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


# -- data types --------------------------------------------------------------------


@dataclass(frozen=True)
class EnvelopeHeader:
    """What the server may read before decrypting; trusted only once verified."""

    schema_version: int
    recording_id: str
    device_id: str
    patient_id: str
    exercise: str
    created_at: str
    payload_encoding: str
    payload_bytes: int
    server_key_id: str
    signer_key_id: str

    def to_canonical_json(self) -> bytes:
        return canonical_json(self.__dict__)


@dataclass(frozen=True)
class Envelope:
    """A parsed, not yet verified envelope."""

    header: EnvelopeHeader
    header_bytes: bytes
    signed_prefix: bytes
    body: bytes
    body_sha256: bytes
    signature: bytes
    raw: bytes

    @property
    def sha256(self) -> str:
        """Digest of the exact bytes received: identical retries share it."""
        return hashlib.sha256(self.raw).hexdigest()


def canonical_json(obj: dict[str, Any]) -> bytes:
    """One byte string per value, so a signature never depends on key order."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def utc_now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- signed device requests (e.g. plan download) -------------------------------------

#: Domain separation: a request signature can never pass for an envelope's, or back.
DEVICE_REQUEST_CONTEXT = b"telerehab/device-request/v1\x00"
HEADER_DEVICE = "X-Telerehab-Device"
HEADER_TIME = "X-Telerehab-Time"
HEADER_SIGNATURE = "X-Telerehab-Signature"


def device_request_message(*, method: str, path: str, device_id: str, timestamp_s: int) -> bytes:
    """The bytes a device signs for a request: method, path, its id and the time, nothing else."""
    return (
        DEVICE_REQUEST_CONTEXT
        + f"{method.upper()}\n{path}\n{device_id}\n{int(timestamp_s)}".encode()
    )


def device_request_headers(
    *,
    signing_key: Ed25519PrivateKey,
    method: str,
    path: str,
    device_id: str,
    timestamp_s: int | None = None,
) -> dict[str, str]:
    """HTTP headers proving the request comes from the device holding ``signing_key``."""
    ts = int(time.time()) if timestamp_s is None else int(timestamp_s)
    signature = signing_key.sign(
        device_request_message(method=method, path=path, device_id=device_id, timestamp_s=ts)
    )
    return {
        HEADER_DEVICE: device_id,
        HEADER_TIME: str(ts),
        HEADER_SIGNATURE: base64.b64encode(signature).decode(),
    }


# -- sealing (agent side) ----------------------------------------------------------


def _check_privacy(sequence: object) -> SkeletonSequence:
    """Only skeletons leave the device: refuse images, depth maps and raw bytes.

    A colour frame is hundreds of thousands of values per frame; a skeleton is
    at most ``len(CANONICAL_JOINTS)`` joints × 3 coordinates.  Checking the
    type, the joint set and the per-frame size makes it impossible to smuggle a
    frame through this function by accident.
    """
    if not isinstance(sequence, SkeletonSequence):
        raise PrivacyViolationError(
            f"only a SkeletonSequence may be sealed, got {type(sequence).__name__}"
        )
    unknown = [n for n in sequence.joint_names if n not in CANONICAL_JOINTS]
    if unknown:
        raise PrivacyViolationError(
            f"sequence has non-canonical joints {unknown[:3]!r}; only skeleton joints may leave"
        )
    if sequence.positions_m.ndim != 3 or sequence.positions_m.shape[2] != 3:
        raise PrivacyViolationError("positions must be (frames, joints, 3)")
    if sequence.n_frames > MAX_FRAMES:
        raise PrivacyViolationError(f"{sequence.n_frames} frames exceeds {MAX_FRAMES}")
    try:
        metadata_bytes = len(canonical_json(sequence.metadata))
    except (TypeError, ValueError) as exc:
        raise UnencodableSkeletonError(f"metadata is not plain JSON: {exc}") from None
    if metadata_bytes > MAX_METADATA_BYTES:
        raise PrivacyViolationError(
            f"metadata is {metadata_bytes} bytes (limit {MAX_METADATA_BYTES}); "
            "images or other bulk data must not travel in metadata"
        )
    return sequence


def max_payload_bytes_for(n_frames: int, n_joints: int) -> int:
    """Upper bound of a serialised skeleton: 8 B time + J × (12 + 4 + 1) B per frame."""
    return 64 + 4096 + MAX_METADATA_BYTES + n_frames * (8 + n_joints * 17)


def seal(
    sequence: SkeletonSequence,
    *,
    recording_id: str,
    device_id: str,
    patient_id: str,
    exercise: str,
    server_public_key: X25519PublicKey,
    signing_key: Ed25519PrivateKey,
    created_at: str | None = None,
    payload_encoding: str = DEFAULT_PAYLOAD_ENCODING,
    _randomness: _Randomness | None = None,
) -> bytes:
    """Compress, encrypt for the server and sign one recording.

    A fresh data key per recording and a fresh ephemeral X25519 key per
    envelope mean one leaked data key exposes one recording, and the device
    itself cannot decrypt what it sent once its memory is gone.
    """
    sequence = _check_privacy(sequence)
    payload = encode_payload(sequence, payload_encoding)
    if len(payload) > max_payload_bytes_for(sequence.n_frames, sequence.n_joints):
        raise PrivacyViolationError("serialised skeleton is larger than a skeleton can be")
    return _seal_payload(
        payload,
        recording_id=recording_id,
        device_id=device_id,
        patient_id=patient_id,
        exercise=exercise,
        created_at=created_at,
        payload_encoding=payload_encoding,
        server_public_key=server_public_key,
        signing_key=signing_key,
        randomness=_randomness,
    )


def _seal_payload(
    payload: bytes,
    *,
    recording_id: str,
    device_id: str,
    patient_id: str,
    exercise: str,
    created_at: str | None,
    payload_encoding: str,
    server_public_key: X25519PublicKey,
    signing_key: Ed25519PrivateKey,
    randomness: _Randomness | None,
) -> bytes:
    """Encrypt and sign already-encoded payload bytes (no privacy check: callers use seal)."""
    header = EnvelopeHeader(
        schema_version=SCHEMA_VERSION,
        recording_id=str(uuid.UUID(recording_id)),
        device_id=str(uuid.UUID(device_id)),
        patient_id=str(uuid.UUID(patient_id)),
        exercise=exercise,
        created_at=created_at or utc_now_iso(),
        payload_encoding=payload_encoding,
        payload_bytes=len(payload),
        server_key_id=key_id(server_public_key),
        signer_key_id=key_id(signing_key.public_key()),
    )
    _validate_header(header)
    header_bytes = header.to_canonical_json()
    rnd = randomness or _Randomness.fresh()

    compressed = _compress(payload, payload_encoding)
    ciphertext = AESGCM(rnd.data_key).encrypt(rnd.payload_nonce, compressed, header_bytes)

    eph_pub = public_key_bytes(rnd.ephemeral_key.public_key())
    kek = _derive_kek(
        rnd.ephemeral_key.exchange(server_public_key), eph_pub, public_key_bytes(server_public_key)
    )
    wrapped_key = AESGCM(kek).encrypt(rnd.wrap_nonce, rnd.data_key, header_bytes)
    body = eph_pub + rnd.wrap_nonce + wrapped_key + rnd.payload_nonce + ciphertext

    prefix = _PREFIX.pack(MAGIC, SCHEMA_VERSION, len(header_bytes)) + header_bytes
    body_sha256 = hashlib.sha256(body).digest()
    signature = signing_key.sign(SIGNING_CONTEXT + prefix + body_sha256)
    return prefix + _U32.pack(len(body)) + body + body_sha256 + signature


@dataclass(frozen=True)
class _Randomness:
    """Every random value sealing uses, injectable so test vectors are fixed."""

    data_key: bytes
    payload_nonce: bytes
    wrap_nonce: bytes
    ephemeral_key: X25519PrivateKey

    @classmethod
    def fresh(cls) -> _Randomness:
        return cls(
            data_key=AESGCM.generate_key(bit_length=256),
            payload_nonce=os.urandom(_NONCE_LEN),
            wrap_nonce=os.urandom(_NONCE_LEN),
            ephemeral_key=X25519PrivateKey.generate(),
        )


def _derive_kek(shared_secret: bytes, eph_pub: bytes, server_pub: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=eph_pub + server_pub, info=WRAP_INFO
    ).derive(shared_secret)


# -- parsing and verification (server side) ----------------------------------------


def parse(data: bytes, *, max_bytes: int = MAX_ENVELOPE_BYTES) -> Envelope:
    """Split the bytes into their parts, checking sizes and the header schema.

    Pure structure: nothing here is trusted until :func:`verify` succeeds.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedEnvelopeError(f"envelope must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise OversizedEnvelopeError(f"envelope is {len(data)} bytes, limit is {max_bytes}")
    if len(data) < _PREFIX.size:
        raise TruncatedEnvelopeError("envelope is shorter than its fixed prefix")
    magic, version, header_len = _PREFIX.unpack_from(data, 0)
    if magic != MAGIC:
        raise MalformedEnvelopeError("not a telerehab envelope (bad magic)")
    if version != SCHEMA_VERSION:
        raise UnsupportedSchemaVersionError(
            f"envelope schema version {version} is not supported (this server speaks {SCHEMA_VERSION})"
        )
    if header_len > MAX_HEADER_BYTES:
        raise MalformedEnvelopeError(f"header length {header_len} exceeds {MAX_HEADER_BYTES}")
    offset = _PREFIX.size
    if offset + header_len + _U32.size > len(data):
        raise TruncatedEnvelopeError("envelope is truncated inside its header")
    header_bytes = data[offset : offset + header_len]
    header = _parse_header(header_bytes)
    offset += header_len
    signed_prefix = data[:offset]
    (body_len,) = _U32.unpack_from(data, offset)
    offset += _U32.size
    expected_total = offset + body_len + _DIGEST_LEN + _SIG_LEN
    if expected_total > len(data):
        raise TruncatedEnvelopeError(
            f"envelope is {len(data)} bytes but its lengths say {expected_total} (truncated)"
        )
    if expected_total != len(data):
        raise MalformedEnvelopeError(
            f"envelope is {len(data)} bytes but its lengths say {expected_total} (padded)"
        )
    if body_len < _BODY_FIXED + 16:
        raise MalformedEnvelopeError("envelope body is too short to hold a key and ciphertext")
    body = data[offset : offset + body_len]
    offset += body_len
    body_sha256 = data[offset : offset + _DIGEST_LEN]
    signature = data[offset + _DIGEST_LEN :]
    return Envelope(header, header_bytes, signed_prefix, body, body_sha256, signature, data)


def _parse_header(header_bytes: bytes) -> EnvelopeHeader:
    try:
        obj = json.loads(header_bytes.decode("ascii"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedHeaderError(f"header is not ASCII JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise MalformedHeaderError("header must be a JSON object")
    if set(obj) != set(_HEADER_FIELDS):
        missing = sorted(set(_HEADER_FIELDS) - set(obj))
        extra = sorted(set(obj) - set(_HEADER_FIELDS))
        raise MalformedHeaderError(f"header fields wrong: missing {missing}, unexpected {extra}")
    for name, typ in _HEADER_FIELDS.items():
        if type(obj[name]) is not typ:
            raise MalformedHeaderError(f"header field {name!r} must be {typ.__name__}")
    if obj["schema_version"] != SCHEMA_VERSION:
        raise UnsupportedSchemaVersionError(
            f"header schema version {obj['schema_version']} is not supported"
        )
    try:
        canonical = canonical_json(obj)
    except ValueError as exc:
        raise MalformedHeaderError(f"header is not canonical: {exc}") from None
    if canonical != header_bytes:
        raise MalformedHeaderError("header is not in canonical JSON form")
    header = EnvelopeHeader(**obj)
    _validate_header(header)
    return header


def _validate_header(header: EnvelopeHeader) -> None:
    for name in ("recording_id", "device_id", "patient_id"):
        value = getattr(header, name)
        try:
            if str(uuid.UUID(value)) != value:
                raise ValueError
        except ValueError:
            raise MalformedHeaderError(f"header {name} is not a canonical UUID") from None
    if not _EXERCISE_RE.match(header.exercise):
        raise MalformedHeaderError("header exercise must be 1-64 chars of [a-z0-9_-]")
    if not _CREATED_RE.match(header.created_at):
        raise MalformedHeaderError("header created_at must be ISO 8601 UTC ending in Z")
    if header.payload_encoding not in PAYLOAD_ENCODINGS:
        raise MalformedHeaderError(f"payload encoding {header.payload_encoding!r} is unknown")
    if not 0 < header.payload_bytes <= MAX_PAYLOAD_BYTES:
        raise OversizedEnvelopeError(
            f"declared payload of {header.payload_bytes} bytes is outside (0, {MAX_PAYLOAD_BYTES}]"
        )
    for name in ("server_key_id", "signer_key_id"):
        if not re.fullmatch(r"[0-9a-f]{32}", getattr(header, name)):
            raise MalformedHeaderError(f"header {name} is not a key fingerprint")


def verify(envelope: Envelope, device_public_key: Ed25519PublicKey) -> None:
    """Check signer, header and body integrity; decrypts nothing.

    Order matters for the reason reported: a key the header does not name is
    a wrong signer; a named key that fails means the signed bytes changed; a
    good signature over a digest the body does not match means the body changed.
    """
    if envelope.header.signer_key_id != key_id(device_public_key):
        raise WrongSigningKeyError("envelope is signed by a key not registered for this device")
    try:
        device_public_key.verify(
            envelope.signature, SIGNING_CONTEXT + envelope.signed_prefix + envelope.body_sha256
        )
    except InvalidSignature:
        raise TamperedHeaderError(
            "signature does not verify: header or signature bytes were altered"
        ) from None
    if hashlib.sha256(envelope.body).digest() != envelope.body_sha256:
        raise TamperedCiphertextError("body does not match its signed digest")


def decrypt_payload(envelope: Envelope, server_private_key: X25519PrivateKey) -> bytes:
    """Unwrap the data key and return the decompressed skeleton bytes."""
    server_pub = public_key_bytes(server_private_key.public_key())
    if envelope.header.server_key_id != key_id(server_private_key.public_key()):
        raise WrongServerKeyError("envelope was sealed for a different server key")
    body = envelope.body
    eph_pub = body[:_EPH_LEN]
    pos = _EPH_LEN
    wrap_nonce = body[pos : pos + _NONCE_LEN]
    pos += _NONCE_LEN
    wrapped_key = body[pos : pos + _WRAPPED_LEN]
    pos += _WRAPPED_LEN
    payload_nonce = body[pos : pos + _NONCE_LEN]
    pos += _NONCE_LEN
    ciphertext = body[pos:]
    try:
        shared = server_private_key.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    except ValueError:
        raise TamperedCiphertextError("ephemeral key is not a valid X25519 point") from None
    kek = _derive_kek(shared, eph_pub, server_pub)
    try:
        data_key = AESGCM(kek).decrypt(wrap_nonce, wrapped_key, envelope.header_bytes)
    except InvalidTag:
        raise TamperedCiphertextError(
            "wrapped data key fails authentication (altered key, header or wrong server key)"
        ) from None
    try:
        compressed = AESGCM(data_key).decrypt(payload_nonce, ciphertext, envelope.header_bytes)
    except InvalidTag:
        raise TamperedCiphertextError("payload ciphertext fails authentication") from None
    return _decompress(compressed, envelope.header.payload_encoding, envelope.header.payload_bytes)


def _compress(payload: bytes, encoding: str) -> bytes:
    if encoding.endswith("+xz"):
        return lzma.compress(payload, format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE, preset=6)
    return zlib.compress(payload, 6)


def _decompress(compressed: bytes, encoding: str, limit: int) -> bytes:
    """Inflate to exactly ``limit`` bytes, never more (a bomb stops at limit + 1)."""
    if encoding.endswith("+xz"):
        unxz = lzma.LZMADecompressor(format=lzma.FORMAT_XZ, memlimit=XZ_MEMLIMIT_BYTES)
        try:
            payload = unxz.decompress(compressed, limit + 1)
        except lzma.LZMAError as exc:
            raise InvalidPayloadError(f"payload does not decompress: {exc}") from None
        if len(payload) != limit or not unxz.eof or unxz.unused_data:
            raise InvalidPayloadError(
                f"payload inflates to a size other than the declared {limit} bytes"
            )
        return payload
    inflater = zlib.decompressobj()
    try:
        payload = inflater.decompress(compressed, limit + 1)
    except zlib.error as exc:
        raise InvalidPayloadError(f"payload does not decompress: {exc}") from None
    if len(payload) != limit or inflater.unconsumed_tail or not inflater.eof:
        raise InvalidPayloadError(
            f"payload inflates to a size other than the declared {limit} bytes"
        )
    return payload


def open_sequence(envelope: Envelope, server_private_key: X25519PrivateKey) -> SkeletonSequence:
    """Decrypt and parse; the caller has already run :func:`verify`."""
    return decode_payload(
        decrypt_payload(envelope, server_private_key), envelope.header.payload_encoding
    )


def verify_and_open(
    data: bytes,
    *,
    device_public_key: Ed25519PublicKey,
    server_private_key: X25519PrivateKey,
) -> tuple[EnvelopeHeader, SkeletonSequence]:
    """Everything the server does to one envelope, for tools and tests."""
    envelope = parse(data)
    verify(envelope, device_public_key)
    return envelope.header, open_sequence(envelope, server_private_key)


# -- payload encodings -------------------------------------------------------------

_Q_MAGIC = b"TRSQ"
_Q_VERSION = 1
_Q_PREFIX = struct.Struct(">4sHI")


def encode_payload(sequence: SkeletonSequence, encoding: str) -> bytes:
    """Serialise a skeleton for the envelope in the named encoding."""
    if encoding == ENCODING_EXACT:
        return sequence.to_bytes()
    if encoding not in (ENCODING_QUANTISED, ENCODING_QUANTISED_XZ):
        raise UnencodableSkeletonError(f"unknown payload encoding {encoding!r}")
    return _encode_quantised(sequence)


def decode_payload(payload: bytes, encoding: str) -> SkeletonSequence:
    """Inverse of :func:`encode_payload`; every failure is an InvalidPayloadError."""
    try:
        if encoding == ENCODING_EXACT:
            return SkeletonSequence.from_bytes(payload)
        if encoding in (ENCODING_QUANTISED, ENCODING_QUANTISED_XZ):
            return _decode_quantised(payload)
    except AnalysisError as exc:
        raise InvalidPayloadError(f"payload is not a valid skeleton: {exc}") from exc
    raise InvalidPayloadError(f"unknown payload encoding {encoding!r}")


def quantise(sequence: SkeletonSequence) -> SkeletonSequence:
    """The sequence exactly as the server will see it after the quantised encoding."""
    return _decode_quantised(_encode_quantised(sequence))


def _shuffle(array: np.ndarray) -> bytes:
    """Byte planes one after another: small deltas leave whole planes of zeros."""
    a = np.ascontiguousarray(array)
    return a.view(np.uint8).reshape(-1, a.dtype.itemsize).T.tobytes()


def _unshuffle(data: bytes, dtype: str, count: int) -> np.ndarray:
    itemsize = np.dtype(dtype).itemsize
    planes = np.frombuffer(data, dtype=np.uint8, count=count * itemsize).reshape(itemsize, count)
    return np.ascontiguousarray(planes.T).view(dtype).reshape(count)


def _zigzag_delta(q: np.ndarray, signed: str, unsigned: str, bits: int) -> np.ndarray:
    d = np.diff(q, axis=0, prepend=np.zeros_like(q[:1])).astype(signed)
    return ((d << 1) ^ (d >> (bits - 1))).astype(unsigned)


def _unzigzag_cumsum(z: np.ndarray, signed: str) -> np.ndarray:
    d = (z >> 1).astype(signed) ^ -(z & 1).astype(signed)
    return np.cumsum(d, axis=0, dtype=signed)


def _encode_quantised(sequence: SkeletonSequence) -> bytes:
    pos = sequence.positions_m.astype(np.float64)
    if pos.size and float(np.max(np.abs(pos))) > MAX_ABS_POSITION_M:
        raise UnencodableSkeletonError(
            f"positions beyond ±{MAX_ABS_POSITION_M} m cannot be a person in front of a camera"
        )
    time_us = np.round(sequence.timestamps_s / TIME_STEP_S).astype(np.int64)
    if time_us.size > 1 and not np.all(np.diff(time_us) > 0):
        raise UnencodableSkeletonError("timestamps closer than 1 µs cannot be quantised")
    q_pos = np.round(pos / POSITION_STEP_M).astype(np.int32)
    q_conf = np.round(sequence.confidence.astype(np.float64) * CONFIDENCE_LEVELS).astype(np.uint8)
    header = canonical_json(
        {
            "joint_names": list(sequence.joint_names),
            "n_frames": sequence.n_frames,
            "metadata": sequence.metadata,
        }
    )
    return b"".join(
        (
            _Q_PREFIX.pack(_Q_MAGIC, _Q_VERSION, len(header)),
            header,
            _shuffle(_zigzag_delta(time_us, "<i8", "<u8", 64)),
            # joint-major: each coordinate's time series is contiguous, so deltas cluster
            _shuffle(np.transpose(_zigzag_delta(q_pos, "<i4", "<u4", 32), (1, 2, 0))),
            q_conf.tobytes(),
            sequence.source.astype(np.uint8).tobytes(),
        )
    )


def _decode_quantised(payload: bytes) -> SkeletonSequence:
    if len(payload) < _Q_PREFIX.size:
        raise InvalidPayloadError("quantised payload is shorter than its prefix")
    magic, version, header_len = _Q_PREFIX.unpack_from(payload, 0)
    if magic != _Q_MAGIC or version != _Q_VERSION:
        raise InvalidPayloadError("not a quantised skeleton payload of a known version")
    offset = _Q_PREFIX.size
    if header_len > len(payload) - offset:
        raise InvalidPayloadError("quantised payload header length exceeds the payload")
    try:
        header = json.loads(payload[offset : offset + header_len].decode("ascii"))
        names = [str(n) for n in header["joint_names"]]
        n_frames = int(header["n_frames"])
        metadata = header["metadata"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidPayloadError(f"quantised payload header is malformed: {exc}") from None
    if not isinstance(metadata, dict) or not names or n_frames < 0 or n_frames > MAX_FRAMES:
        raise InvalidPayloadError("quantised payload header has impossible values")
    offset += header_len
    n_joints = len(names)
    n_values = n_frames * n_joints
    expected = n_frames * 8 + n_values * 3 * 4 + n_values * 2
    if len(payload) - offset != expected:
        raise InvalidPayloadError(
            f"quantised body is {len(payload) - offset} bytes, expected {expected} "
            f"for {n_frames} frames × {n_joints} joints"
        )
    body = memoryview(payload)[offset:]
    time_z = _unshuffle(body[: n_frames * 8], "<u8", n_frames)
    body = body[n_frames * 8 :]
    pos_z = np.ascontiguousarray(
        _unshuffle(body[: n_values * 12], "<u4", n_values * 3)
        .reshape(n_joints, 3, n_frames)
        .transpose(2, 0, 1)
    )
    body = body[n_values * 12 :]
    conf = np.frombuffer(body[:n_values], dtype=np.uint8).reshape(n_frames, n_joints)
    source = np.frombuffer(body[n_values:], dtype=np.uint8).reshape(n_frames, n_joints)
    if np.any(conf > CONFIDENCE_LEVELS):
        raise InvalidPayloadError("confidence codes exceed their scale")
    with np.errstate(over="ignore"):
        time_us = _unzigzag_cumsum(time_z, "<i8")
        q_pos = _unzigzag_cumsum(pos_z, "<i4")
    return SkeletonSequence.build(
        joint_names=names,
        timestamps_s=time_us.astype(np.float64) * TIME_STEP_S,
        positions_m=q_pos.astype(np.float64) * POSITION_STEP_M,
        confidence=conf.astype(np.float32) / CONFIDENCE_LEVELS,
        source=source.copy(),
        metadata=metadata,
    )
