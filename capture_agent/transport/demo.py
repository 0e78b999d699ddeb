"""``capture-agent demo-sessions``: weeks of back-dated sessions sent the real way, for demo data.

Each session is a real person's motion from the synthetic source (UI-PRMD,
placed in front of a virtual camera) with sensor-like noise; rendering and
2D pose estimation are skipped so that weeks of data take seconds.  From
there on nothing is special: the session is sealed for the pinned server key,
committed to the outbox and uploaded through the ingest API, and the server's
worker analyses it like any other.  Earlier weeks use UI-PRMD's "incorrect"
(typically smaller-range) repetitions and later weeks the correct ones, so a
chart shows progress.  Recording ids are derived from the device and the
session's slot, so running the command twice adds nothing.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import UTC, datetime, timedelta

import numpy as np

from analysis import CANONICAL_JOINTS, JointSource, SkeletonSequence
from capture_agent.transport.identity import IDENTITY_FILE, agent_home, identity_load
from capture_agent.transport.outbox import Outbox
from capture_agent.transport.pairing import pair
from capture_agent.transport.sealing import recording_seal_and_enqueue
from capture_agent.transport.uploader import Uploader

_NAMESPACE = uuid.UUID("6f0d7c52-9f6e-4d0a-8f53-0c1a7e2b9d41")
NOISE_M = 0.004


def demo_sequence(
    *, exercise: int, subject: int, episode: int, correct: bool, repeats: int, seed: int
) -> SkeletonSequence:
    """``repeats`` back-to-back repetitions of one UI-PRMD motion in the camera frame, with noise."""
    from capture_agent.synthetic.source import SyntheticConfig, SyntheticSource

    config = SyntheticConfig(
        exercise=exercise, subject=subject, episode=episode, correct=correct, seed=seed
    )
    motion = SyntheticSource(config).motion
    joints = np.concatenate([motion.joints_m] * repeats)
    rng = np.random.default_rng(seed)
    present = np.broadcast_to(motion.present, joints.shape[:2])
    joints = joints + np.where(present[..., None], rng.normal(0, NOISE_M, joints.shape), 0.0)
    confidence = np.where(present, np.clip(rng.normal(0.9, 0.04, present.shape), 0, 1), 0.0)
    source = np.where(present, JointSource.DEPTH, JointSource.MISSING).astype(np.uint8)
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS,
        timestamps_s=np.arange(joints.shape[0]) / config.fps,
        positions_m=np.where(present[..., None], joints, 0.0),
        confidence=confidence,
        source=source,
        metadata={
            "device": "synthetic",
            "frame": "camera",
            "up_axis": [float(v) for v in -motion.camera_down],
            "synthetic": {
                "motion": f"ui-prmd m{exercise:02d}_s{subject:02d}_e{episode:02d}"
                + ("" if correct else "_inc"),
                "noise_m": NOISE_M,
                "demo": True,
            },
        },
    )


def _demo_sequence_any_episode(
    *, exercise: int, subject: int, first_episode: int, correct: bool, repeats: int, seed: int
) -> SkeletonSequence:
    """The first of UI-PRMD's ten episodes, from ``first_episode`` on, whose markers are complete.

    Some recorded episodes lack a marker the skeleton needs (e.g. a toe); a demo
    should take the next one rather than stop.
    """
    from capture_agent.sources.base import SourceUnavailableError

    error: SourceUnavailableError | None = None
    for attempt in range(10):
        try:
            return demo_sequence(
                exercise=exercise,
                subject=subject,
                episode=1 + (first_episode + attempt) % 10,
                correct=correct,
                repeats=repeats,
                seed=seed,
            )
        except SourceUnavailableError as exc:
            error = exc
    raise error  # type: ignore[misc]


def demo_session_times(*, now: datetime, count: int, weekdays: tuple[int, ...]) -> list[datetime]:
    """The ``count`` most recent 09:30 UTC slots on ``weekdays`` (0 = Monday) before ``now``.

    Oldest first. The demo patient exercises on the days the demo plan
    prescribes, up to the last such day, so adherence and missed-session alerts
    on the caseload describe the demo data rather than a calendar mismatch.
    """
    if not weekdays or any(not 0 <= d <= 6 for d in weekdays):
        raise ValueError(f"weekdays must be numbers 0 (Monday) to 6, got {weekdays!r}")
    slot = now.replace(hour=9, minute=30, second=0, microsecond=0)
    times: list[datetime] = []
    while len(times) < count:
        if slot.weekday() in weekdays and slot <= now:
            times.append(slot)
        slot -= timedelta(days=1)
    return times[::-1]


def cmd_demo_sessions(args: argparse.Namespace) -> int:
    from analysis.exercises import get_exercise

    home = agent_home(getattr(args, "home", None))
    if not (home / IDENTITY_FILE).exists():
        if not args.code:
            raise SystemExit("this agent is not paired: give --code (and --server)")
        pair(code=args.code, server_url=args.server, home=home, label="demo agent")
    identity = identity_load(home)
    exercise = get_exercise(args.exercise)
    weekdays = tuple(int(d) for d in args.weekdays.split(",") if d.strip())
    total = args.weeks * args.per_week
    times = demo_session_times(now=datetime.now(UTC), count=total, weekdays=weekdays)
    queued = 0
    with Outbox(identity.outbox_path) as outbox:
        for slot, when in enumerate(times):
            created_at = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            recording_id = str(uuid.uuid5(_NAMESPACE, f"{identity.device_id}/{slot}"))
            if outbox.has(recording_id):
                continue
            sequence = _demo_sequence_any_episode(
                exercise=exercise.uiprmd_id,
                subject=1 + args.subject_offset % 5,
                first_episode=slot,
                correct=slot >= total // 2,
                repeats=args.repeats,
                seed=slot,
            )
            _, added = recording_seal_and_enqueue(
                sequence=sequence,
                identity=identity,
                outbox=outbox,
                exercise=exercise.name,
                recording_id=recording_id,
                created_at=created_at,
            )
            queued += int(added)
        uploader = Uploader(identity, outbox, base_delay_s=1.0, max_delay_s=30.0)
        try:
            uploader.run(until_empty=True, poll_s=0.5)
        finally:
            uploader.close()
        counts = outbox.counts()
    print(
        f"demo sessions: queued {queued}; uploaded {counts['uploaded']}, refused {counts['failed']}"
    )
    return 0 if counts["failed"] == 0 else 3


def register(subparsers: argparse._SubParsersAction, add_home) -> None:
    d = subparsers.add_parser(
        "demo-sessions", help="send weeks of back-dated synthetic sessions (demo data)"
    )
    d.add_argument("--server", help="clinic URL (needed with --code)")
    d.add_argument("--code", help="pairing code, if this agent home is not paired yet")
    d.add_argument("--exercise", default="deep_squat")
    d.add_argument("--weeks", type=int, default=4)
    d.add_argument("--per-week", type=int, default=3, help="sessions per week (with --weeks)")
    d.add_argument(
        "--weekdays",
        default="0,2,4",
        help="days the sessions fall on, 0 = Monday (default Mon, Wed, Fri)",
    )
    d.add_argument("--repeats", type=int, default=3, help="repetitions per session")
    d.add_argument("--subject-offset", type=int, default=0, help="which UI-PRMD subject moves")
    d.set_defaults(func=cmd_demo_sessions)
    add_home(d)
