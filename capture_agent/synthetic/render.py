"""Ray-cast a capsule-and-sphere body into a depth image and a shaded colour image.

Why capsules: the synthetic patient exists to test *depth fusion*, whose hard
parts are geometric — the camera sees the skin, not the joint centre; limbs
occlude each other; pixels at a silhouette edge belong to the background. A
body of capsules around the real joint centres has exactly those properties
and can be ray-cast exactly, so the depth image is known to the millimetre
before noise is added.

Radii are adult anthropometric half-thicknesses (rounded from the NASA
Anthropometric Source Book, 1978, vol. II: e.g. thigh ~150 mm tapering to ~110 mm
above the knee, calf ~100 mm tapering to ~75 mm, upper arm ~90 mm, forearm ~75 mm
across), documented here because depth
fusion's skin-to-centre correction uses independent values (see
``capture_agent.fusion.surface``) and the accuracy report must say so.

Rays go through pixel centres of a pinhole camera: pixel (u, v) looks along
``((u - cx) / fx, (v - cy) / fy, 1)``, so the ray parameter *is* the depth z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.skeleton import JOINT_INDEX
from capture_agent.sources.base import CameraIntrinsics

SKIN_RGB = (224, 172, 140)
SHIRT_RGB = (40, 90, 170)
TROUSERS_RGB = (50, 50, 60)
SHOE_RGB = (230, 230, 230)
HAIR_RGB = (60, 40, 30)
WALL_RGB = (200, 196, 186)
FLOOR_RGB = (150, 120, 90)


@dataclass(frozen=True)
class Capsule:
    a: str
    b: str
    radius_m: float
    rgb: tuple[int, int, int]


#: The body: (joint, joint, radius, colour). "neck" is synthesised between chest and head.
BODY: tuple[Capsule, ...] = (
    Capsule("pelvis", "spine_chest", 0.11, SHIRT_RGB),
    Capsule("left_hip", "left_flank", 0.085, SHIRT_RGB),
    Capsule("right_hip", "right_flank", 0.085, SHIRT_RGB),
    Capsule("left_shoulder", "right_shoulder", 0.06, SHIRT_RGB),
    Capsule("left_hip", "right_hip", 0.085, TROUSERS_RGB),
    Capsule("spine_chest", "neck", 0.05, SKIN_RGB),
    Capsule("head", "head", 0.10, SKIN_RGB),
    *(
        c
        for s in ("left", "right")
        for c in (
            Capsule(f"{s}_shoulder", f"{s}_elbow", 0.045, SHIRT_RGB),
            Capsule(f"{s}_elbow", f"{s}_wrist", 0.037, SKIN_RGB),
            Capsule(f"{s}_wrist", f"{s}_hand", 0.03, SKIN_RGB),
            Capsule(f"{s}_hip", f"{s}_thigh", 0.075, TROUSERS_RGB),
            Capsule(f"{s}_thigh", f"{s}_knee", 0.055, TROUSERS_RGB),
            Capsule(f"{s}_knee", f"{s}_calf", 0.05, TROUSERS_RGB),
            Capsule(f"{s}_calf", f"{s}_ankle", 0.038, TROUSERS_RGB),
            Capsule(f"{s}_heel", f"{s}_toe", 0.04, SHOE_RGB),
            Capsule(f"{s}_ankle", f"{s}_heel", 0.04, SHOE_RGB),
        )
    ),
)

#: Direction from a surface towards the light, camera frame: above (−y) and in front (−z).
#: A face, so that a 2D model can tell the front of the body from the back (without it
#: BlazePose flips left and right from frame to frame on a featureless capsule figure).
FACE: tuple[Capsule, ...] = (
    Capsule("left_eye", "left_eye", 0.014, (30, 30, 40)),
    Capsule("right_eye", "right_eye", 0.014, (30, 30, 40)),
    Capsule("nose_tip", "nose_tip", 0.016, (205, 150, 120)),
    Capsule("mouth_left", "mouth_right", 0.009, (150, 40, 40)),
)

_LIGHT = np.array([0.3, -0.7, -1.0]) / np.linalg.norm([0.3, -0.7, -1.0])


def body_points(joints_m: np.ndarray) -> dict[str, np.ndarray]:
    """Canonical joints (24, 3) → the named points the capsules use (adds neck and taper points)."""
    pts = {name: joints_m[i] for name, i in JOINT_INDEX.items()}
    pts["neck"] = pts["spine_chest"] + 0.45 * (pts["head"] - pts["spine_chest"])
    for side in ("left", "right"):  # limbs taper: split thigh, shank and flank
        hip, knee, ankle = pts[f"{side}_hip"], pts[f"{side}_knee"], pts[f"{side}_ankle"]
        pts[f"{side}_thigh"] = hip + 0.55 * (knee - hip)
        pts[f"{side}_calf"] = knee + 0.5 * (ankle - knee)
        pts[f"{side}_flank"] = hip + 0.8 * (pts[f"{side}_shoulder"] - hip)
    left = _unit(pts["left_shoulder"] - pts["right_shoulder"])
    up = _unit(pts["spine_chest"] - pts["pelvis"])
    forward = _unit(np.cross(left, up))  # the body's anterior direction
    head = pts["head"]
    for side, sign in (("left", 1.0), ("right", -1.0)):
        pts[f"{side}_eye"] = head + 0.093 * forward + 0.035 * sign * left + 0.02 * up
        pts[f"mouth_{side}"] = head + 0.092 * forward + 0.022 * sign * left - 0.04 * up
    pts["nose_tip"] = head + 0.1 * forward - 0.01 * up
    return pts


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else v


def _pixel_rays(intr: CameraIntrinsics, x0: int, x1: int, y0: int, y1: int) -> np.ndarray:
    u, v = np.meshgrid(np.arange(x0, x1), np.arange(y0, y1))
    return np.stack(
        ((u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones_like(u, dtype=float)), -1
    )


def _ray_sphere(d: np.ndarray, c: np.ndarray, r: float) -> np.ndarray:
    a = np.einsum("...i,...i", d, d)
    b = d @ c
    h = b * b - a * (c @ c - r * r)
    t = (b - np.sqrt(np.maximum(h, 0.0))) / a
    return np.where((h >= 0) & (t > 0), t, np.inf)


def _ray_capsule(d: np.ndarray, pa: np.ndarray, pb: np.ndarray, r: float) -> np.ndarray:
    """Nearest positive ray parameter (= depth) hitting the capsule, inf where none."""
    t_best = np.minimum(_ray_sphere(d, pa, r), _ray_sphere(d, pb, r))
    ba = pb - pa
    baba = float(ba @ ba)
    if baba < 1e-12:
        return t_best
    oa = -pa  # ray origin is the camera centre
    dd = np.einsum("...i,...i", d, d)
    bard = d @ ba
    baoa = float(ba @ oa)
    rdoa = d @ oa
    oaoa = float(oa @ oa)
    qa = baba * dd - bard * bard
    qb = baba * rdoa - baoa * bard
    qc = baba * oaoa - baoa * baoa - r * r * baba
    h = qb * qb - qa * qc
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (-qb - np.sqrt(np.maximum(h, 0.0))) / qa
        y = baoa + t * bard
    ok = (h >= 0) & (qa > 1e-12) & (t > 0) & (y > 0) & (y < baba)
    return np.minimum(t_best, np.where(ok, t, np.inf))


def render_body(
    joints_m: np.ndarray,
    intr: CameraIntrinsics,
    *,
    depth_m: np.ndarray,
    colour_rgb: np.ndarray | None = None,
) -> None:
    """Draw the body into a depth buffer (metres, inf = empty) and optional colour, in place."""
    pts = body_points(np.asarray(joints_m, dtype=np.float64))
    for cap in (*BODY, *FACE):
        pa, pb = pts[cap.a], pts[cap.b]
        if min(pa[2], pb[2]) - cap.radius_m <= 0.05:
            continue  # behind or touching the camera
        ends = np.array([pa, pb])
        uv = intr.project(ends)
        z_near = min(pa[2], pb[2]) - cap.radius_m
        rad_px = cap.radius_m * max(intr.fx, intr.fy) / z_near + 2
        x0 = int(max(0, np.floor(uv[:, 0].min() - rad_px)))
        x1 = int(min(intr.width, np.ceil(uv[:, 0].max() + rad_px) + 1))
        y0 = int(max(0, np.floor(uv[:, 1].min() - rad_px)))
        y1 = int(min(intr.height, np.ceil(uv[:, 1].max() + rad_px) + 1))
        if x1 <= x0 or y1 <= y0:
            continue
        rays = _pixel_rays(intr, x0, x1, y0, y1)
        t = _ray_capsule(rays, pa, pb, cap.radius_m)
        window = depth_m[y0:y1, x0:x1]
        closer = t < window
        if not closer.any():
            continue
        window[closer] = t[closer]
        if colour_rgb is None:
            continue
        hit = rays[closer] * t[closer][:, None]
        ba = pb - pa
        baba = max(float(ba @ ba), 1e-12)
        s = np.clip((hit - pa) @ ba / baba, 0.0, 1.0)
        normal = hit - (pa + s[:, None] * ba)
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
        shade = 0.3 + 0.7 * np.clip(normal @ _LIGHT, 0.0, 1.0)
        rgb = np.asarray(cap.rgb, dtype=np.float64)
        if cap.a == "head":  # hair on the top/back half of the head
            up = -normal[:, 1] > 0.35
            rgb = np.where(up[:, None], np.asarray(HAIR_RGB, float), rgb)
        colour_window = colour_rgb[y0:y1, x0:x1]
        colour_window[closer] = np.clip(rgb * shade[:, None], 0, 255).astype(np.uint8)


def render_room(
    intr: CameraIntrinsics,
    *,
    floor_height_m: float,
    wall_distance_m: float,
    camera_down: np.ndarray,
    camera_forward: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Static background: a floor plane and a back wall, depth (metres) and colour.

    ``floor_height_m`` is the camera's height above the floor; ``camera_down``
    and ``camera_forward`` are the world's down and horizontal-forward
    directions expressed in the camera frame (they differ from y/z when the
    camera is pitched).
    """
    rays = _pixel_rays(intr, 0, intr.width, 0, intr.height)
    down = rays @ camera_down
    fwd = rays @ camera_forward
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(down > 1e-6, floor_height_m / down, np.inf)
        t_wall = np.where(fwd > 1e-6, wall_distance_m / fwd, np.inf)
    depth = np.minimum(t_floor, t_wall).astype(np.float64)
    colour = np.empty((intr.height, intr.width, 3), np.uint8)
    on_floor = t_floor <= t_wall
    colour[...] = np.asarray(WALL_RGB, np.uint8)
    colour[on_floor] = np.asarray(FLOOR_RGB, np.uint8)
    # a little texture so the scene is not a flat field (edges for the 2D model)
    shade = (0.9 + 0.1 * np.cos(rays[..., 0] * 9.0))[..., None]
    colour = np.clip(colour * shade, 0, 255).astype(np.uint8)
    return depth, colour
