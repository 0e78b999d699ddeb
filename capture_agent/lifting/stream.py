"""Frame-by-frame lifting: keeps the lifter's window of recent keypoints, in time.

The agent receives one Keypoints2D per processed frame but the lifter reads a
window of W frames at the spacing it was trained with (25-50 Hz, the
manifest's ``frame_rate_hz``). A home computer processes fewer frames than the
camera delivers (5-10 per second on a 2-core laptop), so the last W
*processed* frames can span 1-2 s instead of the ~0.3 s the model knows, and
the lifter then reads fast motion into a slow one. The window is therefore
resampled by timestamp: slot k sits at ``t_now - (W-1-k) / frame_rate_hz``,
linearly interpolated between the processed frames around it (held at the
session's first frame before it starts, as the lifter saw sequence starts in
training). When every camera frame is processed the slots land on the frames
themselves and nothing is interpolated.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from capture_agent.interfaces import Keypoints2D, Lifter, ModelInputError, pixels_to_normalised

#: The camera rate, inside the shipped lifter's trained range of 25-50 Hz.
DEFAULT_FRAME_RATE_HZ = 30.0


class LiftingStream:
    """Causal lifting of a live keypoint stream; one instance per session."""

    def __init__(
        self,
        lifter: Lifter,
        *,
        fx: float,
        fy: float,
        cx: float,
        cy: float,
        frame_rate_hz: float = DEFAULT_FRAME_RATE_HZ,
    ) -> None:
        if frame_rate_hz <= 0:
            raise ValueError(f"frame_rate_hz must be positive, got {frame_rate_hz}")
        self.lifter = lifter
        self.intrinsics = {"fx": fx, "fy": fy, "cx": cx, "cy": cy}
        self.slot_spacing_s = 1.0 / frame_rate_hz
        self._t: deque[float] = deque()
        self._xy: deque[np.ndarray] = deque()
        self._conf: deque[np.ndarray] = deque()

    def reset(self) -> None:
        self._t.clear()
        self._xy.clear()
        self._conf.clear()

    def push(self, keypoints: Keypoints2D, timestamp_s: float | None = None) -> np.ndarray | None:
        """Root-relative (J, 3) metres for this frame, or None with nobody seen in the window.

        ``timestamp_s`` (seconds, increasing): when None the frame is taken to
        follow the previous one at the slot spacing, i.e. every camera frame is
        being processed.
        """
        if keypoints.joint_names != tuple(self.lifter.input_joint_names):
            raise ModelInputError("keypoints are not in the lifter's input joint order")
        if timestamp_s is None:
            timestamp_s = self._t[-1] + self.slot_spacing_s if self._t else 0.0
        elif self._t and timestamp_s <= self._t[-1]:
            raise ModelInputError(
                f"timestamps must increase: {timestamp_s} s after {self._t[-1]} s"
            )
        xy = pixels_to_normalised(keypoints.xy_px, **self.intrinsics)
        conf = keypoints.confidence if keypoints.found else np.zeros_like(keypoints.confidence)
        self._t.append(float(timestamp_s))
        self._xy.append(np.asarray(xy, dtype=np.float64))
        self._conf.append(np.asarray(conf, dtype=np.float64))
        self._forget_before(timestamp_s - (self.lifter.window - 1) * self.slot_spacing_s)
        xy_w, conf_w = self.window_at(timestamp_s)
        if not np.any(conf_w > 0):
            return None
        return self.lifter.lift(xy_w.astype(np.float32), conf_w.astype(np.float32))

    def window_at(self, timestamp_s: float) -> tuple[np.ndarray, np.ndarray]:
        """The (W, K, 2) window and (W, K) confidences the lifter reads for ``timestamp_s``."""
        window = self.lifter.window
        slots = timestamp_s - self.slot_spacing_s * np.arange(window - 1, -1, -1)
        times = np.fromiter(self._t, dtype=np.float64, count=len(self._t))
        xy = np.empty((window, *self._xy[0].shape))
        conf = np.empty((window, *self._conf[0].shape))
        for k, slot in enumerate(slots):
            after = int(np.searchsorted(times, slot, side="left"))
            if after == 0 or (after < len(times) and times[after] == slot):
                i = min(after, len(times) - 1)
                xy[k], conf[k] = self._xy[i], self._conf[i]
                continue
            if after == len(times):
                xy[k], conf[k] = self._xy[-1], self._conf[-1]
                continue
            before = after - 1
            a = (slot - times[before]) / (times[after] - times[before])
            xy[k] = (1.0 - a) * self._xy[before] + a * self._xy[after]
            # A keypoint is only as trustworthy as the weaker frame it is drawn from.
            conf[k] = np.minimum(self._conf[before], self._conf[after])
        return xy, conf

    def _forget_before(self, earliest_slot_s: float) -> None:
        """Drop frames no slot can reach: keep one frame at or before the earliest slot."""
        while len(self._t) >= 2 and self._t[1] <= earliest_slot_s:
            self._t.popleft()
            self._xy.popleft()
            self._conf.popleft()
