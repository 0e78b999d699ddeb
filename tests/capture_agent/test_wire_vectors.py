"""The committed test vectors still describe exactly what the code seals and opens."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from capture_agent import wire

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"
DATA = json.loads((VECTORS_DIR / "envelope_v1.json").read_text())
_spec = importlib.util.spec_from_file_location(
    "make_envelope_vectors", VECTORS_DIR / "make_envelope_vectors.py"
)
maker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(maker)

SERVER = X25519PrivateKey.from_private_bytes(bytes.fromhex(DATA["inputs"]["server_private_key"]))
DEVICE = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(DATA["inputs"]["device_private_key"]))


@pytest.mark.parametrize("vector", DATA["vectors"], ids=lambda v: v["encoding"])
def test_sealing_fixed_inputs_reproduces_committed_bytes(vector: dict) -> None:
    assert maker.seal_fixed(DATA["inputs"], vector["encoding"]).hex() == vector["envelope_hex"]


@pytest.mark.parametrize("vector", DATA["vectors"], ids=lambda v: v["encoding"])
def test_committed_envelope_opens_to_committed_sequence(vector: dict) -> None:
    header, seq = wire.verify_and_open(
        bytes.fromhex(vector["envelope_hex"]),
        device_public_key=DEVICE.public_key(),
        server_private_key=SERVER,
    )
    expected = maker.sequence_from(DATA["inputs"])
    assert header.recording_id == DATA["inputs"]["recording_id"]
    assert header.patient_id == DATA["inputs"]["patient_id"]
    assert seq.equals(wire.quantise(expected) if "q1" in vector["encoding"] else expected)


@pytest.mark.parametrize("case", DATA["negative"], ids=lambda c: c["name"])
def test_negative_vectors_fail_with_their_code(case: dict) -> None:
    with pytest.raises(wire.EnvelopeError) as info:
        wire.verify_and_open(
            bytes.fromhex(case["hex"]),
            device_public_key=DEVICE.public_key(),
            server_private_key=SERVER,
        )
    assert info.value.code == case["error"]
