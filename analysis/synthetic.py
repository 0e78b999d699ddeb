"""Scripted skeletons with known joint angles, for tests, benchmarks and demos.

Poses are built in a body frame (x right, y forward, z up) from clinical
angles using the same conventions as :mod:`analysis.measures`, then placed in
the camera frame (x right, y down, z forward; the person faces the camera).
Limbs move in a single plane per joint (sagittal, or frontal when an
abduction is given), which is what makes the expected angles exact.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from analysis.skeleton import CANONICAL_JOINTS, JOINT_INDEX, JointSource, SkeletonSequence

#: Segment lengths (m) of a 1.75 m adult (Winter 2009 proportions).
LENGTHS_M = {
    "thigh": 0.43,
    "shank": 0.43,
    "foot": 0.15,
    "upper_arm": 0.31,
    "forearm": 0.27,
    "hand": 0.08,
    "trunk": 0.50,
    "hip_half": 0.09,
    "shoulder_half": 0.18,
    "neck": 0.10,
    "head": 0.12,
}

#: Camera-from-body rotation for a person facing the camera (det = +1).
CAMERA_FROM_BODY = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, -1.0, 0.0]])


def _planar_dir(
    down: np.ndarray, toward: np.ndarray, angle_deg: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Direction at ``angle`` from ``down`` towards ``toward``, and its +90° perpendicular."""
    a = np.radians(angle_deg)[..., None]
    d = np.cos(a) * down + np.sin(a) * toward
    n = -np.sin(a) * down + np.cos(a) * toward
    return d, n


def body_pose(n_frames: int, angles: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """(T, J, 3) canonical joints in the body frame from ``{"right_knee_flexion": deg, ...}``.

    Keys: ``{side}_{knee_flexion,hip_flexion,hip_abduction,shoulder_flexion,
    shoulder_abduction,shoulder_external_rotation,elbow_flexion,ankle_dorsiflexion}``, ``trunk_flexion``,
    ``trunk_lateral_flexion`` (towards the right). Missing keys are 0°.
    """

    def ang(key: str) -> np.ndarray:
        return np.broadcast_to(np.asarray(angles.get(key, 0.0), dtype=np.float64), (n_frames,))

    L = LENGTHS_M
    x = np.array([1.0, 0.0, 0.0])
    y = np.array([0.0, 1.0, 0.0])
    z = np.array([0.0, 0.0, 1.0])
    out = np.zeros((n_frames, len(CANONICAL_JOINTS), 3))

    def put(name: str, value: np.ndarray) -> None:
        out[:, JOINT_INDEX[name]] = value

    pelvis = np.broadcast_to(np.array([0.0, 0.0, 1.0]), (n_frames, 3))
    tf, tl = (
        np.radians(ang("trunk_flexion"))[:, None],
        np.radians(ang("trunk_lateral_flexion"))[:, None],
    )
    up = np.cos(tf) * np.cos(tl) * z + np.sin(tf) * y + np.cos(tf) * np.sin(tl) * x
    up /= np.linalg.norm(up, axis=-1, keepdims=True)
    down = -up
    anterior = np.cross(up, x)
    anterior /= np.linalg.norm(anterior, axis=-1, keepdims=True)
    mid_sho = pelvis + L["trunk"] * up
    put("pelvis", pelvis)
    put("spine_mid", pelvis + 0.5 * L["trunk"] * up)
    put("spine_chest", mid_sho)
    put("neck", mid_sho + L["neck"] * up)
    put("head", mid_sho + (L["neck"] + L["head"]) * up)
    put("nose", mid_sho + (L["neck"] + L["head"]) * up + 0.08 * anterior)
    # legs hang from the pelvis with gravity's down when the trunk leans: use the pelvis frame
    leg_down = np.broadcast_to(-z, (n_frames, 3))
    leg_front = np.broadcast_to(y, (n_frames, 3))
    for side, sgn in (("left", -1.0), ("right", 1.0)):
        lateral = sgn * x
        # arms
        sho = mid_sho + sgn * L["shoulder_half"] * x
        abd, flex = ang(f"{side}_shoulder_abduction"), ang(f"{side}_shoulder_flexion")
        if np.any(abd != 0):
            hum, _ = _planar_dir(down, np.broadcast_to(lateral, (n_frames, 3)), abd)
            perp = anterior
        else:
            hum, perp = _planar_dir(down, anterior, flex)
        rot = np.radians(ang(f"{side}_shoulder_external_rotation"))[:, None]
        if np.any(rot != 0):
            # external rotation turns the forearm about the humerus, outwards for either side
            perp = np.cos(rot) * perp + (sgn * np.sin(rot)) * np.cross(hum, perp)
        fore, _ = _planar_dir(hum, perp, ang(f"{side}_elbow_flexion"))
        elbow = sho + L["upper_arm"] * hum
        wrist = elbow + L["forearm"] * fore
        put(f"{side}_shoulder", sho)
        put(f"{side}_elbow", elbow)
        put(f"{side}_wrist", wrist)
        put(f"{side}_hand", wrist + L["hand"] * fore)
        # legs
        hip = pelvis + sgn * L["hip_half"] * x
        h_abd, h_flex = ang(f"{side}_hip_abduction"), ang(f"{side}_hip_flexion")
        if np.any(h_abd != 0):
            thigh, _ = _planar_dir(leg_down, np.broadcast_to(lateral, (n_frames, 3)), h_abd)
            shank_perp = -leg_front
            shank, _ = _planar_dir(
                thigh, np.broadcast_to(shank_perp, (n_frames, 3)), ang(f"{side}_knee_flexion")
            )
            foot_dir, _ = _planar_dir(shank, leg_front, 90.0 + ang(f"{side}_ankle_dorsiflexion"))
        else:
            thigh, n_thigh = _planar_dir(leg_down, leg_front, h_flex)
            knee_flex = ang(f"{side}_knee_flexion")
            shank, _ = _planar_dir(thigh, -n_thigh, knee_flex)
            # the foot points 90° (+ dorsiflexion) anterior of the shank, in the same plane
            foot_dir, _ = _planar_dir(
                leg_down, leg_front, h_flex - knee_flex + 90.0 + ang(f"{side}_ankle_dorsiflexion")
            )
        knee = hip + L["thigh"] * thigh
        ankle = knee + L["shank"] * shank
        put(f"{side}_hip", hip)
        put(f"{side}_knee", knee)
        put(f"{side}_ankle", ankle)
        put(f"{side}_heel", ankle - 0.05 * foot_dir)
        put(f"{side}_toe", ankle + L["foot"] * foot_dir)
    return out


def to_camera(body_m: np.ndarray, *, distance_m: float = 2.5, yaw_deg: float = 0.0) -> np.ndarray:
    """Place body-frame joints in front of a camera, optionally turned by ``yaw_deg``."""
    c, s = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
    yaw = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    r = CAMERA_FROM_BODY @ yaw
    return body_m @ r.T + np.array([0.0, 0.0, distance_m]) + np.array([0.0, 1.0, 0.0])


def exercise_sequence(
    *,
    rate_hz: float = 30.0,
    n_reps: int = 5,
    period_s: float = 3.0,
    pause_s: float = 1.0,
    peak_angles: Mapping[str, float],
    noise_m: float = 0.0,
    source: JointSource = JointSource.DEPTH,
    seed: int = 0,
    yaw_deg: float = 0.0,
) -> SkeletonSequence:
    """Repetitions of raised-cosine excursions to ``peak_angles`` with rests between.

    Each rep lasts ``period_s`` and is followed by ``pause_s`` at rest, so the
    true rep count, peaks and ROM are known exactly.
    """
    cycle = period_s + pause_s
    n = int(round((n_reps * cycle + pause_s) * rate_hz))
    t = np.arange(n) / rate_hz
    phase = np.clip((t - pause_s) % cycle, 0.0, None)
    active = (t >= pause_s) & (phase < period_s) & (t < pause_s + n_reps * cycle)
    shape = np.where(active, 0.5 * (1.0 - np.cos(2.0 * np.pi * phase / period_s)), 0.0)
    angles = {k: v * shape for k, v in peak_angles.items()}
    pos = to_camera(body_pose(n, angles), yaw_deg=yaw_deg)
    if noise_m:
        pos = pos + np.random.default_rng(seed).normal(0.0, noise_m, pos.shape)
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS,
        timestamps_s=t,
        positions_m=pos,
        source=np.full((n, len(CANONICAL_JOINTS)), source, dtype=np.uint8),
        metadata={"device": "synthetic", "frame": "camera"},
    )
