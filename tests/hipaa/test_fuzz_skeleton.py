"""Property-based fuzzing of the skeleton deserialisers and the envelope header parser.

The envelope's byte-level parser is fuzzed by tests/capture_agent/test_wire_fuzz.py (random
and bit-flipped envelopes, truncations). This file covers what that does not reach:

* ``SkeletonSequence.from_bytes`` (the exact payload) and ``wire.decode_payload`` for both
  encodings: what the server runs on a payload *after* it decrypted fine, i.e. on whatever a
  buggy or hostile paired device chose to encrypt;
* the header schema validation behind a well-formed envelope layout, with generated header
  dicts (wrong types, missing or extra fields, hostile strings), which random bytes almost
  never reach.

Each property runs a fixed number of derandomised examples, so CI time is bounded and the
count is a reportable figure (printed by tests/hipaa/conftest.py).
"""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import SkeletonFormatError
from analysis.skeleton import CANONICAL_JOINTS, SkeletonSequence
from capture_agent import wire
from tests.hipaa import figures

EXAMPLES = 200
_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_counts: dict[str, int] = {}


def _count(name: str) -> None:
    _counts[name] = _counts.get(name, 0) + 1
    figures.record("fuzz", name, {"examples": _counts[name]})


def _sequence(n_frames: int, n_joints: int, seed: int) -> SkeletonSequence:
    rng = np.random.default_rng(seed)
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS[:n_joints],
        timestamps_s=np.arange(n_frames) / 30.0,
        positions_m=rng.normal(0.0, 1.0, (n_frames, n_joints, 3)),
        confidence=rng.uniform(0, 1, (n_frames, n_joints)),
        metadata={"exercise": "knee_flexion", "side": "left"},
    )


_SMALL = _sequence(4, 5, 0)
EXACT = _SMALL.to_bytes()
QUANTISED = wire.encode_payload(_SMALL, wire.ENCODING_QUANTISED)


def _decode_or_reject(data: bytes, encoding: str) -> None:
    try:
        sequence = wire.decode_payload(data, encoding)
    except wire.InvalidPayloadError as exc:
        assert str(exc)
        return
    # Anything accepted must satisfy what every consumer relies on.
    assert sequence.positions_m.shape == (sequence.n_frames, sequence.n_joints, 3)
    assert np.all(np.isfinite(sequence.positions_m))
    assert np.all((sequence.confidence >= 0) & (sequence.confidence <= 1))
    if sequence.n_frames > 1:
        assert np.all(np.diff(sequence.timestamps_s) > 0)


@_settings
@given(st.binary(max_size=4096))
def test_random_bytes_never_escape_the_exact_deserialiser(data: bytes) -> None:
    _count("skeleton from_bytes: random bytes")
    try:
        SkeletonSequence.from_bytes(data)
    except SkeletonFormatError as exc:
        assert str(exc)


@_settings
@given(st.binary(max_size=4096), st.sampled_from(wire.PAYLOAD_ENCODINGS))
def test_random_bytes_after_a_valid_prefix_are_rejected_cleanly(tail: bytes, encoding: str) -> None:
    _count("decode_payload: valid prefix + random bytes")
    prefix = (EXACT if encoding == wire.ENCODING_EXACT else QUANTISED)[:10]
    _decode_or_reject(prefix + tail, encoding)


@_settings
@given(
    st.sampled_from(wire.PAYLOAD_ENCODINGS),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=6),
)
def test_mutated_valid_payloads_decode_to_valid_skeletons_or_are_rejected(
    encoding: str, flips: list[tuple[int, int]]
) -> None:
    _count("decode_payload: bit-flipped valid payloads")
    data = bytearray(EXACT if encoding == wire.ENCODING_EXACT else QUANTISED)
    for index, mask in flips:
        data[index % len(data)] ^= mask
    _decode_or_reject(bytes(data), encoding)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@_settings
@given(
    st.sampled_from(wire.PAYLOAD_ENCODINGS),
    st.fixed_dictionaries(
        {},
        optional={
            "joint_names": st.lists(st.text(max_size=12), max_size=40) | _json_values,
            "n_frames": st.integers(-5, 10**9) | _json_values,
            "metadata": _json_values,
        },
    ),
    st.binary(max_size=2048),
)
def test_hostile_skeleton_headers_are_rejected_without_huge_allocations(
    encoding: str, header: dict, body: bytes
) -> None:
    """A header may claim a billion frames: the length check must come before any allocation."""
    _count("decode_payload: generated payload headers")
    import json

    header_bytes = json.dumps(header).encode()
    if encoding == wire.ENCODING_EXACT:
        data = EXACT[:4] + struct.pack(">HI", 1, len(header_bytes))
    else:
        data = QUANTISED[:4] + struct.pack(">HI", 1, len(header_bytes))
    data = data[: len(data)] + header_bytes + body
    _decode_or_reject(data, encoding)


_HEADER_STRINGS = st.text(max_size=40) | st.sampled_from(
    ["", "../../etc/passwd", "'; DROP TABLE x;--", "\x00", "9" * 80, "2026-11-22T05:00:00Z"]
)


@_settings
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "schema_version": st.integers(-2, 3) | _json_values,
            "recording_id": _HEADER_STRINGS | _json_values,
            "device_id": _HEADER_STRINGS,
            "patient_id": _HEADER_STRINGS,
            "exercise": _HEADER_STRINGS,
            "created_at": _HEADER_STRINGS,
            "payload_encoding": st.sampled_from([*wire.PAYLOAD_ENCODINGS, "x"]),
            "payload_bytes": st.integers(-1, 2**40) | _json_values,
            "server_key_id": _HEADER_STRINGS,
            "signer_key_id": _HEADER_STRINGS,
        },
    ),
    st.dictionaries(st.text(max_size=6), _json_values, max_size=2),
)
def test_generated_envelope_headers_parse_only_when_schema_valid(header: dict, extra: dict) -> None:
    _count("envelope header schema: generated headers")
    header = {**header, **extra}
    header_bytes = wire.canonical_json(header)
    body = bytes(wire._BODY_FIXED + 16)
    data = (
        wire.MAGIC
        + struct.pack(">HI", wire.SCHEMA_VERSION, len(header_bytes))
        + header_bytes
        + struct.pack(">I", len(body))
        + body
        + bytes(32 + 64)
    )
    try:
        envelope = wire.parse(data)
    except wire.EnvelopeError as exc:
        assert exc.code and str(exc)
        return
    # Accepted: every field is present with its declared type, nothing extra.
    assert set(header) == set(wire._HEADER_FIELDS)
    for name, kind in wire._HEADER_FIELDS.items():
        assert isinstance(getattr(envelope.header, name), kind)


def _valid_header() -> dict:
    import json
    from pathlib import Path

    vectors = json.loads(
        (Path(__file__).resolve().parents[1] / "vectors" / "envelope_v1.json").read_text()
    )
    envelope = wire.parse(bytes.fromhex(vectors["vectors"][0]["envelope_hex"]))
    return json.loads(envelope.header.to_canonical_json())


_VALID_HEADER = _valid_header()


def _layout(header: dict) -> bytes:
    header_bytes = wire.canonical_json(header)
    body = bytes(wire._BODY_FIXED + 16)
    return (
        wire.MAGIC
        + struct.pack(">HI", wire.SCHEMA_VERSION, len(header_bytes))
        + header_bytes
        + struct.pack(">I", len(body))
        + body
        + bytes(32 + 64)
    )


def test_the_valid_header_itself_parses() -> None:
    """The mutation property below starts from a header the parser accepts."""
    assert wire.parse(_layout(_VALID_HEADER)).header.recording_id == _VALID_HEADER["recording_id"]


@_settings
@given(st.sampled_from(sorted(_VALID_HEADER)), _HEADER_STRINGS | _json_values)
def test_one_bad_field_in_a_valid_header_is_named_or_harmless(field: str, value) -> None:
    _count("envelope header schema: one field of a valid header replaced")
    header = {**_VALID_HEADER, field: value}
    try:
        envelope = wire.parse(_layout(header))
    except wire.EnvelopeError as exc:
        assert exc.code and str(exc)
        return
    assert getattr(envelope.header, field) == value
    assert isinstance(value, wire._HEADER_FIELDS[field])
