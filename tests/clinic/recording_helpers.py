"""Builders for device, envelope and skeleton test data of the recording pipeline."""

from __future__ import annotations

import base64
import uuid

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from analysis import CANONICAL_JOINTS, SkeletonSequence
from capture_agent import wire

# A standing adult in the camera frame (x right, y down, z forward), metres from the pelvis.
_STANDING_XY: dict[str, tuple[float, float, float]] = {
    "pelvis": (0.0, 0.0, 0.0),
    "spine_mid": (0.0, -0.2, 0.0),
    "spine_chest": (0.0, -0.4, 0.0),
    "neck": (0.0, -0.55, 0.0),
    "head": (0.0, -0.72, 0.0),
    "nose": (0.0, -0.68, -0.1),
    "left_shoulder": (-0.2, -0.5, 0.0),
    "left_elbow": (-0.22, -0.22, 0.0),
    "left_wrist": (-0.23, 0.03, 0.0),
    "left_hand": (-0.23, 0.1, 0.0),
    "right_shoulder": (0.2, -0.5, 0.0),
    "right_elbow": (0.22, -0.22, 0.0),
    "right_wrist": (0.23, 0.03, 0.0),
    "right_hand": (0.23, 0.1, 0.0),
    "left_hip": (-0.1, 0.0, 0.0),
    "left_knee": (-0.1, 0.45, 0.0),
    "left_ankle": (-0.1, 0.88, 0.0),
    "left_heel": (-0.1, 0.93, 0.05),
    "left_toe": (-0.1, 0.93, -0.15),
    "right_hip": (0.1, 0.0, 0.0),
    "right_knee": (0.1, 0.45, 0.0),
    "right_ankle": (0.1, 0.88, 0.0),
    "right_heel": (0.1, 0.93, 0.05),
    "right_toe": (0.1, 0.93, -0.15),
}


def knee_flexion_session(
    *,
    duration_s: float = 12.0,
    fps: float = 30.0,
    peak_deg: float = 90.0,
    period_s: float = 3.0,
    noise_m: float = 0.002,
    seed: int = 0,
    side: str = "right",
) -> SkeletonSequence:
    """Seated-style knee flexion repetitions of one leg, with sensor-like noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration_s * fps)) / fps
    base = np.array([_STANDING_XY[j] for j in CANONICAL_JOINTS]) + [0.0, 0.0, 2.5]
    pos = np.repeat(base[None], t.size, axis=0)
    theta = np.radians(peak_deg / 2 * (1 - np.cos(2 * np.pi * t / period_s)))
    k = CANONICAL_JOINTS.index(f"{side}_knee")
    shank = np.stack([np.zeros_like(theta), np.cos(theta), np.sin(theta)], axis=1) * 0.43
    ankle = pos[:, k] + shank
    for name, offset in (
        ("ankle", (0, 0, 0)),
        ("heel", (0, 0.05, 0.05)),
        ("toe", (0, 0.05, -0.15)),
    ):
        j = CANONICAL_JOINTS.index(f"{side}_{name}")
        pos[:, j] = ankle + np.asarray(offset)
    pos += rng.normal(0.0, noise_m, pos.shape)
    conf = np.clip(rng.normal(0.9, 0.03, pos.shape[:2]), 0, 1)
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS,
        timestamps_s=t,
        positions_m=pos,
        confidence=conf,
        metadata={"device_model": "test-synthetic", "side": side, "exercise": "knee_flexion"},
    )


def device_create(*, patient, signing_key: Ed25519PrivateKey | None = None):
    """A paired device row for ``patient`` with a fresh (or given) key; returns (device, key)."""
    from django.utils import timezone

    from clinic.devices.models import Device

    key = signing_key or Ed25519PrivateKey.generate()
    device = Device.objects.create(
        patient=patient,
        label="test device",
        signing_public_key=wire.public_key_bytes(key.public_key()),
        encryption_public_key=wire.public_key_bytes(X25519PrivateKey.generate().public_key()),
        signing_key_id=wire.key_id(key.public_key()),
        paired_at=timezone.now(),
    )
    return device, key


def server_public_key():
    from clinic.keys.keyring import transport_keys

    return transport_keys().current.public_key()


def envelope_for(
    device, key: Ed25519PrivateKey, sequence: SkeletonSequence | None = None, **overrides
) -> bytes:
    kwargs = {
        "recording_id": str(uuid.uuid4()),
        "device_id": str(device.id),
        "patient_id": str(device.patient_id),
        "exercise": "knee_flexion",
        "server_public_key": server_public_key(),
        "signing_key": key,
    }
    kwargs.update(overrides)
    return wire.seal(sequence or knee_flexion_session(duration_s=6.0), **kwargs)


def envelope_from_payload(device, key: Ed25519PrivateKey, payload: bytes, encoding: str) -> bytes:
    """Seal raw payload bytes, bypassing the agent's checks: what a buggy or hostile device sends."""
    return wire._seal_payload(
        payload,
        recording_id=str(uuid.uuid4()),
        device_id=str(device.id),
        patient_id=str(device.patient_id),
        exercise="knee_flexion",
        created_at=None,
        payload_encoding=encoding,
        server_public_key=server_public_key(),
        signing_key=key,
        randomness=None,
    )


def public_keys_b64() -> tuple[Ed25519PrivateKey, dict[str, str]]:
    key = Ed25519PrivateKey.generate()
    return key, {
        "signing_public_key": base64.b64encode(wire.public_key_bytes(key.public_key())).decode(),
        "encryption_public_key": base64.b64encode(
            wire.public_key_bytes(X25519PrivateKey.generate().public_key())
        ).decode(),
    }
