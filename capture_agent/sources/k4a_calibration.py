"""Azure Kinect calibration: the ``calibration.json`` a K4A recording carries.

The raw calibration stores each camera's intrinsics *unitised and
0-cornered* for the full sensor (principal point and focal length divided by
the calibration image size; (0, 0) is the top-left corner of the top-left
pixel). The SDK turns them into a mode's pixel intrinsics by scaling to the
mode's binned resolution, subtracting the crop offset and 0.5 px (to the
OpenCV 0-centred convention) — ``transformation_get_mode_specific_camera_calibration``
in the Azure-Kinect-Sensor-SDK (MIT). Mode tables below are that file's.

Each camera's ``Rt`` is the transform from the depth camera (D0, identity)
to that camera, translation in metres (the SDK converts it to mm).
Brown–Conrady parameters are ordered cx, cy, fx, fy, k1..k6, codx, cody, p2, p1.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from capture_agent.sources.base import CameraIntrinsics, Extrinsics, RecordingFormatError

#: depth mode → (binned calibration resolution, crop offset, output resolution)
DEPTH_MODES: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    "NFOV_2X2BINNED": ((512, 512), (96, 90), (320, 288)),
    "NFOV_UNBINNED": ((1024, 1024), (192, 180), (640, 576)),
    "WFOV_2X2BINNED": ((512, 512), (0, 0), (512, 512)),
    "WFOV_UNBINNED": ((1024, 1024), (0, 0), (1024, 1024)),
}
#: colour resolution → the same triple, relative to the 4:3 (4096×3072) calibration
COLOUR_MODES: dict[str, tuple[tuple[int, int], tuple[int, int], tuple[int, int]]] = {
    "720P": ((1280, 960), (0, 120), (1280, 720)),
    "1080P": ((1920, 1440), (0, 180), (1920, 1080)),
    "1440P": ((2560, 1920), (0, 240), (2560, 1440)),
    "1536P": ((2048, 1536), (0, 0), (2048, 1536)),
    "2160P": ((3840, 2880), (0, 360), (3840, 2160)),
    "3072P": ((4096, 3072), (0, 0), (4096, 3072)),
}
DEPTH_LOCATION = "CALIBRATION_CameraLocationD0"
COLOUR_LOCATION = "CALIBRATION_CameraLocationPV0"
BROWN_CONRADY = "CALIBRATION_LensDistortionModelBrownConrady"


def depth_mode_for_size(width: int, height: int) -> str:
    for name, (_, _, out) in DEPTH_MODES.items():
        if out == (width, height):
            return name
    raise RecordingFormatError(f"no Azure Kinect depth mode is {width}×{height}")


def colour_mode_for_size(width: int, height: int) -> str:
    for name, (_, _, out) in COLOUR_MODES.items():
        if out == (width, height):
            return name
    raise RecordingFormatError(f"no Azure Kinect colour resolution is {width}×{height}")


def _mode_intrinsics(params: list[float], mode: tuple) -> CameraIntrinsics:
    (bw, bh), (ox, oy), (w, h) = mode
    cx, cy, fx, fy = params[:4]
    k1, k2, k3, k4, k5, k6 = params[4:10]
    p2, p1 = params[12:14]
    return CameraIntrinsics(
        width=w,
        height=h,
        fx=fx * bw,
        fy=fy * bh,
        cx=cx * bw - ox - 0.5,
        cy=cy * bh - oy - 0.5,
        distortion=(k1, k2, p1, p2, k3, k4, k5, k6),
    )


def _raw_params(intr: CameraIntrinsics, mode: tuple) -> list[float]:
    (bw, bh), (ox, oy), _ = mode
    d = (*intr.distortion, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)[:8]
    k1, k2, p1, p2, k3, k4, k5, k6 = d
    return [
        (intr.cx + 0.5 + ox) / bw,
        (intr.cy + 0.5 + oy) / bh,
        intr.fx / bw,
        intr.fy / bh,
        k1, k2, k3, k4, k5, k6,
        0.0, 0.0, p2, p1,
    ]  # fmt: skip


def parse_calibration(
    text: bytes | str, *, depth_mode: str, colour_mode: str
) -> tuple[CameraIntrinsics, CameraIntrinsics, Extrinsics]:
    """(depth intrinsics, colour intrinsics, depth→colour extrinsics) for the recording's modes."""
    try:
        cams = json.loads(text)["CalibrationInformation"]["Cameras"]
        by_loc = {c["Location"]: c for c in cams}
        depth, colour = by_loc[DEPTH_LOCATION], by_loc[COLOUR_LOCATION]
        d_params = [float(v) for v in depth["Intrinsics"]["ModelParameters"]]
        c_params = [float(v) for v in colour["Intrinsics"]["ModelParameters"]]
        rt_d = depth["Rt"]
        rt_c = colour["Rt"]
        r_d = np.asarray(rt_d["Rotation"], float).reshape(3, 3)
        t_d = np.asarray(rt_d["Translation"], float)
        r_c = np.asarray(rt_c["Rotation"], float).reshape(3, 3)
        t_c = np.asarray(rt_c["Translation"], float)
        c_w, c_h = int(colour["SensorWidth"]), int(colour["SensorHeight"])
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordingFormatError(
            f"calibration.json is not an Azure Kinect calibration: {exc}"
        ) from None
    if c_w * 3 != c_h * 4:
        raise RecordingFormatError(
            f"colour calibration {c_w}×{c_h} is not the 4:3 layout this reader supports"
        )
    if depth_mode not in DEPTH_MODES or colour_mode not in COLOUR_MODES:
        raise RecordingFormatError(f"unknown Azure Kinect mode {depth_mode} / {colour_mode}")
    # world (= D0) → camera for each; depth → colour = colour ∘ depth⁻¹
    rot = r_c @ r_d.T
    trans = t_c - rot @ t_d
    return (
        _mode_intrinsics(d_params, DEPTH_MODES[depth_mode]),
        _mode_intrinsics(c_params, COLOUR_MODES[colour_mode]),
        Extrinsics(rot, trans),
    )


def build_calibration(
    depth: CameraIntrinsics,
    colour: CameraIntrinsics,
    depth_to_colour: Extrinsics,
    *,
    depth_mode: str = "NFOV_UNBINNED",
    colour_mode: str = "720P",
) -> dict[str, Any]:
    """The inverse of :func:`parse_calibration`: a calibration.json document (for test recordings)."""

    def camera(location: str, purpose: str, params: list[float], rt: Extrinsics, size: tuple):
        return {
            "Intrinsics": {
                "ModelParameterCount": 14,
                "ModelParameters": params,
                "ModelType": BROWN_CONRADY,
            },
            "Location": location,
            "Purpose": purpose,
            "MetricRadius": 1.7,
            "Rt": {
                "Rotation": np.asarray(rt.rotation, float).reshape(9).tolist(),
                "Translation": np.asarray(rt.translation_m, float).tolist(),
            },
            "SensorHeight": size[1],
            "SensorWidth": size[0],
        }

    return {
        "CalibrationInformation": {
            "Cameras": [
                camera(
                    DEPTH_LOCATION,
                    "CALIBRATION_CameraPurposeDepth",
                    _raw_params(depth, DEPTH_MODES[depth_mode]),
                    Extrinsics(),
                    (1024, 1024),
                ),
                camera(
                    COLOUR_LOCATION,
                    "CALIBRATION_CameraPurposePhotoVideo",
                    _raw_params(colour, COLOUR_MODES[colour_mode]),
                    depth_to_colour,
                    (4096, 3072),
                ),
            ],
            "InertialSensors": [],
            "Metadata": {"SerialId": "telerehab-test", "Version": {"Major": 1, "Minor": 2}},
        }
    }
