"""Per-frame angle uncertainty (degrees) from the data's own quality.

An angle is made of directions between joints; a joint-position error σ on a
segment of length L tilts that direction by ≈ σ/L radians. So for a measure
built from segments (a_k, b_k) the standard uncertainty is

    σ_θ = sqrt( Σ_k (σ_a² + σ_b²) / L_k² ) · k_device    (radians → degrees)

with each joint's σ² = (base(source) / sqrt(confidence))² + jitter² + bone-length
variance of its segment. ``base`` is the typical joint-centre error of how the
joint was obtained (depth tracker vs lifted vs interpolated vs marker), and
``k_device`` is a per-device factor fitted (leave-one-subject-out) so that
the stated ± covers the true error of about 68 % of repetitions (one standard
uncertainty, GUM k = 1). Figures above 5° are flagged, never shown clean.
"""

from __future__ import annotations

import numpy as np

from analysis.skeleton import JointSource, SkeletonSequence

FLAG_THRESHOLD_DEG = 5.0

#: Typical joint-centre error (m) by source: Kinect v2 / depth trackers ~15 mm
#: against markers (Otte et al. 2016, PLoS ONE 11:e0166532), monocular lifting
#: ~40 mm MPJPE, a 0.33 s linear gap fill ~30 mm, skin markers ~5 mm.
BASE_ERROR_M: dict[int, float] = {
    JointSource.DEPTH: 0.015,
    JointSource.LIFTED: 0.040,
    JointSource.INTERPOLATED: 0.030,
    JointSource.MISSING: np.inf,
    JointSource.MARKER: 0.005,
}

_TRUNK = (("left_hip", "right_hip"), ("left_shoulder", "right_shoulder"))
_TRUNK_LINE = (("pelvis_mid", "shoulder_mid"),)


def measure_segments(measure: str, side: str | None) -> tuple[tuple[str, str], ...]:
    """The segments whose directions a measure depends on."""
    s = side or "right"
    limb = {
        "knee_flexion": ((f"{s}_hip", f"{s}_knee"), (f"{s}_knee", f"{s}_ankle")),
        "elbow_flexion": ((f"{s}_shoulder", f"{s}_elbow"), (f"{s}_elbow", f"{s}_wrist")),
        "ankle_dorsiflexion": ((f"{s}_knee", f"{s}_ankle"), (f"{s}_ankle", f"{s}_toe")),
        "hip_flexion": ((f"{s}_hip", f"{s}_knee"), *_TRUNK_LINE, _TRUNK[0]),
        "hip_abduction": ((f"{s}_hip", f"{s}_knee"), *_TRUNK_LINE, _TRUNK[0]),
        "shoulder_flexion": ((f"{s}_shoulder", f"{s}_elbow"), *_TRUNK_LINE, _TRUNK[1]),
        "shoulder_extension": ((f"{s}_shoulder", f"{s}_elbow"), *_TRUNK_LINE, _TRUNK[1]),
        "shoulder_abduction": ((f"{s}_shoulder", f"{s}_elbow"), *_TRUNK_LINE, _TRUNK[1]),
        "shoulder_external_rotation": (
            (f"{s}_shoulder", f"{s}_elbow"),
            (f"{s}_elbow", f"{s}_wrist"),
            *_TRUNK_LINE,
            _TRUNK[1],
        ),
        "trunk_flexion": (*_TRUNK_LINE, _TRUNK[0]),
        "trunk_lateral_flexion": (*_TRUNK_LINE, _TRUNK[0]),
    }
    return limb[measure]


def joint_sigma_m(
    seq: SkeletonSequence, jitter_m: np.ndarray, bone_sd_m: dict[str, float]
) -> np.ndarray:
    """(T, J) standard uncertainty of each joint position in metres."""
    lookup = np.full(256, np.inf, dtype=np.float32)
    for code, value in BASE_ERROR_M.items():
        lookup[int(code)] = value
    base = lookup[seq.source]
    conf = np.clip(seq.confidence, np.float32(1e-3), np.float32(1.0))
    sigma2 = base**2 / conf + (jitter_m[None, :] ** 2).astype(np.float32)
    names = seq.joint_names
    for segment, sd in bone_sd_m.items():
        for joint in segment.split("-"):
            if joint in names:
                sigma2[:, names.index(joint)] += 0.5 * sd**2
    return np.sqrt(sigma2)


def angle_sigma_deg(
    seq: SkeletonSequence,
    measure: str,
    side: str | None,
    sigma_m: np.ndarray,
    k_device: float = 1.0,
    *,
    positions_m: np.ndarray | None = None,
    frames: np.ndarray | None = None,
) -> np.ndarray:
    """Standard uncertainty in degrees of one measure, frame by frame.

    ``frames`` restricts the computation to those frame indices (the result
    then has their length): figures only need it where a peak or minimum is.
    """
    idx = {n: k for k, n in enumerate(seq.joint_names)}
    pos = seq.positions_m if positions_m is None else positions_m
    if frames is not None:
        pos, sigma_m = pos[frames], sigma_m[frames]

    def point(name: str) -> tuple[np.ndarray, np.ndarray]:
        if name == "pelvis_mid":
            a, b = idx["left_hip"], idx["right_hip"]
        elif name == "shoulder_mid":
            a, b = idx["left_shoulder"], idx["right_shoulder"]
        else:
            return pos[:, idx[name]], sigma_m[:, idx[name]]
        return 0.5 * (pos[:, a] + pos[:, b]), 0.5 * np.hypot(sigma_m[:, a], sigma_m[:, b])

    total = np.zeros(pos.shape[0], dtype=np.float32)
    for a, b in measure_segments(measure, side):
        (pa, sa), (pb, sb) = point(a), point(b)
        d = pa - pb
        length2 = np.maximum(np.einsum("ti,ti->t", d, d), np.float32(0.05**2))
        total += (sa**2 + sb**2) / length2
    return np.degrees(np.sqrt(total, dtype=np.float64)) * k_device
