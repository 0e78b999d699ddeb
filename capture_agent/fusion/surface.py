"""From the skin the camera sees to the joint centre the clinician means.

A depth camera measures the front surface of the body; angles are defined
between joint centres, which lie behind that surface by roughly half the
body part's thickness along the viewing ray. Uncorrected, a knee reads
~5 cm too close and a hip ~9 cm too close, which bends measured angles at
distances where the limbs are foreshortened.

Offsets are adult half-thicknesses (anterior surface to joint centre),
rounded from anthropometric tables (NASA Anthropometric Source Book 1978,
vol. II; hip-joint-centre depth per Bell et al. 1990, ~ 9 cm behind the
anterior pelvis/groin surface). Face landmarks are themselves on the
skin: offset 0. Values are the same order as the synthetic renderer's
capsule radii because both describe adult bodies; they were not fitted to it.
"""

from __future__ import annotations

import numpy as np

from capture_agent.interfaces import BLAZEPOSE_33

SURFACE_TO_CENTRE_M: dict[str, float] = {
    "shoulder": 0.05,
    "elbow": 0.035,
    "wrist": 0.025,
    "pinky": 0.012,
    "index": 0.012,
    "thumb": 0.012,
    "hip": 0.09,
    "knee": 0.045,
    "ankle": 0.035,
    "heel": 0.03,
    "foot_index": 0.02,
}


def surface_offsets_m(joint_names: tuple[str, ...] = BLAZEPOSE_33) -> np.ndarray:
    """(K,) metres from the visible surface to the joint centre for each keypoint name."""
    out = np.zeros(len(joint_names))
    for i, name in enumerate(joint_names):
        part = name.split("_", 1)[1] if name.startswith(("left_", "right_")) else name
        out[i] = SURFACE_TO_CENTRE_M.get(part, 0.0)
    return out


def push_to_centre(points_m: np.ndarray, offsets_m: np.ndarray) -> np.ndarray:
    """Move each surface point further along its camera ray by its offset."""
    p = np.asarray(points_m, dtype=np.float64)
    r = np.linalg.norm(p, axis=-1, keepdims=True)
    return p * (1.0 + offsets_m[:, None] / np.where(r > 0, r, 1.0))
