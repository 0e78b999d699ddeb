"""Check of the reference joint-centre code on a trial with Vicon's own outputs.

``walk.c3d`` (Kinetics Toolkit sample, Plug-in Gait) carries markers, Vicon's
knee and ankle joint centres (LKJC, RKJC, LAJC, RAJC), its knee angles and
the subject's measured knee and ankle widths. We rebuild the centres with
:mod:`analysis.reference` (Harrington hips — Vicon used Davis — and the
chord function with the file's widths) and compare. In this file the
lateral thigh wand is labelled ``*THI2`` (``*THI`` sits just above the knee).

Vicon's hip centre is in the file too: the femur segment's proximal point
(``LFEP``/``RFEP``) is fixed in the pelvis frame at Plug-in Gait's (Davis
1991) regression centre — itself a prediction, not a measured truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from analysis.c3d import read_c3d
from analysis.measures import _three_point_flexion
from analysis.reference import (
    chord_joint_centre,
    hara_hip_centres_pelvis_mm,
    harrington_hip_centres,
    marker_leg_lengths_mm,
    pelvis_frame,
)
from analysis.reference.functional_hip import (
    DegenerateMotionError,
    fit_sphere_centre,
    to_pelvis,
)


def gait_check(path: Path, marker_radius_mm: float = 4.75) -> dict[str, Any]:
    """Knee-centre distance (mm) and knee-flexion agreement with Vicon, per side."""
    c3d = read_c3d(path)
    p = c3d.point
    proc = c3d.parameters.get("PROCESSING", {})
    lhjc, rhjc = harrington_hip_centres(p("LASI"), p("RASI"), p("LPSI"), p("RPSI"))
    out: dict[str, Any] = {}
    for s, hjc in (("L", lhjc), ("R", rhjc)):
        knee_w = float(np.asarray(proc.get(f"{s}KNEEWIDTH", [100.0]))[0])
        ankle_w = float(np.asarray(proc.get(f"{s}ANKLEWIDTH", [70.0]))[0])
        kjc = chord_joint_centre(p(f"{s}THI2"), hjc, p(f"{s}KNE"), knee_w / 2 + marker_radius_mm)
        ajc = chord_joint_centre(p(f"{s}TIB"), kjc, p(f"{s}ANK"), ankle_w / 2 + marker_radius_mm)
        ours = _three_point_flexion(hjc, kjc, ajc)
        vicon = p(f"{s}KneeAngles")[:, 0]
        ok = np.isfinite(ours) & np.isfinite(vicon)
        d = ours[ok] - vicon[ok]
        out["left" if s == "L" else "right"] = {
            "kjc_error_mm": round(float(np.nanmean(np.linalg.norm(kjc - p(f"{s}KJC"), axis=1))), 1),
            "ajc_error_mm": round(float(np.nanmean(np.linalg.norm(ajc - p(f"{s}AJC"), axis=1))), 1),
            "knee_bias_deg": round(float(d.mean()), 2),
            "knee_sd_deg": round(float(d.std(ddof=1)), 2),
            "knee_r": round(float(np.corrcoef(ours[ok], vicon[ok])[0, 1]), 4),
            "vicon_knee_range_deg": [
                round(float(vicon[ok].min()), 1),
                round(float(vicon[ok].max()), 1),
            ],
        }
    return out


def gait_hip_check(path: Path) -> dict[str, Any]:
    """Harrington, Hara and functional hip centres against Vicon's (pelvis frame, mm), per side.

    Hara's regression is evaluated twice: with the leg lengths measured on the
    subject (the file's ``PROCESSING`` parameters) and with the marker-based
    estimate the UI-PRMD harness has to use, so the estimate's cost is seen.

    The functional fit uses the femur's markers (``*THI2``, ``*THI``, ``*KNE``);
    one walking trial (hip flexion ~40°, ab-adduction ~10°) usually cannot
    locate a centre, which is reported as such rather than as a number.
    """
    c3d = read_c3d(path)
    p = c3d.point
    pelvis = [p(n) for n in ("LASI", "RASI", "LPSI", "RPSI")]
    origin, axes = pelvis_frame(*pelvis)
    proc = c3d.parameters.get("PROCESSING", {})
    measured_ll = {
        side: float(np.asarray(proc[f"{s}LEGLENGTH"])[0])
        for side, s in (("left", "L"), ("right", "R"))
        if f"{s}LEGLENGTH" in proc
    }
    leg_markers = ("LASI", "LANK", "RASI", "RANK")
    marker_ll = marker_leg_lengths_mm(np.stack([p(n) for n in leg_markers], 1), leg_markers)
    hara_marker = hara_hip_centres_pelvis_mm(marker_ll)
    hara_measured = hara_hip_centres_pelvis_mm(measured_ll) if len(measured_ll) == 2 else None
    out: dict[str, Any] = {}
    for s, harrington in zip("LR", harrington_hip_centres(*pelvis), strict=True):
        side_name = "left" if s == "L" else "right"
        vicon = np.nanmedian(to_pelvis(p(f"{s}FEP"), origin, axes), axis=0)
        harr = np.nanmedian(to_pelvis(harrington, origin, axes), axis=0)
        side: dict[str, Any] = {
            "vicon_mm": [round(float(v), 1) for v in vicon],
            "harrington_vs_vicon_mm": round(float(np.linalg.norm(harr - vicon)), 1),
            "hara_marker_leg_length_vs_vicon_mm": round(
                float(np.linalg.norm(hara_marker[side_name] - vicon)), 1
            ),
            "marker_leg_length_mm": round(marker_ll[side_name], 1),
        }
        if hara_measured is not None:
            side["hara_measured_leg_length_vs_vicon_mm"] = round(
                float(np.linalg.norm(hara_measured[side_name] - vicon)), 1
            )
            side["measured_leg_length_mm"] = measured_ll[side_name]
        thigh = np.stack([to_pelvis(p(f"{s}{m}"), origin, axes) for m in ("THI2", "THI", "KNE")], 1)
        try:
            fit = fit_sphere_centre(thigh)
            side["functional_vs_vicon_mm"] = round(float(np.linalg.norm(fit.centre - vicon)), 1)
        except DegenerateMotionError as exc:
            side["functional_vs_vicon_mm"] = None
            side["functional"] = f"not determined: {exc}"
        out[side_name] = side
    return out
