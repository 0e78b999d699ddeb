"""Real human motion for the synthetic patient, placed in front of a virtual camera.

The motion is UI-PRMD's (Vakanski et al. 2018): joint centres computed from
its Vicon markers by ``analysis.reference`` — real people doing the real
rehabilitation exercises, correct and incorrect. Scripting joint angles by
hand would test the fusion only on motion its author imagined.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.skeleton import JOINT_INDEX, JointSource, SkeletonSequence
from capture_agent.sources.base import SourceUnavailableError

#: Where the reference data lives relative to the repository (never copied in).
_REPO_ROOT = Path(__file__).resolve().parents[2]
UIPRMD_ENV = "TELEREHAB_UIPRMD"


def uiprmd_root() -> Path:
    """The UI-PRMD folder: $TELEREHAB_UIPRMD, else ../shared/data/ui-prmd beside the repo."""
    env = os.environ.get(UIPRMD_ENV)
    root = Path(env) if env else _REPO_ROOT.parent / "shared" / "data" / "ui-prmd"
    if not root.is_dir():
        raise SourceUnavailableError(
            f"UI-PRMD motion data not found at {root}; set {UIPRMD_ENV} to its folder"
        )
    return root


def load_uiprmd_motion(
    exercise: int, subject: int = 1, episode: int = 1, *, correct: bool = True
) -> SkeletonSequence:
    """One Vicon repetition as canonical joint centres (lab frame, metres)."""
    from analysis.datasets import uiprmd

    root = uiprmd_root()
    key = (exercise, subject, episode, correct)
    for rep in uiprmd.list_repetitions(root):
        if (rep.exercise, rep.subject, rep.episode, rep.correct) == key:
            return uiprmd.vicon_sequence(rep)
    raise SourceUnavailableError(
        f"UI-PRMD has no Vicon repetition m{exercise:02d}_s{subject:02d}_e{episode:02d}"
        f"{'' if correct else '_inc'} in {root}"
    )


@dataclass(frozen=True)
class Staging:
    """Where the camera stands relative to the patient (all in metres / degrees)."""

    distance_m: float = 2.5
    camera_height_m: float = 1.0
    pitch_deg: float = 0.0  # positive tilts the camera down


@dataclass(frozen=True)
class StagedMotion:
    """Joint centres in the camera frame plus the room geometry around them."""

    timestamps_s: np.ndarray
    joints_m: np.ndarray  # (T, 24, 3) camera frame
    present: np.ndarray  # (24,) joints the motion defines
    camera_down: np.ndarray  # world down, in the camera frame
    camera_forward: np.ndarray  # horizontal direction the camera faces, camera frame
    floor_below_camera_m: float
    wall_distance_m: float


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def stage_motion(seq: SkeletonSequence, staging: Staging, *, fps: float = 30.0) -> StagedMotion:
    """Resample to the camera rate and express the motion in a camera facing the patient.

    The camera faces the patient's front (found from the hip line, so the
    lab's axis conventions do not matter), ``distance_m`` from the mean pelvis
    position, ``camera_height_m`` above the floor (the lowest heel/toe point).
    """
    up = _unit(np.asarray(seq.metadata.get("up_axis", [0.0, 0.0, 1.0]), dtype=np.float64))
    pos = seq.positions_m.astype(np.float64)
    present = np.all(seq.source != JointSource.MISSING, axis=0)
    left = pos[:, JOINT_INDEX["left_hip"]] - pos[:, JOINT_INDEX["right_hip"]]
    left = left.mean(axis=0)
    left = _unit(left - (left @ up) * up)
    facing = np.cross(left, up)  # patient's anterior direction, horizontal
    feet = [JOINT_INDEX[n] for n in ("left_heel", "right_heel", "left_toe", "right_toe")]
    floor = float(np.min(pos[:, feet] @ up)) - 0.02  # markers sit ~2 cm above the floor
    pelvis = pos[:, JOINT_INDEX["pelvis"]].mean(axis=0)
    pelvis_ground = pelvis - (pelvis @ up - floor) * up
    cam_pos = pelvis_ground + facing * staging.distance_m + up * staging.camera_height_m
    # camera axes in the lab: z forward (towards the patient, pitched down), y down, x right
    pitch = np.deg2rad(staging.pitch_deg)
    fwd_h = -facing
    z_c = _unit(np.cos(pitch) * fwd_h - np.sin(pitch) * up)
    y_c = _unit(np.cross(z_c, np.cross(-up, z_c)))
    x_c = np.cross(y_c, z_c)
    rot = np.stack((x_c, y_c, z_c))  # lab → camera
    # resample to the camera's frame rate
    t_src = seq.timestamps_s - seq.timestamps_s[0]
    t = np.arange(0.0, t_src[-1] + 1e-9, 1.0 / fps)
    flat = pos.reshape(len(t_src), -1)
    res = np.stack([np.interp(t, t_src, flat[:, k]) for k in range(flat.shape[1])], 1)
    joints = (res.reshape(len(t), -1, 3) - cam_pos) @ rot.T
    joints[:, ~present] = 0.0
    return StagedMotion(
        timestamps_s=t,
        joints_m=joints,
        present=present,
        camera_down=rot @ -up,
        camera_forward=rot @ fwd_h,
        floor_below_camera_m=staging.camera_height_m,
        wall_distance_m=staging.distance_m + 1.5,
    )
