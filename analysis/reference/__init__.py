"""Reference joint centres from optical markers (the validation's ground truth)."""

from analysis.reference.joint_centres import (
    MARKER_ASSUMPTIONS_MM,
    PLUG_IN_GAIT_MARKERS,
    chord_joint_centre,
    fill_marker_gaps,
    hara_hip_centres_pelvis_mm,
    harrington_hip_centres,
    marker_leg_lengths_mm,
    pelvis_frame,
    vicon_joint_centres,
)

__all__ = [
    "MARKER_ASSUMPTIONS_MM",
    "PLUG_IN_GAIT_MARKERS",
    "chord_joint_centre",
    "fill_marker_gaps",
    "hara_hip_centres_pelvis_mm",
    "harrington_hip_centres",
    "marker_leg_lengths_mm",
    "pelvis_frame",
    "vicon_joint_centres",
]
