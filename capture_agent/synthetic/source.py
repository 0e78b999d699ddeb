"""``synthetic:`` — a real patient's motion rendered as a depth camera would see it.

URI: ``synthetic:`` or ``synthetic:?exercise=7&subject=1&episode=1&distance=2.5``.
Query keys: ``exercise`` (UI-PRMD number 1-10 or catalogue name, default deep
squat), ``subject`` (1-5), ``episode``, ``correct`` (1/0), ``distance`` (m),
``height`` (camera height, m), ``pitch`` (deg), ``fps``, ``width``/``h`` (px),
``hfov`` (colour horizontal field of view, deg), ``noise`` (1/0), ``seed``,
``repeat`` (play the repetition this many times), ``depth`` (1/0: 0 makes a
colour-only source, like a webcam), ``registered`` (1/0, see below).

The camera model: a pinhole colour camera (default 640×480, 69.4° horizontal
field of view like a D435's colour imager, no distortion). By default depth is
rendered in the same pixel grid (i.e. already registered to colour, as the
RealSense source delivers it after ``rs.align``). With ``registered=0`` depth
is rendered by its own imager as a D435 has one: a wider 75° field of view at
640×480 and the colour camera :data:`D435_BASELINE_M` to its side, so frames
carry unregistered depth with honest intrinsics and extrinsics. Noise: :mod:`capture_agent.synthetic.noise`.
Every frame carries the ground-truth joint centres for accuracy measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import numpy as np

from analysis.skeleton import CANONICAL_JOINTS, JOINT_INDEX
from capture_agent.sources.base import (
    CameraIntrinsics,
    Extrinsics,
    FrameSource,
    RGBDFrame,
    SourceUnavailableError,
    SourceURIError,
)
from capture_agent.synthetic.motion import (
    StagedMotion,
    Staging,
    load_uiprmd_motion,
    stage_motion,
)
from capture_agent.synthetic.noise import DepthNoiseModel
from capture_agent.synthetic.render import render_body, render_room


@dataclass(frozen=True)
class SyntheticConfig:
    exercise: int = 1
    subject: int = 1
    episode: int = 1
    correct: bool = True
    distance_m: float = 2.5
    camera_height_m: float = 1.0
    pitch_deg: float = 0.0
    fps: float = 30.0
    width: int = 640
    height: int = 480
    hfov_deg: float = 69.4
    noise: bool = True
    seed: int = 0
    repeat: int = 1
    depth: bool = True
    registered: bool = True

    @property
    def intrinsics(self) -> CameraIntrinsics:
        return CameraIntrinsics.from_fov(self.width, self.height, self.hfov_deg)

    @property
    def depth_intrinsics(self) -> CameraIntrinsics:
        if self.registered:
            return self.intrinsics
        return CameraIntrinsics.from_fov(self.width, self.height, D435_DEPTH_HFOV_DEG)

    @property
    def depth_to_colour(self) -> Extrinsics:
        """The colour camera sits :data:`D435_BASELINE_M` along the depth imager's +x."""
        if self.registered:
            return Extrinsics()
        return Extrinsics(np.eye(3), np.array([-D435_BASELINE_M, 0.0, 0.0]))


#: D435-like depth imager: its left IR camera is the depth origin, the RGB camera
#: ~15 mm beside it (Intel D400 datasheet); 640×480 depth spans ~75° horizontally.
D435_BASELINE_M = 0.015
D435_DEPTH_HFOV_DEG = 75.0


def _exercise_id(value: str) -> int:
    if value.isdigit():
        return int(value)
    if value.lower().startswith("m") and value[1:].isdigit():
        return int(value[1:])
    from analysis.exercises import get_exercise

    try:
        return get_exercise(value).uiprmd_id
    except Exception as exc:
        raise SourceURIError(f"synthetic source: {exc}") from None


def parse_synthetic_uri(uri: str) -> SyntheticConfig:
    """``synthetic:?k=v&...`` → config; unknown keys or bad values raise SourceURIError."""
    rest = uri.split(":", 1)[1] if ":" in uri else ""
    query = rest.split("?", 1)[1] if "?" in rest else rest
    params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=False).items()}
    names = {
        "exercise": ("exercise", _exercise_id),
        "subject": ("subject", int),
        "episode": ("episode", int),
        "correct": ("correct", lambda v: v not in ("0", "false", "no")),
        "distance": ("distance_m", float),
        "height": ("camera_height_m", float),
        "pitch": ("pitch_deg", float),
        "fps": ("fps", float),
        "width": ("width", int),
        "h": ("height", int),
        "hfov": ("hfov_deg", float),
        "noise": ("noise", lambda v: v not in ("0", "false", "no")),
        "seed": ("seed", int),
        "repeat": ("repeat", int),
        "depth": ("depth", lambda v: v not in ("0", "false", "no")),
        "registered": ("registered", lambda v: v not in ("0", "false", "no")),
    }
    kwargs: dict[str, Any] = {}
    for key, value in params.items():
        if key not in names:
            raise SourceURIError(
                f"synthetic source: unknown parameter {key!r}; known: {', '.join(names)}"
            )
        field_name, convert = names[key]
        try:
            kwargs[field_name] = convert(value)
        except ValueError:
            raise SourceURIError(f"synthetic source: {key}={value!r} is not valid") from None
    cfg = SyntheticConfig(**kwargs)
    if not 0.5 <= cfg.distance_m <= 8.0:
        raise SourceURIError(f"synthetic source: distance {cfg.distance_m} m is outside 0.5-8 m")
    if cfg.width < 32 or cfg.height < 32 or cfg.fps <= 0 or cfg.repeat < 1:
        raise SourceURIError("synthetic source: width/height ≥ 32, fps > 0, repeat ≥ 1")
    return cfg


class SyntheticSource(FrameSource):
    """Renders :class:`StagedMotion` frame by frame (deterministic for a given seed)."""

    device_model = "synthetic"

    def __init__(
        self,
        config: SyntheticConfig | None = None,
        *,
        uri: str = "synthetic:",
        motion: StagedMotion | None = None,
        noise_model: DepthNoiseModel | None = None,
    ) -> None:
        self.config = config or SyntheticConfig()
        self.uri = uri
        self.nominal_fps = self.config.fps
        self.noise_model = noise_model or DepthNoiseModel()
        self._motion = motion
        self._room: tuple[np.ndarray, np.ndarray] | None = None
        self._i = 0
        self._rng = np.random.default_rng(self.config.seed)

    @classmethod
    def from_uri(cls, uri: str) -> SyntheticSource:
        return cls(parse_synthetic_uri(uri), uri=uri)

    @property
    def motion(self) -> StagedMotion:
        if self._motion is None:
            cfg = self.config
            seq = load_uiprmd_motion(cfg.exercise, cfg.subject, cfg.episode, correct=cfg.correct)
            motion = stage_motion(
                seq,
                Staging(cfg.distance_m, cfg.camera_height_m, cfg.pitch_deg),
                fps=cfg.fps,
            )
            lacking = [n for n in BODY_JOINTS if not motion.present[JOINT_INDEX[n]]]
            if lacking:  # a body without hips or shoulders cannot be drawn honestly
                raise SourceUnavailableError(
                    f"UI-PRMD repetition {self.metadata()['synthetic']['motion']} lacks "
                    f"markers for {', '.join(lacking)}; choose another episode or subject"
                )
            self._motion = motion
        return self._motion

    @property
    def n_frames(self) -> int:
        return len(self.motion.timestamps_s) * self.config.repeat

    def open(self) -> None:
        m = self.motion
        self._room = render_room(
            self.config.intrinsics,
            floor_height_m=m.floor_below_camera_m,
            wall_distance_m=m.wall_distance_m,
            camera_down=m.camera_down,
            camera_forward=m.camera_forward,
        )
        # the depth imager is displaced along x only: the floor and wall are where they were
        self._depth_room = (
            self._room[0]
            if self.config.registered
            else render_room(
                self.config.depth_intrinsics,
                floor_height_m=m.floor_below_camera_m,
                wall_distance_m=m.wall_distance_m,
                camera_down=m.camera_down,
                camera_forward=m.camera_forward,
            )[0]
        )
        self._i = 0
        self._rng = np.random.default_rng(self.config.seed)

    def close(self) -> None:
        self._room = None

    def metadata(self) -> dict[str, Any]:
        cfg = self.config
        return {
            **super().metadata(),
            "synthetic": {
                "motion": f"ui-prmd m{cfg.exercise:02d}_s{cfg.subject:02d}_e{cfg.episode:02d}"
                + ("" if cfg.correct else "_inc"),
                "distance_m": cfg.distance_m,
                "noise": cfg.noise,
            },
        }

    def render(self, joints_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ideal depth (metres, inf = nothing) and colour for one pose, before noise."""
        if self._room is None:
            raise RuntimeError("open() the synthetic source before rendering")
        depth = self._room[0].copy()
        colour = self._room[1].copy()
        render_body(joints_m, self.config.intrinsics, depth_m=depth, colour_rgb=colour)
        if not self.config.registered:  # the depth imager sees the body from its own place
            depth = self._depth_room.copy()
            to_depth = self.config.depth_to_colour.inverse()
            render_body(to_depth.apply(joints_m), self.config.depth_intrinsics, depth_m=depth)
        return depth, colour

    def read(self) -> RGBDFrame | None:
        if self._room is None:
            raise RuntimeError("open() the synthetic source before reading")
        m = self.motion
        n = len(m.timestamps_s)
        if self._i >= n * self.config.repeat:
            return None
        k = self._i % n
        joints = m.joints_m[k]
        depth_m, colour = self.render(joints)
        if self.config.noise:
            depth = self.noise_model.apply_depth(depth_m, self._rng)
            colour = self.noise_model.apply_colour(colour, self._rng)
        else:
            ok = np.isfinite(depth_m) & (depth_m < self.noise_model.max_range_m)
            depth = np.where(ok, np.round(depth_m * 1000.0), 0).astype(np.uint16)
        truth = joints.astype(np.float32).copy()
        truth[~m.present] = np.nan
        intr = self.config.intrinsics
        frame = RGBDFrame(
            index=self._i,
            timestamp_s=self._i / self.config.fps,
            colour_rgb=colour,
            colour_intrinsics=intr,
            depth=depth if self.config.depth else None,
            depth_scale_m=0.001,
            depth_intrinsics=self.config.depth_intrinsics if self.config.depth else None,
            depth_to_colour=self.config.depth_to_colour if self.config.depth else None,
            ground_truth_m=truth,
            depth_registered=self.config.registered or not self.config.depth,
        )
        self._i += 1
        return frame


GROUND_TRUTH_JOINTS = CANONICAL_JOINTS
#: Joints the renderer draws the body from; a repetition missing any is refused.
BODY_JOINTS: tuple[str, ...] = tuple(
    n for n in CANONICAL_JOINTS if n not in ("neck", "nose", "spine_mid")
)
