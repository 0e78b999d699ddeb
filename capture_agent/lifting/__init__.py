"""Monocular 2D→3D lifting: a small MLP trained by tools/train_lifter.py, on onnxruntime."""

from capture_agent.lifting.features import LIFTER_INPUT_KEYPOINTS, LIFTER_OUTPUT_JOINTS
from capture_agent.lifting.onnx_lifter import OnnxLifter
from capture_agent.lifting.stream import LiftingStream

__all__ = ["LIFTER_INPUT_KEYPOINTS", "LIFTER_OUTPUT_JOINTS", "LiftingStream", "OnnxLifter"]
