"""A minimal C3D reader (points and their labels) in numpy.

Enough to read marker trajectories and model outputs (joint centres, angles
stored as "points") from Vicon files for validation, without a dependency.
Supports Intel-order files with float or integer point storage — what Vicon
Nexus writes; DEC/MIPS processor formats are rejected with a clear error.
Format: https://www.c3d.org/docs/C3D_User_Guide.pdf (sections 2-3).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.errors import AnalysisError

_BLOCK = 512
_INTEL = 84


class C3DFormatError(AnalysisError):
    """A file that is not a C3D this reader can parse."""


@dataclass(frozen=True)
class C3DPoints:
    """(T, P, 3) point data with labels, units and rate; invalid samples are NaN."""

    labels: tuple[str, ...]
    points: np.ndarray
    rate_hz: float
    units: str
    first_frame: int
    parameters: dict[str, dict[str, Any]]

    def point(self, label: str) -> np.ndarray:
        """(T, 3) trajectory of one labelled point."""
        try:
            return self.points[:, self.labels.index(label)]
        except ValueError:
            raise KeyError(f"point {label!r} is not in this C3D file") from None


def _parse_parameters(data: bytes, start_block: int) -> dict[str, dict[str, Any]]:
    base = (start_block - 1) * _BLOCK
    if len(data) < base + 4:
        raise C3DFormatError("C3D parameter section lies beyond the end of the file")
    n_blocks, processor = data[base + 2], data[base + 3]
    if processor != _INTEL:
        raise C3DFormatError(f"C3D processor type {processor} is not supported (Intel only)")
    end = base + n_blocks * _BLOCK
    pos = base + 4
    groups: dict[int, str] = {}
    params: dict[int, dict[str, Any]] = {}
    while pos + 2 <= end:
        n_chars = abs(struct.unpack_from("<b", data, pos)[0])
        gid = struct.unpack_from("<b", data, pos + 1)[0]
        if n_chars == 0:
            break
        name = data[pos + 2 : pos + 2 + n_chars].decode("ascii", "replace").upper()
        p = pos + 2 + n_chars
        next_offset = struct.unpack_from("<h", data, p)[0]
        body = p + 2
        if gid < 0:
            groups[-gid] = name
        else:
            dtype = struct.unpack_from("<b", data, body)[0]
            n_dims = data[body + 1]
            dims = list(data[body + 2 : body + 2 + n_dims])
            q = body + 2 + n_dims
            count = int(np.prod(dims)) if dims else 1
            size = abs(dtype)
            raw = data[q : q + count * size]
            if dtype == -1:
                if len(dims) >= 2:
                    width = dims[0]
                    value: Any = [
                        raw[k * width : (k + 1) * width].decode("ascii", "replace").strip()
                        for k in range(count // max(width, 1))
                    ]
                else:
                    value = raw.decode("ascii", "replace").strip()
            else:
                fmt = {1: "u1", 2: "<i2", 4: "<f4"}.get(dtype)
                if fmt is None:
                    raise C3DFormatError(f"C3D parameter {name} has unknown type {dtype}")
                arr = np.frombuffer(raw, dtype=fmt, count=count)
                value = arr.reshape(dims[::-1]) if len(dims) > 1 else arr
            params.setdefault(gid, {})[name] = value
        if next_offset == 0:
            break
        pos = p + next_offset
    return {groups.get(g, str(g)): v for g, v in params.items()}


def read_c3d(path: str | Path) -> C3DPoints:
    """Read every point trajectory; samples with a negative residual become NaN."""
    data = Path(path).read_bytes()
    if len(data) < _BLOCK or data[1] != 0x50:
        raise C3DFormatError(f"{path} is not a C3D file (no 0x50 signature)")
    n_points, n_analog, first, last = struct.unpack_from("<hhhh", data, 2)
    scale = struct.unpack_from("<f", data, 12)[0]
    data_start = struct.unpack_from("<h", data, 16)[0]
    rate = struct.unpack_from("<f", data, 20)[0]
    params = _parse_parameters(data, data[0])
    n_frames = int(last) - int(first) + 1
    if n_frames <= 0 or n_points <= 0:
        raise C3DFormatError(f"{path} holds no point frames")
    is_float = scale < 0
    word = 4 if is_float else 2
    frame_words = 4 * n_points + n_analog
    offset = (data_start - 1) * _BLOCK
    needed = n_frames * frame_words * word
    if len(data) < offset + needed:
        raise C3DFormatError(f"{path} is truncated: point data needs {needed} bytes")
    raw = np.frombuffer(
        data, dtype="<f4" if is_float else "<i2", count=n_frames * frame_words, offset=offset
    ).reshape(n_frames, frame_words)
    pts = raw[:, : 4 * n_points].reshape(n_frames, n_points, 4).astype(np.float64)
    xyz = pts[..., :3] if is_float else pts[..., :3] * abs(scale)
    residual = pts[..., 3]
    xyz = np.where((residual < 0)[..., None], np.nan, xyz)
    point = params.get("POINT", {})
    labels = list(point.get("LABELS", []))
    for extra in ("LABELS2", "LABELS3"):
        labels += list(point.get(extra, []))
    labels = [lbl for lbl in labels][:n_points]
    labels += [f"POINT{k}" for k in range(len(labels), n_points)]
    units = point.get("UNITS", "mm")
    return C3DPoints(
        labels=tuple(labels),
        points=xyz,
        rate_hz=float(rate),
        units=units if isinstance(units, str) else "mm",
        first_frame=int(first),
        parameters=params,
    )
