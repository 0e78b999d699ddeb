"""Intel RealSense through pyrealsense2: live cameras and recordings (.bag / .db3).

``realsense://SERIAL`` opens a live camera (``realsense://`` the first one);
``realsense:PATH`` plays a recording. Both go through the same frameset path:
``rs.align`` registers depth to colour, then the SDK's own spatial, temporal
and hole-filling filters (in disparity space, as Intel recommends) clean it,
and intrinsics, extrinsics and depth scale come from the SDK's stream profiles.

Recordings are read with ``context.load_device`` + ``set_real_time(False)`` +
a ``syncer`` rather than ``rs.pipeline``: the pipeline may drop the first
framesets of a file, the syncer gets every pair after the first (the SDK
cannot pair the very first depth and colour frames; an incomplete set is
skipped and counted in ``skipped_framesets``).

pyrealsense2 needs Debian's ``libusb-1.0-0`` to import.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from capture_agent.sources.base import (
    CameraIntrinsics,
    DeviceInfo,
    Extrinsics,
    FrameSource,
    RecordingFormatError,
    RGBDFrame,
    SourceError,
    SourceUnavailableError,
)

RECORDING_SUFFIXES = (".bag", ".db3")


def import_rs() -> Any:
    """pyrealsense2, or SourceUnavailableError saying what to install."""
    try:
        import pyrealsense2 as rs
    except ImportError as exc:
        raise SourceUnavailableError(
            f"RealSense support needs pyrealsense2 (pip install pyrealsense2) and the system "
            f"library libusb-1.0 (Debian/Ubuntu: apt-get install libusb-1.0-0): {exc}"
        ) from None
    return rs


def list_realsense_devices() -> list[DeviceInfo]:
    rs = import_rs()
    out = []
    for dev in rs.context().query_devices():
        serial = dev.get_info(rs.camera_info.serial_number)
        name = dev.get_info(rs.camera_info.name)
        out.append(DeviceInfo(uri=f"realsense://{serial}", model=name, serial=serial))
    return out


def _intrinsics(intr: Any) -> CameraIntrinsics:
    return CameraIntrinsics(
        width=int(intr.width),
        height=int(intr.height),
        fx=float(intr.fx),
        fy=float(intr.fy),
        cx=float(intr.ppx),
        cy=float(intr.ppy),
        distortion=tuple(float(c) for c in intr.coeffs) if any(intr.coeffs) else (),
    )


class RealSenseSource(FrameSource):
    """Live (``serial``) or recorded (``path``) RealSense depth + colour.

    ``filters``: apply the SDK's spatial/temporal/hole-filling filters.
    ``align``: register depth to colour with ``rs.align`` (turn off only for a
    recording whose depth is already registered, e.g. to check bit-exactness).
    ``pipeline_factory`` exists for tests of the live path: it returns an object
    with the ``rs.pipeline`` interface (``start(config)``, ``wait_for_frames``,
    ``stop``); production uses ``rs.pipeline``.
    """

    def __init__(
        self,
        *,
        serial: str | None = None,
        path: str | Path | None = None,
        uri: str = "",
        filters: bool = True,
        align: bool = True,
        width: int = 640,
        height: int = 480,
        fps: int = 30,
        pipeline_factory: Callable[[], Any] | None = None,
    ) -> None:
        if (serial is None) == (path is None) and not (serial == "" and path is None):
            raise SourceError("give a RealSense serial (live) or a recording path, not both")
        self.serial = serial
        self.path = Path(path) if path is not None else None
        self.uri = uri or (f"realsense:{path}" if path else f"realsense://{serial}")
        self.filters = filters
        self.align = align
        self.width, self.height, self.nominal_fps = width, height, float(fps)
        self._pipeline_factory = pipeline_factory
        self.device_model = "intel_realsense"
        self.skipped_framesets = 0
        self._rs: Any = None
        self._index = 0
        self._t0: float | None = None

    @property
    def is_live(self) -> bool:
        return self.path is None

    def metadata(self) -> dict[str, Any]:
        return {**super().metadata(), "device_name": getattr(self, "_device_name", "")}

    # -- opening ---------------------------------------------------------------------------
    def open(self) -> None:
        rs = self._rs = import_rs()
        self._align = rs.align(rs.stream.color)
        self._filter_chain = (
            [
                rs.disparity_transform(True),
                rs.spatial_filter(),
                rs.temporal_filter(),
                rs.disparity_transform(False),
                rs.hole_filling_filter(),
            ]
            if self.filters
            else []
        )
        self._index = 0
        self._t0 = None
        if self.path is not None:
            self._open_recording(rs)
        else:
            self._open_live(rs)

    def _open_recording(self, rs: Any) -> None:
        if not self.path.is_file():
            raise RecordingFormatError(f"RealSense recording {self.path} does not exist")
        if self.path.suffix.lower() not in RECORDING_SUFFIXES:
            raise RecordingFormatError(
                f"{self.path.name}: RealSense recordings are .bag or .db3 files"
            )
        try:
            self._device = rs.context().load_device(str(self.path))
        except RuntimeError as exc:
            raise RecordingFormatError(
                f"cannot read RealSense recording {self.path}: {exc}"
            ) from None
        self._playback = self._device.as_playback()
        self._playback.set_real_time(False)
        self._syncer = rs.syncer()
        self._sensors = list(self._device.query_sensors())
        for sensor in self._sensors:
            sensor.open(sensor.get_stream_profiles())
            sensor.start(self._syncer)
        self._device_name = self._device.get_info(rs.camera_info.name)
        self._pipeline = None

    def _open_live(self, rs: Any) -> None:
        factory = self._pipeline_factory or rs.pipeline
        config = rs.config()
        if self.serial:
            config.enable_device(self.serial)
        config.enable_stream(
            rs.stream.depth, self.width, self.height, rs.format.z16, int(self.nominal_fps)
        )
        config.enable_stream(
            rs.stream.color, self.width, self.height, rs.format.rgb8, int(self.nominal_fps)
        )
        self._pipeline = factory()
        try:
            profile = self._pipeline.start(config)
        except RuntimeError as exc:
            raise SourceUnavailableError(
                f"no RealSense camera {self.serial or ''} could be started: {exc}"
            ) from None
        self._device_name = profile.get_device().get_info(rs.camera_info.name)

    def close(self) -> None:
        self._filter_chain = []
        self._align = None
        gc.collect()
        if getattr(self, "_sensors", None) and getattr(self, "_syncer", None) is not None:
            # Stopping a non-real-time playback mid-file deadlocks in the SDK (the reader
            # thread waits for its frames to be consumed): play the rest out unprocessed.
            while self._syncer.try_wait_for_frames(200)[0]:
                pass
        if getattr(self, "_pipeline", None) is not None:
            self._pipeline.stop()
            self._pipeline = None
        for sensor in getattr(self, "_sensors", []):
            sensor.stop()
            sensor.close()
        self._sensors = []

    # -- reading ---------------------------------------------------------------------------
    def _next_frameset(self) -> Any | None:
        if self._pipeline is not None:
            try:
                return self._pipeline.wait_for_frames(5000)
            except RuntimeError as exc:
                raise SourceError(f"RealSense camera stopped delivering frames: {exc}") from None
        ok, fs = self._syncer.try_wait_for_frames(1000)
        return fs if ok else None

    def read(self) -> RGBDFrame | None:
        rs = self._rs
        while True:
            fs = self._next_frameset()
            if fs is None:
                return None
            fs = fs.as_frameset()
            if fs.get_depth_frame() and fs.get_color_frame():
                return self._to_frame(rs, fs)
            self.skipped_framesets += 1

    def _to_frame(self, rs: Any, fs: Any) -> RGBDFrame:
        raw_depth = fs.get_depth_frame()
        colour = fs.get_color_frame()
        depth_profile = raw_depth.profile.as_video_stream_profile()
        colour_profile = colour.profile.as_video_stream_profile()
        ext = depth_profile.get_extrinsics_to(colour_profile)
        depth = self._align.process(fs).get_depth_frame() if self.align else raw_depth
        for f in self._filter_chain:
            depth = f.process(depth)
        depth = depth.as_depth_frame()
        colour_rgb = np.asanyarray(colour.get_data())
        if colour_profile.format() == rs.format.bgr8:
            colour_rgb = colour_rgb[..., ::-1]
        t_ms = fs.get_timestamp()
        if self._t0 is None:
            self._t0 = t_ms
        frame = RGBDFrame(
            index=self._index,
            timestamp_s=(t_ms - self._t0) / 1000.0,
            colour_rgb=np.array(colour_rgb, copy=True),  # never keep SDK frame memory alive
            colour_intrinsics=_intrinsics(colour_profile.get_intrinsics()),
            depth=np.asanyarray(depth.get_data()).copy(),
            depth_scale_m=float(depth.get_units()),
            depth_intrinsics=_intrinsics(depth_profile.get_intrinsics()),
            depth_to_colour=Extrinsics(
                np.asarray(ext.rotation, dtype=float).reshape(3, 3).T,  # SDK stores column-major
                np.asarray(ext.translation, dtype=float),
            ),
        )
        self._index += 1
        return frame
