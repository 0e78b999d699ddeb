"""Write an Azure Kinect-format MKV with PyAV (tests and demos; no SDK needed).

Layout written (what the K4A recorder writes and :class:`KinectSource` reads):
Matroska; track ``COLOR`` MJPEG; track ``DEPTH`` raw 16-bit big-endian video
stored in VFW mode with FourCC ``b16g``; the calibration as the attachment
``calibration.json``; container tags ``K4A_DEPTH_MODE`` and ``K4A_COLOR_MODE``.

FFmpeg's Matroska muxer refuses to keep a FourCC it does not know for raw
video: it writes the BITMAPINFOHEADER with compression 0 (it resets the tag
in ``init_muxer``). So after muxing, the writer patches exactly those four
bytes — ``biCompression`` at offset 16 of the DEPTH track's 40-byte
``CodecPrivate`` — to ``b16g``. No element changes size; FFmpeg (and so PyAV)
then decodes the track as ``gray16be``, as it does real K4A recordings.
Unlike the SDK's recorder, the BITMAPINFOHEADER's height is negative (FFmpeg's
top-down convention); readers that follow FFmpeg decode it the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from capture_agent.sources.base import CameraIntrinsics, Extrinsics, SourceError
from capture_agent.sources.k4a_calibration import (
    build_calibration,
    colour_mode_for_size,
    depth_mode_for_size,
)

_CODEC_ID = b"V_MS/VFW/FOURCC"
_CODEC_PRIVATE_ID = b"\x63\xa2"


def _patch_fourcc(path: Path, fourcc: bytes = b"b16g") -> None:
    data = bytearray(path.read_bytes())
    at = data.find(_CODEC_ID)
    if at < 0:
        raise SourceError("written MKV has no VFW video track to patch")
    cp = data.find(_CODEC_PRIVATE_ID, at)
    if cp < 0 or cp - at > 200:
        raise SourceError("written MKV's VFW track has no CodecPrivate")
    size_byte = data[cp + 2]
    n_len = 8 - size_byte.bit_length() + 1  # EBML variable-length size
    header = cp + 2 + n_len
    if int.from_bytes(data[header : header + 4], "little") != 40:
        raise SourceError("DEPTH CodecPrivate is not a 40-byte BITMAPINFOHEADER")
    data[header + 16 : header + 20] = fourcc
    path.write_bytes(bytes(data))


def write_kinect_mkv(
    path: str | Path,
    frames: Iterable[tuple[np.ndarray, np.ndarray]],
    *,
    depth_intrinsics: CameraIntrinsics,
    colour_intrinsics: CameraIntrinsics,
    depth_to_colour: Extrinsics,
    fps: int = 30,
) -> int:
    """Write (colour RGB uint8, depth mm uint16 in the depth camera) pairs; returns frames written."""
    import av

    path = Path(path)
    depth_mode = depth_mode_for_size(depth_intrinsics.width, depth_intrinsics.height)
    colour_mode = colour_mode_for_size(colour_intrinsics.width, colour_intrinsics.height)
    calibration = build_calibration(
        depth_intrinsics,
        colour_intrinsics,
        depth_to_colour,
        depth_mode=depth_mode,
        colour_mode=colour_mode,
    )
    out = av.open(str(path), "w", format="matroska", options={"allow_raw_vfw": "1"})
    out.metadata["K4A_DEPTH_MODE"] = depth_mode
    out.metadata["K4A_COLOR_MODE"] = f"MJPG_{colour_mode}"
    colour = out.add_stream("mjpeg", rate=fps)
    colour.width, colour.height = colour_intrinsics.width, colour_intrinsics.height
    colour.pix_fmt = "yuvj420p"
    colour.metadata["title"] = "COLOR"
    depth = out.add_stream("rawvideo", rate=fps)
    depth.width, depth.height = depth_intrinsics.width, depth_intrinsics.height
    depth.pix_fmt = "gray16be"
    depth.metadata["title"] = "DEPTH"
    out.add_attachment(
        "calibration.json", "application/octet-stream", json.dumps(calibration).encode()
    )
    n = 0
    for colour_rgb, depth_mm in frames:
        cf = av.VideoFrame.from_ndarray(np.ascontiguousarray(colour_rgb), format="rgb24")
        cf = cf.reformat(format="yuvj420p")
        cf.pts = n
        for packet in colour.encode(cf):
            out.mux(packet)
        df = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(depth_mm, dtype=np.uint16), format="gray16be"
        )
        df.pts = n
        for packet in depth.encode(df):
            out.mux(packet)
        n += 1
    for stream in (colour, depth):
        for packet in stream.encode():
            out.mux(packet)
    out.close()
    _patch_fourcc(path)
    return n
