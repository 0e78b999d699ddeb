"""``webcam:N`` and ``video:PATH`` through OpenCV: colour only, no depth.

Without depth, 3D comes from the lifter alone, placed by reprojection; the
intrinsics are nominal (``hfov_deg``, default 60°, typical of laptop and USB
webcams) because an uncalibrated webcam reports none.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from capture_agent.sources.base import (
    CameraIntrinsics,
    DeviceInfo,
    FrameSource,
    RecordingFormatError,
    RGBDFrame,
    SourceError,
    SourceUnavailableError,
)

DEFAULT_WEBCAM_HFOV_DEG = 60.0


def list_webcams(max_index: int = 4) -> list[DeviceInfo]:
    """Webcams OpenCV can open (probes indices 0..max_index-1; Linux /dev/video* first)."""
    found = []
    candidates = sorted(Path("/dev").glob("video*")) if Path("/dev").is_dir() else []
    indices = [int(p.name[5:]) for p in candidates if p.name[5:].isdigit()][:max_index]
    for i in indices:
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened():
                found.append(DeviceInfo(uri=f"webcam:{i}", model="webcam", has_depth=False))
        finally:
            cap.release()
    return found


class OpenCVSource(FrameSource):
    """A webcam index or a video file."""

    device_model = "webcam"

    def __init__(
        self,
        *,
        index: int | None = None,
        path: str | Path | None = None,
        uri: str = "",
        hfov_deg: float = DEFAULT_WEBCAM_HFOV_DEG,
    ) -> None:
        if (index is None) == (path is None):
            raise SourceError("give a webcam index or a video path, not both")
        self.index = index
        self.path = Path(path) if path is not None else None
        self.uri = uri or (f"video:{path}" if path else f"webcam:{index}")
        self.hfov_deg = hfov_deg
        self.device_model = "video_file" if path is not None else "webcam"
        self._cap: cv2.VideoCapture | None = None

    @property
    def is_live(self) -> bool:
        return self.path is None

    def open(self) -> None:
        if self.path is not None:
            if not self.path.is_file():
                raise RecordingFormatError(f"video file {self.path} does not exist")
            self._cap = cv2.VideoCapture(str(self.path))
            if not self._cap.isOpened():
                raise RecordingFormatError(f"OpenCV cannot decode {self.path.name}")
        else:
            self._cap = cv2.VideoCapture(self.index)
            if not self._cap.isOpened():
                raise SourceUnavailableError(f"no webcam at index {self.index}")
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.nominal_fps = float(fps) if fps and fps > 0 else 30.0
        self._i = 0
        self._intr: CameraIntrinsics | None = None

    def read(self) -> RGBDFrame | None:
        if self._cap is None:
            raise SourceError("open() the source before reading")
        ok, bgr = self._cap.read()
        if not ok:
            if self.path is None:
                raise SourceError(f"webcam {self.index} stopped delivering frames")
            return None
        if self._intr is None:
            h, w = bgr.shape[:2]
            self._intr = CameraIntrinsics.from_fov(w, h, self.hfov_deg)
        pos_ms = self._cap.get(cv2.CAP_PROP_POS_MSEC) if self.path is not None else 0.0
        t = pos_ms / 1000.0 if pos_ms and pos_ms > 0 else self._i / self.nominal_fps
        frame = RGBDFrame(
            index=self._i,
            timestamp_s=t if self._i == 0 or t > 0 else self._i / self.nominal_fps,
            colour_rgb=np.ascontiguousarray(bgr[..., ::-1]),
            colour_intrinsics=self._intr,
        )
        self._i += 1
        return frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
