"""``capture-agent``: the patient's side of telerehab.

Sensing commands live here (``devices``, ``check``, ``record``); the transport
commands (``pair``, ``status``, ``send``, ``upload``) are registered by
``capture_agent.transport.cli.register`` when that package is installed, so
this entry point never needs to know them. Any module can add commands the
same way through :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from analysis.errors import AnalysisError
from capture_agent.sources.base import SourceError

#: Modules with ``register(subparsers)`` whose commands join the CLI when importable.
COMMAND_MODULES: list[str] = ["capture_agent.transport.cli"]
PROGRESS_EVERY_S = 1.0


def _pose2d(name: str, source: Any) -> Any:
    if name == "truth":
        from capture_agent.synthetic.keypoints import ProjectedTruthPose2D

        if not hasattr(source, "config"):
            raise SourceError("--pose2d truth works only with a synthetic: source")
        return ProjectedTruthPose2D(source.config.intrinsics)
    from capture_agent.pipeline import default_pose2d

    return default_pose2d()


# -- devices --------------------------------------------------------------------------------
def cmd_devices(args: argparse.Namespace) -> int:
    from capture_agent.sources.registry import list_devices

    devices, problems = list_devices()
    if args.json:
        print(json.dumps({"devices": [d.__dict__ for d in devices], "problems": problems}))
        return 0
    if not devices:
        print("No cameras found.")
    for d in devices:
        kind = "depth + colour" if d.has_depth else "colour only"
        print(f"  {d.uri:32s} {d.model} ({kind})")
    for p in problems:
        print(f"  note: {p}")
    print("Recordings and tests: realsense:FILE.db3, kinect:FILE.mkv, video:FILE, synthetic:")
    return 0


# -- check ----------------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    from capture_agent.models import verify_all
    from capture_agent.placement import assess_placement
    from capture_agent.sources.registry import open_source

    verify_all()  # a modified or corrupted model fails here, naming the file
    source = open_source(args.source)
    pose = _pose2d(args.pose2d, source)
    frames, keypoints = [], []
    with source:
        for frame in source:
            if getattr(pose, "set_truth", None) and frame.ground_truth_m is not None:
                pose.set_truth(frame.ground_truth_m)
            frames.append(frame)
            keypoints.append(pose.estimate(frame.colour_rgb))
            if len(frames) >= args.frames:
                break
    report = assess_placement(frames, keypoints)
    if args.json:
        print(json.dumps({"ok": report.ok, "findings": report.findings, "advice": report.advice}))
    else:
        dist = report.findings.get("distance_m")
        print(f"Checked {len(frames)} frames from {args.source}.")
        if dist is not None:
            print(f"  distance to you: {dist:.1f} m")
        print(f"  brightness: {report.findings.get('brightness', 0):.0f} / 255")
        if report.ok:
            print("All good: the camera is well placed. You can start your exercises.")
        for line in report.advice:
            print(f"  • {line}")
    return 0 if report.ok else 1


# -- record ---------------------------------------------------------------------------------
class LiveFeedback:
    """Current angle, target and repetition count while recording."""

    def __init__(self, exercise: Any, side: str | None) -> None:
        from analysis.exercises import prescribed_sides
        from analysis.normative import AAOS_NORMATIVE

        self.exercise = exercise
        self.measure = exercise.driver
        sides = prescribed_sides(exercise, side)
        self.side = sides[0] if sides else None
        from analysis.measures import MEASURES

        if not MEASURES[self.measure].sided:
            self.side = None
        norm = AAOS_NORMATIVE.get(self.measure)
        self.target_deg = norm.high_deg if norm else None
        self.t: list[float] = []
        self.angle: list[float] = []
        self.reps = 0

    def update(self, result: Any) -> None:
        from analysis.measures import MEASURES
        from analysis.skeleton import JOINT_INDEX, JointSource

        fused = result.fused
        m = MEASURES[self.measure]
        needed = m.needed_joints(self.side)
        value = float("nan")
        if all(fused.source[JOINT_INDEX[j]] != JointSource.MISSING for j in needed):
            from capture_agent.pipeline import CAMERA_UP_AXIS

            pos = fused.positions_m[None].astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                value = float(
                    m.function(pos, JOINT_INDEX, np.asarray(CAMERA_UP_AXIS), self.side)[0]
                )
        self.t.append(result.frame.timestamp_s)
        self.angle.append(value)
        if len(self.t) % 15 == 0:  # twice a second at 30 FPS: cheap enough for a live count
            self.reps_recount()

    def reps_recount(self) -> None:
        from analysis.reps import segment_repetitions

        self.reps = len(
            segment_repetitions(
                np.asarray(self.t), np.asarray(self.angle), direction=self.exercise.direction
            )
        )

    def line(self) -> str:
        cur = self.angle[-1] if self.angle else float("nan")
        side = f"{self.side} " if self.side else ""
        target = f" / target {self.target_deg:.0f}°" if self.target_deg else ""
        cur_s = "—" if not np.isfinite(cur) else f"{cur:5.1f}°"
        return f"{side}{self.measure.replace('_', ' ')} {cur_s}{target} · reps {self.reps}"


_BONES = (
    (11, 12), (11, 13), (13, 15), (12, 14), (14, 16), (11, 23), (12, 24), (23, 24),
    (23, 25), (25, 27), (24, 26), (26, 28), (27, 31), (28, 32),
)  # fmt: skip


def _gui_available() -> bool:
    import cv2

    try:
        cv2.namedWindow("telerehab")
        return True
    except cv2.error:
        return False


def draw_overlay(frame_rgb: np.ndarray, keypoints: Any, text: str) -> np.ndarray:
    """The preview picture: the skeleton the agent sees, and the current figures."""
    import cv2

    img = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR)
    if keypoints.found:
        xy = keypoints.xy_px.astype(int)
        for a, b in _BONES:
            if keypoints.confidence[a] > 0.5 and keypoints.confidence[b] > 0.5:
                cv2.line(img, tuple(xy[a]), tuple(xy[b]), (0, 255, 0), 3)
    cv2.rectangle(img, (0, 0), (img.shape[1], 36), (0, 0, 0), -1)
    cv2.putText(img, text, (8, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    return img


def _deliver(seq: Any, args: argparse.Namespace) -> str:
    """Write to --out, or seal into the transport outbox when this device is paired."""
    if args.out:
        Path(args.out).write_bytes(seq.to_bytes())
        return f"saved to {args.out}"
    try:
        from capture_agent.transport.identity import agent_home, identity_load
        from capture_agent.transport.outbox import Outbox
        from capture_agent.transport.sealing import recording_seal_and_enqueue
    except ImportError:
        raise SourceError("no outbox in this installation: give --out FILE") from None
    identity = identity_load(agent_home(getattr(args, "home", None)))
    with Outbox(identity.outbox_path) as outbox:
        recording_id, _added = recording_seal_and_enqueue(
            sequence=seq, identity=identity, outbox=outbox, exercise=args.exercise
        )
    return f"sealed into the outbox as {recording_id} (upload with: capture-agent upload)"


def cmd_record(args: argparse.Namespace) -> int:
    from analysis.exercises import get_exercise
    from capture_agent.pipeline import SkeletonPipeline
    from capture_agent.sources.registry import open_source

    exercise = get_exercise(args.exercise)
    source = open_source(args.source)
    pipeline = SkeletonPipeline(pose2d=_pose2d(args.pose2d, source), lifting=args.lifting)
    if args.lifting in ("auto", "lifter"):
        from capture_agent.pipeline import default_lifter

        pipeline.lifter = default_lifter()
        pipeline.reset()
    feedback = LiveFeedback(exercise, args.side)
    show = not args.headless and _gui_available()
    started = time.monotonic()
    last_print = [0.0]

    def on_frame(result: Any) -> bool:
        feedback.update(result)
        elapsed = time.monotonic() - started
        if show:
            import cv2

            cv2.imshow(
                "telerehab",
                draw_overlay(result.frame.colour_rgb, result.keypoints, feedback.line()),
            )
            if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                return False
        elif elapsed - last_print[0] >= PROGRESS_EVERY_S:
            last_print[0] = elapsed
            print(
                f"[{elapsed:5.1f} s] frame {result.frame.index + 1}: {feedback.line()}", flush=True
            )
        return not (args.seconds and elapsed >= args.seconds)

    seq = pipeline.run(
        source,
        max_frames=args.max_frames,
        on_frame=on_frame,
        metadata={"exercise": exercise.name, "side": feedback.side},
    )
    if show:
        import cv2

        cv2.destroyAllWindows()
    # The last figures always, however quickly the take ended (progress lines are timed),
    # and a count that includes the frames since the last live recount.
    if feedback.t:
        feedback.reps_recount()
    print(f"last frame: {feedback.line()}")
    print(
        f"recorded {seq.n_frames} frames ({seq.timestamps_s[-1] - seq.timestamps_s[0]:.1f} s), {feedback.reps} repetitions"
    )
    print(_deliver(seq, args))
    return 0


# -- parser ---------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="capture-agent", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    d = sub.add_parser("devices", help="list attached cameras")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_devices)

    c = sub.add_parser("check", help="check camera placement and lighting, with advice")
    c.add_argument("--source", default="realsense://", help="source URI (see docs)")
    c.add_argument("--frames", type=int, default=30)
    c.add_argument("--pose2d", choices=("blazepose", "truth"), default="blazepose")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("record", help="record an exercise session")
    r.add_argument("--exercise", required=True, help="e.g. deep_squat, standing_shoulder_abduction")
    r.add_argument("--side", choices=("left", "right"))
    r.add_argument("--source", default="realsense://")
    r.add_argument("--headless", action="store_true", help="no preview window; print progress")
    r.add_argument("--out", help="write the SkeletonSequence here instead of the outbox")
    r.add_argument("--max-frames", type=int)
    r.add_argument("--seconds", type=float, help="stop after this long")
    r.add_argument("--pose2d", choices=("blazepose", "truth"), default="blazepose")
    r.add_argument("--lifting", choices=("auto", "lifter", "world", "none"), default="auto")
    r.add_argument("--home", help="agent data folder (outbox, keys)")
    r.set_defaults(func=cmd_record)

    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        register: Callable[[Any], None] | None = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def _expected_errors() -> tuple[type[BaseException], ...]:
    from capture_agent.interfaces import ModelInputError
    from capture_agent.models import ModelIntegrityError

    errors: list[type[BaseException]] = [
        SourceError,
        AnalysisError,
        OSError,
        ModelIntegrityError,
        ModelInputError,
    ]
    try:
        from capture_agent.transport.cli import TRANSPORT_ERRORS

        errors.extend(TRANSPORT_ERRORS)
    except ImportError:
        pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except _expected_errors() as exc:
        print(f"capture-agent: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
