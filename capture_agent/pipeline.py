"""source → Pose2D → depth fusion (+ Lifter) → smoothing → SkeletonSequence.

One code path for every camera: a RealSense recording, a Kinect MKV, a video
file, a webcam and the synthetic patient all pass through
:meth:`SkeletonPipeline.process`, so a figure measured on one holds for the
others up to what the camera itself delivers. Each stage is timed per frame
(``timings_ms``) for the speed benchmark and the live preview.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analysis.skeleton import CANONICAL_JOINTS, JOINT_INDEX, JointSource, SkeletonSequence
from capture_agent.fusion.fuse import DepthFusion, FusedFrame, blazepose_to_canonical
from capture_agent.fusion.smoothing import OneEuroFilter
from capture_agent.interfaces import (
    BLAZEPOSE_33,
    Keypoints2D,
    Lifter,
    Pose2D,
)
from capture_agent.lifting.stream import LiftingStream
from capture_agent.sources.base import FrameSource, RGBDFrame

N_JOINTS = len(CANONICAL_JOINTS)
STAGES = ("source", "pose2d", "lift", "fusion", "smooth")
#: Camera frame (y down) with a level camera: gravity's up is −y.
CAMERA_UP_AXIS = [0.0, -1.0, 0.0]


def default_pose2d() -> Pose2D:
    """The shipped BlazePose on onnxruntime (raises if the model files are missing)."""
    from capture_agent.pose2d.blazepose import BlazePose

    return BlazePose()


def default_lifter() -> Lifter:
    """The shipped ONNX lifter; raises rather than falling back.

    A lifter file that is missing, unlisted or fails its sha256
    (:class:`~capture_agent.models.ModelIntegrityError`) means a broken or
    tampered installation: falling back to another 3D estimate would record a
    session with plausible-looking but different joint angles and no trace of
    why, so the error reaches the user, naming the file. There is no optional
    runtime to miss either: onnxruntime is what BlazePose itself runs on, so
    without it no skeleton can be made at all. Choose ``lifting="world"`` or
    ``"none"`` explicitly to run without the lifter.
    """
    from capture_agent.lifting.onnx_lifter import OnnxLifter

    return OnnxLifter()


@dataclass
class FrameResult:
    """What the live preview needs after each frame."""

    frame: RGBDFrame
    keypoints: Keypoints2D
    fused: FusedFrame
    timings_ms: dict[str, float]


@dataclass
class SkeletonPipeline:
    """Stateful for one session; call :meth:`reset` between sessions.

    ``lifting``: "auto" (``lifter`` when one is given, else BlazePose's own world
    landmarks), "lifter", "world" or "none" (depth only). The CLI gives
    :func:`default_lifter`, which raises on a damaged model rather than
    letting "auto" quietly use the world landmarks.
    """

    pose2d: Pose2D
    lifter: Lifter | None = None
    fusion: DepthFusion = field(default_factory=DepthFusion)
    smoother: OneEuroFilter | None = field(default_factory=OneEuroFilter)
    lifting: str = "auto"
    max_gap_frames: int = 6

    def __post_init__(self) -> None:
        if self.lifting not in ("auto", "lifter", "world", "none"):
            raise ValueError(f"lifting must be auto, lifter, world or none, got {self.lifting!r}")
        if self.lifting == "lifter" and self.lifter is None:
            raise ValueError("lifting='lifter' needs a Lifter")
        self.reset()

    def reset(self) -> None:
        self.pose2d.reset()
        self.fusion.reset()
        if self.smoother is not None:
            self.smoother.reset()
        self._lifting_stream: LiftingStream | None = None  # made at the first frame (intrinsics)
        self._t: list[float] = []
        self._pos: list[np.ndarray] = []
        self._conf: list[np.ndarray] = []
        self._src: list[np.ndarray] = []
        self.timings_ms: dict[str, list[float]] = {s: [] for s in STAGES}
        self.lifting_used = "none"

    # -- lifting -------------------------------------------------------------------------
    def _lift(self, kp: Keypoints2D, frame: RGBDFrame) -> tuple[np.ndarray, np.ndarray] | None:
        mode = self.lifting
        if mode == "none":
            return None
        if self.lifter is not None and mode in ("auto", "lifter"):
            if self._lifting_stream is None:
                intr = frame.colour_intrinsics
                self._lifting_stream = LiftingStream(
                    self.lifter, fx=intr.fx, fy=intr.fy, cx=intr.cx, cy=intr.cy
                )
            # Resampled by time: frames this machine skipped must not stretch the window.
            out = self._lifting_stream.push(kp, frame.timestamp_s)
            if out is None:
                return None
            lifted = np.zeros((N_JOINTS, 3))
            present = np.zeros(N_JOINTS, bool)
            for k, name in enumerate(self.lifter.output_joint_names):
                lifted[JOINT_INDEX[name]] = out[k]
                present[JOINT_INDEX[name]] = True
            for derived, parts in (
                ("pelvis", ("left_hip", "right_hip")),
                ("spine_chest", ("left_shoulder", "right_shoulder")),
            ):
                idx = [JOINT_INDEX[p] for p in parts]
                if present[idx].all():
                    lifted[JOINT_INDEX[derived]] = lifted[idx].mean(axis=0)
                    present[JOINT_INDEX[derived]] = True
            self.lifting_used = "lifter"
            return lifted, present
        if mode in ("auto", "world") and kp.world_m is not None:
            pos, _conf, src = blazepose_to_canonical(
                kp.world_m.astype(np.float64), np.ones(len(BLAZEPOSE_33)), JointSource.LIFTED
            )
            self.lifting_used = "blazepose_world_landmarks"
            return pos, src != JointSource.MISSING
        return None

    # -- per frame -----------------------------------------------------------------------
    def process(self, frame: RGBDFrame, *, source_ms: float = 0.0) -> FrameResult:
        t0 = time.perf_counter()
        feed = getattr(self.pose2d, "set_truth", None)
        if feed is not None and frame.ground_truth_m is not None:  # synthetic stand-in model
            feed(frame.ground_truth_m)
        kp = self.pose2d.estimate(frame.colour_rgb)
        t1 = time.perf_counter()
        lifted = self._lift(kp, frame) if kp.found else None
        t2 = time.perf_counter()
        fused = self.fusion.fuse(
            kp, frame, None if lifted is None else lifted[0], None if lifted is None else lifted[1]
        )
        t3 = time.perf_counter()
        if self.smoother is not None:
            x = np.where((fused.source != JointSource.MISSING)[:, None], fused.positions_m, np.nan)
            smooth = self.smoother(x, frame.timestamp_s)
            fused = FusedFrame(np.nan_to_num(smooth, nan=0.0), fused.confidence, fused.source)
        t4 = time.perf_counter()
        timings = {
            "source": source_ms,
            "pose2d": (t1 - t0) * 1e3,
            "lift": (t2 - t1) * 1e3,
            "fusion": (t3 - t2) * 1e3,
            "smooth": (t4 - t3) * 1e3,
        }
        for k, v in timings.items():
            self.timings_ms[k].append(v)
        if not self._t or frame.timestamp_s > self._t[-1]:
            self._t.append(frame.timestamp_s)
            self._pos.append(fused.positions_m)
            self._conf.append(fused.confidence)
            self._src.append(fused.source)
        return FrameResult(frame, kp, fused, timings)

    def run(
        self,
        source: FrameSource,
        *,
        max_frames: int | None = None,
        on_frame: Callable[[FrameResult], bool | None] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> SkeletonSequence:
        """Read the source to its end (or ``max_frames``; or until ``on_frame`` returns False)."""
        self.reset()
        first: RGBDFrame | None = None
        with source:
            n = 0
            while max_frames is None or n < max_frames:
                t0 = time.perf_counter()
                frame = source.read()
                if frame is None:
                    break
                first = first or frame
                result = self.process(frame, source_ms=(time.perf_counter() - t0) * 1e3)
                n += 1
                if on_frame is not None and on_frame(result) is False:
                    break
        meta = {**source.metadata(), **(metadata or {})}
        if first is not None:
            meta.setdefault("colour_intrinsics", first.colour_intrinsics.as_dict())
            if first.depth_intrinsics is not None:
                meta.setdefault("depth_intrinsics", first.depth_intrinsics.as_dict())
                meta.setdefault("depth_scale_m", first.depth_scale_m)
            if first.depth_to_colour is not None:
                meta.setdefault("depth_to_colour", first.depth_to_colour.as_dict())
            if first.has_depth:  # who put depth on the colour grid: the camera/SDK, or fusion
                meta.setdefault(
                    "depth_registration", "source" if first.depth_registered else "keypoints"
                )
        return self.sequence(meta)

    def sequence(self, metadata: dict[str, Any] | None = None) -> SkeletonSequence:
        """Everything processed since :meth:`reset`, short gaps interpolated."""
        if not self._t:
            raise ValueError("no frames were processed")
        pos = np.stack(self._pos).astype(np.float64)
        conf = np.stack(self._conf).astype(np.float32)
        src = np.stack(self._src).astype(np.uint8)
        t = np.asarray(self._t)
        fill_short_gaps(t, pos, conf, src, self.max_gap_frames)
        meta = {
            "frame": "camera",
            "up_axis": CAMERA_UP_AXIS,
            "pose2d": type(self.pose2d).__name__,
            "lifting": self.lifting_used,
            "smoothing": None
            if self.smoother is None
            else {
                "one_euro": {
                    "min_cutoff_hz": self.smoother.min_cutoff_hz,
                    "beta": self.smoother.beta,
                    "d_cutoff_hz": self.smoother.d_cutoff_hz,
                }
            },
            **(metadata or {}),
        }
        return SkeletonSequence.build(
            joint_names=CANONICAL_JOINTS,
            timestamps_s=t,
            positions_m=pos,
            confidence=conf,
            source=src,
            metadata=meta,
        )


def fill_short_gaps(
    t: np.ndarray, pos: np.ndarray, conf: np.ndarray, src: np.ndarray, max_gap: int
) -> None:
    """Linearly bridge runs of ≤ ``max_gap`` MISSING frames between observations, in place."""
    for j in range(pos.shape[1]):
        seen = np.flatnonzero(src[:, j] != JointSource.MISSING)
        if seen.size < 2:
            continue
        for a, b in zip(seen[:-1], seen[1:], strict=True):
            if 1 < b - a <= max_gap + 1:
                gap = np.arange(a + 1, b)
                w = ((t[gap] - t[a]) / (t[b] - t[a]))[:, None]
                pos[gap, j] = (1 - w) * pos[a, j] + w * pos[b, j]
                conf[gap, j] = 0.5 * min(conf[a, j], conf[b, j])
                src[gap, j] = JointSource.INTERPOLATED
