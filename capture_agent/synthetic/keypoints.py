"""A stand-in 2D model for measuring fusion on its own: ground truth projected, plus noise.

Why: an accuracy figure for *depth fusion* should not be confounded by the 2D
model's own errors, and the bench reports both (BlazePose on the rendered
images, and this). The noise is explicit: Gaussian per frame with σ =
``sigma_frac`` × the body's image height, plus a constant per-joint offset of
the same size (2D models are biased per joint, not only jittery). Joints
outside the image get confidence 0, as a real model's would be unreliable.
"""

from __future__ import annotations

import numpy as np

from analysis.skeleton import JOINT_INDEX
from capture_agent.interfaces import BLAZEPOSE_33, Keypoints2D
from capture_agent.sources.base import CameraIntrinsics

#: BlazePose keypoint → canonical joint whose projection stands in for it.
_FROM_CANONICAL: dict[str, str] = {
    "nose": "head",
    **{
        f"{s}_{p}": "head"
        for s in ("left", "right")
        for p in ("eye_inner", "eye", "eye_outer", "ear")
    },
    "mouth_left": "head",
    "mouth_right": "head",
    **{
        f"{s}_{j}": f"{s}_{j}"
        for s in ("left", "right")
        for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel")
    },
    **{f"{s}_{p}": f"{s}_hand" for s in ("left", "right") for p in ("pinky", "index", "thumb")},
    **{f"{s}_foot_index": f"{s}_toe" for s in ("left", "right")},
}
_INDEX = np.array([JOINT_INDEX[_FROM_CANONICAL[n]] for n in BLAZEPOSE_33])


class ProjectedTruthPose2D:
    """:class:`~capture_agent.interfaces.Pose2D` fed the synthetic frame's ground truth.

    ``set_truth`` is called with each frame's joints before ``estimate`` (the
    pipeline helper :func:`truth_feeder` does it).
    """

    joint_names = BLAZEPOSE_33

    def __init__(self, intrinsics: CameraIntrinsics, *, sigma_frac: float = 0.01, seed: int = 0):
        self.intrinsics = intrinsics
        self.sigma_frac = sigma_frac
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._bias = self._rng.standard_normal((len(BLAZEPOSE_33), 2))
        self._truth: np.ndarray | None = None

    def set_truth(self, joints_m: np.ndarray) -> None:
        self._truth = np.asarray(joints_m, dtype=np.float64)

    def estimate(self, frame_rgb: np.ndarray) -> Keypoints2D:
        h, w = frame_rgb.shape[:2]
        if self._truth is None:
            return Keypoints2D.empty(image_size_px=(w, h))
        pts = self._truth[_INDEX]
        xy = self.intrinsics.project(pts)
        ok = np.all(np.isfinite(xy), axis=1)
        height_px = float(np.nanmax(xy[:, 1]) - np.nanmin(xy[:, 1])) if ok.any() else 0.0
        sigma = self.sigma_frac * max(height_px, 1.0)
        xy = xy + sigma * (self._bias + self._rng.standard_normal(xy.shape))
        inside = ok & (xy[:, 0] >= 0) & (xy[:, 0] < w) & (xy[:, 1] >= 0) & (xy[:, 1] < h)
        conf = np.where(inside, 0.95, 0.0).astype(np.float32)
        return Keypoints2D(
            xy_px=np.nan_to_num(xy).astype(np.float32),
            confidence=conf,
            joint_names=BLAZEPOSE_33,
            image_size_px=(w, h),
            world_m=None,
            person_score=1.0 if inside.any() else 0.0,
        )
