"""Depth fusion: 2D keypoints + registered depth + lifted 3D → one camera-frame skeleton.

Per frame:

1. **Measure**: each confident keypoint is deprojected through a robust depth
   sample (:mod:`.depth_sample`) and pushed from the skin to the joint centre
   (:mod:`.surface`); the result is mapped to canonical joints.
2. **Place the lifted skeleton**: the lifter's root-relative joints are scaled
   and translated (no rotation: the lifter works in camera-aligned axes) to
   best match the reliable depth joints, with the worst outliers dropped — a
   joint occluded by furniture reads the furniture's depth and must not drag
   the fit. With no depth at all (a webcam), the translation is solved from
   the 2D keypoints by reprojection instead, at the lifter's own scale.
3. **Choose per joint**: depth where it is valid *and* plausible (within
   ``max_residual_m`` of the placed lifted joint: lifters are poor in depth, so
   the gate is wide and catches occluders, not noise), otherwise the placed lifted
   joint — kept on its 2D keypoint's ray when the keypoint was seen. Each joint's :class:`~analysis.skeleton.JointSource` and confidence
   say which, so the analysis weighs them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from analysis.adapters import to_canonical
from analysis.skeleton import CANONICAL_JOINTS, JOINT_INDEX, JointSource
from capture_agent.fusion.depth_sample import (
    colour_to_depth_pixels,
    robust_depth_m,
    window_radius_px,
)
from capture_agent.fusion.surface import push_to_centre, surface_offsets_m
from capture_agent.interfaces import BLAZEPOSE_33, BLAZEPOSE_INDEX, Keypoints2D
from capture_agent.sources.base import CameraIntrinsics, RGBDFrame

N_JOINTS = len(CANONICAL_JOINTS)
_TORSO_KP = [
    BLAZEPOSE_INDEX[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
]


@dataclass(frozen=True)
class FusedFrame:
    """Canonical (J, 3) metres, (J,) confidence and (J,) JointSource codes for one frame."""

    positions_m: np.ndarray
    confidence: np.ndarray
    source: np.ndarray

    @classmethod
    def missing(cls) -> FusedFrame:
        return cls(
            np.zeros((N_JOINTS, 3)),
            np.zeros(N_JOINTS, np.float32),
            np.full(N_JOINTS, JointSource.MISSING, np.uint8),
        )


@functools.cache
def _blazepose_map() -> tuple[np.ndarray, np.ndarray]:
    """The analysis adapter's BlazePose→canonical map as an averaging matrix and a parts mask.

    Derived once from ``analysis.adapters.to_canonical`` itself (one-hot inputs),
    so the per-frame fast path cannot drift from the adapter's definitions.
    """
    k = len(BLAZEPOSE_33)
    eye = np.zeros((k, k, 3))
    eye[np.arange(k), np.arange(k), 0] = 1.0
    seq = to_canonical("blazepose33", eye, np.arange(k, dtype=float))
    weights = seq.positions_m[:, :, 0].T.astype(np.float64)  # (J, K)
    return weights, weights > 0


def blazepose_to_canonical(
    points: np.ndarray, confidence: np.ndarray, source: JointSource | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One frame of BlazePose-33 points → canonical (J, 3), (J,), (J,), as analysis' adapter does.

    A canonical joint averages its BlazePose parts, takes their lowest
    confidence, and is MISSING (position 0) when that confidence is 0.
    """
    weights, parts = _blazepose_map()
    pts = np.where(np.isfinite(points), points, 0.0)
    conf = np.clip(np.asarray(confidence, dtype=np.float32), 0.0, 1.0)
    pos = np.einsum("jk,kd->jd", weights, pts)  # not @: BLAS threads stall a busy machine
    c = np.where(parts, conf[None, :], np.inf).min(axis=1)
    c = np.where(np.isfinite(c), c, 0.0).astype(np.float32)
    src_dev = np.broadcast_to(np.asarray(source, dtype=np.uint8), conf.shape)
    src = np.where(parts, src_dev[None, :], 0).max(axis=1).astype(np.uint8)
    missing = (c <= 0) | ~parts.any(axis=1)
    src[missing] = JointSource.MISSING
    pos[missing] = 0.0
    c[missing] = 0.0
    return pos, c, src


def fit_scale_translation(
    model_m: np.ndarray, target_m: np.ndarray, weight: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted least squares for ``s·model + t ≈ target`` (closed form)."""
    w = weight / weight.sum()
    mu_m = w @ model_m
    mu_t = w @ target_m
    a = model_m - mu_m
    b = target_m - mu_t
    denom = float(w @ np.sum(a * a, axis=1))
    s = float(w @ np.sum(a * b, axis=1)) / denom if denom > 1e-9 else 1.0
    return s, mu_t - s * mu_m


def translation_from_reprojection(
    model_m: np.ndarray, xy_px: np.ndarray, weight: np.ndarray, intr: CameraIntrinsics
) -> np.ndarray | None:
    """Translation t placing root-relative joints so they project onto the keypoints.

    Linear in t: (u − cx)(Z + tz) = fx (X + tx) and likewise for v.
    """
    x_n = (xy_px[:, 0] - intr.cx) / intr.fx
    y_n = (xy_px[:, 1] - intr.cy) / intr.fy
    rows, rhs, ws = [], [], []
    for k in range(model_m.shape[0]):
        X, Y, Z = model_m[k]
        rows += [[1.0, 0.0, -x_n[k]], [0.0, 1.0, -y_n[k]]]
        rhs += [x_n[k] * Z - X, y_n[k] * Z - Y]
        ws += [weight[k], weight[k]]
    sw = np.sqrt(np.asarray(ws))
    a = np.asarray(rows) * sw[:, None]
    b = np.asarray(rhs) * sw
    t, *_ = np.linalg.lstsq(a, b, rcond=None)
    return t if t[2] > 0.3 else None


class DepthFusion:
    """Stateful per session (remembers each joint's last depth to gate the next reading)."""

    def __init__(
        self,
        *,
        min_keypoint_confidence: float = 0.5,
        window_m: float = 0.05,
        body_gate_m: float = 0.9,
        max_residual_m: float = 0.3,
        lifted_confidence: float = 0.6,
        scale_range: tuple[float, float] = (0.7, 1.4),
    ) -> None:
        self.min_keypoint_confidence = min_keypoint_confidence
        self.window_m = window_m
        self.body_gate_m = body_gate_m
        self.max_residual_m = max_residual_m
        self.lifted_confidence = lifted_confidence
        self.scale_range = scale_range
        self._offsets = surface_offsets_m(BLAZEPOSE_33)
        self.reset()

    def reset(self) -> None:
        """Forget the last body distance (the first guess for mapping unregistered depth)."""
        self._last_body_z: float | None = None

    # -- step 1 -------------------------------------------------------------------------
    def measure(
        self, keypoints: Keypoints2D, frame: RGBDFrame
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Canonical joints from depth alone: (J, 3), (J,) confidence, (J,) source.

        Registered depth is read under each keypoint; unregistered depth (a
        RealSense without ``rs.align``) is read where each keypoint lands in
        the depth image, mapped by :func:`colour_to_depth_pixels` — 33 pixels
        instead of the 307,200 that aligning the whole frame moves.
        """
        intr = frame.colour_intrinsics
        conf = np.where(
            keypoints.confidence >= self.min_keypoint_confidence, keypoints.confidence, 0
        )
        kp_xy = np.asarray(keypoints.xy_px, dtype=np.float64)
        if frame.depth_registered:
            depth, grid = frame.depth_m(), intr
            to_grid = None
        else:
            depth = frame.depth.astype(np.float32) * np.float32(frame.depth_scale_m)
            grid = frame.depth_intrinsics
            to_grid = frame.depth_to_colour.inverse()

        def on_grid(z_m: np.ndarray | float) -> np.ndarray:
            return (
                kp_xy
                if to_grid is None
                else colour_to_depth_pixels(kp_xy, z_m, intr, grid, to_grid)
            )

        body_z = self._body_depth(depth, on_grid(self._last_body_z or 2.5), conf)
        if body_z is None:
            nothing = np.zeros(len(BLAZEPOSE_33))
            return blazepose_to_canonical(
                np.zeros((len(BLAZEPOSE_33), 3)), nothing, JointSource.DEPTH
            )
        self._last_body_z = body_z
        radius = window_radius_px(max(grid.fx, grid.fy), body_z, self.window_m)
        band = max(0.06, 4.0 * 0.0022 * body_z * body_z)  # ~4 σ of D400-class noise
        gate = (max(0.2, body_z - self.body_gate_m), body_z + self.body_gate_m)
        sample_xy = on_grid(body_z)
        z, _support = robust_depth_m(depth, sample_xy, radius_px=radius, gate_m=gate, band_m=band)
        if to_grid is not None:
            z = self._colour_depth(sample_xy, z, grid, frame)
            # parallax: re-map with each keypoint's own distance and read again where it moved
            ok = np.isfinite(z)
            again = on_grid(np.where(ok, z, body_z))
            moved = ok & (np.linalg.norm(again - sample_xy, axis=1) > 0.5)
            if moved.any():
                z2, _ = robust_depth_m(
                    depth, again[moved], radius_px=radius, gate_m=gate, band_m=band
                )
                z[moved] = self._colour_depth(again[moved], z2, grid, frame)
        valid = np.isfinite(z) & (conf > 0)
        surface = intr.deproject(kp_xy, np.where(valid, z, 1.0))
        centres = push_to_centre(surface, self._offsets)
        return blazepose_to_canonical(centres, np.where(valid, conf, 0.0), JointSource.DEPTH)

    @staticmethod
    def _colour_depth(
        xy_depth_px: np.ndarray, z_depth_m: np.ndarray, grid: CameraIntrinsics, frame: RGBDFrame
    ) -> np.ndarray:
        """Depth-camera readings → their distance along the colour camera's axis."""
        ok = np.isfinite(z_depth_m)
        out = np.full(len(z_depth_m), np.nan)
        if ok.any():
            pts = frame.depth_to_colour.apply(grid.deproject(xy_depth_px[ok], z_depth_m[ok]))
            out[ok] = pts[:, 2]
        return out

    def _body_depth(
        self, depth_m: np.ndarray, torso_xy_px: np.ndarray, conf: np.ndarray
    ) -> float | None:
        """Where the body is: the median of plain depth around the torso keypoints."""
        h, w = depth_m.shape
        torso: list[float] = []
        for k in _TORSO_KP:
            x, y = torso_xy_px[k]
            if conf[k] > 0 and 0 <= x < w and 0 <= y < h:
                patch = depth_m[max(0, int(y) - 3) : int(y) + 4, max(0, int(x) - 3) : int(x) + 4]
                torso.extend(patch[patch > 0].tolist())
        return float(np.median(torso)) if torso else None

    # -- steps 2 and 3 ------------------------------------------------------------------
    def fuse(
        self,
        keypoints: Keypoints2D,
        frame: RGBDFrame,
        lifted_m: np.ndarray | None,
        lifted_present: np.ndarray | None = None,
    ) -> FusedFrame:
        """One frame. ``lifted_m`` (J, 3) canonical root-relative metres, or None."""
        if not keypoints.found:
            return FusedFrame.missing()
        if frame.has_depth:
            d_pos, d_conf, d_src = self.measure(keypoints, frame)
        else:
            d_pos = np.zeros((N_JOINTS, 3))
            d_conf = np.zeros(N_JOINTS, np.float32)
            d_src = np.full(N_JOINTS, JointSource.MISSING, np.uint8)
        d_ok = d_src != JointSource.MISSING
        if lifted_m is None:
            return FusedFrame(np.where(d_ok[:, None], d_pos, 0.0), d_conf, d_src)
        present = (
            np.ones(N_JOINTS, bool) if lifted_present is None else np.asarray(lifted_present, bool)
        )
        present &= np.all(np.isfinite(lifted_m), axis=1)
        placed = self.place_lifted(keypoints, frame, lifted_m, present, d_pos, d_conf, d_ok)
        if placed is None:
            return FusedFrame(np.where(d_ok[:, None], d_pos, 0.0), d_conf, d_src)
        residual = np.linalg.norm(d_pos - placed, axis=1)
        use_depth = d_ok & (~present | (residual <= self.max_residual_m))
        use_lift = ~use_depth & present
        placed = self._keep_2d_evidence(keypoints, frame, placed, use_lift)
        pos = np.where(use_depth[:, None], d_pos, np.where(use_lift[:, None], placed, 0.0))
        kp_conf = self._keypoint_confidence(keypoints)
        conf = np.where(
            use_depth, d_conf, np.where(use_lift, self.lifted_confidence * kp_conf, 0.0)
        ).astype(np.float32)
        src = np.where(
            use_depth,
            JointSource.DEPTH,
            np.where(use_lift, JointSource.LIFTED, JointSource.MISSING),
        ).astype(np.uint8)
        src[conf <= 0] = JointSource.MISSING
        pos[conf <= 0] = 0.0
        return FusedFrame(pos, conf, src)

    def _keep_2d_evidence(
        self, keypoints: Keypoints2D, frame: RGBDFrame, placed: np.ndarray, lifted_rows: np.ndarray
    ) -> np.ndarray:
        """Lifted joints seen in 2D: keep the keypoint's ray, take only the depth from the lifter.

        A monocular lifter is good at image-plane shape and poor at depth; the
        2D keypoint is the better evidence for where the joint is across the
        image, so the joint goes on the keypoint's ray at the lifted distance.
        """
        uv, conf, src = blazepose_to_canonical(
            np.column_stack((keypoints.xy_px, np.zeros(len(BLAZEPOSE_33)))),
            np.where(keypoints.confidence >= self.min_keypoint_confidence, keypoints.confidence, 0),
            JointSource.LIFTED,
        )
        seen = lifted_rows & (src != JointSource.MISSING) & (placed[:, 2] > 0.3)
        out = placed.copy()
        if seen.any():
            ray = frame.colour_intrinsics.deproject(uv[seen, :2], np.ones(int(seen.sum())))
            out[seen] = ray * placed[seen, 2:3]
        return out

    def _keypoint_confidence(self, keypoints: Keypoints2D) -> np.ndarray:
        """Canonical-joint 2D confidence, with a floor: a lifted joint is inferred even if unseen."""
        _, c, _ = blazepose_to_canonical(
            np.zeros((len(BLAZEPOSE_33), 3)), keypoints.confidence, JointSource.LIFTED
        )
        return np.clip(np.maximum(c, 0.3 * keypoints.person_score), 0.0, 1.0)

    def place_lifted(
        self,
        keypoints: Keypoints2D,
        frame: RGBDFrame,
        lifted_m: np.ndarray,
        present: np.ndarray,
        d_pos: np.ndarray,
        d_conf: np.ndarray,
        d_ok: np.ndarray,
    ) -> np.ndarray | None:
        """The lifted skeleton in the camera frame, or None if it cannot be placed."""
        both = d_ok & present
        if np.count_nonzero(both) >= 3:
            idx = np.flatnonzero(both)
            for _ in range(3):  # drop the worst outliers (occluded joints) and refit
                s, t = fit_scale_translation(lifted_m[idx], d_pos[idx], d_conf[idx] + 1e-3)
                s = float(np.clip(s, *self.scale_range))
                res = np.linalg.norm(s * lifted_m[idx] + t - d_pos[idx], axis=1)
                worst = int(np.argmax(res))
                if res[worst] <= self.max_residual_m or idx.size <= 4:
                    break
                idx = np.delete(idx, worst)
            return s * lifted_m + t
        # no usable depth: place by reprojection of the 2D keypoints (webcam path)
        kp_pos, kp_conf, kp_src = blazepose_to_canonical(
            np.column_stack((keypoints.xy_px, np.zeros(len(BLAZEPOSE_33)))),
            np.where(keypoints.confidence >= self.min_keypoint_confidence, keypoints.confidence, 0),
            JointSource.LIFTED,
        )
        ok = present & (kp_src != JointSource.MISSING)
        if np.count_nonzero(ok) < 3:
            return None
        t = translation_from_reprojection(
            lifted_m[ok], kp_pos[ok, :2], kp_conf[ok], frame.colour_intrinsics
        )
        return None if t is None else lifted_m + t


def canonical_index(names: tuple[str, ...]) -> np.ndarray:
    """Canonical row of each name (for scattering a lifter's output into J rows)."""
    return np.array([JOINT_INDEX[n] for n in names])
