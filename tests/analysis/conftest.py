"""Shared helpers for the analysis tests: synthetic poses and the optional real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.skeleton import CANONICAL_JOINTS, SkeletonSequence
from analysis.synthetic import body_pose, to_camera

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
UIPRMD = DATA / "ui-prmd"
GAIT = DATA / "gait" / "walk.c3d"

needs_uiprmd = pytest.mark.skipif(
    not (UIPRMD / "correct").is_dir(),
    reason="UI-PRMD reference data is not present at ../shared/data/ui-prmd",
)
needs_gait = pytest.mark.skipif(
    not GAIT.is_file(), reason="gait reference trial ../shared/data/gait/walk.c3d is absent"
)


def pose_sequence(
    angles: dict, *, n_frames: int = 1, yaw_deg: float = 0.0, **meta
) -> SkeletonSequence:
    """A camera-frame sequence of one scripted pose (or per-frame angle arrays)."""
    pos = to_camera(body_pose(n_frames, angles), yaw_deg=yaw_deg)
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS,
        timestamps_s=np.arange(n_frames) / 30.0,
        positions_m=pos,
        metadata=meta,
    )
