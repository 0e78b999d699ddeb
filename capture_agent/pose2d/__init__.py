"""2D pose: BlazePose (detector + landmarks) converted to ONNX, run on onnxruntime."""

from capture_agent.pose2d.blazepose import BlazePose
from capture_agent.pose2d.detector import PersonDetection, PoseDetector
from capture_agent.pose2d.landmarks import LandmarkModel

__all__ = ["BlazePose", "LandmarkModel", "PersonDetection", "PoseDetector"]
