"""Depth and colour noise of a consumer stereo depth camera (RealSense D400-like).

Model (documented so the accuracy figures can be read against it):

* **Depth RMS error grows with the square of distance** — Intel's stereo
  formula ``σ_z = z² · subpixel / (f_px · baseline)`` (Intel, "Tuning depth
  cameras for best performance", 2019), with D435 values baseline 50 mm,
  subpixel 0.08 and the depth imager's focal length (87° horizontal field of
  view at 848 px → ~430 px; scaled to the rendered width). σ is about 13 mm at
  1.5 m, 37 mm at 2.5 m and 73 mm at 3.5 m.
* Half the variance is per-pixel, half spatially correlated (white noise
  blurred over ~3 px), as stereo block matching correlates neighbouring pixels.
* **Holes**: pixels on a depth discontinuity (silhouette edges) are dropped with
  probability ``edge_dropout``; a small fraction ``random_dropout`` anywhere;
  nothing beyond ``max_range_m``. Dropped pixels read 0, as the SDK reports them.
* Depth is quantised to the 1 mm depth unit (uint16).
* Colour: Gaussian sensor noise of σ = 2.5 levels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class DepthNoiseModel:
    baseline_m: float = 0.050
    subpixel: float = 0.08
    depth_hfov_deg: float = 87.0
    edge_dropout: float = 0.5
    random_dropout: float = 0.01
    max_range_m: float = 6.0
    depth_unit_m: float = 0.001
    colour_sigma: float = 2.5

    def focal_px(self, width: int) -> float:
        return (width / 2.0) / np.tan(np.deg2rad(self.depth_hfov_deg) / 2.0)

    def sigma_m(self, depth_m: np.ndarray | float, width: int) -> np.ndarray:
        """RMS depth error in metres at a given depth (the z² law)."""
        z = np.asarray(depth_m, dtype=np.float64)
        return z * z * self.subpixel / (self.focal_px(width) * self.baseline_m)

    def apply_depth(self, depth_m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Ideal depth (metres, inf = nothing) → uint16 depth units with noise and holes."""
        h, w = depth_m.shape
        valid = np.isfinite(depth_m) & (depth_m < self.max_range_m) & (depth_m > 0.1)
        z = np.where(valid, depth_m, 0.0)
        sigma = self.sigma_m(z, w)
        white = rng.standard_normal((h, w))
        corr = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.5)
        corr *= 1.0 / max(float(corr.std()), 1e-6)
        noisy = z + sigma * (np.sqrt(0.5) * white + np.sqrt(0.5) * corr)
        # silhouette edges: a jump of more than 10 cm to a 4-neighbour
        zz = np.where(valid, depth_m, 1e3)
        jump = np.zeros((h, w), bool)
        jump[:, 1:] |= np.abs(np.diff(zz, axis=1)) > 0.1
        jump[:, :-1] |= np.abs(np.diff(zz, axis=1)) > 0.1
        jump[1:, :] |= np.abs(np.diff(zz, axis=0)) > 0.1
        jump[:-1, :] |= np.abs(np.diff(zz, axis=0)) > 0.1
        drop = (jump & (rng.random((h, w)) < self.edge_dropout)) | (
            rng.random((h, w)) < self.random_dropout
        )
        keep = valid & ~drop & (noisy > 0)
        units = np.where(keep, np.round(noisy / self.depth_unit_m), 0)
        return np.clip(units, 0, 65535).astype(np.uint16)

    def apply_colour(self, colour_rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        noisy = colour_rgb.astype(np.float32) + rng.normal(0.0, self.colour_sigma, colour_rgb.shape)
        return np.clip(noisy, 0, 255).astype(np.uint8)
