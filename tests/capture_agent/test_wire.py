"""Envelope: round trips, every rejection with its own exception, privacy by construction."""

from __future__ import annotations

import struct
import uuid
import zlib

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from analysis import CANONICAL_JOINTS, SkeletonSequence
from capture_agent import wire

SERVER_KEY = X25519PrivateKey.generate()
DEVICE_KEY = Ed25519PrivateKey.generate()


def _sequence(n_frames: int = 90, seed: int = 0) -> SkeletonSequence:
    rng = np.random.default_rng(seed)
    t = np.arange(n_frames) / 30.0
    base = rng.normal(0, 0.3, (len(CANONICAL_JOINTS), 3)) + [0, 0, 2.5]
    pos = base[None] + 0.01 * rng.normal(size=(n_frames, len(CANONICAL_JOINTS), 3))
    conf = rng.uniform(0.5, 1.0, (n_frames, len(CANONICAL_JOINTS)))
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS,
        timestamps_s=t,
        positions_m=pos,
        confidence=conf,
        metadata={"device_model": "synthetic", "side": "left"},
    )


def _seal(sequence: SkeletonSequence | None = None, **overrides) -> bytes:
    kwargs = {
        "recording_id": str(uuid.uuid4()),
        "device_id": str(uuid.uuid4()),
        "patient_id": str(uuid.uuid4()),
        "exercise": "knee_flexion",
        "server_public_key": SERVER_KEY.public_key(),
        "signing_key": DEVICE_KEY,
    }
    kwargs.update(overrides)
    return wire.seal(_sequence() if sequence is None else sequence, **kwargs)


def _open(data: bytes) -> tuple[wire.EnvelopeHeader, SkeletonSequence]:
    return wire.verify_and_open(
        data, device_public_key=DEVICE_KEY.public_key(), server_private_key=SERVER_KEY
    )


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def test_quantised_round_trip_is_within_half_a_grid_step() -> None:
    seq = _sequence()
    header, opened = _open(_seal(seq))
    assert header.exercise == "knee_flexion"
    assert header.payload_encoding == wire.ENCODING_QUANTISED_XZ  # the agent's default
    assert np.max(np.abs(opened.positions_m - seq.positions_m)) <= wire.POSITION_STEP_M / 2 + 1e-6
    assert np.max(np.abs(opened.confidence - seq.confidence)) <= 0.5 / 255 + 1e-6
    assert np.max(np.abs(opened.timestamps_s - seq.timestamps_s)) <= 0.5e-6
    assert np.array_equal(opened.source, seq.source)
    assert opened.metadata == seq.metadata
    assert opened.equals(wire.quantise(seq))


def test_quantisation_is_idempotent() -> None:
    once = wire.quantise(_sequence())
    assert wire.quantise(once).equals(once)


def test_exact_encoding_round_trips_bit_for_bit() -> None:
    seq = _sequence()
    _, opened = _open(_seal(seq, payload_encoding=wire.ENCODING_EXACT))
    assert opened.equals(seq)


def test_fresh_data_key_and_ephemeral_key_per_recording() -> None:
    seq = _sequence()
    same = {
        "recording_id": str(uuid.uuid4()),
        "device_id": str(uuid.uuid4()),
        "patient_id": str(uuid.uuid4()),
        "created_at": "2026-01-01T00:00:00Z",
    }
    a = wire.parse(_seal(seq, **same))
    b = wire.parse(_seal(seq, **same))
    assert a.header_bytes == b.header_bytes
    assert a.body[:32] != b.body[:32]  # ephemeral public key
    assert a.body != b.body


def test_header_is_canonical_json_with_every_field() -> None:
    env = wire.parse(_seal())
    assert env.header_bytes == wire.canonical_json(env.header.__dict__)
    assert set(env.header.__dict__) == {
        "schema_version",
        "recording_id",
        "device_id",
        "patient_id",
        "exercise",
        "created_at",
        "payload_encoding",
        "payload_bytes",
        "server_key_id",
        "signer_key_id",
    }


def test_tampered_ciphertext_is_detected_without_decrypting() -> None:
    data = _seal()
    # last byte of the body, just before digest and signature
    tampered = _flip(data, len(data) - 64 - 32 - 1)
    env = wire.parse(tampered)
    with pytest.raises(wire.TamperedCiphertextError):
        wire.verify(env, DEVICE_KEY.public_key())


def test_tampered_ciphertext_fails_decryption_even_without_the_signature_check() -> None:
    data = _seal()
    tampered = wire.parse(_flip(data, len(data) - 64 - 32 - 1))
    with pytest.raises(wire.TamperedCiphertextError):
        wire.open_sequence(tampered, SERVER_KEY)


def test_tampered_header_is_detected() -> None:
    data = _seal(exercise="knee_flexion")
    tampered = data.replace(b"knee_flexion", b"knee_flexiom", 1)
    with pytest.raises(wire.TamperedHeaderError):
        wire.verify(wire.parse(tampered), DEVICE_KEY.public_key())


def test_header_swapped_onto_other_body_fails_decryption() -> None:
    """AAD binding: even a reader skipping the signature cannot mix header and body."""
    a = wire.parse(_seal(exercise="knee_flexion"))
    b = wire.parse(_seal(exercise="hip_abduction"))
    franken = wire.Envelope(
        b.header, b.header_bytes, b.signed_prefix, a.body, a.body_sha256, a.signature, b""
    )
    with pytest.raises(wire.TamperedCiphertextError):
        wire.open_sequence(franken, SERVER_KEY)


def test_signature_by_another_key_is_wrong_signing_key() -> None:
    other = Ed25519PrivateKey.generate()
    data = _seal(signing_key=other)
    with pytest.raises(wire.WrongSigningKeyError):
        wire.verify(wire.parse(data), DEVICE_KEY.public_key())


def test_flipped_signature_bit_is_rejected() -> None:
    data = _seal()
    with pytest.raises(wire.BadSignatureError):
        wire.verify(wire.parse(_flip(data, len(data) - 1)), DEVICE_KEY.public_key())


def test_wrong_server_key_is_named() -> None:
    env = wire.parse(_seal())
    with pytest.raises(wire.WrongServerKeyError):
        wire.open_sequence(env, X25519PrivateKey.generate())


def test_wrong_schema_version_is_named() -> None:
    data = bytearray(_seal())
    struct.pack_into(">H", data, 4, 2)
    with pytest.raises(wire.UnsupportedSchemaVersionError):
        wire.parse(bytes(data))


def test_oversized_envelope_is_refused_before_parsing() -> None:
    with pytest.raises(wire.OversizedEnvelopeError):
        wire.parse(b"\0" * 1001, max_bytes=1000)


@pytest.mark.parametrize("cut", [0, 3, 9, 40, -97, -1])
def test_truncated_envelope_is_named_truncated(cut: int) -> None:
    data = _seal()
    with pytest.raises(wire.TruncatedEnvelopeError):
        wire.parse(data[:cut])


def test_padded_envelope_is_malformed() -> None:
    with pytest.raises(wire.MalformedEnvelopeError):
        wire.parse(_seal() + b"\0")


def test_bad_magic_is_malformed() -> None:
    with pytest.raises(wire.MalformedEnvelopeError, match="magic"):
        wire.parse(b"XXXX" + _seal()[4:])


def test_non_canonical_header_is_malformed() -> None:
    data = _seal()
    env = wire.parse(data)
    spaced = env.header_bytes.replace(b",", b", ")
    rebuilt = (
        struct.pack(">4sHI", wire.MAGIC, 1, len(spaced)) + spaced + data[len(env.signed_prefix) :]
    )
    with pytest.raises(wire.MalformedHeaderError, match="canonical"):
        wire.parse(rebuilt)


def test_header_with_missing_field_is_malformed() -> None:
    header = b'{"schema_version":1}'
    data = struct.pack(">4sHI", wire.MAGIC, 1, len(header)) + header + b"\0" * 300
    with pytest.raises(wire.MalformedHeaderError, match="missing"):
        wire.parse(data)


def test_zlib_and_xz_carry_the_same_quantised_skeleton() -> None:
    """Earlier agents' zlib envelopes still open; xz is the same payload, smaller on jitter."""
    seq = _sequence()
    zl = _seal(seq, payload_encoding=wire.ENCODING_QUANTISED)
    xz = _seal(seq, payload_encoding=wire.ENCODING_QUANTISED_XZ)
    (h_zl, a), (h_xz, b) = _open(zl), _open(xz)
    assert (h_zl.payload_encoding, h_xz.payload_encoding) == ("skeleton-q1+zlib", "skeleton-q1+xz")
    assert a.equals(b) and a.equals(wire.quantise(seq))
    assert len(xz) < len(zl)  # 1 cm jitter on every joint: LZMA's larger model wins


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        (wire.ENCODING_QUANTISED, zlib.compress),
        (wire.ENCODING_QUANTISED_XZ, lambda b: __import__("lzma").compress(b)),
    ],
)
def test_decompression_bomb_is_refused(encoding, compress) -> None:
    """A payload that inflates beyond its declared size never reaches the parser."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    seq = _sequence()
    rnd = wire._Randomness.fresh()
    data = _seal(seq, _randomness=rnd, payload_encoding=encoding)
    env = wire.parse(data)
    bomb = compress(b"\0" * (env.header.payload_bytes * 50))
    ciphertext = AESGCM(rnd.data_key).encrypt(rnd.payload_nonce, bomb, env.header_bytes)
    forged = wire.Envelope(
        env.header,
        env.header_bytes,
        env.signed_prefix,
        env.body[: 32 + 12 + 48 + 12] + ciphertext,
        b"",
        b"",
        b"",
    )
    with pytest.raises(wire.InvalidPayloadError, match="declared"):
        wire.open_sequence(forged, SERVER_KEY)


def test_xz_stream_that_is_not_xz_or_asks_for_too_much_memory_is_refused(monkeypatch) -> None:
    """The decoder's memory is bounded: a stream wanting a larger dictionary is refused.

    Preset 6 asks for an 8 MiB dictionary; with the bound lowered to 1 MiB the
    same stream must be refused (a real 64 MiB+ dictionary would need GBs to
    *compress* in a test).
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    seq = _sequence()
    rnd = wire._Randomness.fresh()
    env = wire.parse(_seal(seq, _randomness=rnd, payload_encoding=wire.ENCODING_QUANTISED_XZ))
    payload = wire.encode_payload(seq, wire.ENCODING_QUANTISED_XZ)

    def forged(compressed: bytes) -> wire.Envelope:
        ciphertext = AESGCM(rnd.data_key).encrypt(rnd.payload_nonce, compressed, env.header_bytes)
        return wire.Envelope(
            env.header, env.header_bytes, env.signed_prefix,
            env.body[: 32 + 12 + 48 + 12] + ciphertext, b"", b"", b"",
        )  # fmt: skip

    with pytest.raises(wire.InvalidPayloadError, match="does not decompress"):
        wire.open_sequence(forged(zlib.compress(payload)), SERVER_KEY)  # zlib bytes, xz label
    assert wire.open_sequence(forged(wire._compress(payload, "skeleton-q1+xz")), SERVER_KEY)
    monkeypatch.setattr(wire, "XZ_MEMLIMIT_BYTES", 1024 * 1024)
    with pytest.raises(wire.InvalidPayloadError, match="Memory usage limit"):
        wire.open_sequence(forged(wire._compress(payload, "skeleton-q1+xz")), SERVER_KEY)


def test_nan_skeleton_inside_valid_envelope_is_invalid_payload() -> None:
    """A device with a bug (or a forged payload) cannot get NaN past decoding."""
    seq = _sequence()
    payload = bytearray(seq.to_bytes())
    # overwrite the first position float with NaN, bypassing the sequence's validation
    header_len = struct.unpack_from("<I", payload, 6)[0]
    struct.pack_into("<f", payload, 10 + header_len + seq.n_frames * 8, float("nan"))
    with pytest.raises(wire.InvalidPayloadError, match="NaN"):
        wire.decode_payload(bytes(payload), wire.ENCODING_EXACT)


def test_garbage_quantised_payload_is_invalid_payload() -> None:
    with pytest.raises(wire.InvalidPayloadError):
        wire.decode_payload(b"TRSQ\x00\x01\x00\x00\x00\x02{}", wire.ENCODING_QUANTISED)


# -- privacy: only skeletons leave the device ---------------------------------------


def test_colour_frame_cannot_be_sealed() -> None:
    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    with pytest.raises(wire.PrivacyViolationError, match="SkeletonSequence"):
        _seal(frame)  # type: ignore[arg-type]


def test_raw_bytes_cannot_be_sealed() -> None:
    with pytest.raises(wire.PrivacyViolationError):
        _seal(b"\xff" * 1000)  # type: ignore[arg-type]


def test_depth_map_disguised_as_joints_cannot_be_sealed() -> None:
    """A 'skeleton' with one joint per depth pixel is refused by the joint set."""
    depth = np.random.default_rng(0).uniform(0.5, 4, (2, 64 * 48, 3))
    seq = SkeletonSequence.build(
        joint_names=[f"px{i}" for i in range(64 * 48)],
        timestamps_s=np.array([0.0, 0.033]),
        positions_m=depth,
    )
    with pytest.raises(wire.PrivacyViolationError, match="non-canonical"):
        _seal(seq)


def test_image_in_metadata_cannot_be_sealed() -> None:
    seq = _sequence()
    fat = seq.with_positions(
        seq.positions_m, metadata={"snapshot": np.zeros(64 * 64 * 3, dtype=int).tolist()}
    )
    with pytest.raises(wire.PrivacyViolationError, match="metadata"):
        _seal(fat)


def test_envelope_size_is_bounded_by_skeleton_size() -> None:
    """Whatever is sealed, the payload is never larger than J × 17 B per frame plus headers."""
    seq = _sequence(300)
    env = wire.parse(_seal(seq, payload_encoding=wire.ENCODING_EXACT))
    bound = wire.max_payload_bytes_for(seq.n_frames, seq.n_joints)
    assert env.header.payload_bytes <= bound
    assert len(env.raw) <= bound + 1024


def test_far_away_positions_are_unencodable() -> None:
    seq = _sequence()
    with pytest.raises(wire.UnencodableSkeletonError):
        _seal(seq.with_positions(seq.positions_m + 500.0))


def test_every_error_has_a_distinct_code() -> None:
    errors = [
        wire.MalformedEnvelopeError,
        wire.TruncatedEnvelopeError,
        wire.MalformedHeaderError,
        wire.OversizedEnvelopeError,
        wire.UnsupportedSchemaVersionError,
        wire.BadSignatureError,
        wire.WrongSigningKeyError,
        wire.TamperedHeaderError,
        wire.TamperedCiphertextError,
        wire.WrongServerKeyError,
        wire.InvalidPayloadError,
        wire.PrivacyViolationError,
        wire.UnencodableSkeletonError,
    ]
    codes = [e.code for e in errors]
    assert len(set(codes)) == len(codes)
