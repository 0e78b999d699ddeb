"""Azure Kinect (and K4A-compatible Orbbec Femto) cameras and their MKV recordings.

``kinect://N`` opens live device N through **pykinect-azure**, which needs the
Azure Kinect Sensor SDK's ``libk4a`` (the SDK registers depth to colour with
``get_transformed_depth_image``). The Azure Kinect DK is retired by
Microsoft; Orbbec's Femto cameras ship a K4A-compatible wrapper library
("OrbbecSDK-K4A-Wrapper") that pykinect-azure can load in its place.

``kinect:PATH.mkv`` plays a recording *without* the SDK: a K4A recording is
Matroska with a ``DEPTH`` track of 16-bit big-endian raw video (FourCC
``b16g``, millimetres), a ``COLOR`` track (MJPEG, or raw BGRA) and the
device calibration as the ``calibration.json`` attachment. PyAV reads all
three; depth is registered to colour by :class:`DepthRegistration`.

pykinect-azure calls ``sys.exit(1)`` when libk4a is missing; that is caught
here and reported as :class:`SourceUnavailableError`.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from capture_agent.sources.k4a_calibration import (
    colour_mode_for_size,
    depth_mode_for_size,
    parse_calibration,
)
from capture_agent.sources.registration import DepthRegistration

DEPTH_SCALE_M = 0.001  # K4A depth is in millimetres


def load_pykinect() -> Any:
    """pykinect_azure with libk4a loaded, or SourceUnavailableError explaining what is missing."""
    try:
        import pykinect_azure as pykinect
    except ImportError as exc:
        raise SourceUnavailableError(
            f"Azure Kinect support needs pykinect-azure (pip install pykinect-azure): {exc}"
        ) from None
    said = io.StringIO()  # pykinect prints its failure to stdout, which may be our JSON output
    try:
        with contextlib.redirect_stdout(said):
            pykinect.initialize_libraries()
    except SystemExit:
        detail = said.getvalue().strip()
        raise SourceUnavailableError(
            "the Azure Kinect Sensor SDK (libk4a) is not installed; install it, or for an "
            "Orbbec Femto the OrbbecSDK K4A wrapper. Recordings (kinect:FILE.mkv) play without it."
            + (f" ({detail})" if detail else "")
        ) from None
    except OSError as exc:
        raise SourceUnavailableError(f"libk4a could not be loaded: {exc}") from None
    return pykinect


def list_kinect_devices() -> list[DeviceInfo]:
    pykinect = load_pykinect()
    n = int(pykinect.Device.device_get_installed_count())
    return [DeviceInfo(uri=f"kinect://{i}", model="azure_kinect") for i in range(n)]


class KinectSource(FrameSource):
    """Live (``device_index``) or recorded (``path``) K4A depth + colour."""

    device_model = "azure_kinect"

    def __init__(
        self,
        *,
        device_index: int | None = None,
        path: str | Path | None = None,
        uri: str = "",
        pykinect_loader: Any = None,
        register: bool = False,
    ) -> None:
        if (device_index is None) == (path is None):
            raise SourceError("give a Kinect device index (live) or an .mkv path, not both")
        self.device_index = device_index
        self.path = Path(path) if path is not None else None
        self.uri = uri or (f"kinect:{path}" if path else f"kinect://{device_index}")
        self._loader = pykinect_loader or load_pykinect
        self._index = 0
        #: recordings: register whole depth frames to colour here (True) or hand the depth
        #: on as recorded and let fusion map the keypoints into it (False, ~3x cheaper)
        self.register = register

    @property
    def is_live(self) -> bool:
        return self.path is None

    # -- live ------------------------------------------------------------------------------
    def _open_live(self) -> None:
        pk = self._loader()
        cfg = pk.default_configuration
        cfg.color_format = pk.K4A_IMAGE_FORMAT_COLOR_BGRA32
        cfg.color_resolution = pk.K4A_COLOR_RESOLUTION_720P
        cfg.depth_mode = pk.K4A_DEPTH_MODE_NFOV_UNBINNED
        cfg.synchronized_images_only = True
        try:
            self._device = pk.start_device(device_index=self.device_index, config=cfg)
        except SystemExit:
            raise SourceUnavailableError(
                f"Azure Kinect {self.device_index} could not be opened"
            ) from None
        cal = self._device.calibration
        cp = cal.color_params
        self._colour_intr = CameraIntrinsics(
            1280, 720, float(cp.fx), float(cp.fy), float(cp.cx), float(cp.cy),
            (cp.k1, cp.k2, cp.p1, cp.p2, cp.k3, cp.k4, cp.k5, cp.k6),
        )  # fmt: skip
        dp = cal.depth_params
        self._depth_intr = CameraIntrinsics(
            640, 576, float(dp.fx), float(dp.fy), float(dp.cx), float(dp.cy),
            (dp.k1, dp.k2, dp.p1, dp.p2, dp.k3, dp.k4, dp.k5, dp.k6),
        )  # fmt: skip

    def _read_live(self) -> RGBDFrame | None:
        capture = self._device.update()
        ok_c, bgra = capture.get_color_image()
        ok_d, depth = capture.get_transformed_depth_image()
        if not (ok_c and ok_d):
            raise SourceError("the Azure Kinect returned an incomplete capture")
        frame = RGBDFrame(
            index=self._index,
            timestamp_s=self._index / 30.0,
            colour_rgb=np.ascontiguousarray(np.asarray(bgra)[..., 2::-1]),
            colour_intrinsics=self._colour_intr,
            depth=np.asarray(depth, dtype=np.uint16),
            depth_scale_m=DEPTH_SCALE_M,
            depth_intrinsics=self._depth_intr,
            depth_to_colour=None,
        )
        self._index += 1
        return frame

    # -- recordings --------------------------------------------------------------------------
    def _open_recording(self) -> None:
        import av

        if not self.path.is_file():
            raise RecordingFormatError(f"Kinect recording {self.path} does not exist")
        try:
            self._depth_container = av.open(str(self.path))
            self._colour_container = av.open(str(self.path))
        except av.FFmpegError as exc:
            raise RecordingFormatError(
                f"{self.path.name} is not a Matroska recording: {exc}"
            ) from None
        streams = self._depth_container.streams
        attachments = {a.name: a for a in streams.attachments}
        if "calibration.json" not in attachments:
            raise RecordingFormatError(f"{self.path.name} has no calibration.json attachment")
        depth_stream = self._track(self._depth_container, "DEPTH")
        colour_stream = self._track(self._colour_container, "COLOR")
        tags = dict(self._depth_container.metadata)
        depth_mode = tags.get("K4A_DEPTH_MODE") or depth_mode_for_size(
            depth_stream.codec_context.width, depth_stream.codec_context.height
        )
        colour_mode = (tags.get("K4A_COLOR_MODE") or "").split("_")[-1] or colour_mode_for_size(
            colour_stream.codec_context.width, colour_stream.codec_context.height
        )
        self._depth_intr, self._colour_intr, self._extr = parse_calibration(
            attachments["calibration.json"].data, depth_mode=depth_mode, colour_mode=colour_mode
        )
        self._registration = DepthRegistration(self._depth_intr, self._colour_intr, self._extr)
        self._depth_iter = self._frames(self._depth_container, depth_stream)
        self._colour_iter = self._frames(self._colour_container, colour_stream)
        self._pending_colour: tuple[float, Any] | None = None

    @staticmethod
    def _track(container: Any, title: str) -> Any:
        for s in container.streams.video:
            if str(s.metadata.get("title", "")).upper() == title:
                return s
        raise RecordingFormatError(f"recording has no {title} track")

    @staticmethod
    def _frames(container: Any, stream: Any) -> Iterator[tuple[float, Any]]:
        for frame in container.decode(stream):
            yield float(frame.time if frame.time is not None else 0.0), frame

    def _read_recording(self) -> RGBDFrame | None:
        depth_item = next(self._depth_iter, None)
        if depth_item is None:
            return None
        t_depth, depth_frame = depth_item
        # pair with the colour frame nearest in time (tracks are written per capture)
        colour = self._pending_colour or next(self._colour_iter, None)
        while colour is not None:
            nxt = None
            if colour[0] < t_depth - 1e-3:
                nxt = next(self._colour_iter, None)
                if nxt is not None and abs(nxt[0] - t_depth) <= abs(colour[0] - t_depth):
                    colour = nxt
                    continue
            break
        if colour is None:
            return None
        self._pending_colour = None
        depth_raw = depth_frame.to_ndarray()
        if depth_raw.dtype != np.uint16:
            raise RecordingFormatError(
                f"DEPTH track decodes as {depth_frame.format.name}, expected 16-bit (b16g)"
            )
        colour_rgb = colour[1].to_ndarray(format="rgb24")
        frame = RGBDFrame(
            index=self._index,
            timestamp_s=t_depth,
            colour_rgb=colour_rgb,
            colour_intrinsics=self._colour_intr,
            depth=self._registration(depth_raw, DEPTH_SCALE_M) if self.register else depth_raw,
            depth_scale_m=DEPTH_SCALE_M,
            depth_intrinsics=self._depth_intr,
            depth_to_colour=self._extr,
            depth_registered=self.register,
        )
        self._index += 1
        return frame

    def read_raw_depth(self) -> Iterator[np.ndarray]:
        """The DEPTH track as stored (depth camera geometry), for checks and tools."""
        for _, frame in self._frames(
            self._depth_container, self._track(self._depth_container, "DEPTH")
        ):
            yield frame.to_ndarray()

    # -- FrameSource -------------------------------------------------------------------------
    def open(self) -> None:
        self._index = 0
        if self.path is None:
            self._open_live()
        else:
            self._open_recording()

    def read(self) -> RGBDFrame | None:
        return self._read_live() if self.path is None else self._read_recording()

    def close(self) -> None:
        for name in ("_depth_container", "_colour_container"):
            c = getattr(self, name, None)
            if c is not None:
                c.close()
                setattr(self, name, None)
        dev = getattr(self, "_device", None)
        if dev is not None:
            dev.close()
            self._device = None
