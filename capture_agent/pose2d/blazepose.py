"""BlazePose on onnxruntime: the agent's :class:`~capture_agent.interfaces.Pose2D`.

Detection is slow and tracking is fast, so the detector runs only when there is
no region to track: the first frame, or when the landmark model says the body
has left the region. Homes are not single-person, so the detector's choice is
not "the most confident body" but "the patient": the body the session
started with, recognised by where it was last seen and by the colours of its
torso. Someone walking through the room does not take over the session; if
the patient is out of view the frame is reported empty instead.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from capture_agent.interfaces import BLAZEPOSE_33, BLAZEPOSE_INDEX, Keypoints2D, ModelInputError
from capture_agent.pose2d.detector import PersonDetection, PoseDetector
from capture_agent.pose2d.landmarks import LandmarkModel, LandmarkResult
from capture_agent.pose2d.roi import Roi, roi_from_points

_HIST_BINS = (16, 8)  # hue, saturation
_TORSO = [BLAZEPOSE_INDEX[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]


def torso_histogram(
    frame_rgb: np.ndarray, shoulder_xy_px: np.ndarray, hip_xy_px: np.ndarray
) -> np.ndarray | None:
    """Normalised hue-saturation histogram of the torso: the patient's clothes.

    Taken from the box between the shoulder centre and the hip centre, half as
    wide as it is long, so it holds clothing rather than background.
    """
    length = float(np.hypot(*(shoulder_xy_px - hip_xy_px)))
    if length < 8:
        return None
    centre = (shoulder_xy_px + hip_xy_px) / 2
    half_w, half_h = length / 4, length / 2
    h, w = frame_rgb.shape[:2]
    x0, x1 = int(max(0, centre[0] - half_w)), int(min(w, centre[0] + half_w))
    y0, y1 = int(max(0, centre[1] - half_h)), int(min(h, centre[1] + half_h))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(frame_rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, list(_HIST_BINS), [0, 180, 0, 256])
    return cv2.normalize(hist, hist, alpha=1.0, norm_type=cv2.NORM_L1).astype(np.float32)


def appearance_similarity(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """1 − Bhattacharyya distance; 0.5 when either side is unknown (no evidence)."""
    if a is None or b is None:
        return 0.5
    return 1.0 - float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


class BlazePose:
    """Detector + landmark model + region tracking + patient identity.

    ``min_pose_score``: landmark presence below this drops tracking.
    ``gate_fraction``: a re-detected body is the patient if its centre is within
    this fraction of the patient's last region side (the gate widens while the
    patient is unseen). ``reacquire_after_frames``: after this long unseen, a
    body anywhere that looks like the patient (torso colours) is accepted;
    ``accept_anyone_after_frames``: after this long, the best-scoring body is
    (lighting may have changed the colours; a session must not stall forever).
    """

    joint_names = BLAZEPOSE_33

    def __init__(
        self,
        *,
        threads: int = 1,
        min_pose_score: float = 0.5,
        gate_fraction: float = 0.6,
        min_appearance_similarity: float = 0.6,
        reacquire_after_frames: int = 30,
        accept_anyone_after_frames: int = 300,
    ) -> None:
        self._detector = PoseDetector(threads=threads)
        self._landmarks = LandmarkModel(threads=threads)
        self.min_pose_score = min_pose_score
        self.gate_fraction = gate_fraction
        self.min_appearance_similarity = min_appearance_similarity
        self.reacquire_after_frames = reacquire_after_frames
        self.accept_anyone_after_frames = accept_anyone_after_frames
        self.reset()

    def reset(self) -> None:
        self._roi: Roi | None = None  # region to track in the next frame
        self._patient_roi: Roi | None = None  # where the patient was last seen
        self._patient_hist: np.ndarray | None = None
        self._frames_unseen = 0
        self._frame_count = 0

    @property
    def detector(self) -> PoseDetector:
        return self._detector

    @property
    def landmark_model(self) -> LandmarkModel:
        return self._landmarks

    def estimate(self, frame_rgb: np.ndarray) -> Keypoints2D:
        if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3 or frame_rgb.dtype != np.uint8:
            raise ModelInputError(
                f"frame must be (H, W, 3) uint8 RGB, got {frame_rgb.shape} {frame_rgb.dtype}"
            )
        self._frame_count += 1
        size = (int(frame_rgb.shape[1]), int(frame_rgb.shape[0]))
        if self._roi is not None:
            result = self._landmarks.estimate(frame_rgb, self._roi)
            if result.pose_score >= self.min_pose_score:
                return self._accept(frame_rgb, result, redetected=False)
            self._roi = None  # lost: look again in this same frame
        detection = self.choose_patient(frame_rgb, self._detector.detect(frame_rgb))
        if detection is not None:
            result = self._landmarks.estimate(frame_rgb, detection.roi)
            if result.pose_score >= self.min_pose_score:
                if self._patient_hist is None:
                    self._patient_hist = torso_histogram(
                        frame_rgb, detection.keypoints_px[2], detection.keypoints_px[0]
                    )
                return self._accept(frame_rgb, result, redetected=True)
        self._frames_unseen += 1
        return Keypoints2D.empty(image_size_px=size)

    def _accept(
        self, frame_rgb: np.ndarray, result: LandmarkResult, *, redetected: bool
    ) -> Keypoints2D:
        self._roi = roi_from_points(result.aux_hip_px, result.aux_circle_px)
        self._patient_roi = self._roi
        self._frames_unseen = 0
        if self._frame_count % 15 == 0 or self._patient_hist is None:
            xy = result.xy_px[_TORSO]
            fresh = torso_histogram(frame_rgb, xy[:2].mean(0), xy[2:].mean(0))
            if fresh is not None:
                self._patient_hist = (
                    fresh if self._patient_hist is None else 0.9 * self._patient_hist + 0.1 * fresh
                )
        return Keypoints2D(
            xy_px=result.xy_px,
            confidence=(result.visibility * result.presence).astype(np.float32),
            joint_names=BLAZEPOSE_33,
            image_size_px=(int(frame_rgb.shape[1]), int(frame_rgb.shape[0])),
            world_m=result.world_m,
            person_score=float(result.pose_score),
            redetected=redetected,
        )

    def choose_patient(
        self, frame_rgb: np.ndarray, detections: list[PersonDetection]
    ) -> PersonDetection | None:
        """The detection that is the patient, or None if the patient is not among them."""
        if not detections:
            return None
        if self._patient_roi is None:
            return detections[0]  # session start: the most confident body is the patient
        last = self._patient_roi
        gate = self.gate_fraction * last.side_px * (1.0 + 0.1 * min(self._frames_unseen, 20))
        scored = []
        for det in detections:
            roi = det.roi
            distance = math.hypot(
                roi.center_x_px - last.center_x_px, roi.center_y_px - last.center_y_px
            )
            size_ratio = roi.side_px / max(last.side_px, 1e-6)
            similarity = appearance_similarity(
                self._patient_hist,
                torso_histogram(frame_rgb, det.keypoints_px[2], det.keypoints_px[0]),
            )
            scored.append((det, distance, size_ratio, similarity))
        in_gate = [s for s in scored if s[1] <= gate and 0.5 <= s[2] <= 2.0]
        if in_gate:
            return max(in_gate, key=lambda s: (s[3], -s[1]))[0]
        if self._frames_unseen >= self.accept_anyone_after_frames:
            return detections[0]
        if self._frames_unseen >= self.reacquire_after_frames:
            alike = [s for s in scored if s[3] >= self.min_appearance_similarity]
            if alike:
                return max(alike, key=lambda s: s[3])[0]
        return None
