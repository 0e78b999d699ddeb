"""Which UI-PRMD repetitions the validation compares, and on which side.

The two systems were segmented separately and UI-PRMD does not record which
side a subject exercised; these tests pin the angle-free checks that keep a
pair honest (same movement window, exercised side from the reference).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.skeleton import CANONICAL_JOINTS, JointSource, SkeletonSequence
from analysis.validate.uiprmd import (
    collect_pairs,
    same_movement,
    vertical_excursions_m,
    vicon_angle_check,
)
from tests.analysis.conftest import needs_uiprmd, uiprmd_subset


def _vertical_sequence(heights_m: np.ndarray) -> SkeletonSequence:
    """Every joint at the same spot, the pelvis moving vertically (y up) as given."""
    pos = np.zeros((heights_m.size, len(CANONICAL_JOINTS), 3), dtype=np.float32)
    pos[:, :, 1] = 1.0
    pos[:, CANONICAL_JOINTS.index("pelvis"), 1] = heights_m
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS,
        timestamps_s=np.arange(heights_m.size) / 30.0,
        positions_m=pos,
        metadata={"up_axis": [0.0, 1.0, 0.0]},
    )


def test_vertical_excursion_is_robust_to_a_spike_and_skips_missing_frames():
    h = 1.0 - 0.5 * np.sin(np.linspace(0, np.pi, 100))  # a 50 cm squat
    h[40] = -3.0  # one wild frame
    seq = _vertical_sequence(h)
    exc = vertical_excursions_m(seq)
    assert exc["pelvis"] == pytest.approx(0.5, abs=0.02)
    assert set(exc) == {"pelvis"}  # a limb label a depth sensor may swap is not used
    src = seq.source.copy()
    src[:, CANONICAL_JOINTS.index("pelvis")] = JointSource.MISSING
    assert "pelvis" not in vertical_excursions_m(seq.with_positions(seq.positions_m, source=src))


def test_same_movement_compares_the_reference_joint_that_moves_most():
    ref = {"pelvis": 0.46, "left_wrist": 0.30}  # any joints the caller measured
    assert same_movement({"pelvis": 0.56, "left_wrist": 0.1}, ref) is None
    why = same_movement({"pelvis": 0.55, "left_wrist": 0.3}, {"pelvis": 0.12, "left_wrist": 0.05})
    assert why is not None and "pelvis" in why and "55 cm" in why
    assert same_movement({"pelvis": 0.03}, {"pelvis": 0.01}) is None  # nothing moves: not judged
    # side lunges: Kinect's waist drops up to ~2.3x Vicon's hip centres in matched windows
    assert same_movement({"pelvis": 0.23}, {"pelvis": 0.10}) is None
    assert same_movement({"pelvis": 0.2}, {"pelvis": 0.5}) is None
    assert same_movement({"left_knee": 0.3}, {"pelvis": 0.5}) is None  # nothing in common


@needs_uiprmd
def test_mismatched_movement_window_is_excluded_before_angles(tmp_path: Path):
    # m01_s01_e10_inc: durations within 25 % (3.77 s vs 4.62 s) but the Vicon file holds
    # a 12 cm dip and the Kinect file a 55 cm squat; m01_s01_e03 is a matched pair
    root = uiprmd_subset(tmp_path / "ui-prmd", ["m01_s01_e10_inc", "m01_s01_e03"])
    pairs, skipped = collect_pairs(root)
    assert [s.split(":")[0] for s in skipped] == ["m01_s01_e10_inc"]
    assert "not the same movement window" in skipped[0]
    assert {(p.subject, p.episode, p.correct) for p in pairs} == {(1, 3, True)}


@needs_uiprmd
def test_primary_side_is_the_side_the_subject_exercised(tmp_path: Path):
    # s02 did the hurdle step with the left leg, s04 with the right
    root = uiprmd_subset(
        tmp_path / "ui-prmd", ["m02_s02_e01", "m02_s02_e02", "m02_s04_e01", "m02_s04_e02"]
    )
    pairs, _ = collect_pairs(root)
    primary = {(p.subject, p.measure, p.side) for p in pairs if p.primary}
    assert primary == {
        (2, "hip_flexion", "left"),
        (2, "knee_flexion", "left"),
        (4, "hip_flexion", "right"),
        (4, "knee_flexion", "right"),
    }
    lifted = [p for p in pairs if p.subject == 2 and p.primary and p.measure == "hip_flexion"]
    assert all(p.r_peak > 60.0 for p in lifted)


@needs_uiprmd
def test_reference_knee_agrees_with_vicons_own_angles(tmp_path: Path):
    root = uiprmd_subset(tmp_path / "ui-prmd", ["m01_s01_e01", "m01_s01_e02"], vicon_angles=True)
    check = vicon_angle_check(root)
    assert check is not None and check["left"]["n"] == 2
    for side in ("left", "right"):
        assert check[side]["median_r"] > 0.99
        assert abs(check[side]["peak_bias_deg"]) < 5.0
    assert vicon_angle_check(uiprmd_subset(tmp_path / "b" / "ui-prmd", ["m01_s01_e03"])) is None


@needs_uiprmd
def test_measure_seen_on_part_of_the_repetition_is_not_compared(tmp_path: Path):
    # m02_s05_e02: Vicon lost STRN for the first 94 % of the file, so the reference thorax
    # (and every measure using the trunk line) exists on 6 % of the frames; the knee is intact
    root = uiprmd_subset(tmp_path / "ui-prmd", ["m02_s05_e02", "m02_s05_e03"])
    pairs, skipped = collect_pairs(root)
    seen = {(p.episode, p.measure, p.side) for p in pairs}
    assert (2, "knee_flexion", "right") in seen and (3, "hip_flexion", "right") in seen
    assert not any(ep == 2 and m in ("hip_flexion", "trunk_flexion") for ep, m, _ in seen)
    assert any(s.startswith("m02_s05_e02 hip_flexion right: observed on 6 %") for s in skipped)
