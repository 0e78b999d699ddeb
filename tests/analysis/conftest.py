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


def uiprmd_subset(root: Path, keys: list[str], *, vicon_angles: bool = False) -> Path:
    """A UI-PRMD-shaped folder holding only the named repetitions (symlinks; ``_inc``: incorrect/)."""
    import os

    from analysis.datasets import uiprmd

    reps = {r.key: r for r in uiprmd.list_repetitions(UIPRMD)}
    for key in keys:
        rep = reps[key]
        folder = root / ("correct" if rep.correct else "incorrect")
        files = [
            (rep.kinect_positions, "kinect/positions"),
            (rep.kinect_angles, "kinect/angles"),
            (rep.vicon_positions, "vicon/positions"),
        ]
        if vicon_angles:
            name = rep.vicon_positions.name.replace("_positions", "_angles")
            files.append((rep.vicon_positions.parent.parent / "angles" / name, "vicon/angles"))
        for src, kind in files:
            (folder / kind).mkdir(parents=True, exist_ok=True)
            os.symlink(src.resolve(), folder / kind / src.name)
    return root


def validate_per_hip_centre(
    root: Path, tmp_path: Path, capsys, methods: tuple[str, ...]
) -> tuple[dict, dict]:
    """Run ``python -m analysis.validate`` once per hip model: (summary lines, JSON tables)."""
    import json

    from analysis.validate.__main__ import main

    summaries, tables = {}, {}
    for method in methods:
        js = tmp_path / f"{method}.json"
        argv = ["ui-prmd", str(root), "--out", str(tmp_path / method), "--json", str(js)]
        assert main([*argv, "--hip-centre", method]) == 0
        summaries[method] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        tables[method] = json.loads(js.read_text())
    return summaries, tables


def squat_hip_mae(table: list[dict]) -> list[float]:
    """The deep squat's hip-flexion MAE rows of a validation table."""
    return [
        r["mae_deg"]
        for r in table
        if r["exercise"] == "deep_squat" and r["measure"] == "hip_flexion"
    ]
