"""Real reference data: UI-PRMD loaders, Vicon joint centres, the C3D reader, the harness."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analysis.c3d import C3DFormatError, read_c3d
from analysis.datasets import uiprmd
from analysis.measures import compute_measure
from analysis.pipeline import analyse_session
from analysis.reference import fill_marker_gaps, vicon_joint_centres
from tests.analysis.conftest import GAIT, UIPRMD, needs_gait, needs_uiprmd, uiprmd_subset


def _rep(key: str) -> uiprmd.Repetition:
    return next(r for r in uiprmd.list_repetitions(UIPRMD) if r.key == key)


@needs_uiprmd
def test_forward_kinematics_order_keeps_feet_still():
    rep = _rep("m01_s01_e01")
    offsets = np.loadtxt(rep.kinect_positions, delimiter=",").reshape(-1, 22, 3)
    angles = np.loadtxt(rep.kinect_angles, delimiter=",").reshape(-1, 22, 3)
    pos = uiprmd.kinect_forward_kinematics_cm(offsets, angles)
    drift = np.ptp(pos[:, 16], axis=0).max()
    assert drift < 15.0  # cm, over a whole deep squat
    # the other composition orders are wrong: swapping to Rx·Ry·Rz lets the ankle wander
    swapped = uiprmd.kinect_forward_kinematics_cm(offsets, angles[..., [2, 0, 1]])
    assert np.ptp(swapped[:, 16], axis=0).max() > 2 * drift


@needs_uiprmd
def test_pairs_exist_in_both_systems_and_sides_agree():
    reps = uiprmd.list_repetitions(UIPRMD)
    assert len(reps) > 900 and all(r.vicon_positions.exists() for r in reps)
    rep = _rep("m07_s02_e01")  # standing shoulder abduction, right arm
    kin, ref = uiprmd.kinect_sequence(rep), uiprmd.vicon_sequence(rep)
    for seq in (kin, ref):
        right = compute_measure(seq, "shoulder_abduction", "right")
        left = compute_measure(seq, "shoulder_abduction", "left")
        assert np.nanmax(right) > 120 and np.nanmax(left) < 30


@needs_uiprmd
def test_vicon_joint_centres_are_anatomical():
    rep = _rep("m01_s02_e01")
    ref = uiprmd.vicon_sequence(rep)
    thigh = np.linalg.norm(ref.joint("left_hip") - ref.joint("left_knee"), axis=1)
    # ASIS markers slide with skin folding in a deep squat: a few cm of apparent change
    assert 0.35 < np.median(thigh) < 0.50 and np.ptp(thigh) < 0.06
    markers = uiprmd.load_vicon_markers_mm(rep.vicon_positions)
    # the knee centre lies medial to the lateral knee marker (Vicon y points left)
    assert np.all(ref.joint("left_knee")[:, 1] * 1000 < markers[:, 28, 1])


def test_lost_pelvis_marker_is_rebuilt_by_symmetry():
    lasi, rasi, lpsi, rpsi = [0, 120, 0], [0, -120, 0], [-150, 45, 30], [-150, -45, 30]
    mk = np.zeros((3, 39, 3))
    mk[:, 23], mk[:, 24], mk[:, 25], mk[:, 26] = lasi, rasi, lpsi, rpsi
    mk[:, 24] = 0.0  # RASI never seen
    filled = fill_marker_gaps(
        mk, __import__("analysis.reference", fromlist=["x"]).PLUG_IN_GAIT_MARKERS
    )
    np.testing.assert_allclose(filled[:, 24], np.array([rasi] * 3), atol=1e-9)
    seq = vicon_joint_centres(mk + 1.0, [0.0, 0.01, 0.02])  # other markers sit at 1 mm: not "lost"
    assert seq.metadata["up_axis"] == [0.0, 0.0, 1.0]


@needs_uiprmd
def test_production_path_on_real_kinect_reps():
    for key, exercise, measure, side, low, high in (
        ("m01_s03_e02", "deep_squat", "knee_flexion", "right", 90, 140),
        ("m07_s03_e02", "standing_shoulder_abduction", "shoulder_abduction", "right", 110, 175),
    ):
        rep = _rep(key)
        kin = analyse_session(uiprmd.kinect_sequence(rep), exercise=exercise)
        ref = analyse_session(uiprmd.vicon_sequence(rep), exercise=exercise)
        k, r = kin.result(measure, side), ref.result(measure, side)
        assert kin.rep_count == 1
        assert low < k.session_rom.value_deg < high
        assert abs(k.session_rom.value_deg - r.session_rom.value_deg) < 15.0
        assert kin.quality["calibration"] == "kinect_v2"


@needs_gait
def test_c3d_reader_and_reference_knee_on_gait_trial():
    c3d = read_c3d(GAIT)
    assert c3d.rate_hz == 100.0 and c3d.points.shape == (221, 96, 3)
    assert "LKNE" in c3d.labels and "LKneeAngles" in c3d.labels
    from analysis.validate.gait import gait_check

    check = gait_check(GAIT)
    for side in ("left", "right"):
        assert check[side]["knee_r"] > 0.98
        assert check[side]["kjc_error_mm"] < 20.0
        assert abs(check[side]["knee_bias_deg"]) < 6.0


def test_c3d_reader_rejects_non_c3d(tmp_path: Path):
    bad = tmp_path / "x.c3d"
    bad.write_bytes(b"\x02\x00" + b"\0" * 600)
    with pytest.raises(C3DFormatError, match="signature"):
        read_c3d(bad)


@needs_uiprmd
def test_validate_cli_on_a_small_folder_without_incorrect_or_vicon_angles(tmp_path: Path, capsys):
    root = uiprmd_subset(tmp_path / "ui-prmd", ["m01_s04_e01", "m01_s04_e02", "m07_s04_e01"])
    from analysis.validate.__main__ import main

    out, js = tmp_path / "report", tmp_path / "table.json"
    assert main(["ui-prmd", str(root), "--out", str(out), "--json", str(js)]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["mode"] == "shipped_model" and summary["pairs"] > 0
    table = json.loads(js.read_text())
    keys = {
        "exercise",
        "measure",
        "side",
        "n",
        "bias_deg",
        "mae_deg",
        "loa_low_deg",
        "loa_high_deg",
        "icc",
        "primary",
    }
    assert table and all(set(row) == keys for row in table)
    assert any(r["primary"] and r["measure"] == "knee_flexion" for r in table)
    assert (out / "report.md").is_file() and list(out.glob("ba_*.png"))
