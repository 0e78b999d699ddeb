"""Recordings synthesised at test time through the real SDK paths (shared by several tests)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from capture_agent.sources.base import CameraIntrinsics, Extrinsics
from capture_agent.synthetic.source import SyntheticConfig, SyntheticSource

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "ui-prmd"
#: a Kinect-like rig: colour 1.6 cm beside, 0.4 cm behind the depth camera
K4A_DEPTH_TO_COLOUR = Extrinsics(np.eye(3), np.array([-0.032, -0.002, 0.004]))


def synthetic(n: int | None = None, **kw) -> tuple[SyntheticSource, list]:
    src = SyntheticSource(SyntheticConfig(**kw))
    src.open()
    frames = []
    for f in src:
        frames.append(f)
        if n is not None and len(frames) >= n:
            break
    return src, frames


def kinect_pairs(
    n: int, *, exercise: int = 7
) -> tuple[list, CameraIntrinsics, CameraIntrinsics, list]:
    """(colour, depth) pairs rendered for a K4A rig: NFOV depth 640×576, colour 720p."""
    depth_src = SyntheticSource(
        SyntheticConfig(exercise=exercise, width=640, height=576, hfov_deg=75.0, seed=3)
    )
    motion = depth_src.motion
    t = K4A_DEPTH_TO_COLOUR.translation_m
    colour_motion = dataclasses.replace(
        motion,
        joints_m=np.where(motion.present[None, :, None], motion.joints_m + t, 0.0),
        floor_below_camera_m=motion.floor_below_camera_m + float(motion.camera_down @ t),
        wall_distance_m=motion.wall_distance_m + float(motion.camera_forward @ t),
    )
    colour_src = SyntheticSource(
        SyntheticConfig(exercise=exercise, width=1280, height=720, hfov_deg=90.0, noise=False),
        motion=colour_motion,
    )
    depth_src.open()
    colour_src.open()
    pairs, truth = [], []
    for _ in range(n):
        d = depth_src.read()
        c = colour_src.read()
        pairs.append((c.colour_rgb, d.depth))
        truth.append(c.ground_truth_m)
    return pairs, depth_src.config.intrinsics, colour_src.config.intrinsics, truth
