"""The lifter's window is resampled by time, so frames this machine skips do not stretch it."""

from __future__ import annotations

import numpy as np
import pytest

from capture_agent.interfaces import BLAZEPOSE_33, Keypoints2D, ModelInputError
from capture_agent.lifting import LiftingStream

K = len(BLAZEPOSE_33)
FX = FY = 500.0
CX, CY = 320.0, 240.0


class RecordingLifter:
    """A Lifter that returns zeros and keeps the windows it was given."""

    input_joint_names = BLAZEPOSE_33
    output_joint_names = ("left_hip",)
    window = 9

    def __init__(self) -> None:
        self.windows: list[tuple[np.ndarray, np.ndarray]] = []

    def lift(self, xy_norm_window: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        self.windows.append((xy_norm_window.copy(), confidence.copy()))
        return np.zeros((1, 3), np.float32)

    def lift_batch(self, xy_norm_windows: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _keypoints_at(t_s: float, *, confidence: float = 0.9) -> Keypoints2D:
    """Every keypoint moves right at 300 px/s (a brisk arm raise seen side-on)."""
    xy = np.tile(np.array([100.0 + 300.0 * t_s, 200.0], np.float32), (K, 1))
    return Keypoints2D(
        xy_px=xy,
        confidence=np.full(K, confidence, np.float32),
        joint_names=BLAZEPOSE_33,
        image_size_px=(640, 480),
    )


def _stream(lifter: RecordingLifter) -> LiftingStream:
    return LiftingStream(lifter, fx=FX, fy=FY, cx=CX, cy=CY, frame_rate_hz=30.0)


def _x_px(window_xy: np.ndarray) -> np.ndarray:
    return window_xy[:, 0, 0] * FX + CX


def test_every_camera_frame_processed_gives_the_last_nine_frames_unchanged() -> None:
    lifter = RecordingLifter()
    stream = _stream(lifter)
    for i in range(20):
        stream.push(_keypoints_at(i / 30.0), i / 30.0)
    xy, conf = lifter.windows[-1]
    np.testing.assert_allclose(_x_px(xy), 100.0 + 300.0 * np.arange(11, 20) / 30.0, atol=1e-3)
    np.testing.assert_allclose(conf, 0.9, atol=1e-6)


def test_a_slow_machine_still_gives_the_lifter_a_window_of_trained_duration() -> None:
    """At 5 processed frames a second the window must still span 8/30 s, not 8/5 s."""
    slow, fast = RecordingLifter(), RecordingLifter()
    slow_stream, fast_stream = _stream(slow), _stream(fast)
    for i in range(11):  # 2 s at 5 Hz
        slow_stream.push(_keypoints_at(i / 5.0), i / 5.0)
    for i in range(61):  # the same 2 s at 30 Hz
        fast_stream.push(_keypoints_at(i / 30.0), i / 30.0)

    slow_x, fast_x = _x_px(slow.windows[-1][0]), _x_px(fast.windows[-1][0])
    assert slow_x[-1] - slow_x[0] == pytest.approx(300.0 * 8 / 30.0, abs=1e-2)  # 80 px, not 480
    np.testing.assert_allclose(slow_x, fast_x, atol=1e-2)  # linear motion: interpolation is exact


def test_the_session_start_is_padded_with_the_first_frame() -> None:
    lifter = RecordingLifter()
    stream = _stream(lifter)
    stream.push(_keypoints_at(0.0), 10.0)
    xy, _ = lifter.windows[-1]
    np.testing.assert_allclose(_x_px(xy), 100.0, atol=1e-3)


def test_an_unseen_keypoint_makes_its_interpolated_slots_unseen() -> None:
    lifter = RecordingLifter()
    stream = _stream(lifter)
    stream.push(_keypoints_at(0.0), 0.0)
    stream.push(_keypoints_at(0.2, confidence=0.0), 0.2)
    _, conf = lifter.windows[-1]
    slots_s = 0.2 - np.arange(8, -1, -1) / 30.0
    before_first = slots_s < -1e-9
    between = (slots_s > 1e-9) & (slots_s < 0.2)
    assert before_first.sum() == 2 and between.sum() == 5
    assert np.all(conf[before_first] == pytest.approx(0.9))  # held at the seen first frame
    assert np.all(conf[between] == 0.0)  # drawn partly from the unseen frame
    assert np.all(conf[-1] == 0.0)  # the unseen frame itself


def test_timestamps_must_increase() -> None:
    stream = _stream(RecordingLifter())
    stream.push(_keypoints_at(0.0), 1.0)
    with pytest.raises(ModelInputError, match="timestamps must increase"):
        stream.push(_keypoints_at(0.0), 1.0)


def test_without_timestamps_frames_follow_at_the_camera_rate() -> None:
    lifter = RecordingLifter()
    stream = _stream(lifter)
    for i in range(12):
        stream.push(_keypoints_at(i / 30.0))
    np.testing.assert_allclose(
        _x_px(lifter.windows[-1][0]), 100.0 + 300.0 * np.arange(3, 12) / 30.0, atol=1e-3
    )
