"""UI-PRMD (Vakanski et al., Data 3(1):2, 2018): Kinect v2 and Vicon, one repetition per file.

Layout: ``{correct,incorrect}/{kinect,vicon}/{angles,positions}/
mMM_sSS_eEE_{angles,positions}[_inc].txt.gz``, comma-separated, one frame a row.

Kinect files store a *hierarchy*, not positions: joint 0 (waist) is absolute
in cm, every other joint is an offset in its parent's frame, and ``angles``
holds each joint's local Euler angles in degrees (x, y, z). Absolute positions
come from forward kinematics with R = Rz·Rx·Ry — verified here on squats:
that order keeps the ankles within ~10 cm over a repetition while the other
five orders let them drift 53-104 cm. The resulting frame is right-handed
with y up; the subject faces +z (towards the sensor) with their left on +x.

Vicon files hold 39 Plug-in-Gait markers in mm at 100 Hz, lab frame z up,
subject facing +x. Left/right labels agree between the two systems (in
m07 both show the right arm moving).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from analysis.adapters import to_canonical
from analysis.errors import AnalysisError
from analysis.reference import vicon_joint_centres
from analysis.skeleton import SkeletonSequence

KINECT_RATE_HZ = 30.0
VICON_RATE_HZ = 100.0
N_KINECT_JOINTS = 22
N_VICON_MARKERS = 39

#: Kinematic chains of the 22-joint export, parent before child.
KINECT_CHAINS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5),
    (2, 6, 7, 8, 9),
    (2, 10, 11, 12, 13),
    (0, 14, 15, 16, 17),
    (0, 18, 19, 20, 21),
)
KINECT_PARENT: dict[int, int] = {
    child: parent
    for chain in KINECT_CHAINS
    for parent, child in zip(chain[:-1], chain[1:], strict=True)
}

EXERCISES: dict[int, str] = {
    1: "deep_squat",
    2: "hurdle_step",
    3: "inline_lunge",
    4: "side_lunge",
    5: "sit_to_stand",
    6: "standing_active_straight_leg_raise",
    7: "standing_shoulder_abduction",
    8: "standing_shoulder_extension",
    9: "standing_shoulder_internal_external_rotation",
    10: "standing_shoulder_scaption",
}

_NAME = re.compile(r"^m(\d\d)_s(\d\d)_e(\d\d)_positions(_inc)?\.txt(\.gz)?$")


class DatasetError(AnalysisError):
    """A UI-PRMD file or folder that does not have the documented layout."""


@dataclass(frozen=True)
class Repetition:
    """One segmented repetition recorded by both systems."""

    exercise: int
    subject: int
    episode: int
    correct: bool
    kinect_positions: Path
    kinect_angles: Path
    vicon_positions: Path

    @property
    def exercise_name(self) -> str:
        return EXERCISES[self.exercise]

    @property
    def key(self) -> str:
        return (
            f"m{self.exercise:02d}_s{self.subject:02d}_e{self.episode:02d}"
            f"{'' if self.correct else '_inc'}"
        )


def list_repetitions(root: str | Path) -> list[Repetition]:
    """Every repetition present in both systems (Kinect positions+angles and Vicon).

    A folder may lack ``incorrect/`` entirely; a few Vicon repetitions are
    missing in the published set, so pairing is by file name, never by index.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"UI-PRMD folder {root} does not exist")
    reps: list[Repetition] = []
    for folder, correct in (("correct", True), ("incorrect", False)):
        kin_dir = root / folder / "kinect" / "positions"
        if not kin_dir.is_dir():
            continue
        for path in sorted(kin_dir.iterdir()):
            match = _NAME.match(path.name)
            if not match:
                continue
            angles = (
                root / folder / "kinect" / "angles" / path.name.replace("_positions", "_angles")
            )
            vicon = root / folder / "vicon" / "positions" / path.name
            if not (angles.exists() and vicon.exists()):
                continue
            reps.append(
                Repetition(
                    exercise=int(match[1]),
                    subject=int(match[2]),
                    episode=int(match[3]),
                    correct=correct,
                    kinect_positions=path,
                    kinect_angles=angles,
                    vicon_positions=vicon,
                )
            )
    if not reps:
        raise DatasetError(f"no repetition in {root} has both Kinect and Vicon files")
    return reps


def _read_table(path: Path, n_columns: int) -> np.ndarray:
    try:
        data = np.loadtxt(path, delimiter=",", ndmin=2)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if data.shape[1] != n_columns or data.shape[0] < 2:
        raise DatasetError(f"{path} has shape {data.shape}, expected (T>=2, {n_columns})")
    if not np.all(np.isfinite(data)):
        raise DatasetError(f"{path} contains non-numeric or non-finite values")
    return data


def euler_zxy_deg(angles_deg: np.ndarray) -> np.ndarray:
    """Rotation matrices R = Rz·Rx·Ry from (..., 3) Euler angles (x, y, z) in degrees."""
    x, y, z = np.deg2rad(np.moveaxis(angles_deg, -1, 0))
    cx, sx, cy, sy, cz, sz = np.cos(x), np.sin(x), np.cos(y), np.sin(y), np.cos(z), np.sin(z)
    r = np.empty((*angles_deg.shape[:-1], 3, 3))
    # Rz @ Rx @ Ry written out
    r[..., 0, 0] = cz * cy - sz * sx * sy
    r[..., 0, 1] = -sz * cx
    r[..., 0, 2] = cz * sy + sz * sx * cy
    r[..., 1, 0] = sz * cy + cz * sx * sy
    r[..., 1, 1] = cz * cx
    r[..., 1, 2] = sz * sy - cz * sx * cy
    r[..., 2, 0] = -cx * sy
    r[..., 2, 1] = sx
    r[..., 2, 2] = cx * cy
    return r


def kinect_forward_kinematics_cm(offsets_cm: np.ndarray, angles_deg: np.ndarray) -> np.ndarray:
    """Absolute (T, 22, 3) joint positions in cm from the hierarchical export."""
    local = euler_zxy_deg(angles_deg)
    glob = np.empty_like(local)
    pos = np.empty_like(offsets_cm)
    glob[:, 0] = local[:, 0]
    pos[:, 0] = offsets_cm[:, 0]
    for joint in range(1, offsets_cm.shape[1]):
        parent = KINECT_PARENT[joint]
        pos[:, joint] = pos[:, parent] + np.einsum(
            "tij,tj->ti", glob[:, parent], offsets_cm[:, joint]
        )
        glob[:, joint] = glob[:, parent] @ local[:, joint]
    return pos


def load_kinect_positions_m(positions_path: Path, angles_path: Path) -> np.ndarray:
    """(T, 22, 3) absolute Kinect joint positions in metres (y up)."""
    offsets = _read_table(positions_path, 3 * N_KINECT_JOINTS).reshape(-1, N_KINECT_JOINTS, 3)
    angles = _read_table(angles_path, 3 * N_KINECT_JOINTS).reshape(-1, N_KINECT_JOINTS, 3)
    if offsets.shape != angles.shape:
        raise DatasetError(
            f"{positions_path.name} has {offsets.shape[0]} frames but its angles file "
            f"{angles.shape[0]}"
        )
    return kinect_forward_kinematics_cm(offsets, angles) / 100.0


def load_vicon_markers_mm(path: Path) -> np.ndarray:
    """(T, 39, 3) Plug-in-Gait marker positions in mm (lab frame, z up)."""
    return _read_table(path, 3 * N_VICON_MARKERS).reshape(-1, N_VICON_MARKERS, 3)


def kinect_sequence(rep: Repetition) -> SkeletonSequence:
    """The Kinect skeleton of one repetition, canonical, as production receives it."""
    joints = load_kinect_positions_m(rep.kinect_positions, rep.kinect_angles)
    t = np.arange(joints.shape[0]) / KINECT_RATE_HZ
    return to_canonical(
        "uiprmd_kinect22",
        joints,
        t,
        metadata={
            "device": "kinect_v2",
            "frame": "uiprmd_kinect",
            "up_axis": [0.0, 1.0, 0.0],
            "exercise": rep.exercise_name,
            "recording": rep.key,
        },
    )


def vicon_sequence(
    rep: Repetition, hip_centres_pelvis_mm: Mapping[str, np.ndarray] | None = None
) -> SkeletonSequence:
    """The marker-based reference skeleton of one repetition (metres, lab frame).

    Hip centres: Harrington's regression, or the subject's fixed pelvis-frame
    centres when given (see :func:`analysis.reference.vicon_joint_centres`).
    """
    markers = load_vicon_markers_mm(rep.vicon_positions)
    seq = vicon_joint_centres(
        markers,
        np.arange(markers.shape[0]) / VICON_RATE_HZ,
        hip_centres_pelvis_mm=hip_centres_pelvis_mm,
    )
    return seq.with_positions(
        seq.positions_m,
        metadata={**seq.metadata, "exercise": rep.exercise_name, "recording": rep.key},
    )
