"""Each clinical measure on synthetic skeletons with known angles, in a turned camera frame."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.errors import MeasureUnavailableError
from analysis.measures import MEASURES, compute_measure
from analysis.skeleton import JOINT_INDEX, JointSource
from tests.analysis.conftest import pose_sequence

CASES = [
    # (pose key, value, measure, expected)
    ("right_knee_flexion", 0.0, "knee_flexion", 0.0),
    ("right_knee_flexion", 90.0, "knee_flexion", 90.0),
    ("right_knee_flexion", 140.0, "knee_flexion", 140.0),
    ("right_hip_flexion", 0.0, "hip_flexion", 0.0),
    ("right_hip_flexion", 90.0, "hip_flexion", 90.0),
    ("right_hip_flexion", -20.0, "hip_flexion", -20.0),
    ("right_hip_abduction", 35.0, "hip_abduction", 35.0),
    ("right_shoulder_flexion", 90.0, "shoulder_flexion", 90.0),
    ("right_shoulder_flexion", 180.0, "shoulder_flexion", 180.0),
    ("right_shoulder_flexion", 200.0, "shoulder_flexion", 200.0),  # past overhead: no wrap
    ("right_shoulder_flexion", -50.0, "shoulder_extension", 50.0),
    # past horizontal behind the trunk (incorrect UI-PRMD extensions reach it): no wrap to -260°
    ("right_shoulder_flexion", -100.0, "shoulder_extension", 100.0),
    ("right_shoulder_flexion", -130.0, "shoulder_flexion", -130.0),
    ("right_shoulder_flexion", 220.0, "shoulder_flexion", 220.0),
    ("right_shoulder_abduction", 90.0, "shoulder_abduction", 90.0),
    ("right_shoulder_abduction", 180.0, "shoulder_abduction", 180.0),
    ("right_elbow_flexion", 0.0, "elbow_flexion", 0.0),
    ("right_elbow_flexion", 145.0, "elbow_flexion", 145.0),
    ("right_ankle_dorsiflexion", 15.0, "ankle_dorsiflexion", 15.0),
    ("right_ankle_dorsiflexion", -40.0, "ankle_dorsiflexion", -40.0),
    ("trunk_flexion", 45.0, "trunk_flexion", 45.0),
    ("trunk_lateral_flexion", 20.0, "trunk_lateral_flexion", 20.0),
]


@pytest.mark.parametrize("yaw", [0.0, 40.0, -75.0])
@pytest.mark.parametrize("key, value, measure, expected", CASES)
def test_known_angle(key, value, measure, expected, yaw):
    seq = pose_sequence({key: value}, yaw_deg=yaw)
    side = None if measure == "trunk_flexion" else "right"
    assert compute_measure(seq, measure, side)[0] == pytest.approx(expected, abs=1e-3)


def test_left_and_right_are_independent_and_signed_per_side():
    seq = pose_sequence({"left_shoulder_abduction": 60.0, "right_hip_abduction": 25.0})
    assert compute_measure(seq, "shoulder_abduction", "left")[0] == pytest.approx(60.0, abs=1e-3)
    assert compute_measure(seq, "shoulder_abduction", "right")[0] == pytest.approx(0.0, abs=1e-3)
    assert compute_measure(seq, "hip_abduction", "right")[0] == pytest.approx(25.0, abs=1e-3)
    bent = pose_sequence({"trunk_lateral_flexion": 15.0})
    assert compute_measure(bent, "trunk_lateral_flexion", "left")[0] == pytest.approx(
        -15.0, abs=1e-3
    )


def test_abduction_is_planar_not_the_raw_3d_angle():
    # arm raised straight forwards: 90° from the trunk in 3D, but no abduction at all
    seq = pose_sequence({"right_shoulder_flexion": 60.0})
    assert compute_measure(seq, "shoulder_abduction", "right")[0] == pytest.approx(0.0, abs=1e-3)


def test_gimbal_like_pose_is_undefined_not_noise():
    # arm straight out sideways: its sagittal-plane projection vanishes
    seq = pose_sequence({"right_shoulder_abduction": 90.0})
    assert np.isnan(compute_measure(seq, "shoulder_flexion", "right")[0])
    assert compute_measure(seq, "shoulder_abduction", "right")[0] == pytest.approx(90.0, abs=1e-3)


def test_gravity_direction_comes_from_metadata():
    seq = pose_sequence({"trunk_flexion": 30.0})
    # the same positions read in a frame whose "up" is +y (as UI-PRMD's Kinect) lean the other way
    flipped = seq.with_positions(seq.positions_m, metadata={"up_axis": [0.0, 1.0, 0.0]})
    assert compute_measure(seq, "trunk_flexion")[0] == pytest.approx(30.0, abs=1e-3)
    assert abs(compute_measure(flipped, "trunk_flexion")[0]) > 90.0


def test_missing_joint_in_some_frames_gives_nan_there_only():
    seq = pose_sequence({"right_knee_flexion": np.array([10.0, 20.0, 30.0])}, n_frames=3)
    src = seq.source.copy()
    src[1, JOINT_INDEX["right_ankle"]] = JointSource.MISSING
    out = compute_measure(seq.with_positions(seq.positions_m, source=src), "knee_flexion", "right")
    assert out[0] == pytest.approx(10.0, abs=1e-3) and np.isnan(out[1])
    assert out[2] == pytest.approx(30.0, abs=1e-3)


def test_joint_never_observed_raises_by_name():
    seq = pose_sequence({})
    src = seq.source.copy()
    src[:, JOINT_INDEX["right_toe"]] = JointSource.MISSING
    with pytest.raises(MeasureUnavailableError, match="right_toe"):
        compute_measure(
            seq.with_positions(seq.positions_m, source=src), "ankle_dorsiflexion", "right"
        )


def test_unknown_measure_and_bad_side_are_rejected():
    seq = pose_sequence({})
    with pytest.raises(MeasureUnavailableError, match="unknown measure"):
        compute_measure(seq, "wrist_flexion", "right")
    with pytest.raises(MeasureUnavailableError, match="side"):
        compute_measure(seq, "knee_flexion", None)


def test_every_measure_documents_its_convention():
    for m in MEASURES.values():
        doc = m.function.__doc__ or ""
        assert "0°" in doc and "positive" in doc.lower(), m.name


def test_vectorised_over_frames():
    knee = np.linspace(0, 120, 500)
    seq = pose_sequence({"left_knee_flexion": knee}, n_frames=500, yaw_deg=20.0)
    np.testing.assert_allclose(compute_measure(seq, "knee_flexion", "left"), knee, atol=1e-3)


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("abducted", [0.0, 90.0])
@pytest.mark.parametrize("rotation", [-60.0, 0.0, 45.0, 90.0])
def test_shoulder_external_rotation_in_90_90_and_at_the_side(side, abducted, rotation):
    angles = {f"{side}_elbow_flexion": 90.0, f"{side}_shoulder_external_rotation": rotation}
    if abducted:
        angles[f"{side}_shoulder_abduction"] = abducted
    seq = pose_sequence(angles, yaw_deg=30.0)
    assert compute_measure(seq, "shoulder_external_rotation", side)[0] == pytest.approx(
        rotation, abs=1e-3
    )


def test_shoulder_rotation_is_undefined_with_a_straight_elbow():
    seq = pose_sequence({"right_elbow_flexion": 10.0, "right_shoulder_abduction": 90.0})
    assert np.isnan(compute_measure(seq, "shoulder_external_rotation", "right")[0])
