"""What the browser needs to replay a session: downsampled joint positions, bones, angle traces."""

from __future__ import annotations

import numpy as np

from analysis.errors import MeasureUnavailableError
from analysis.measures import compute_measure
from analysis.skeleton import JointSource, SkeletonSequence

REPLAY_FPS = 15.0

# Segments drawn between canonical joints (only those both ends of which the device tracks).
BONES: tuple[tuple[str, str], ...] = (
    ("pelvis", "spine_mid"), ("spine_mid", "spine_chest"), ("spine_chest", "neck"), ("neck", "head"),
    ("neck", "left_shoulder"), ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("left_wrist", "left_hand"),
    ("neck", "right_shoulder"), ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"), ("right_wrist", "right_hand"),
    ("pelvis", "left_hip"), ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("left_ankle", "left_heel"), ("left_ankle", "left_toe"),
    ("pelvis", "right_hip"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"), ("right_ankle", "right_heel"), ("right_ankle", "right_toe"),
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
)  # fmt: skip


def replay_data(sequence: SkeletonSequence, *, traces: list[tuple[str, str | None]]) -> dict:
    """JSON-ready replay: frames at ≤ REPLAY_FPS, positions in mm (ints), None where missing."""
    t = sequence.timestamps_s
    n = sequence.n_frames
    duration = float(t[-1] - t[0]) if n > 1 else 0.0
    step = max(1, int(round((n / duration) / REPLAY_FPS))) if duration > 0 else 1
    frames = np.arange(0, n, step)
    joints = [j for j in sequence.joint_names if sequence.has_joint(j)]
    idx = [sequence.joint_names.index(j) for j in joints]
    pos = sequence.positions_m[frames][:, idx].astype(np.float64)
    missing = sequence.source[frames][:, idx] == JointSource.MISSING
    mm = np.round(pos * 1000.0).astype(int).tolist()
    for f, row in enumerate(missing):
        for j in np.flatnonzero(row):
            mm[f][j] = None
    index = {j: k for k, j in enumerate(joints)}
    bones = [[index[a], index[b]] for a, b in BONES if a in index and b in index]
    out_traces = []
    for measure, side in traces:
        try:
            values = compute_measure(sequence, measure, side)[frames]
        except MeasureUnavailableError:
            continue
        out_traces.append(
            {
                "measure": measure,
                "side": side or "",
                "values_deg": [None if not np.isfinite(v) else round(float(v), 1) for v in values],
            }
        )
    return {
        "times_s": [round(float(x - t[0]), 3) for x in t[frames]],
        "joints": joints,
        "bones": bones,
        "positions_mm": mm,
        "up_axis": [float(v) for v in sequence.metadata.get("up_axis", (0.0, -1.0, 0.0))],
        "traces": out_traces,
    }
