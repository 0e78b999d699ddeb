"""Body-fixed anatomical axes, so every measure is independent of camera placement.

Axes come from the skeleton itself: the trunk line (mid-shoulder → mid-hip)
gives "down", the shoulders (thorax) or hips (pelvis) give "right", and
anterior = up × right. That last step assumes a right-handed coordinate frame
— true of RealSense, Kinect, Azure Kinect and Vicon frames; a mirrored frame
flips the sign of every flexion, so adapters must never mirror.

Only trunk measures need gravity; they read ``metadata["up_axis"]`` (the
device IMU or the lab frame), defaulting to -y of the camera frame
(x right, y down, z forward).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from analysis.skeleton import SkeletonSequence

CAMERA_UP = (0.0, -1.0, 0.0)


def unit(v: np.ndarray) -> np.ndarray:
    """Unit vectors along the last axis; zero vectors become NaN (undefined direction)."""
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1e-9, v / n, np.nan)


def reject(v: np.ndarray, axis_unit: np.ndarray) -> np.ndarray:
    """Component of v perpendicular to a unit axis (projection onto the plane it is normal to)."""
    return v - np.sum(v * axis_unit, axis=-1, keepdims=True) * axis_unit


class BodyAxes(NamedTuple):
    """(T, 3) unit axes of one body segment frame."""

    down: np.ndarray
    right: np.ndarray
    anterior: np.ndarray


def up_axis(seq: SkeletonSequence) -> np.ndarray:
    """Gravity's up direction in the sequence's frame, as a unit (3,) vector."""
    up = np.asarray(seq.metadata.get("up_axis", CAMERA_UP), dtype=np.float64)
    return up / np.linalg.norm(up)


def trunk_down(pos: np.ndarray, idx: dict[str, int]) -> np.ndarray:
    """Trunk long axis, pointing from mid-shoulder to mid-hip."""
    mid_hip = 0.5 * (pos[:, idx["left_hip"]] + pos[:, idx["right_hip"]])
    mid_sho = 0.5 * (pos[:, idx["left_shoulder"]] + pos[:, idx["right_shoulder"]])
    return unit(mid_hip - mid_sho)


def segment_axes(pos: np.ndarray, idx: dict[str, int], lateral_pair: str) -> BodyAxes:
    """Thorax (``lateral_pair="shoulder"``) or pelvis (``"hip"``) axes.

    Both share the trunk line as "down"; they differ in which joint pair gives
    the medio-lateral axis, so hip measures follow the pelvis and shoulder
    measures the thorax when the trunk twists.
    """
    down = trunk_down(pos, idx)
    lateral = pos[:, idx[f"right_{lateral_pair}"]] - pos[:, idx[f"left_{lateral_pair}"]]
    right = unit(reject(lateral, down))
    anterior = np.cross(-down, right)
    return BodyAxes(down, right, anterior)
