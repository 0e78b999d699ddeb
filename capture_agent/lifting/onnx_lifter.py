"""The shipped 2D→3D lifter (trained by tools/train_lifter.py) on onnxruntime.

An MLP over a short causal window of 2D keypoints. It exists because a
webcam has no depth and a depth camera loses joints behind the body or
furniture: the lifter then supplies root-relative joint centres, which depth
fusion scales and places from the joints depth did see.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from capture_agent.interfaces import BLAZEPOSE_33, ModelInputError
from capture_agent.lifting.features import (
    LIFTER_INPUT_INDEX,
    LIFTER_OUTPUT_JOINTS,
    encode_windows,
    feature_size,
)
from capture_agent.models import create_session, read_verified

LIFTER_FILE = "lifter.onnx"
MANIFEST_FILE = "lifter_manifest.json"


class OnnxLifter:
    """:class:`~capture_agent.interfaces.Lifter` over the committed ONNX weights.

    Input is BlazePose-33 ordered (the agent stacks Keypoints2D as they come);
    frames in a window should be consecutive at 20-40 frames per second, the
    spacing the model was trained with (see the manifest's ``frame_rate_hz``).
    """

    input_joint_names = BLAZEPOSE_33
    output_joint_names = LIFTER_OUTPUT_JOINTS

    def __init__(self, *, threads: int = 1, directory: Path | None = None) -> None:
        self.manifest = json.loads(read_verified(MANIFEST_FILE, directory))
        self.window = int(self.manifest["window"])
        if tuple(self.manifest["output_joints"]) != LIFTER_OUTPUT_JOINTS:
            raise ModelInputError("lifter manifest's output joints differ from this code's")
        self._session = create_session(LIFTER_FILE, threads=threads, directory=directory)
        self._input = self._session.get_inputs()[0].name
        expected = feature_size(self.window)
        got = self._session.get_inputs()[0].shape[1]
        if got != expected:
            raise ModelInputError(f"lifter expects {got} features, this code builds {expected}")

    def lift(self, xy_norm_window: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        return self.lift_batch(xy_norm_window[None], confidence[None])[0]

    def lift_batch(self, xy_norm_windows: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy_norm_windows)
        conf = np.asarray(confidence)
        k = len(self.input_joint_names)
        if xy.ndim != 4 or xy.shape[1:] != (self.window, k, 2):
            raise ModelInputError(
                f"xy_norm_windows must be (N, {self.window}, {k}, 2), got {xy.shape}"
            )
        if conf.shape != xy.shape[:3]:
            raise ModelInputError(f"confidence must be {xy.shape[:3]}, got {conf.shape}")
        feats = encode_windows(xy[:, :, LIFTER_INPUT_INDEX], conf[:, :, LIFTER_INPUT_INDEX])
        (out,) = self._session.run(None, {self._input: feats})
        return out.reshape(xy.shape[0], len(LIFTER_OUTPUT_JOINTS), 3).astype(np.float32)
