"""BlazePose person detector: SSD anchors, box decoding and weighted NMS.

The detector runs only when tracking has no region (first frame, person lost),
so it is the slow path; it returns every person it finds so the tracker can
choose the patient rather than simply the most confident body. Constants are
those of MediaPipe's ``pose_detection_cpu`` graph, which the model was
trained with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from capture_agent.interfaces import ModelInputError
from capture_agent.models import create_session
from capture_agent.pose2d.roi import Roi, roi_from_points

DETECTOR_FILE = "pose_detection.onnx"
INPUT_PX = 224
MIN_SCORE = 0.5
NMS_IOU = 0.3
_STRIDES = (8, 16, 32, 32, 32)


def ssd_anchors(input_px: int = INPUT_PX, strides: tuple[int, ...] = _STRIDES) -> np.ndarray:
    """(2254, 2) anchor centres in [0, 1]; sizes are fixed to 1 (fixed_anchor_size)."""
    centres: list[np.ndarray] = []
    layer = 0
    while layer < len(strides):
        same = 0
        while layer + same < len(strides) and strides[layer + same] == strides[layer]:
            same += 1
        per_cell = 2 * same  # aspect ratio 1 plus the interpolated scale, per layer
        size = math.ceil(input_px / strides[layer])
        ys, xs = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
        cell = np.stack([(xs + 0.5) / size, (ys + 0.5) / size], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(cell, per_cell, axis=0))
        layer += same
    return np.concatenate(centres).astype(np.float32)


@dataclass(frozen=True)
class PersonDetection:
    """One detected body: score, box and the four body keypoints, in frame pixels."""

    score: float
    box_xyxy_px: np.ndarray  # (4,) x_min, y_min, x_max, y_max
    keypoints_px: (
        np.ndarray
    )  # (4, 2): hip centre, full-body circle, shoulder centre, upper-body circle

    @property
    def roi(self) -> Roi:
        return roi_from_points(self.keypoints_px[0], self.keypoints_px[1])


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(
    scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, iou_threshold: float = NMS_IOU
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """MediaPipe's WEIGHTED non-max suppression.

    Overlapping candidates are averaged (weighted by score) instead of
    discarded, which steadies the box and keypoints noticeably; the score kept
    is the best candidate's.
    """
    order = np.argsort(-scores, kind="stable")
    out = []
    while order.size:
        top = order[0]
        overlap = _iou(boxes[top], boxes[order]) > iou_threshold
        members = order[overlap]
        w = scores[members][:, None]
        box = (boxes[members] * w).sum(0) / w.sum()
        kps = (keypoints[members] * w[:, :, None]).sum(0) / w.sum()
        out.append((float(scores[top]), box, kps))
        order = order[~overlap]
    return out


class PoseDetector:
    """Runs the converted BlazePose detector on a whole frame."""

    def __init__(self, *, threads: int = 1) -> None:
        self._session = create_session(DETECTOR_FILE, threads=threads)
        self._input = self._session.get_inputs()[0].name
        outputs = sorted(o.name for o in self._session.get_outputs())  # Identity, Identity_1
        self._boxes_out, self._scores_out = outputs
        self._anchors = ssd_anchors()

    def letterbox_transform(self, width_px: int, height_px: int) -> tuple[np.ndarray, float]:
        """Affine frame → 224² tensor keeping aspect ratio (zero borders), and the side S."""
        side = float(max(width_px, height_px))
        k = INPUT_PX / side
        ox, oy = width_px / 2 - side / 2, height_px / 2 - side / 2
        return np.array([[k, 0, -ox * k], [0, k, -oy * k]], np.float32), side

    def preprocess(self, frame_rgb: np.ndarray) -> np.ndarray:
        h, w = frame_rgb.shape[:2]
        matrix, _ = self.letterbox_transform(w, h)
        tensor = cv2.warpAffine(
            frame_rgb,
            matrix,
            (INPUT_PX, INPUT_PX),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )
        return tensor

    def run_raw(self, tensor_u8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw (2254, 12) regressors and (2254,) logits for a 224×224 uint8 RGB tensor."""
        x = (tensor_u8.astype(np.float32) / 127.5 - 1.0)[None]
        boxes, scores = self._session.run([self._boxes_out, self._scores_out], {self._input: x})
        return boxes[0], scores[0, :, 0]

    def detect(self, frame_rgb: np.ndarray) -> list[PersonDetection]:
        """Every person found, best score first, in frame pixels."""
        if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8:
            raise ModelInputError(
                f"frame must be (H, W, 3) uint8 RGB, got {frame_rgb.shape} {frame_rgb.dtype}"
            )
        h, w = frame_rgb.shape[:2]
        raw, logits = self.run_raw(self.preprocess(frame_rgb))
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -100.0, 100.0)))
        keep = scores >= MIN_SCORE
        if not np.any(keep):
            return []
        raw, scores, anchors = raw[keep], scores[keep], self._anchors[keep]
        centre = raw[:, 0:2] / INPUT_PX + anchors
        half = raw[:, 2:4] / INPUT_PX / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        kps = raw[:, 4:12].reshape(-1, 4, 2) / INPUT_PX + anchors[:, None, :]
        _, side = self.letterbox_transform(w, h)
        offset = np.array([w / 2 - side / 2, h / 2 - side / 2], np.float32)
        detections = []
        for score, box, kp in weighted_nms(scores, boxes, kps):
            box_px = box.reshape(2, 2) * side + offset
            detections.append(
                PersonDetection(
                    score=score,
                    box_xyxy_px=box_px.reshape(4).astype(np.float32),
                    keypoints_px=(kp * side + offset).astype(np.float32),
                )
            )
        return detections
