"""Frame-by-frame lifting: keeps the lifter's window of recent keypoints.

The agent receives one Keypoints2D per frame but the lifter reads a window;
this holds the window, converts pixels to normalised coordinates with the
colour camera's intrinsics, and pads the first frames of a session by
repeating the first one (as the lifter saw sequence starts in training).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from capture_agent.interfaces import Keypoints2D, Lifter, ModelInputError, pixels_to_normalised


class LiftingStream:
    """Causal lifting of a live keypoint stream; one instance per session."""

    def __init__(self, lifter: Lifter, *, fx: float, fy: float, cx: float, cy: float) -> None:
        self.lifter = lifter
        self.intrinsics = {"fx": fx, "fy": fy, "cx": cx, "cy": cy}
        self._xy: deque[np.ndarray] = deque(maxlen=lifter.window)
        self._conf: deque[np.ndarray] = deque(maxlen=lifter.window)

    def reset(self) -> None:
        self._xy.clear()
        self._conf.clear()

    def push(self, keypoints: Keypoints2D) -> np.ndarray | None:
        """Root-relative (J, 3) metres for this frame, or None with nobody seen in the window."""
        if keypoints.joint_names != tuple(self.lifter.input_joint_names):
            raise ModelInputError("keypoints are not in the lifter's input joint order")
        xy = pixels_to_normalised(keypoints.xy_px, **self.intrinsics)
        conf = keypoints.confidence if keypoints.found else np.zeros_like(keypoints.confidence)
        if not self._xy:
            for _ in range(self.lifter.window - 1):
                self._xy.append(xy)
                self._conf.append(conf)
        self._xy.append(xy)
        self._conf.append(conf)
        confidence = np.stack(self._conf)
        if not np.any(confidence > 0):
            return None
        return self.lifter.lift(np.stack(self._xy), confidence)
