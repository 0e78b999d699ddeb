"""Is the camera placed so that a session will measure well? Plain-words advice.

Placement is where home users of camera-based rehab struggle most, and a
badly placed camera produces numbers that look fine and are wrong. So before
recording, ``capture-agent check`` looks at a few seconds of frames and
checks what the measurement depends on: the whole body in view, a distance
where depth noise is small but the body still fits, enough light for the 2D
model, and depth actually covering the body. Each failed check says what to
do, in words a patient understands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from capture_agent.interfaces import BLAZEPOSE_INDEX, Keypoints2D
from capture_agent.sources.base import RGBDFrame

#: Distances where D400/K4A depth noise keeps angle errors small yet an adult fits in view.
DISTANCE_RANGE_M = (1.8, 3.5)
MIN_BRIGHTNESS, MAX_BRIGHTNESS = 60.0, 200.0
MIN_DEPTH_COVERAGE = 0.7
_EXTREMES = (
    "nose",
    "left_wrist",
    "right_wrist",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
)


@dataclass
class PlacementReport:
    ok: bool = True
    findings: dict[str, float | None] = field(default_factory=dict)
    advice: list[str] = field(default_factory=list)

    def fail(self, advice: str) -> None:
        self.ok = False
        self.advice.append(advice)


def assess_placement(frames: list[RGBDFrame], keypoints: list[Keypoints2D]) -> PlacementReport:
    """Judge placement from a few seconds of frames and their 2D keypoints."""
    rep = PlacementReport()
    if not frames:
        rep.fail("The camera sent no pictures. Check that it is plugged in and try again.")
        return rep
    found = [k for k in keypoints if k.found]
    rep.findings["person_seen_fraction"] = len(found) / len(keypoints) if keypoints else 0.0
    luma = np.mean([f.colour_rgb.mean() for f in frames])
    rep.findings["brightness"] = float(luma)
    if luma < MIN_BRIGHTNESS:
        rep.fail("The room is too dark. Turn on a light or open the curtains.")
    elif luma > MAX_BRIGHTNESS:
        rep.fail("The picture is too bright. Avoid standing in front of a window or bright lamp.")
    if len(found) < 0.8 * len(keypoints):
        rep.fail(
            "The camera cannot see you clearly. Stand in front of it, facing it, "
            "with nothing between you and the camera."
        )
        return rep
    h, w = frames[0].colour_rgb.shape[:2]
    margin = 0.02
    cut = set()
    for kp in found:
        for name in _EXTREMES:
            i = BLAZEPOSE_INDEX[name]
            x, y = kp.xy_px[i]
            if (
                kp.confidence[i] < 0.5
                or not (margin * w <= x <= (1 - margin) * w)
                or not (margin * h <= y <= (1 - margin) * h)
            ):
                cut.add(name)
    rep.findings["parts_out_of_view"] = float(len(cut))
    if cut:
        parts = (
            "feet" if any("ankle" in c or "heel" in c for c in cut) else "",
            "head" if "nose" in cut else "",
            "hands" if any("wrist" in c for c in cut) else "",
        )
        what = " and ".join(p for p in parts if p)
        rep.fail(
            f"Your {what} {'is' if what == 'head' else 'are'} not fully in the picture. "
            "Step back, or tilt the camera so your whole body is visible."
        )
    depth_frames = [
        (f, k) for f, k in zip(frames, keypoints, strict=True) if f.has_depth and k.found
    ]
    if not depth_frames:
        rep.findings["distance_m"] = None
        return rep
    dists, coverage = [], []
    for f, k in depth_frames:
        d = f.depth_m()
        xy = k.xy_px[k.confidence > 0.5]
        if len(xy) < 4:
            continue
        x0, y0 = np.clip(xy.min(0).astype(int), 0, [w - 1, h - 1])
        x1, y1 = np.clip(xy.max(0).astype(int), 0, [w - 1, h - 1])
        box = d[y0 : y1 + 1, x0 : x1 + 1]
        coverage.append(float(np.mean(box > 0)) if box.size else 0.0)
        torso = [
            BLAZEPOSE_INDEX[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
        ]
        vals = []
        for i in torso:
            x, y = k.xy_px[i].astype(int)
            if 0 <= x < w and 0 <= y < h:
                patch = d[max(0, y - 3) : y + 4, max(0, x - 3) : x + 4]
                vals.extend(patch[patch > 0].tolist())
        if vals:
            dists.append(float(np.median(vals)))
    dist = float(np.median(dists)) if dists else None
    cov = float(np.median(coverage)) if coverage else 0.0
    rep.findings["distance_m"] = dist
    rep.findings["depth_coverage"] = cov
    if dist is None:
        rep.fail(
            "The depth camera does not measure your body. Remove anything shiny or dark in between, or move away from direct sunlight."
        )
    elif dist < DISTANCE_RANGE_M[0]:
        rep.fail(f"You are {dist:.1f} m from the camera. Step back to about 2.5 m.")
    elif dist > DISTANCE_RANGE_M[1]:
        rep.fail(f"You are {dist:.1f} m from the camera. Come closer, to about 2.5 m.")
    if dist is not None and cov < MIN_DEPTH_COVERAGE:
        rep.fail(
            "The depth camera misses parts of your body. Avoid direct sunlight and very dark or "
            "shiny clothes, and keep the camera lens clean."
        )
    return rep
