"""Map each device's joint list onto the canonical skeleton.

Every camera and pose model names and orders its joints differently; the
analysis only ever sees canonical names, so a measure written once works on
all of them. A canonical joint a device does not track is kept in the
sequence with source MISSING, position 0 and confidence 0, so consumers can
tell "not observed" from "observed at the origin".

A few canonical joints are *derived* where a device has no direct equivalent
(e.g. COCO has no pelvis: it is the midpoint of the two hips). A derived joint
takes the lowest confidence of its parents and the least trustworthy source.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from analysis.errors import SkeletonValidationError
from analysis.skeleton import CANONICAL_JOINTS, JOINT_INDEX, JointSource, SkeletonSequence

#: Device joint orders, exactly as each SDK / model emits them.
DEVICE_JOINTS: dict[str, tuple[str, ...]] = {
    "coco17": (
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
        "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    "blazepose33": (
        "nose", "left_eye_inner", "left_eye", "left_eye_outer",
        "right_eye_inner", "right_eye", "right_eye_outer", "left_ear", "right_ear",
        "mouth_left", "mouth_right", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_pinky", "right_pinky", "left_index", "right_index",
        "left_thumb", "right_thumb", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
        "left_heel", "right_heel", "left_foot_index", "right_foot_index",
    ),
    "kinect_v2": (
        "SpineBase", "SpineMid", "Neck", "Head", "ShoulderLeft", "ElbowLeft",
        "WristLeft", "HandLeft", "ShoulderRight", "ElbowRight", "WristRight",
        "HandRight", "HipLeft", "KneeLeft", "AnkleLeft", "FootLeft", "HipRight",
        "KneeRight", "AnkleRight", "FootRight", "SpineShoulder", "HandTipLeft",
        "ThumbLeft", "HandTipRight", "ThumbRight",
    ),
    # UI-PRMD's export of Kinect v2 tracking (Vakanski et al. 2018, Table 2).
    "uiprmd_kinect22": (
        "waist", "spine", "chest", "neck", "head", "head_tip",
        "left_collar", "left_upper_arm", "left_forearm", "left_hand",
        "right_collar", "right_upper_arm", "right_forearm", "right_hand",
        "left_upper_leg", "left_lower_leg", "left_foot", "left_leg_toes",
        "right_upper_leg", "right_lower_leg", "right_foot", "right_leg_toes",
    ),
    "azure_kinect32": (
        "PELVIS", "SPINE_NAVEL", "SPINE_CHEST", "NECK", "CLAVICLE_LEFT",
        "SHOULDER_LEFT", "ELBOW_LEFT", "WRIST_LEFT", "HAND_LEFT", "HANDTIP_LEFT",
        "THUMB_LEFT", "CLAVICLE_RIGHT", "SHOULDER_RIGHT", "ELBOW_RIGHT",
        "WRIST_RIGHT", "HAND_RIGHT", "HANDTIP_RIGHT", "THUMB_RIGHT", "HIP_LEFT",
        "KNEE_LEFT", "ANKLE_LEFT", "FOOT_LEFT", "HIP_RIGHT", "KNEE_RIGHT",
        "ANKLE_RIGHT", "FOOT_RIGHT", "HEAD", "NOSE", "EYE_LEFT", "EAR_LEFT",
        "EYE_RIGHT", "EAR_RIGHT",
    ),
}  # fmt: skip

# canonical name -> device joint name, or a tuple of device names averaged
_MAPS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "coco17": {
        "pelvis": ("left_hip", "right_hip"),
        "spine_chest": ("left_shoulder", "right_shoulder"),
        "nose": "nose",
        **{f"{s}_{j}": f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")},
    },
    "blazepose33": {
        "pelvis": ("left_hip", "right_hip"),
        "spine_chest": ("left_shoulder", "right_shoulder"),
        "nose": "nose",
        **{f"{s}_{j}": f"{s}_{j}" for s in ("left", "right") for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel")},
        **{f"{s}_hand": (f"{s}_pinky", f"{s}_index") for s in ("left", "right")},
        **{f"{s}_toe": f"{s}_foot_index" for s in ("left", "right")},
    },
    "kinect_v2": {
        "pelvis": "SpineBase", "spine_mid": "SpineMid", "spine_chest": "SpineShoulder",
        "neck": "Neck", "head": "Head",
        **{f"{s.lower()}_{j.lower()}": f"{j}{s}" for s in ("Left", "Right") for j in ("Shoulder", "Elbow", "Wrist", "Hand", "Hip", "Knee", "Ankle")},
        **{f"{s.lower()}_toe": f"Foot{s}" for s in ("Left", "Right")},
    },
    "uiprmd_kinect22": {
        "pelvis": "waist", "spine_mid": "spine", "spine_chest": "chest", "neck": "neck", "head": "head",
        **{f"{s}_{c}": f"{s}_{d}" for s in ("left", "right") for c, d in (
            ("shoulder", "upper_arm"), ("elbow", "forearm"), ("wrist", "hand"),
            ("hip", "upper_leg"), ("knee", "lower_leg"), ("ankle", "foot"), ("toe", "leg_toes"))},
    },
    "azure_kinect32": {
        "pelvis": "PELVIS", "spine_mid": "SPINE_NAVEL", "spine_chest": "SPINE_CHEST",
        "neck": "NECK", "head": "HEAD", "nose": "NOSE",
        **{f"{s.lower()}_{j.lower()}": f"{j}_{s}" for s in ("LEFT", "RIGHT") for j in ("SHOULDER", "ELBOW", "WRIST", "HAND", "HIP", "KNEE", "ANKLE")},
        **{f"{s.lower()}_toe": f"FOOT_{s}" for s in ("LEFT", "RIGHT")},
    },
}  # fmt: skip

#: Azure Kinect body tracking confidence levels (k4abt_joint_confidence_level_t) → [0, 1].
AZURE_CONFIDENCE = np.array([0.0, 0.33, 0.67, 1.0], dtype=np.float32)


def device_joint_names(fmt: str) -> tuple[str, ...]:
    """The joint order a device format uses; raises for an unknown format."""
    try:
        return DEVICE_JOINTS[fmt]
    except KeyError:
        raise SkeletonValidationError(
            f"unknown skeleton format {fmt!r}; known: {', '.join(sorted(DEVICE_JOINTS))}"
        ) from None


def to_canonical(
    fmt: str,
    positions: np.ndarray,
    timestamps_s: np.ndarray | Sequence[float],
    *,
    confidence: np.ndarray | None = None,
    source: JointSource | np.ndarray = JointSource.DEPTH,
    scale_to_m: float = 1.0,
    metadata: dict[str, Any] | None = None,
) -> SkeletonSequence:
    """Convert one device's (T, J_dev, 3) joints to a canonical SkeletonSequence.

    ``scale_to_m`` converts the device's unit (0.001 for Azure Kinect's mm,
    0.01 for UI-PRMD's cm). Per-frame dropouts are expressed by confidence 0:
    such a joint becomes MISSING in that frame with position 0, because a
    tracker's guess with zero confidence is not an observation.
    """
    names = device_joint_names(fmt)
    pos = np.asarray(positions, dtype=np.float64)
    if pos.ndim != 3 or pos.shape[1:] != (len(names), 3):
        raise SkeletonValidationError(
            f"{fmt} positions must have shape (T, {len(names)}, 3), got {pos.shape}"
        )
    n_frames = pos.shape[0]
    conf = (
        np.ones((n_frames, len(names)), dtype=np.float32)
        if confidence is None
        else np.asarray(confidence, dtype=np.float32)
    )
    if conf.shape != (n_frames, len(names)):
        raise SkeletonValidationError(
            f"{fmt} confidence must have shape ({n_frames}, {len(names)}), got {conf.shape}"
        )
    src_dev = np.broadcast_to(np.asarray(source, dtype=np.uint8), (n_frames, len(names)))
    index = {n: i for i, n in enumerate(names)}

    out_pos = np.zeros((n_frames, len(CANONICAL_JOINTS), 3), dtype=np.float64)
    out_conf = np.zeros((n_frames, len(CANONICAL_JOINTS)), dtype=np.float32)
    out_src = np.full((n_frames, len(CANONICAL_JOINTS)), JointSource.MISSING, dtype=np.uint8)
    for canon, dev in _MAPS[fmt].items():
        parts = [index[d] for d in ((dev,) if isinstance(dev, str) else dev)]
        j = JOINT_INDEX[canon]
        out_pos[:, j] = pos[:, parts].mean(axis=1) * scale_to_m
        out_conf[:, j] = conf[:, parts].min(axis=1)
        # a larger JointSource code is the less direct observation (DEPTH < LIFTED < ...)
        out_src[:, j] = src_dev[:, parts].max(axis=1)
    dropped = out_conf <= 0.0
    out_src[dropped] = JointSource.MISSING
    out_pos[dropped] = 0.0
    out_conf[dropped] = 0.0
    meta = {"source_format": fmt, **(metadata or {})}
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS,
        timestamps_s=np.asarray(timestamps_s, dtype=np.float64),
        positions_m=out_pos,
        confidence=out_conf,
        source=out_src,
        metadata=meta,
    )
