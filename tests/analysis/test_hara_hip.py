"""Hara et al. (2016) leg-length hip centres: the formula, the leg-length estimate, the option."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from analysis.reference import (
    PLUG_IN_GAIT_MARKERS,
    hara_hip_centres_pelvis_mm,
    marker_leg_lengths_mm,
    vicon_joint_centres,
)
from analysis.reference.functional_hip import to_pelvis
from analysis.reference.joint_centres import pelvis_frame
from tests.analysis.conftest import (
    GAIT,
    needs_gait,
    needs_uiprmd,
    squat_hip_mae,
    uiprmd_subset,
    validate_per_hip_centre,
)


def test_hara_formula_on_a_known_leg_length():
    # x = 11 - 0.063 LL, y = -9 - 0.078 LL, z = ±(8 + 0.086 LL); LL = 900 and 1000 mm
    c = hara_hip_centres_pelvis_mm({"left": 900.0, "right": 1000.0})
    np.testing.assert_allclose(c["left"], [-45.7, -79.2, -85.4], atol=1e-9)
    np.testing.assert_allclose(c["right"], [-52.0, -87.0, 94.0], atol=1e-9)


@pytest.mark.parametrize("bad", [0.0, -850.0, float("nan"), float("inf")])
def test_hara_rejects_a_leg_length_that_is_not_a_length(bad: float):
    with pytest.raises(ValueError, match="left leg length"):
        hara_hip_centres_pelvis_mm({"left": bad, "right": 900.0})


def _leg_markers(n: int, left_len: float, right_len: float) -> np.ndarray:
    """(n, 39, 3) markers whose ASIS-to-ankle distance bends from full length to 80 %."""
    mk = np.full((n, len(PLUG_IN_GAIT_MARKERS), 3), np.nan)
    i = PLUG_IN_GAIT_MARKERS.index
    bend = 0.8 + 0.2 * np.abs(np.cos(np.linspace(0, 4 * np.pi, n)))  # 1.0 at the extended frames
    for s, length, z in (("L", left_len, -120.0), ("R", right_len, 120.0)):
        mk[:, i(f"{s}ASI")] = [0.0, z, 1000.0]
        mk[:, i(f"{s}ANK")] = np.stack([np.zeros(n), np.full(n, z), 1000.0 - length * bend], 1)
    return mk


def test_leg_length_is_the_extended_leg_and_ignores_lost_frames():
    mk = _leg_markers(2000, 900.0, 940.0)
    mk[::7, PLUG_IN_GAIT_MARKERS.index("LANK")] = np.nan  # dropouts
    mk[100, PLUG_IN_GAIT_MARKERS.index("RANK"), 2] = -5000.0  # one swapped-marker frame
    ll = marker_leg_lengths_mm(mk)
    # the 95th percentile sits on the extended frames, within 1 % of full length
    assert 891.0 < ll["left"] <= 900.0 and 930.6 < ll["right"] <= 940.0


def test_leg_length_is_nan_for_a_side_never_seen():
    mk = _leg_markers(100, 900.0, 900.0)
    mk[:, PLUG_IN_GAIT_MARKERS.index("RANK")] = np.nan
    ll = marker_leg_lengths_mm(mk)
    assert np.isfinite(ll["left"]) and np.isnan(ll["right"])


def test_hara_centres_are_placed_in_the_moving_pelvis_by_the_reference():
    rng = np.random.default_rng(3)
    n = 50
    mk = rng.normal(0, 50, (n, len(PLUG_IN_GAIT_MARKERS), 3)) + 800.0
    i = PLUG_IN_GAIT_MARKERS.index
    yaw = np.deg2rad(np.linspace(0, 60, n))
    for name, (x, z) in {"LASI": (0, -125), "RASI": (0, 125), "LPSI": (-170, -45), "RPSI": (-170, 45)}.items():  # fmt: skip
        # pelvis x anterior / z right rotated about the lab's vertical (z up)
        mk[:, i(name)] = np.stack([x * np.cos(yaw) - z * np.sin(yaw), x * np.sin(yaw) + z * np.cos(yaw), np.full(n, 950.0)], 1)  # fmt: skip
    centres = hara_hip_centres_pelvis_mm({"left": 900.0, "right": 900.0})
    seq = vicon_joint_centres(mk, np.arange(n) / 100.0, hip_centres_pelvis_mm=centres)
    origin, axes = pelvis_frame(*(mk[:, i(m)] for m in ("LASI", "RASI", "LPSI", "RPSI")))
    for side in ("left", "right"):
        hip_mm = seq.positions_m[:, seq.joint_names.index(f"{side}_hip")] * 1000.0
        np.testing.assert_allclose(to_pelvis(hip_mm, origin, axes), np.tile(centres[side], (n, 1)), atol=0.01)  # fmt: skip
    # 900 mm legs put the centres 2 x 85.4 mm apart whatever the pelvis markers' width
    hips = seq.positions_m[
        :, [seq.joint_names.index("left_hip"), seq.joint_names.index("right_hip")]
    ]
    np.testing.assert_allclose(np.linalg.norm(hips[:, 0] - hips[:, 1], axis=1), 0.1708, atol=1e-5)


@needs_uiprmd
def test_validate_cli_hara_hip_option(tmp_path: Path, capsys):
    # s01 correct squats and one abduction; s03 only incorrect squats
    keys = [f"m01_s01_e{e:02d}" for e in (1, 2, 3)] + ["m07_s01_e01"]
    keys += ["m01_s03_e01_inc", "m01_s03_e02_inc"]
    # s04: its only Vicon file is unreadable, so it has no leg length
    root = uiprmd_subset(tmp_path / "ui-prmd", [*keys, "m07_s04_e01"])
    broken = next((root / "correct" / "vicon" / "positions").glob("m07_s04_e01_*"))
    text = gzip.decompress(broken.read_bytes()).decode()
    broken.unlink()
    broken.write_bytes(gzip.compress(("nan" + text[text.index(",") :]).encode()))
    summaries, tables = validate_per_hip_centre(root, tmp_path, capsys, ("harrington", "hara"))
    assert summaries["harrington"]["leg_lengths_mm"] is None
    hara = summaries["hara"]
    assert hara["hip_centre"] == "hara" and set(hara["leg_lengths_mm"]) == {"s01", "s03"}
    # extended-leg ASIS-to-ankle distances, both sides (~900 and ~890 mm on the full set)
    assert all(850.0 < v < 950.0 for v in hara["leg_lengths_mm"]["s01"].values())
    assert all(840.0 < v < 940.0 for v in hara["leg_lengths_mm"]["s03"].values())
    report = (tmp_path / "hara" / "report.md").read_text()
    assert "## Reference hip centres: hara" in report
    assert "s03: leg length from incorrect executions only" in report
    assert "s04: no leg length from its markers; Harrington kept" in report
    assert "s01: leg length" not in report
    assert hara["pairs"] == summaries["harrington"]["pairs"]
    harrington_rows = squat_hip_mae(tables["harrington"])
    assert harrington_rows and harrington_rows != squat_hip_mae(tables["hara"])


@needs_gait
def test_hara_on_the_walking_trial_with_measured_and_marker_leg_lengths():
    from analysis.validate.gait import gait_hip_check

    check = gait_hip_check(GAIT)
    for side in ("left", "right"):
        s = check[side]
        assert s["measured_leg_length_mm"] in (886.0, 884.0)  # the file's PROCESSING values
        # the straight ASIS-to-lateral-malleolus marker distance runs short of the taped length
        assert (
            0.90 * s["measured_leg_length_mm"]
            < s["marker_leg_length_mm"]
            < s["measured_leg_length_mm"]
        )
        # closer than Harrington to Plug-in Gait's own (Davis) centre in this subject: ~20 vs ~35 mm
        assert s["hara_measured_leg_length_vs_vicon_mm"] < s["harrington_vs_vicon_mm"] - 10.0
        assert (
            abs(s["hara_marker_leg_length_vs_vicon_mm"] - s["hara_measured_leg_length_vs_vicon_mm"])
            < 5.0
        )
