"""Camera sources: one RGBD frame interface, chosen by URI (see :mod:`.registry`)."""

from capture_agent.sources.base import (
    CameraIntrinsics,
    DeviceInfo,
    Extrinsics,
    FrameSource,
    RecordingFormatError,
    RGBDFrame,
    SourceError,
    SourceUnavailableError,
    SourceURIError,
)
from capture_agent.sources.registry import list_devices, open_source

__all__ = [
    "CameraIntrinsics",
    "DeviceInfo",
    "Extrinsics",
    "FrameSource",
    "RGBDFrame",
    "RecordingFormatError",
    "SourceError",
    "SourceURIError",
    "SourceUnavailableError",
    "list_devices",
    "open_source",
]
