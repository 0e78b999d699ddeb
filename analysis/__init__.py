"""telerehab analysis: from 3D skeletons to validated clinical joint angles.

Pure numpy/scipy; never imports Django or the capture agent.
"""

from analysis.errors import (
    AnalysisError,
    ImplausibleSkeletonError,
    MeasureUnavailableError,
    SkeletonFormatError,
    SkeletonValidationError,
)
from analysis.skeleton import CANONICAL_JOINTS, JOINT_INDEX, JointSource, SkeletonSequence

__all__ = [
    "CANONICAL_JOINTS",
    "JOINT_INDEX",
    "AnalysisError",
    "ImplausibleSkeletonError",
    "JointSource",
    "MeasureUnavailableError",
    "SkeletonFormatError",
    "SkeletonSequence",
    "SkeletonValidationError",
]
