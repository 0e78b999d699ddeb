"""Write a genuine RealSense recording from frames we already have (tests, demos).

There is no camera on a build machine, but the SDK's ``software_device`` with a
depth (Z16) and a colour (RGB8) sensor, recorded by ``rs.recorder``, produces a
real recording that the real playback path reads back bit-exact with its
intrinsics, extrinsics and depth scale. pyrealsense2 2.59 writes ROS2 ``.db3``
(2.56 and earlier write ``.bag``); the file name must carry that suffix.

Each software frame must carry ``actual_fps`` metadata, or the syncer on
playback stops pairing depth with colour.

Frames with unregistered depth are recorded as a D400 records them: the depth
stream with its own intrinsics and the depth-to-colour extrinsics, so the
playback's ``rs.align`` does real registration work. ``compress`` is the SDK
recorder's own switch (on by default, as the RealSense Viewer records): LZ4
playback then costs ~8 ms of CPU per 640×480 frame pair on the project's
2-core machine (0.6 ms uncompressed), a cost a live camera does not have.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from capture_agent.sources.base import RGBDFrame, SourceError
from capture_agent.sources.realsense import import_rs

SERIAL = "TELEREHAB-SYN-0001"


def _rs_intrinsics(rs, intr) -> object:
    out = rs.intrinsics()
    out.width, out.height = intr.width, intr.height
    out.fx, out.fy, out.ppx, out.ppy = intr.fx, intr.fy, intr.cx, intr.cy
    out.model = rs.distortion.none
    out.coeffs = [0.0] * 5
    return out


def write_realsense_recording(
    path: str | Path,
    frames: Iterable[RGBDFrame],
    *,
    fps: int = 30,
    serial: str = SERIAL,
    compress: bool = True,
) -> int:
    """Record RGBD frames as a RealSense recording; returns frames written."""
    rs = import_rs()
    frames = iter(frames)
    first = next(frames, None)
    if first is None or first.depth is None:
        raise SourceError("a RealSense recording needs at least one frame with depth")
    intr = first.colour_intrinsics
    d_intr = intr if first.depth_registered else first.depth_intrinsics
    dev = rs.software_device()
    dev.register_info(rs.camera_info.name, "Intel RealSense (telerehab software device)")
    dev.register_info(rs.camera_info.serial_number, serial)
    depth_sensor = dev.add_sensor("Depth")
    colour_sensor = dev.add_sensor("Color")
    streams = []
    for kind, idx, uid, bpp, fmt, stream_intr in (
        (rs.stream.depth, 0, 0, 2, rs.format.z16, d_intr),
        (rs.stream.color, 0, 1, 3, rs.format.rgb8, intr),
    ):
        s = rs.video_stream()
        s.type, s.index, s.uid = kind, idx, uid
        s.width, s.height = stream_intr.width, stream_intr.height
        s.fps, s.bpp, s.fmt = fps, bpp, fmt
        s.intrinsics = _rs_intrinsics(rs, stream_intr)
        streams.append(s)
    depth_profile = depth_sensor.add_video_stream(streams[0])
    colour_profile = colour_sensor.add_video_stream(streams[1])
    depth_sensor.add_read_only_option(rs.option.depth_units, float(first.depth_scale_m))
    ext = rs.extrinsics()
    if first.depth_registered:
        ext.rotation = [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0]
        ext.translation = [0.0, 0.0, 0.0]  # depth already registered to colour
    else:
        rot = np.asarray(first.depth_to_colour.rotation, dtype=float)
        ext.rotation = rot.T.reshape(9).tolist()  # the SDK stores it column-major
        ext.translation = np.asarray(first.depth_to_colour.translation_m, float).tolist()
    depth_profile.register_extrinsics_to(colour_profile, ext)
    recorder = rs.recorder(str(path), dev, compress)
    depth_sensor.open(depth_profile)
    colour_sensor.open(colour_profile)
    queue = rs.frame_queue(4)
    depth_sensor.start(queue)
    colour_sensor.start(queue)
    n = 0
    keep_alive = []
    try:
        for frame in (first, *frames):
            ts_ms = (n + 1) * 1000.0 / fps
            depth = np.ascontiguousarray(frame.depth, dtype=np.uint16)
            colour = np.ascontiguousarray(frame.colour_rgb, dtype=np.uint8)
            keep_alive[:] = [depth, colour]
            for sensor, profile, pixels, bpp in (
                (depth_sensor, depth_profile, depth, 2),
                (colour_sensor, colour_profile, colour, 3),
            ):
                f = rs.software_video_frame()
                f.pixels = pixels
                f.bpp = bpp
                f.stride = pixels.shape[1] * bpp
                f.timestamp = ts_ms
                f.domain = rs.timestamp_domain.hardware_clock
                f.frame_number = n
                f.profile = profile.as_video_stream_profile()
                if bpp == 2:
                    f.depth_units = float(first.depth_scale_m)
                sensor.set_metadata(rs.frame_metadata_value.actual_fps, fps * 1000)
                sensor.on_video_frame(f)
            n += 1
    finally:
        for sensor in (depth_sensor, colour_sensor):
            sensor.stop()
            sensor.close()
        del recorder
    return n
