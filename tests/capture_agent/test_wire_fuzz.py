"""Property-based fuzzing of the envelope parser: any bytes give an EnvelopeError or a valid parse.

A fixed example count keeps CI time bounded and the figure reportable.
"""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capture_agent import wire

FUZZ_EXAMPLES = 400
_DATA = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "envelope_v1.json").read_text()
)
GOOD = bytes.fromhex(_DATA["vectors"][0]["envelope_hex"])
SERVER = X25519PrivateKey.from_private_bytes(bytes.fromhex(_DATA["inputs"]["server_private_key"]))
DEVICE = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(_DATA["inputs"]["device_private_key"]))
_settings = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _full_pipeline(data: bytes) -> None:
    try:
        wire.verify_and_open(data, device_public_key=DEVICE.public_key(), server_private_key=SERVER)
    except wire.EnvelopeError as exc:
        assert exc.code and str(exc)


@_settings
@given(st.binary(max_size=2048))
def test_random_bytes_never_escape_as_other_exceptions(data: bytes) -> None:
    _full_pipeline(data)


@_settings
@given(st.binary(max_size=512))
def test_random_bytes_after_a_valid_magic_never_crash(tail: bytes) -> None:
    _full_pipeline(wire.MAGIC + b"\x00\x01" + tail)


@_settings
@given(
    st.lists(
        st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)),
        min_size=1,
        max_size=8,
        unique_by=lambda flip: flip[0],
    )
)
def test_mutated_valid_envelope_is_always_rejected(flips: list[tuple[int, int]]) -> None:
    data = bytearray(GOOD)
    for index, mask in flips:
        data[index] ^= mask
    try:
        wire.verify_and_open(
            bytes(data), device_public_key=DEVICE.public_key(), server_private_key=SERVER
        )
    except wire.EnvelopeError:
        return
    raise AssertionError("a mutated envelope was accepted")


@_settings
@given(st.integers(0, len(GOOD) - 1))
def test_every_truncation_is_malformed(length: int) -> None:
    try:
        wire.parse(GOOD[:length])
    except (wire.MalformedEnvelopeError, wire.UnsupportedSchemaVersionError):
        return
    raise AssertionError("a truncated envelope parsed")
