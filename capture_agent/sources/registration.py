"""Register a depth image to the colour camera's pixel grid (where no SDK does it for us).

Used for Azure Kinect recordings played without libk4a: every depth pixel is
turned into a 3D point (through the depth lens model, undistorted once per
calibration and cached), moved into the colour camera by the extrinsics,
projected through the colour lens model, and written with a z-buffer so the
nearest surface wins. Each point is splatted to a 2×2 block, because a depth
pixel covers more than one colour pixel and single-pixel splats leave holes.
"""

from __future__ import annotations

import cv2
import numpy as np

from capture_agent.sources.base import CameraIntrinsics, Extrinsics


class DepthRegistration:
    def __init__(
        self, depth: CameraIntrinsics, colour: CameraIntrinsics, depth_to_colour: Extrinsics
    ) -> None:
        self.depth, self.colour, self.extrinsics = depth, colour, depth_to_colour
        u, v = np.meshgrid(np.arange(depth.width), np.arange(depth.height))
        pix = np.stack((u, v), -1).reshape(-1, 1, 2).astype(np.float64)
        dist = np.asarray(depth.distortion or (), dtype=np.float64)
        if np.any(dist) and depth.distortion_model != "opencv":
            rays = depth.deproject(pix.reshape(-1, 2), np.ones(len(pix)))[:, :2]
        elif np.any(dist):
            rays = cv2.undistortPoints(pix, depth.matrix, dist).reshape(-1, 2)
        else:
            rays = np.column_stack(
                ((pix[:, 0, 0] - depth.cx) / depth.fx, (pix[:, 0, 1] - depth.cy) / depth.fy)
            )
        self._rays = np.column_stack((rays, np.ones(len(rays))))  # (N, 3) at z = 1
        c_dist = np.asarray(colour.distortion or (), dtype=np.float64)
        # OpenCV lenses (Azure Kinect) vectorised here; other models (RealSense's own,
        # called point by point through the SDK) go through CameraIntrinsics.project
        self._c_dist = (
            c_dist if np.any(c_dist) and colour.distortion_model == "opencv" else np.zeros(0)
        )

    def __call__(self, depth_units: np.ndarray, depth_scale_m: float) -> np.ndarray:
        """uint16 depth in the depth camera → uint16 depth (same units) in the colour grid."""
        z = depth_units.reshape(-1).astype(np.float64) * depth_scale_m
        keep = z > 0
        pts = self._rays[keep] * z[keep, None]
        pts = self.extrinsics.apply(pts)
        front = pts[:, 2] > 0.05
        pts = pts[front]
        if self._c_dist.size:
            uv, _ = cv2.projectPoints(
                pts.reshape(-1, 1, 3), np.zeros(3), np.zeros(3), self.colour.matrix, self._c_dist
            )
            uv = uv.reshape(-1, 2)
        else:
            uv = self.colour.project(pts)
        zc = np.round(pts[:, 2] / depth_scale_m).clip(1, 65534).astype(np.uint16)
        w, h = self.colour.width, self.colour.height
        out = np.full(h * w, 65535, np.uint16)
        uu = np.floor(uv[:, 0]).astype(np.int64)
        vv = np.floor(uv[:, 1]).astype(np.int64)
        for du in (0, 1):
            for dv in (0, 1):
                x, y = uu + du, vv + dv
                ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
                np.minimum.at(out, y[ok] * w + x[ok], zc[ok])  # z-buffer: nearest wins
        out = out.reshape(h, w)
        out[out == 65535] = 0
        return out
