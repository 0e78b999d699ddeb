"""analyse_session end to end on synthetic sessions with known reps and angles."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.calibration import CalibrationModel, LinearCorrection
from analysis.errors import ImplausibleSkeletonError
from analysis.exercises import EXERCISES, UnknownExerciseError, get_exercise
from analysis.measures import MEASURES
from analysis.normative import AAOS_NORMATIVE
from analysis.pipeline import analyse_session
from analysis.skeleton import JointSource
from analysis.synthetic import exercise_sequence


def _squat(**kw):
    peaks = {
        f"{s}_{m}": v
        for s in ("left", "right")
        for m, v in (("knee_flexion", 100.0), ("hip_flexion", 70.0))
    }
    return exercise_sequence(n_reps=4, peak_angles=peaks, **kw)


def test_squat_reps_rom_and_json():
    result = analyse_session(_squat(noise_m=0.004), exercise="deep_squat")
    assert result.rep_count == 4
    knee = result.result("knee_flexion", "right")
    assert knee.primary and knee.rep_count == 4 and len(knee.reps) == 4
    for rep in knee.reps:
        assert rep.rom.value_deg == pytest.approx(100.0, abs=3.0)
        assert rep.peak.value_deg == pytest.approx(100.0, abs=3.0)
    assert knee.tempo["mean_rep_s"] == pytest.approx(3.0, abs=0.5)
    hip = result.result("hip_flexion", "left")
    assert hip.session_rom.value_deg == pytest.approx(70.0, abs=3.0)
    assert knee.normative_deg == (0.0, 135.0)
    json.dumps(result.to_dict())  # the server stores it as JSON


def test_uncertainty_grows_with_worse_data_and_is_flagged():
    depth = analyse_session(_squat(noise_m=0.002), exercise="deep_squat").result(
        "knee_flexion", "right"
    )
    lifted = analyse_session(
        _squat(noise_m=0.02, source=JointSource.LIFTED), exercise="deep_squat"
    ).result("knee_flexion", "right")
    assert lifted.session_rom.uncertainty_deg > depth.session_rom.uncertainty_deg
    assert lifted.session_rom.flagged
    assert lifted.session_rom.flagged == (lifted.session_rom.uncertainty_deg > 5.0)


def test_unilateral_side_override_and_unavailable_measures():
    seq = exercise_sequence(n_reps=3, peak_angles={"left_shoulder_abduction": 150.0})
    src = seq.source.copy()
    src[:, :] = np.where(np.arange(src.shape[1]) == 18, JointSource.MISSING, src)  # no left toe
    res = analyse_session(
        seq.with_positions(seq.positions_m, source=src),
        exercise="standing_shoulder_abduction",
        side="left",
    )
    abd = res.result("shoulder_abduction", "left")
    assert abd.primary and abd.rep_count == 3
    assert abd.session_rom.value_deg == pytest.approx(150.0, abs=3.0)
    assert not res.result("shoulder_abduction", "right").primary


def test_calibration_is_applied_per_frame_and_scales_uncertainty():
    seq = _squat()
    model = CalibrationModel("test", {"knee_flexion": LinearCorrection(5.0, 0.9)}, 1.0)
    plain = analyse_session(seq, exercise="deep_squat", calibration=CalibrationModel("identity"))
    corrected = analyse_session(seq, exercise="deep_squat", calibration=model)
    a, b = plain.result("knee_flexion", "left"), corrected.result("knee_flexion", "left")
    assert b.session_peak.value_deg == pytest.approx(5.0 + 0.9 * a.session_peak.value_deg, abs=0.02)
    assert b.session_rom.value_deg == pytest.approx(0.9 * a.session_rom.value_deg, abs=0.02)
    assert corrected.quality["calibration"] == "test"


def test_rejections_are_specific():
    with pytest.raises(UnknownExerciseError, match="deep_squat"):
        analyse_session(_squat(), exercise="juggling")
    seq = _squat()
    with pytest.raises(ImplausibleSkeletonError):
        analyse_session(seq.with_positions(seq.positions_m * 100.0), exercise="deep_squat")


def test_catalogue_and_normative_table_are_consistent():
    assert len(EXERCISES) == 10
    assert sorted(e.uiprmd_id for e in EXERCISES.values()) == list(range(1, 11))
    for e in EXERCISES.values():
        assert set(e.primary + e.secondary) <= set(MEASURES)
    assert set(AAOS_NORMATIVE) == set(MEASURES)
    assert get_exercise("deep_squat").driver == "knee_flexion"
