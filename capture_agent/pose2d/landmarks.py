"""BlazePose "full" landmark model: crop → 39 landmarks, heatmap refinement, un-projection.

The model returns 39 points: the 33 body keypoints, then two auxiliary points
(hip centre, full-body circle) that give the next frame's region, then four
unused. Coordinates come regressed; MediaPipe refines them with the 64×64
heatmap (a confidence-weighted centroid in a 7×7 window) and so do we, since
parity with MediaPipe's output is what the published accuracy refers to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capture_agent.models import create_session
from capture_agent.pose2d.roi import LANDMARK_INPUT_PX, Roi, crop, rotate_world, unproject

LANDMARK_FILE = "pose_landmark_full.onnx"
N_OUTPUT_POINTS = 39
N_BODY = 33
AUX_HIP, AUX_CIRCLE = 33, 34
REFINE_KERNEL = 7
REFINE_MIN_CONFIDENCE = 0.5


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def refine_from_heatmap(
    uv_norm: np.ndarray,
    heatmap: np.ndarray,
    kernel: int = REFINE_KERNEL,
    min_confidence: float = REFINE_MIN_CONFIDENCE,
) -> np.ndarray:
    """MediaPipe's RefineLandmarksFromHeatmap: centroid of sigmoid(heatmap) near each point.

    ``heatmap`` is (H, W, N) raw logits. A point outside the heatmap is left
    as regressed, as is a point whose window holds no confident cell.
    """
    hm_h, hm_w, _ = heatmap.shape
    out = uv_norm.copy()
    half = (kernel - 1) // 2
    for i in range(uv_norm.shape[0]):
        col = int(uv_norm[i, 0] * hm_w)  # truncation toward zero, as the C++ int cast
        row = int(uv_norm[i, 1] * hm_h)
        if uv_norm[i, 0] * hm_w < 0 or col >= hm_w or uv_norm[i, 1] * hm_h < 0 or row >= hm_h:
            continue
        r0, r1 = max(0, row - half), min(hm_h, row + half + 1)
        c0, c1 = max(0, col - half), min(hm_w, col + half + 1)
        window = _sigmoid(heatmap[r0:r1, c0:c1, i])
        total = float(window.sum())
        if window.max() < min_confidence or total <= 0:
            continue
        rows, cols = np.mgrid[r0:r1, c0:c1]
        out[i, 0] = float((cols * window).sum()) / hm_w / total
        out[i, 1] = float((rows * window).sum()) / hm_h / total
    return out


@dataclass(frozen=True)
class LandmarkResult:
    """Landmarks of one crop, already mapped back to the full frame."""

    xy_px: np.ndarray  # (33, 2)
    visibility: np.ndarray  # (33,) sigmoid
    presence: np.ndarray  # (33,) sigmoid
    world_m: np.ndarray  # (33, 3) hip-centred metres, camera-aligned
    pose_score: float  # probability a body is in the crop
    aux_hip_px: np.ndarray  # (2,) for the next region
    aux_circle_px: np.ndarray  # (2,)


class LandmarkModel:
    """Runs the converted landmark model on a region of a frame."""

    def __init__(self, *, threads: int = 1) -> None:
        self._session = create_session(LANDMARK_FILE, threads=threads)
        self._input = self._session.get_inputs()[0].name
        # Identity: landmarks, _1: pose flag, _3: heatmap, _4: world (the _2
        # segmentation head is pruned by tools/convert_blazepose.py).
        self._wanted = ["Identity", "Identity_1", "Identity_3", "Identity_4"]

    def run_raw(self, crop_u8: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        """Raw outputs for a 256×256 uint8 RGB crop: (39,5) landmarks, flag, heatmap, (39,3) world."""
        x = (crop_u8.astype(np.float32) / 255.0)[None]
        lm, flag, heatmap, world = self._session.run(self._wanted, {self._input: x})
        return (
            lm[0].reshape(N_OUTPUT_POINTS, 5),
            float(flag.reshape(-1)[0]),
            heatmap[0],
            world[0].reshape(N_OUTPUT_POINTS, 3),
        )

    def estimate(self, frame_rgb: np.ndarray, roi: Roi) -> LandmarkResult:
        raw, flag, heatmap, world = self.run_raw(crop(frame_rgb, roi))
        uv = raw[:, 0:2] / LANDMARK_INPUT_PX
        uv = refine_from_heatmap(uv, heatmap)
        xy = unproject(uv, roi)
        return LandmarkResult(
            xy_px=xy[:N_BODY],
            visibility=_sigmoid(raw[:N_BODY, 3]).astype(np.float32),
            presence=_sigmoid(raw[:N_BODY, 4]).astype(np.float32),
            world_m=rotate_world(world[:N_BODY], roi).astype(np.float32),
            pose_score=flag,
            aux_hip_px=xy[AUX_HIP],
            aux_circle_px=xy[AUX_CIRCLE],
        )
