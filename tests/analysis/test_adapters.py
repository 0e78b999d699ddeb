"""Device joint lists → canonical skeleton; what a device lacks is MISSING, not zero-but-valid."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.adapters import DEVICE_JOINTS, to_canonical
from analysis.errors import SkeletonValidationError
from analysis.skeleton import JOINT_INDEX, JointSource


def _positions(fmt: str, n: int = 3) -> np.ndarray:
    k = len(DEVICE_JOINTS[fmt])
    return np.arange(n * k * 3, dtype=np.float64).reshape(n, k, 3) / 100.0


@pytest.mark.parametrize("fmt", sorted(DEVICE_JOINTS))
def test_every_format_maps_named_joints(fmt):
    pos = _positions(fmt)
    seq = to_canonical(fmt, pos, np.arange(3) / 30.0)
    names = DEVICE_JOINTS[fmt]
    for canon, device in {
        "coco17": {"left_knee": "left_knee", "right_wrist": "right_wrist"},
        "blazepose33": {"left_heel": "left_heel", "right_toe": "right_foot_index"},
        "kinect_v2": {"spine_chest": "SpineShoulder", "left_toe": "FootLeft"},
        "uiprmd_kinect22": {"right_elbow": "right_forearm", "left_hip": "left_upper_leg"},
        "azure_kinect32": {"nose": "NOSE", "right_ankle": "ANKLE_RIGHT"},
    }[fmt].items():
        np.testing.assert_allclose(
            seq.positions_m[:, JOINT_INDEX[canon]], pos[:, names.index(device)], rtol=1e-6
        )
    assert seq.metadata["source_format"] == fmt


def test_lacking_joints_are_missing_with_zero_position_and_confidence():
    seq = to_canonical("coco17", _positions("coco17"), np.arange(3) / 30.0)
    for joint in ("left_toe", "neck", "spine_mid", "right_hand"):
        j = JOINT_INDEX[joint]
        assert np.all(seq.source[:, j] == JointSource.MISSING)
        assert np.all(seq.positions_m[:, j] == 0) and np.all(seq.confidence[:, j] == 0)
    assert not seq.has_joint("left_toe") and seq.has_joint("left_knee")


def test_derived_pelvis_is_hip_midpoint_with_weakest_confidence():
    pos = _positions("coco17")
    conf = np.ones((3, 17), dtype=np.float32)
    conf[:, 11] = 0.4
    seq = to_canonical("coco17", pos, np.arange(3) / 30.0, confidence=conf)
    np.testing.assert_allclose(seq.joint("pelvis"), (pos[:, 11] + pos[:, 12]) / 2, rtol=1e-6)
    assert np.allclose(seq.confidence[:, JOINT_INDEX["pelvis"]], 0.4)


def test_zero_confidence_frames_become_missing():
    conf = np.ones((3, 32), dtype=np.float32)
    conf[1, DEVICE_JOINTS["azure_kinect32"].index("KNEE_LEFT")] = 0.0
    seq = to_canonical("azure_kinect32", _positions("azure_kinect32") * 1000, np.arange(3) / 30.0,
                       confidence=conf, scale_to_m=0.001)  # fmt: skip
    j = JOINT_INDEX["left_knee"]
    assert seq.source[1, j] == JointSource.MISSING and seq.source[0, j] == JointSource.DEPTH
    assert np.allclose(seq.positions_m[1, j], 0.0)


def test_lifted_source_propagates():
    seq = to_canonical(
        "blazepose33", _positions("blazepose33"), np.arange(3) / 30.0, source=JointSource.LIFTED
    )
    assert np.all(seq.source[:, JOINT_INDEX["left_knee"]] == JointSource.LIFTED)


def test_wrong_shape_and_unknown_format_are_rejected():
    with pytest.raises(SkeletonValidationError, match=r"\(T, 17, 3\)"):
        to_canonical("coco17", np.zeros((3, 18, 3)), np.arange(3) / 30.0)
    with pytest.raises(SkeletonValidationError, match="unknown skeleton format"):
        to_canonical("openpose25", np.zeros((3, 25, 3)), np.arange(3) / 30.0)
    with pytest.raises(SkeletonValidationError, match="confidence"):
        to_canonical(
            "coco17", np.zeros((3, 17, 3)), np.arange(3) / 30.0, confidence=np.ones((3, 5))
        )
