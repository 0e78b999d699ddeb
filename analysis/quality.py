"""Is this a human body? Plausibility checks before any clinical number is made.

Structural validity (shapes, NaN, time order) is ``skeleton.validate_structure``;
this is the clinical check: segment lengths a human can have. Bounds are wide
(covering children to tall adults, Winter 2009 anthropometric proportions of
statures 1.0-2.1 m, plus tracker skin-offset) so they only catch wrong units,
swapped joints and broken trackers.
"""

from __future__ import annotations

import numpy as np

from analysis.conditioning import bone_lengths
from analysis.errors import ImplausibleSkeletonError
from analysis.skeleton import SkeletonSequence

#: Plausible median segment length in metres, by segment.
SEGMENT_BOUNDS_M: dict[str, tuple[float, float]] = {
    "upper_arm": (0.12, 0.50),
    "forearm": (0.10, 0.45),
    "thigh": (0.18, 0.70),
    "shank": (0.18, 0.70),
    "hips": (0.05, 0.55),
    "shoulders": (0.12, 0.65),
}
_KIND = {
    "shoulder-elbow": "upper_arm",
    "elbow-wrist": "forearm",
    "hip-knee": "thigh",
    "knee-ankle": "shank",
    "left_hip-right_hip": "hips",
    "left_shoulder-right_shoulder": "shoulders",
}


def _kind(segment: str) -> str:
    if segment in _KIND:
        return _KIND[segment]
    a, b = segment.split("-")
    return _KIND[f"{a.split('_', 1)[1]}-{b.split('_', 1)[1]}"]


def check_plausible(
    seq: SkeletonSequence, lengths: dict[str, np.ndarray] | None = None
) -> dict[str, float]:
    """Median segment lengths (m); raises ImplausibleSkeletonError naming an absurd one."""
    medians: dict[str, float] = {}
    for segment, length in (bone_lengths(seq) if lengths is None else lengths).items():
        if not np.any(np.isfinite(length)):
            continue
        median = float(np.nanmedian(length))
        low, high = SEGMENT_BOUNDS_M[_kind(segment)]
        if not low <= median <= high:
            raise ImplausibleSkeletonError(
                f"segment {segment} is {median:.3f} m long (plausible {low}-{high} m); "
                "check units (metres expected) and joint labels"
            )
        medians[segment] = median
    return medians
