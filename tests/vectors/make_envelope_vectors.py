"""Regenerate tests/vectors/envelope_v1.json (run only when the format version changes).

Fixed keys and fixed randomness make the envelope bytes deterministic, so another
implementation (or a future refactor) can prove it speaks exactly this format.

    python tests/vectors/make_envelope_vectors.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from analysis import CANONICAL_JOINTS, SkeletonSequence  # noqa: E402
from capture_agent import wire  # noqa: E402

OUT = Path(__file__).with_name("envelope_v1.json")


def _seed(label: str) -> bytes:
    return hashlib.sha256(b"telerehab test vector " + label.encode()).digest()


def fixed_inputs() -> dict:
    """Everything sealing needs, derived from labels so anyone can recompute it."""
    n_frames, n_joints = 4, len(CANONICAL_JOINTS)
    grid = np.arange(n_frames * n_joints * 3, dtype=np.float64).reshape(n_frames, n_joints, 3)
    return {
        "server_private_key": _seed("server").hex(),
        "device_private_key": _seed("device").hex(),
        "ephemeral_private_key": _seed("ephemeral").hex(),
        "data_key": _seed("data key").hex(),
        "payload_nonce": _seed("payload nonce")[:12].hex(),
        "wrap_nonce": _seed("wrap nonce")[:12].hex(),
        "recording_id": "0b6c1d7e-3f4a-4c55-8e21-6a7b8c9d0e1f",
        "device_id": "5a1e2b3c-4d5e-4f60-8172-93a4b5c6d7e8",
        "patient_id": "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        "exercise": "knee_flexion",
        "created_at": "2026-11-22T08:30:00.000000Z",
        "sequence": {
            "joint_names": list(CANONICAL_JOINTS),
            "timestamps_s": [i / 30 for i in range(n_frames)],
            "positions_m": (0.5 + grid * 1e-3).round(4).tolist(),
            "confidence": np.full((n_frames, n_joints), 0.8).tolist(),
            "metadata": {"device_model": "test-vector", "side": "left"},
        },
    }


def sequence_from(inputs: dict) -> SkeletonSequence:
    s = inputs["sequence"]
    return SkeletonSequence.build(
        joint_names=s["joint_names"],
        timestamps_s=np.array(s["timestamps_s"]),
        positions_m=np.array(s["positions_m"]),
        confidence=np.array(s["confidence"]),
        metadata=s["metadata"],
    )


def seal_fixed(inputs: dict, encoding: str) -> bytes:
    rnd = wire._Randomness(
        data_key=bytes.fromhex(inputs["data_key"]),
        payload_nonce=bytes.fromhex(inputs["payload_nonce"]),
        wrap_nonce=bytes.fromhex(inputs["wrap_nonce"]),
        ephemeral_key=X25519PrivateKey.from_private_bytes(
            bytes.fromhex(inputs["ephemeral_private_key"])
        ),
    )
    server = X25519PrivateKey.from_private_bytes(bytes.fromhex(inputs["server_private_key"]))
    device = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(inputs["device_private_key"]))
    return wire.seal(
        sequence_from(inputs),
        recording_id=inputs["recording_id"],
        device_id=inputs["device_id"],
        patient_id=inputs["patient_id"],
        exercise=inputs["exercise"],
        created_at=inputs["created_at"],
        server_public_key=server.public_key(),
        signing_key=device,
        payload_encoding=encoding,
        _randomness=rnd,
    )


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


def build() -> dict:
    inputs = fixed_inputs()
    vectors = []
    for encoding in wire.PAYLOAD_ENCODINGS:
        data = seal_fixed(inputs, encoding)
        vectors.append({"encoding": encoding, "envelope_hex": data.hex()})
    good = bytes.fromhex(vectors[0]["envelope_hex"])
    header_at = good.index(b'"exercise":"') + len('"exercise":"')
    negative = [
        {
            "name": "tampered header",
            "error": "tampered_header",
            "hex": _flip(good, header_at).hex(),
        },
        {
            "name": "tampered ciphertext",
            "error": "tampered_ciphertext",
            "hex": _flip(good, len(good) - 64 - 32 - 1).hex(),
        },
        {
            "name": "bad signature",
            "error": "tampered_header",
            "hex": _flip(good, len(good) - 1).hex(),
        },
        {"name": "truncated", "error": "truncated_envelope", "hex": good[:-10].hex()},
        {
            "name": "schema version 2",
            "error": "unsupported_schema_version",
            "hex": (good[:4] + b"\x00\x02" + good[6:]).hex(),
        },
    ]
    return {
        "format": "telerehab envelope",
        "schema_version": wire.SCHEMA_VERSION,
        "inputs": inputs,
        "vectors": vectors,
        "negative": negative,
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), indent=1) + "\n")
    print(f"wrote {OUT}")
