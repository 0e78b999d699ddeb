"""The rotated square region of interest BlazePose's landmark model looks through.

The landmark model expects an upright, hip-centred, square crop; the region
comes either from the detector's two body keypoints or, while tracking, from
the previous frame's two auxiliary landmarks. Both use the same rule
(MediaPipe's AlignmentPointsRects + RectTransformation): centre on the hip
point, rotate so hip→body-circle point points up, side = 2 × that distance,
enlarged by 1.25. Everything here is in pixels of the full frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

ROI_SCALE = 1.25
LANDMARK_INPUT_PX = 256


@dataclass(frozen=True)
class Roi:
    """Centre (px), side (px) and rotation (radians, MediaPipe's sign) of the crop."""

    center_x_px: float
    center_y_px: float
    side_px: float
    rotation_rad: float

    def iou(self, other: Roi) -> float:
        """Overlap of the axis-aligned squares; rotation ignored (a gating measure)."""
        a0x, a0y = self.center_x_px - self.side_px / 2, self.center_y_px - self.side_px / 2
        b0x, b0y = other.center_x_px - other.side_px / 2, other.center_y_px - other.side_px / 2
        ix = max(0.0, min(a0x + self.side_px, b0x + other.side_px) - max(a0x, b0x))
        iy = max(0.0, min(a0y + self.side_px, b0y + other.side_px) - max(a0y, b0y))
        inter = ix * iy
        union = self.side_px**2 + other.side_px**2 - inter
        return inter / union if union > 0 else 0.0


def _normalize_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def roi_from_points(hip_xy_px: np.ndarray, circle_xy_px: np.ndarray) -> Roi:
    """Region from the hip centre and the point on the full-body circle."""
    x0, y0 = float(hip_xy_px[0]), float(hip_xy_px[1])
    x1, y1 = float(circle_xy_px[0]), float(circle_xy_px[1])
    rotation = _normalize_radians(math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0))
    side = 2.0 * math.hypot(x1 - x0, y1 - y0) * ROI_SCALE
    return Roi(x0, y0, side, rotation)


def crop_transform(roi: Roi, size_px: int = LANDMARK_INPUT_PX) -> np.ndarray:
    """3×3 perspective matrix frame → crop, as MediaPipe's CPU ImageToTensor builds it.

    The rotated rectangle's corners map to the crop's outer corners (0 and
    ``size_px``), which is what the model was trained with; reproducing it
    exactly is part of matching MediaPipe's landmarks.
    """
    corners = cv2.boxPoints(
        (
            (roi.center_x_px, roi.center_y_px),
            (roi.side_px, roi.side_px),
            math.degrees(roi.rotation_rad),
        )
    ).astype(np.float32)
    dst = np.array([[0, size_px], [0, 0], [size_px, 0], [size_px, size_px]], np.float32)
    return cv2.getPerspectiveTransform(corners, dst)


def crop(frame_rgb: np.ndarray, roi: Roi, size_px: int = LANDMARK_INPUT_PX) -> np.ndarray:
    """The (size, size, 3) uint8 crop, borders replicated (as the model saw in training)."""
    return cv2.warpPerspective(
        frame_rgb,
        crop_transform(roi, size_px),
        (size_px, size_px),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def unproject(uv_norm: np.ndarray, roi: Roi) -> np.ndarray:
    """(N, 2) crop-normalised coordinates in [0, 1] → (N, 2) frame pixels."""
    c, s = math.cos(roi.rotation_rad), math.sin(roi.rotation_rad)
    u = uv_norm[:, 0] - 0.5
    v = uv_norm[:, 1] - 0.5
    x = (c * u - s * v) * roi.side_px + roi.center_x_px
    y = (s * u + c * v) * roi.side_px + roi.center_y_px
    return np.stack([x, y], axis=1).astype(np.float32)


def rotate_world(world_m: np.ndarray, roi: Roi) -> np.ndarray:
    """World landmarks are predicted in the upright crop's frame; rotate them back."""
    c, s = math.cos(roi.rotation_rad), math.sin(roi.rotation_rad)
    out = world_m.copy()
    out[:, 0] = c * world_m[:, 0] - s * world_m[:, 1]
    out[:, 1] = s * world_m[:, 0] + c * world_m[:, 1]
    return out
