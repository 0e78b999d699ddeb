"""The one shape every camera takes inside the agent: an RGBD frame stream.

Depth fusion, the live preview and the placement check are written once
against :class:`FrameSource`; a RealSense, an Azure Kinect recording, a webcam
and the synthetic patient differ only in how they fill :class:`RGBDFrame`.
Depth is delivered either *registered to the colour image* (same pixel grid,
``depth_registered=True``: the SDK aligned it, or the camera renders it so) or
as the depth sensor saw it (``depth_registered=False``) together with the
depth intrinsics and depth-to-colour extrinsics. Registering a whole 640×480
frame costs a RealSense ~10 ms of CPU per frame with ``rs.align`` (plus ~8 ms for
the SDK filters); depth fusion needs depth under 33 keypoints only, so it can
map those few pixels itself (:mod:`capture_agent.fusion.depth_sample`).
Whole-image consumers (the placement check) call
:meth:`RGBDFrame.registered_depth`.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class SourceError(Exception):
    """Base of every error a frame source raises on purpose."""


class SourceURIError(SourceError):
    """A ``--source`` URI that names no known kind of source or is malformed."""


class SourceUnavailableError(SourceError):
    """The SDK, library or device a source needs is not present on this machine."""


class RecordingFormatError(SourceError):
    """A recording file that cannot be read as the format it claims to be."""


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics in pixels (OpenCV convention: (0, 0) is the centre of the top-left pixel).

    ``distortion`` holds the lens coefficients, empty or all zeros for an
    undistorted image; ``distortion_model`` says how to read them: ``opencv``
    (k1, k2, p1, p2, k3[, k4, k5, k6], as the Azure Kinect calibration gives
    them) or ``realsense:<model>`` (a librealsense ``rs2_distortion`` such as
    ``inverse_brown_conrady``, whose coefficients mean something else). With
    non-zero coefficients :meth:`project` and :meth:`deproject` follow the lens:
    RealSense models through the SDK's own ``rs2_project_point_to_pixel`` /
    ``rs2_deproject_pixel_to_point``, OpenCV models through OpenCV.
    """

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float
    distortion: tuple[float, ...] = ()
    distortion_model: str = "opencv"

    @property
    def is_distorted(self) -> bool:
        return any(c != 0.0 for c in self.distortion)

    @classmethod
    def from_fov(cls, width: int, height: int, horizontal_fov_deg: float) -> CameraIntrinsics:
        """Nominal intrinsics for an uncalibrated camera (a webcam) from its field of view."""
        fx = (width / 2.0) / np.tan(np.deg2rad(horizontal_fov_deg) / 2.0)
        return cls(width, height, float(fx), float(fx), (width - 1) / 2.0, (height - 1) / 2.0)

    @property
    def matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.cx], [0, self.fy, self.cy], [0, 0, 1]], dtype=np.float64)

    def key(self) -> tuple[Any, ...]:
        """Hashable identity (for caching per-camera tables)."""
        return (
            self.width, self.height, self.fx, self.fy, self.cx, self.cy,
            self.distortion, self.distortion_model,
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "fx": self.fx,
            "fy": self.fy,
            "cx": self.cx,
            "cy": self.cy,
            "distortion": list(self.distortion),
            "distortion_model": self.distortion_model,
        }

    def project(self, points_m: np.ndarray) -> np.ndarray:
        """(..., 3) camera-frame metres → (..., 2) pixels, through the lens model if any."""
        p = np.asarray(points_m, dtype=np.float64)
        if self.is_distorted:
            return self._lens("project", p)
        z = np.where(p[..., 2] > 1e-6, p[..., 2], np.nan)
        return np.stack((self.fx * p[..., 0] / z + self.cx, self.fy * p[..., 1] / z + self.cy), -1)

    def deproject(self, xy_px: np.ndarray, depth_m: np.ndarray) -> np.ndarray:
        """(..., 2) pixels and (...) depth in metres → (..., 3) camera-frame metres."""
        xy = np.asarray(xy_px, dtype=np.float64)
        z = np.asarray(depth_m, dtype=np.float64)
        if self.is_distorted:
            return self._lens("deproject", xy, np.broadcast_to(z, xy.shape[:-1]))
        x = (xy[..., 0] - self.cx) / self.fx * z
        y = (xy[..., 1] - self.cy) / self.fy * z
        return np.stack((x, y, z), -1)

    def _lens(self, op: str, a: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """Projection through the lens: the SDK's for RealSense models, else OpenCV's."""
        shape = a.shape[:-1]
        flat = a.reshape(-1, a.shape[-1])
        if self.distortion_model.startswith("realsense:"):
            from capture_agent.sources.realsense import sdk_deproject, sdk_project

            if op == "project":
                out = sdk_project(self, flat)
            else:
                out = sdk_deproject(self, flat, np.asarray(z, dtype=np.float64).reshape(-1))
            return out.reshape(*shape, out.shape[-1])
        import cv2

        dist = np.asarray(self.distortion, dtype=np.float64)
        if op == "project":
            ok = flat[:, 2] > 1e-6
            out = np.full((len(flat), 2), np.nan)
            if ok.any():
                uv, _ = cv2.projectPoints(
                    flat[ok].reshape(-1, 1, 3), np.zeros(3), np.zeros(3), self.matrix, dist
                )
                out[ok] = uv.reshape(-1, 2)
            return out.reshape(*shape, 2)
        rays = cv2.undistortPoints(flat.reshape(-1, 1, 2), self.matrix, dist).reshape(-1, 2)
        zz = np.asarray(z, dtype=np.float64).reshape(-1)
        out = np.column_stack((rays[:, 0] * zz, rays[:, 1] * zz, zz))
        return out.reshape(*shape, 3)


@dataclass(frozen=True)
class Extrinsics:
    """Rigid transform from one camera's frame to another's: ``p_to = R @ p_from + t``."""

    rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    translation_m: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def apply(self, points_m: np.ndarray) -> np.ndarray:
        # written out per column: a (N, 3) @ (3, 3) product goes to BLAS, whose threads
        # fight over a busy 2-core machine (measured 0.5 s for 370k points, 15 ms this way)
        p = np.asarray(points_m, dtype=np.float64)
        r = np.asarray(self.rotation, dtype=np.float64)
        t = np.asarray(self.translation_m, dtype=np.float64)
        return np.stack(
            [
                p[..., 0] * r[i, 0] + p[..., 1] * r[i, 1] + p[..., 2] * r[i, 2] + t[i]
                for i in range(3)
            ],
            axis=-1,
        )

    def inverse(self) -> Extrinsics:
        """The transform the other way round: ``p_from = Rᵀ (p_to − t)``."""
        r = np.asarray(self.rotation, dtype=np.float64)
        return Extrinsics(r.T.copy(), -(r.T @ np.asarray(self.translation_m, dtype=np.float64)))

    def key(self) -> tuple[float, ...]:
        return tuple(np.asarray(self.rotation, float).reshape(9).tolist()) + tuple(
            np.asarray(self.translation_m, float).tolist()
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rotation": np.asarray(self.rotation, dtype=float).reshape(9).tolist(),
            "translation_m": np.asarray(self.translation_m, dtype=float).tolist(),
        }


@dataclass(frozen=True, eq=False)
class RGBDFrame:
    """One synchronised capture.

    ``colour_rgb`` (H, W, 3) uint8 RGB. ``depth`` uint16 in units of
    ``depth_scale_m`` metres (0 = no measurement), or None for a colour-only
    source: registered to the colour image (same H, W) when
    ``depth_registered``, else on the depth sensor's own pixel grid.
    ``depth_intrinsics`` and ``depth_to_colour`` describe the depth sensor as
    it is (before any registration) so the metadata records the device
    honestly and unregistered depth can be mapped. ``ground_truth_m`` is set
    only by the synthetic source: canonical joint centres in the colour camera
    frame, for measuring accuracy.
    """

    index: int
    timestamp_s: float
    colour_rgb: np.ndarray
    colour_intrinsics: CameraIntrinsics
    depth: np.ndarray | None = None
    depth_scale_m: float = 0.001
    depth_intrinsics: CameraIntrinsics | None = None
    depth_to_colour: Extrinsics | None = None
    ground_truth_m: np.ndarray | None = None
    depth_registered: bool = True

    def __post_init__(self) -> None:
        if self.depth is not None and not self.depth_registered:
            if self.depth_intrinsics is None or self.depth_to_colour is None:
                raise SourceError(
                    "unregistered depth needs its depth intrinsics and depth-to-colour extrinsics"
                )
            if self.depth.shape != (self.depth_intrinsics.height, self.depth_intrinsics.width):
                raise SourceError(
                    f"depth image {self.depth.shape} does not match its intrinsics "
                    f"{self.depth_intrinsics.width}x{self.depth_intrinsics.height}"
                )

    @property
    def has_depth(self) -> bool:
        return self.depth is not None

    def registered_depth(self) -> np.ndarray:
        """uint16 depth on the colour pixel grid, registering it here if the source did not."""
        if self.depth is None:
            raise SourceError("this frame has no depth (colour-only source)")
        if self.depth_registered:
            return self.depth
        register = _registration(
            self.depth_intrinsics.key(),
            self.colour_intrinsics.key(),
            self.depth_to_colour.key(),
        )
        return register(self.depth, self.depth_scale_m)

    def depth_m(self) -> np.ndarray:
        """Depth in metres as float32 on the colour grid, 0 where there is no measurement."""
        return self.registered_depth().astype(np.float32) * np.float32(self.depth_scale_m)


@functools.lru_cache(maxsize=4)
def _registration(depth_key: tuple, colour_key: tuple, extrinsics_key: tuple) -> Any:
    """One :class:`DepthRegistration` per camera (its ray table costs ~10 ms to build)."""
    from capture_agent.sources.registration import DepthRegistration

    e = np.asarray(extrinsics_key, dtype=np.float64)
    return DepthRegistration(
        CameraIntrinsics(*depth_key),
        CameraIntrinsics(*colour_key),
        Extrinsics(e[:9].reshape(3, 3), e[9:]),
    )


@dataclass(frozen=True)
class DeviceInfo:
    """One attached (or recorded) camera, as ``capture-agent devices`` lists it."""

    uri: str
    model: str
    serial: str = ""
    has_depth: bool = True
    note: str = ""


class FrameSource(abc.ABC):
    """open() → read()… → close(); also a context manager and an iterator of frames.

    ``read`` returns None at the end of a recording; live sources block until the
    next frame arrives and raise :class:`SourceError` when the device is lost.
    """

    uri: str = ""
    device_model: str = "unknown"
    nominal_fps: float = 30.0

    @abc.abstractmethod
    def open(self) -> None: ...

    @abc.abstractmethod
    def read(self) -> RGBDFrame | None: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    @property
    def is_live(self) -> bool:
        return False

    def metadata(self) -> dict[str, Any]:
        """What the SkeletonSequence records about the capture device."""
        return {"device": self.device_model, "source_uri": self.uri}

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[RGBDFrame]:
        while True:
            frame = self.read()
            if frame is None:
                return
            yield frame
