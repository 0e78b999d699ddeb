"""Gap filling, outlier rejection, zero-phase low-pass, bone-length consistency."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.conditioning import (
    CUTOFF_BOUNDS_HZ,
    MAX_GAP_S,
    _winter_cutoff,
    bone_lengths,
    condition,
)
from analysis.measures import compute_measure
from analysis.skeleton import JOINT_INDEX, JointSource
from analysis.synthetic import exercise_sequence

KNEE = JOINT_INDEX["right_knee"]


def _squat(noise_m: float = 0.0):
    return exercise_sequence(n_reps=3, peak_angles={"right_knee_flexion": 90.0, "right_hip_flexion": 60.0},
                             noise_m=noise_m)  # fmt: skip


def _drop(seq, joint: int, frames: slice):
    src, pos = seq.source.copy(), seq.positions_m.copy()
    src[frames, joint] = JointSource.MISSING
    pos[frames, joint] = 0.0
    return seq.with_positions(pos, source=src)


def test_short_gap_is_filled_and_marked_interpolated():
    seq = _squat()
    gap = slice(40, 46)  # 0.2 s at 30 Hz
    out, report = condition(_drop(seq, KNEE, gap))
    assert np.all(out.source[gap, KNEE] == JointSource.INTERPOLATED)
    assert np.all(out.confidence[gap, KNEE] < 1.0)
    assert report.filled_samples == 6
    np.testing.assert_allclose(out.positions_m[gap, KNEE], seq.positions_m[gap, KNEE], atol=0.02)


def test_long_gap_stays_missing():
    seq = _squat()
    n = int(MAX_GAP_S * 30) + 10
    out, _ = condition(_drop(seq, KNEE, slice(40, 40 + n)))
    assert np.all(out.source[40 : 40 + n, KNEE] == JointSource.MISSING)
    assert np.all(out.positions_m[40 : 40 + n, KNEE] == 0.0)
    assert np.isnan(compute_measure(out, "knee_flexion", "right")[45])


def test_bone_length_outlier_is_rejected_and_repaired():
    seq = _squat()
    pos = seq.positions_m.copy()
    pos[50, KNEE] += np.array([0.0, 0.3, 0.0], dtype=np.float32)  # 30 cm jump: a tracking glitch
    out, report = condition(seq.with_positions(pos))
    assert report.rejected_samples >= 1
    assert out.source[50, KNEE] == JointSource.INTERPOLATED
    true = compute_measure(seq, "knee_flexion", "right")[50]
    assert compute_measure(out, "knee_flexion", "right")[50] == pytest.approx(true, abs=3.0)


def test_low_pass_removes_jitter_without_shifting_peaks():
    clean = _squat()
    noisy = _squat(noise_m=0.01)
    out, report = condition(noisy)
    truth = compute_measure(clean, "knee_flexion", "right")
    raw_err = np.nanstd(compute_measure(noisy, "knee_flexion", "right") - truth)
    filt = compute_measure(out, "knee_flexion", "right")
    assert np.nanstd(filt - truth) < 0.5 * raw_err
    first_rep = slice(0, 120)  # 1 s rest + 3 s rep at 30 Hz; true peak at frame 75
    assert (
        abs(int(np.nanargmax(filt[first_rep])) - int(np.nanargmax(truth[first_rep]))) <= 1
    )  # no lag
    assert CUTOFF_BOUNDS_HZ[0] <= report.cutoff_hz <= CUTOFF_BOUNDS_HZ[1]


def test_winter_cutoff_follows_the_signal():
    fs = 100.0
    t = np.arange(2000) / fs
    rng = np.random.default_rng(0)
    slow = np.sin(2 * np.pi * 0.5 * t)[:, None] + rng.normal(0, 0.01, (2000, 3))
    fast = np.sin(2 * np.pi * 4.0 * t)[:, None] + rng.normal(0, 0.01, (2000, 3))
    assert _winter_cutoff(slow, fs) < _winter_cutoff(fast, fs)


def test_bone_lengths_are_constant_on_a_rigid_body():
    out, report = condition(_squat())
    lengths = bone_lengths(out)
    assert np.nanstd(lengths["right_hip-right_knee"]) < 1e-3
    assert report.bone_length_m["right_hip-right_knee"] == pytest.approx(0.43, abs=1e-3)
    assert report.bone_length_cv["right_knee-right_ankle"] < 0.01
