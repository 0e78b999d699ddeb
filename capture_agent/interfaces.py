"""The two model interfaces the capture agent's sensing path is written against.

Camera sources and depth fusion (one part of the agent) and the shipped models
(another part) meet here and nowhere else, so either side can be replaced, or
stood in for in a test, without the other noticing. Both are structural
``Protocol``s: anything with these methods and attributes qualifies.

Coordinate conventions, fixed once for the whole agent:

* **Pixels** (``xy_px``): origin at the top-left corner of the top-left pixel,
  x to the right, y down, in the full frame handed to :meth:`Pose2D.estimate`
  (not a crop).
* **Normalised image coordinates** (``xy_norm``): pixels pushed back through
  the colour camera's intrinsics, ``x_n = (u - cx) / fx``, ``y_n = (v - cy) / fy``
  (see :func:`pixels_to_normalised`). This is the ray direction at depth 1 m, so
  a lifter fed with it does not depend on resolution or focal length: the same
  trained weights serve a RealSense, a Kinect and a webcam.
* **Metres** (``world_m``, lifter output): camera frame as in
  :mod:`analysis.skeleton` (x right, y down, z forward, away from the camera),
  **root-relative**: the root is the midpoint of the two hip joints, so the
  root itself is at the origin. Monocular scale is a learned prior (typical
  adult body size); depth fusion rescales and places it where depth is valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

#: The 33 BlazePose keypoints in the model's output order. Left/right are the
#: person's own sides (a patient facing the camera has left_* on image right).
BLAZEPOSE_33: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)
BLAZEPOSE_INDEX: dict[str, int] = {name: i for i, name in enumerate(BLAZEPOSE_33)}


class ModelInputError(ValueError):
    """An array handed to a model has the wrong shape, dtype or contents."""


@dataclass(frozen=True, eq=False)
class Keypoints2D:
    """One person's 2D keypoints in one frame, as a Pose2D saw them.

    ``xy_px`` (K, 2) float32 pixels in the full frame; ``confidence`` (K,)
    float32 in [0, 1] — the probability the keypoint is visible and where the
    model puts it (BlazePose: visibility × presence), which depth fusion uses
    to weigh or drop a joint; ``joint_names`` names the K rows (BLAZEPOSE_33 for
    the shipped model). ``world_m`` (K, 3) float32 is the model's own metric 3D
    estimate when it has one (BlazePose's world landmarks: hip-centred metres,
    camera-aligned axes x right, y down, z away from the camera), else None.

    When nobody is in view, ``person_score`` is 0, every confidence is 0 and
    ``xy_px`` is zeros: consumers test :attr:`found` rather than catching an
    exception on every empty frame.
    """

    xy_px: np.ndarray
    confidence: np.ndarray
    joint_names: tuple[str, ...]
    image_size_px: tuple[int, int]  # (width, height) of the frame the pixels refer to
    world_m: np.ndarray | None = None
    person_score: float = 1.0  # detector/landmark presence score of the tracked person
    redetected: bool = False  # True when this frame ran the person detector (not tracking)

    def __post_init__(self) -> None:
        k = len(self.joint_names)
        if self.xy_px.shape != (k, 2):
            raise ModelInputError(f"xy_px must be ({k}, 2), got {self.xy_px.shape}")
        if self.confidence.shape != (k,):
            raise ModelInputError(f"confidence must be ({k},), got {self.confidence.shape}")
        if self.world_m is not None and self.world_m.shape != (k, 3):
            raise ModelInputError(f"world_m must be ({k}, 3), got {self.world_m.shape}")

    @property
    def found(self) -> bool:
        return self.person_score > 0.0

    @classmethod
    def empty(
        cls, *, joint_names: tuple[str, ...] = BLAZEPOSE_33, image_size_px: tuple[int, int]
    ) -> Keypoints2D:
        """The result for a frame with nobody in it."""
        k = len(joint_names)
        return cls(
            xy_px=np.zeros((k, 2), np.float32),
            confidence=np.zeros((k,), np.float32),
            joint_names=joint_names,
            image_size_px=image_size_px,
            world_m=None,
            person_score=0.0,
            redetected=True,
        )


@runtime_checkable
class Pose2D(Protocol):
    """A stateful per-session 2D pose estimator for ONE person: the patient.

    It is stateful on purpose: tracking the previous frame's region is what
    makes it fast, and remembering who it started with is what keeps it on the
    patient when a relative walks into the room. Call :meth:`reset` at the
    start of every recording session.
    """

    joint_names: tuple[str, ...]

    def estimate(self, frame_rgb: np.ndarray) -> Keypoints2D:
        """Keypoints of the tracked person in an (H, W, 3) uint8 RGB frame."""
        ...

    def reset(self) -> None:
        """Forget the tracked person; the next frame runs the detector afresh."""
        ...


@runtime_checkable
class Lifter(Protocol):
    """Monocular 2D→3D: a short window of 2D keypoints to root-relative metres.

    ``input_joint_names`` is the keypoint order the caller must supply (the
    shipped lifter takes BLAZEPOSE_33 so a stacked run of Keypoints2D goes in
    unchanged; it reads only the joints it was trained on).
    ``output_joint_names`` are canonical names of :mod:`analysis.skeleton`
    (joint centres, not skin landmarks). ``window`` is W, the number of
    consecutive frames per estimate; the estimate is for the LAST frame of the
    window (causal: no look-ahead, so no added latency). Missing keypoints are
    given confidence 0 (their xy is then ignored, NaN allowed).
    """

    input_joint_names: tuple[str, ...]
    output_joint_names: tuple[str, ...]
    window: int

    def lift(self, xy_norm_window: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        """(W, K, 2) normalised coords + (W, K) confidence → (J, 3) float32 metres."""
        ...

    def lift_batch(self, xy_norm_windows: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        """(N, W, K, 2) + (N, W, K) → (N, J, 3): offline re-analysis of a whole take."""
        ...


def pixels_to_normalised(
    xy_px: np.ndarray, *, fx: float, fy: float, cx: float, cy: float
) -> np.ndarray:
    """Pixels → normalised image coordinates (the ray at depth 1 m).

    For a source without calibration (a webcam), pass intrinsics from a
    nominal field of view; the lifter's training covered focal lengths from
    roughly 50° to 90° horizontal field of view.
    """
    xy = np.asarray(xy_px, dtype=np.float32)
    if xy.shape[-1] != 2:
        raise ModelInputError(f"xy_px must end in a dimension of 2, got shape {xy.shape}")
    if fx <= 0 or fy <= 0:
        raise ModelInputError(f"focal lengths must be positive, got fx={fx}, fy={fy}")
    out = np.empty_like(xy)
    out[..., 0] = (xy[..., 0] - cx) / fx
    out[..., 1] = (xy[..., 1] - cy) / fy
    return out


def nominal_intrinsics(
    width_px: int, height_px: int, *, horizontal_fov_deg: float = 65.0
) -> tuple[float, float, float, float]:
    """(fx, fy, cx, cy) for an uncalibrated camera with square pixels.

    65° is a typical laptop/USB webcam; the lifter tolerates a wrong guess
    within its training range (50°-90°) at the cost of some depth error.
    """
    if width_px <= 0 or height_px <= 0:
        raise ModelInputError(f"image size must be positive, got {width_px}×{height_px}")
    if not 10.0 <= horizontal_fov_deg <= 170.0:
        raise ModelInputError(f"horizontal field of view {horizontal_fov_deg}° is implausible")
    fx = (width_px / 2) / float(np.tan(np.radians(horizontal_fov_deg) / 2))
    return fx, fx, width_px / 2, height_px / 2
