"""Clinical joint angles in degrees, named and signed as a goniometer reads them.

Every function is vectorised over frames and takes positions (T, J, 3) in
metres with a name→index map. Planar measures project the distal segment
into a plane of the *body's own* frame (see :mod:`analysis.frames`), so a
patient standing at an angle to the camera reads the same as one facing it.

A planar angle is undefined when the segment is (nearly) perpendicular to
its plane — e.g. shoulder flexion when the arm points straight sideways. In
that case the value is NaN (``min_in_plane`` = 0.2, i.e. within ~11.5° of the
plane's normal) instead of a number that swings wildly with noise.
Frames where a needed joint is MISSING are NaN too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analysis.errors import MeasureUnavailableError
from analysis.frames import reject, segment_axes, trunk_down, unit, up_axis
from analysis.skeleton import JointSource, SkeletonSequence

MIN_IN_PLANE = 0.2

Positions = np.ndarray
Index = dict[str, int]


def _three_point_flexion(a: np.ndarray, joint: np.ndarray, b: np.ndarray) -> np.ndarray:
    """180° minus the inner angle at ``joint``: 0° when the limb is straight."""
    u, v = unit(a - joint), unit(b - joint)
    cos = np.clip(np.sum(u * v, axis=-1), -1.0, 1.0)
    return 180.0 - np.degrees(np.arccos(cos))


#: Where a planar angle wraps by 360°: the middle of the arc the segment
#: cannot reach, so no real movement crosses it. For most measures that is
#: -90° (hip or trunk bent 90° backwards; an arm raised overhead then reads
#: 180° and continues past it). The arm in the sagittal plane reaches ~180°+
#: of flexion *and* 90°+ of extension relative to a trunk that leans forward
#: (UI-PRMD's incorrect shoulder extensions do), so its cut lies between them.
WRAP_DEG = -90.0
SHOULDER_SAGITTAL_WRAP_DEG = -135.0


def _planar(
    segment: np.ndarray,
    zero_axis: np.ndarray,
    positive_axis: np.ndarray,
    wrap_deg: float = WRAP_DEG,
) -> np.ndarray:
    """Signed angle of ``segment`` from ``zero_axis`` towards ``positive_axis``.

    Measured in the plane the two (orthogonal, unit) axes span, on
    (wrap_deg, wrap_deg + 360°].
    """
    along_zero = np.sum(segment * zero_axis, axis=-1)
    along_pos = np.sum(segment * positive_axis, axis=-1)
    angle = np.degrees(np.arctan2(along_pos, along_zero))
    angle = np.where(angle <= wrap_deg, angle + 360.0, angle)
    in_plane = np.hypot(along_zero, along_pos) / np.linalg.norm(segment, axis=-1)
    return np.where(in_plane >= MIN_IN_PLANE, angle, np.nan)


def knee_flexion(p: Positions, i: Index, up: np.ndarray, side: str) -> np.ndarray:
    """Knee flexion: 0° with the knee straight, positive as it bends.

    3D angle between thigh (knee→hip) and shank (knee→ankle), reported as
    180° minus it; it cannot show hyperextension (reads as small flexion).
    """
    return _three_point_flexion(
        p[:, i[f"{side}_hip"]], p[:, i[f"{side}_knee"]], p[:, i[f"{side}_ankle"]]
    )


def elbow_flexion(p: Positions, i: Index, up: np.ndarray, side: str) -> np.ndarray:
    """Elbow flexion: 0° with the arm straight, positive as it bends (3D angle)."""
    return _three_point_flexion(
        p[:, i[f"{side}_shoulder"]], p[:, i[f"{side}_elbow"]], p[:, i[f"{side}_wrist"]]
    )


def hip_flexion(p: Positions, i: Index, up: np.ndarray, side: str) -> np.ndarray:
    """Hip flexion: thigh vs the trunk line, in the pelvis's sagittal plane.

    0° when the thigh continues the trunk line downwards, positive with the
    knee moving anteriorly (flexion), negative behind the trunk (extension).
    Plane: normal to the pelvis medio-lateral axis (hip to hip).
    """
    ax = segment_axes(p, i, "hip")
    thigh = p[:, i[f"{side}_knee"]] - p[:, i[f"{side}_hip"]]
    return _planar(thigh, ax.down, ax.anterior)


def hip_abduction(p: Positions, i: Index, up: np.ndarray, side: str) -> np.ndarray:
    """Hip abduction: thigh vs the trunk line, in the pelvis's frontal plane.

    0° with the thigh along the trunk line, positive moving away from the
    midline, negative across it (adduction). Plane: normal to the anterior axis.
    """
    ax = segment_axes(p, i, "hip")
    thigh = p[:, i[f"{side}_knee"]] - p[:, i[f"{side}_hip"]]
    lateral = ax.right if side == "right" else -ax.right
    return _planar(thigh, ax.down, lateral)


def shoulder_flexion(p: Positions, i: Index, up: np.ndarray, side: str) -> np.ndarray:
    """Shoulder flexion: humerus vs the trunk line, in the thorax's sagittal plane.

    0° with the arm hanging along the trunk, positive raising it forwards
    (90° horizontal, 180° overhead), negative behind the trunk (extension).
    Plane: normal to the thorax medio-lateral axis (shoulder to shoulder).
    Range (-135°, 225°]: an arm extended past horizontal behind a forward-
    leaning trunk reads -100°, not +260°.
    """
    ax = segment_axes(p, i, "shoulder")
    humerus = p[:, i[f"{side}_elbow"]] - p[:, i[f"{side}_shoulder"]]
    return _planar(humerus, ax.down, ax.anterior, SHOULDER_SAGITTAL_WRAP_DEG)


def shoulder_extension(p: Positions, i: Index, up: np.ndarray, side: str) -> np.ndarray:
    """Shoulder extension: the negative of shoulder flexion (same plane and zero).

    0° with the arm hanging along the trunk, positive moving the arm backwards.
    """
    return -shoulder_flexion(p, i, up, side)


def shoulder_abduction(p: Positions, i: Index, up: np.ndarray, side: str) -> np.ndarray:
    """Shoulder abduction: humerus vs the trunk line, in the thorax's frontal plane.

    0° with the arm at the side, positive raising it sideways away from the
    body (90° horizontal, 180° overhead); not the raw 3D angle, so forward
    elevation does not count as abduction.
    """
    ax = segment_axes(p, i, "shoulder")
    humerus = p[:, i[f"{side}_elbow"]] - p[:, i[f"{side}_shoulder"]]
    lateral = ax.right if side == "right" else -ax.right
    return _planar(humerus, ax.down, lateral)


def shoulder_external_rotation(p: Positions, i: Index, up: np.ndarray, side: str) -> np.ndarray:
    """Shoulder external rotation: forearm about the humerus, elbow flexed.

    0° with the forearm pointing anteriorly (the forearm projected into the
    plane perpendicular to the humerus, measured from the thorax's anterior
    axis projected into that plane), positive rotating outwards — towards
    superior in the 90/90 position, towards lateral with the arm at the side
    — negative for internal rotation. Undefined (NaN) with the elbow nearly
    straight (forearm within 30° of the humerus line) or the humerus along
    the anterior axis, where the rotation has no reference.
    """
    ax = segment_axes(p, i, "shoulder")
    humerus = unit(p[:, i[f"{side}_elbow"]] - p[:, i[f"{side}_shoulder"]])
    forearm = p[:, i[f"{side}_wrist"]] - p[:, i[f"{side}_elbow"]]
    across = reject(forearm, humerus)
    ref = reject(ax.anterior, humerus)
    ref_norm = np.linalg.norm(ref, axis=-1)
    ref_u = ref / ref_norm[:, None]
    sign = 1.0 if side == "right" else -1.0
    angle = np.degrees(
        np.arctan2(
            sign * np.sum(np.cross(humerus, ref_u) * across, axis=-1),
            np.sum(ref_u * across, axis=-1),
        )
    )
    bent = np.linalg.norm(across, axis=-1) >= 0.5 * np.linalg.norm(forearm, axis=-1)
    return np.where(bent & (ref_norm >= MIN_IN_PLANE), angle, np.nan)


def ankle_dorsiflexion(p: Positions, i: Index, up: np.ndarray, side: str) -> np.ndarray:
    """Ankle dorsiflexion: 90° minus the angle between shank and foot.

    Shank = ankle→knee, foot = ankle→toe. 0° with the foot at right angles to
    the shank, positive as the toes come up (dorsiflexion), negative in
    plantarflexion. The toe point of most trackers lies below the ankle, so
    neutral standing reads a few degrees of plantarflexion; this offset is a
    property of the joint model, identical between sessions of one device.
    """
    knee, ankle, toe = (p[:, i[f"{side}_{j}"]] for j in ("knee", "ankle", "toe"))
    u, v = unit(knee - ankle), unit(toe - ankle)
    cos = np.clip(np.sum(u * v, axis=-1), -1.0, 1.0)
    return 90.0 - np.degrees(np.arccos(cos))


def _gravity_axes(
    p: Positions, i: Index, up: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trunk-up, horizontal right (from the hips) and horizontal anterior axes."""
    trunk_up = -trunk_down(p, i)
    right = unit(reject(p[:, i["right_hip"]] - p[:, i["left_hip"]], up))
    anterior = np.cross(up, right)
    return trunk_up, right, anterior


def trunk_flexion(p: Positions, i: Index, up: np.ndarray, side: str | None) -> np.ndarray:
    """Trunk flexion: trunk line vs vertical, in the sagittal plane of the pelvis.

    0° upright, positive leaning forwards, negative leaning back. Vertical is
    gravity (``metadata["up_axis"]``); the plane is normal to the hips' axis.
    """
    trunk_up, _, anterior = _gravity_axes(p, i, up)
    return _planar(trunk_up, np.broadcast_to(up, trunk_up.shape), anterior)


def trunk_lateral_flexion(p: Positions, i: Index, up: np.ndarray, side: str) -> np.ndarray:
    """Trunk lateral flexion towards ``side``: trunk line vs vertical, frontal plane.

    0° upright, positive bending towards the named side, negative away.
    """
    trunk_up, right, _ = _gravity_axes(p, i, up)
    towards = right if side == "right" else -right
    return _planar(trunk_up, np.broadcast_to(up, trunk_up.shape), towards)


@dataclass(frozen=True)
class Measure:
    """A clinical measure: its function and the joints it needs (``{side}`` templated)."""

    name: str
    function: Callable[[Positions, Index, np.ndarray, str | None], np.ndarray]
    joints: tuple[str, ...]
    sided: bool = True

    def needed_joints(self, side: str | None) -> tuple[str, ...]:
        return tuple(j.format(side=side) for j in self.joints)


_TRUNK = ("left_hip", "right_hip", "left_shoulder", "right_shoulder")
MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("knee_flexion", knee_flexion, ("{side}_hip", "{side}_knee", "{side}_ankle")),
        Measure("hip_flexion", hip_flexion, (*_TRUNK, "{side}_knee")),
        Measure("hip_abduction", hip_abduction, (*_TRUNK, "{side}_knee")),
        Measure("shoulder_flexion", shoulder_flexion, (*_TRUNK, "{side}_elbow")),
        Measure("shoulder_abduction", shoulder_abduction, (*_TRUNK, "{side}_elbow")),
        Measure("shoulder_extension", shoulder_extension, (*_TRUNK, "{side}_elbow")),
        Measure(
            "shoulder_external_rotation",
            shoulder_external_rotation,
            (*_TRUNK, "{side}_elbow", "{side}_wrist"),
        ),
        Measure(
            "elbow_flexion", elbow_flexion, ("{side}_shoulder", "{side}_elbow", "{side}_wrist")
        ),
        Measure(
            "ankle_dorsiflexion", ankle_dorsiflexion, ("{side}_knee", "{side}_ankle", "{side}_toe")
        ),
        Measure("trunk_flexion", trunk_flexion, _TRUNK, sided=False),
        Measure("trunk_lateral_flexion", trunk_lateral_flexion, _TRUNK),
    )
}
SIDES = ("left", "right")


def measure_sides(name: str) -> tuple[str | None, ...]:
    """The sides a measure is reported on: left and right, or None for trunk flexion."""
    return SIDES if MEASURES[name].sided else (None,)


def compute_measure(
    seq: SkeletonSequence,
    name: str,
    side: str | None = None,
    *,
    positions_m: np.ndarray | None = None,
) -> np.ndarray:
    """(T,) degrees of one measure on one side; NaN where a needed joint is missing.

    ``positions_m`` may pass ``seq.positions_m`` already converted to float64,
    so a caller computing many measures converts a long session only once.

    Raises MeasureUnavailableError when the device never observes a joint the
    measure needs (e.g. ankle dorsiflexion from COCO, which has no toe).
    """
    try:
        measure = MEASURES[name]
    except KeyError:
        raise MeasureUnavailableError(
            f"unknown measure {name!r}; known: {', '.join(MEASURES)}"
        ) from None
    if measure.sided and side not in SIDES:
        raise MeasureUnavailableError(f"{name} needs side 'left' or 'right', got {side!r}")
    needed = measure.needed_joints(side)
    lacking = [j for j in needed if not seq.has_joint(j)]
    if lacking:
        raise MeasureUnavailableError(f"{name} ({side}) needs joints this device lacks: {lacking}")
    idx = {n: k for k, n in enumerate(seq.joint_names)}
    pos = seq.positions_m.astype(np.float64) if positions_m is None else positions_m
    with np.errstate(invalid="ignore", divide="ignore"):
        values = measure.function(pos, idx, up_axis(seq), side)
    missing = np.any(seq.source[:, [idx[j] for j in needed]] == JointSource.MISSING, axis=1)
    return np.where(missing, np.nan, values)
