"""Intel RealSense through pyrealsense2: live cameras and recordings (.bag / .db3).

``realsense://SERIAL`` opens a live camera (``realsense://`` the first one);
``realsense:PATH`` plays a recording. Both go through the same frameset path,
and intrinsics, extrinsics and depth scale come from the SDK's stream profiles.
By default depth is handed on as the sensor delivered it (unregistered) and
depth fusion maps only the keypoints into it: on a synthesised D435-like
recording that was as accurate as ``rs.align`` + the SDK's spatial, temporal and
hole-filling filters (more so: ``rs.align`` keeps the nearest of overlapping
noisy depth pixels, which pulled joints ~2 cm towards the camera) and 18 ms of
CPU per frame cheaper. ``align=True, filters=True`` gives the whole-frame SDK
path (in disparity space, as Intel recommends).

Recordings are read with ``context.load_device`` + ``set_real_time(False)`` +
a ``syncer`` rather than ``rs.pipeline``: the pipeline may drop the first
framesets of a file, the syncer gets every pair after the first (the SDK
cannot pair the very first depth and colour frames; an incomplete set is
skipped and counted in ``skipped_framesets``).

pyrealsense2 needs Debian's ``libusb-1.0-0`` to import.
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
import time
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
#: Longest wait for the SDK to stop streaming before close() gives up (measured: ~0.3 s).
CLOSE_TIMEOUT_S = 10.0
log = logging.getLogger(__name__)
#: SDK objects whose stop never returned: kept referenced so they are not freed under it.
_STUCK: list[tuple[Any, ...]] = []


def stop_with_watchdog(
    stops: list[Callable[[], None]],
    *,
    drain: Callable[[], object] | None = None,
    timeout_s: float = CLOSE_TIMEOUT_S,
    what: str = "RealSense",
) -> bool:
    """Run ``stops`` in order on a worker thread, calling ``drain`` here meanwhile.

    Returns True when every stop returned (errors from them are logged, not
    raised: close() must not mask the exception that ended a session), False
    when ``timeout_s`` passed first; the daemon worker is then abandoned.
    """
    done = threading.Event()

    def worker() -> None:
        try:
            for stop in stops:
                stop()
        except RuntimeError as exc:
            log.warning("%s: error while stopping: %s", what, exc)
        finally:
            done.set()

    thread = threading.Thread(target=worker, name="realsense-stop", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not done.is_set() and time.monotonic() < deadline:
        if drain is not None:
            try:
                drain()
            except RuntimeError:  # the syncer may refuse once its sensors are gone
                drain = None
        else:
            done.wait(0.05)
    if done.is_set():
        thread.join()
        return True
    log.warning(
        "%s did not stop within %.1f s (SDK deadlock); abandoning it on a background thread",
        what,
        timeout_s,
    )
    return False


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
        distortion_model=f"realsense:{intr.model.name}",
    )


@functools.lru_cache(maxsize=8)
def _sdk_intrinsics(key: tuple) -> Any:
    rs = import_rs()
    width, height, fx, fy, cx, cy, coeffs, model = key
    out = rs.intrinsics()
    out.width, out.height, out.fx, out.fy, out.ppx, out.ppy = width, height, fx, fy, cx, cy
    name = model.split(":", 1)[1]
    if not hasattr(rs.distortion, name):
        raise SourceError(f"unknown RealSense distortion model {name!r}")
    out.model = getattr(rs.distortion, name)
    out.coeffs = list(coeffs) + [0.0] * (5 - len(coeffs))
    return out


def sdk_project(intr: CameraIntrinsics, points_m: np.ndarray) -> np.ndarray:
    """(N, 3) → (N, 2) pixels by the SDK's ``rs2_project_point_to_pixel`` (~0.4 µs a point)."""
    rs = import_rs()
    k = _sdk_intrinsics(intr.key())
    out = np.full((len(points_m), 2), np.nan)
    for i, p in enumerate(points_m):
        if np.isfinite(p).all() and p[2] > 1e-6:
            out[i] = rs.rs2_project_point_to_pixel(k, [float(v) for v in p])
    return out


def sdk_deproject(intr: CameraIntrinsics, xy_px: np.ndarray, depth_m: np.ndarray) -> np.ndarray:
    """(N, 2) pixels + (N,) metres → (N, 3) by the SDK's ``rs2_deproject_pixel_to_point``."""
    rs = import_rs()
    k = _sdk_intrinsics(intr.key())
    out = np.full((len(xy_px), 3), np.nan)
    for i, (xy, z) in enumerate(zip(xy_px, depth_m, strict=True)):
        if np.isfinite(xy).all() and np.isfinite(z):
            out[i] = rs.rs2_deproject_pixel_to_point(k, [float(xy[0]), float(xy[1])], float(z))
    return out


class RealSenseSource(FrameSource):
    """Live (``serial``) or recorded (``path``) RealSense depth + colour.

    ``align``: register depth to colour with ``rs.align`` and apply the SDK's
    spatial/temporal/hole-filling filters when ``filters`` (the whole-frame
    path: ~10 + ~8 ms of CPU per 640×480 frame here). With ``align=False`` the
    frame carries the depth as the sensor saw it (``depth_registered=False``)
    with its intrinsics and extrinsics, and depth fusion maps only the
    keypoints into it; its robust window median stands in for the spatial and
    hole-filling filters and the One-Euro joint filter for the temporal one.
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
        filters: bool = False,
        align: bool = False,
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
        """Stop streaming; bounded in time, because a hung close() stalls the whole agent.

        Non-real-time playback deadlocks if its sensors are stopped while the
        file's reader thread is blocked handing a frame to a syncer that nobody
        empties (reproduced here with pyrealsense2 2.59: stopping after one
        frame of a 30-frame file hangs forever; librealsense #3126, #8625).
        Draining the syncer only *before* stopping is not enough on a loaded
        machine: a pause in the reader longer than the drain's wait looks like
        the end of the file, and the stop then hangs. So the syncer is drained
        on this thread *while* a worker thread stops the sensors, and the wait
        is bounded by :data:`CLOSE_TIMEOUT_S`; past it the SDK objects are
        handed to the stuck worker (never destroyed under it) and a warning is
        logged instead of hanging. The SDK releases the GIL in these calls.
        """
        self._filter_chain = []
        self._align = None
        gc.collect()  # filters and align hold SDK frames that the playback waits for
        pipeline = getattr(self, "_pipeline", None)
        sensors = list(getattr(self, "_sensors", None) or [])
        syncer = getattr(self, "_syncer", None)
        self._pipeline = None
        self._sensors = []
        stops: list[Callable[[], None]] = []
        if pipeline is not None:
            stops.append(pipeline.stop)
        stops += [sensor.stop for sensor in sensors] + [sensor.close for sensor in sensors]
        if stops:
            drain = None if syncer is None else (lambda: syncer.try_wait_for_frames(50))
            finished = stop_with_watchdog(
                stops, drain=drain, timeout_s=CLOSE_TIMEOUT_S, what=f"RealSense {self.uri}"
            )
            if not finished:  # keep every SDK object alive as long as the stuck worker
                _STUCK.append(
                    (pipeline, tuple(sensors), syncer, getattr(self, "_playback", None),
                     getattr(self, "_device", None))
                )  # fmt: skip
        # Release in dependency order (sensors, playback, device, syncer): left to
        # interpreter exit, the SDK was seen to abort ("terminate called without an
        # active exception") after a mid-file stop. Rebind, never mutate, the lists:
        # a worker that is still running iterates over them.
        del stops, sensors, pipeline
        gc.collect()
        for name in ("_playback", "_device", "_syncer"):
            if hasattr(self, name):
                setattr(self, name, None)
        gc.collect()

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
            depth_registered=bool(self.align),
            depth_scale_m=float(depth.get_units()),
            depth_intrinsics=_intrinsics(depth_profile.get_intrinsics()),
            depth_to_colour=Extrinsics(
                np.asarray(ext.rotation, dtype=float).reshape(3, 3).T,  # SDK stores column-major
                np.asarray(ext.translation, dtype=float),
            ),
        )
        self._index += 1
        return frame
