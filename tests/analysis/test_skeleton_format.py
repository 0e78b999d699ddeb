"""SkeletonSequence: exact round trip, and every malformed input rejected by name."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from analysis.errors import ImplausibleSkeletonError, SkeletonFormatError, SkeletonValidationError
from analysis.quality import check_plausible
from analysis.skeleton import CANONICAL_JOINTS, JointSource, SkeletonSequence
from analysis.synthetic import exercise_sequence


def _seq() -> SkeletonSequence:
    seq = exercise_sequence(n_reps=1, peak_angles={"right_knee_flexion": 80.0}, noise_m=0.003)
    conf = np.random.default_rng(1).uniform(0, 1, seq.confidence.shape).astype(np.float32)
    src = np.random.default_rng(2).integers(0, 5, seq.source.shape).astype(np.uint8)
    return seq.with_positions(
        seq.positions_m, confidence=conf, source=src, metadata={"device": "x", "k": [1, 2.5]}
    )


def test_round_trip_is_bit_exact():
    seq = _seq()
    back = SkeletonSequence.from_bytes(seq.to_bytes())
    assert back.equals(seq)
    assert back.positions_m.dtype == np.float32 and back.source.dtype == np.uint8


def test_equals_detects_a_one_ulp_change():
    seq = _seq()
    pos = seq.positions_m.copy()
    pos[3, 4, 1] = np.nextafter(pos[3, 4, 1], np.float32(10))
    assert not seq.with_positions(pos).equals(seq)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b[:5], "shorter than its header"),
        (lambda b: b"XXXX" + b[4:], "bad magic"),
        (lambda b: b[:4] + struct.pack("<H", 99) + b[6:], "version 99"),
        (lambda b: b[:-1], "expected"),
        (lambda b: b + b"\0", "expected"),
        (lambda b: b[:6] + struct.pack("<I", 10**9) + b[10:], "exceeds the payload"),
    ],
)
def test_malformed_bytes_are_rejected(mutate, message):
    with pytest.raises(SkeletonFormatError, match=message):
        SkeletonSequence.from_bytes(mutate(_seq().to_bytes()))


def test_garbled_header_json_is_rejected():
    data = bytearray(_seq().to_bytes())
    data[10] = ord("!")
    with pytest.raises(SkeletonFormatError, match="header is malformed"):
        SkeletonSequence.from_bytes(bytes(data))


def test_nan_inside_a_payload_is_a_format_error():
    seq = _seq()
    header_len = struct.unpack_from("<I", seq.to_bytes(), 6)[0]
    data = bytearray(seq.to_bytes())
    offset = 10 + header_len + seq.n_frames * 8
    data[offset : offset + 4] = np.float32(np.nan).tobytes()
    with pytest.raises(SkeletonFormatError, match="NaN"):
        SkeletonSequence.from_bytes(bytes(data))


def _build(**over):
    t = np.arange(4) / 30.0
    kw = {
        "joint_names": CANONICAL_JOINTS,
        "timestamps_s": t,
        "positions_m": np.zeros((4, len(CANONICAL_JOINTS), 3)),
    }
    kw.update(over)
    return SkeletonSequence.build(**kw)


@pytest.mark.parametrize(
    "over, message",
    [
        ({"positions_m": np.full((4, 24, 3), np.nan)}, "NaN"),
        ({"positions_m": np.zeros((4, 23, 3))}, "shape"),
        ({"timestamps_s": np.array([0.0, 0.1, 0.1, 0.2])}, "strictly increasing"),
        ({"timestamps_s": np.array([0.0, 0.2, 0.1, 0.3])}, "strictly increasing"),
        ({"timestamps_s": np.array([0.0, np.inf, 0.1, 0.3])}, "NaN or infinity"),
        ({"confidence": np.full((4, 24), 1.5)}, "confidence"),
        ({"source": np.full((4, 24), 9)}, "joint-source"),
        ({"joint_names": ("a",) * 24}, "unique"),
    ],
)
def test_structural_validation(over, message):
    with pytest.raises(SkeletonValidationError, match=message):
        _build(**over)


def test_absurd_bone_lengths_are_implausible():
    seq = exercise_sequence(n_reps=1, peak_angles={"right_knee_flexion": 60.0})
    check_plausible(seq)  # a real adult passes
    in_mm = seq.with_positions(seq.positions_m * 1000.0)
    with pytest.raises(ImplausibleSkeletonError, match="check units"):
        check_plausible(in_mm)
    assert issubclass(ImplausibleSkeletonError, SkeletonValidationError)


def test_metadata_survives_as_json():
    seq = _seq()
    back = SkeletonSequence.from_bytes(seq.to_bytes())
    assert json.dumps(back.metadata) == json.dumps(seq.metadata)
    assert back.source.max() <= max(JointSource)
