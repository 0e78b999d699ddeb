"""``capture-agent pair | status | send | upload | plan``: the transport half of the CLI.

``register(subparsers)`` adds these commands to the agent's main parser; this
module also runs on its own (``python -m capture_agent.transport.cli``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from analysis import SkeletonSequence
from analysis.errors import AnalysisError
from capture_agent import wire
from capture_agent.transport.identity import (
    IdentityError,
    agent_home,
    identity_load,
)
from capture_agent.transport.outbox import Outbox, OutboxItem
from capture_agent.transport.pairing import PairingError, pair
from capture_agent.transport.plan import (
    PlanError,
    exercises_due,
    plan_check,
    plan_download,
    plan_load,
)
from capture_agent.transport.sealing import recording_seal_and_enqueue
from capture_agent.transport.security import InsecureTransportError
from capture_agent.transport.uploader import Uploader

BAR_WIDTH = 24


def progress_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "[" + "#" * filled + "." * (width - filled) + f"] {fraction * 100:5.1f}%"


def _format_item(item: OutboxItem, now: float) -> str:
    size = f"{item.size_bytes / 1e6:6.2f} MB"
    line = f"{item.recording_id}  {item.exercise:<20} {size}  {item.state:<8} "
    if item.state == "pending":
        line += progress_bar(item.progress)
        if item.attempts:
            wait = max(0.0, item.next_attempt_at - now)
            line += f"  attempt {item.attempts + 1} in {wait:.0f} s ({item.last_error[:60]})"
    elif item.state == "failed":
        line += f"refused: {item.last_error[:100]}"
    return line


def cmd_pair(args: argparse.Namespace) -> int:
    identity = pair(
        code=args.code,
        server_url=args.server,
        home=agent_home(getattr(args, "home", None)),
        label=args.label,
        server_key_fingerprint=args.fingerprint,
        force=args.force,
    )
    print(f"paired: device {identity.device_id} for patient {identity.patient_id}")
    print(f"server key pinned: {identity.server_key_id}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    identity = identity_load(agent_home(getattr(args, "home", None)))
    with Outbox(identity.outbox_path) as outbox:
        items, counts = outbox.items(), outbox.counts()
    if args.json:
        print(
            json.dumps(
                {
                    "device_id": identity.device_id,
                    "server_url": identity.server_url,
                    "counts": counts,
                    "items": [item.__dict__ for item in items],
                }
            )
        )
        return 0
    print(f"device {identity.device_id} → {identity.server_url}")
    print(f"pending {counts['pending']}  uploaded {counts['uploaded']}  refused {counts['failed']}")
    now = time.time()
    for item in items:
        if item.state != "uploaded" or args.all:
            print("  " + _format_item(item, now))
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    """Queue a recorded skeleton file (SkeletonSequence bytes) for upload."""
    identity = identity_load(agent_home(getattr(args, "home", None)))
    sequence = SkeletonSequence.from_bytes(Path(args.skeleton).read_bytes())
    with Outbox(identity.outbox_path) as outbox:
        recording_id, added = recording_seal_and_enqueue(
            sequence=sequence,
            identity=identity,
            outbox=outbox,
            exercise=args.exercise,
            recording_id=args.recording_id,
            created_at=args.created_at,
        )
    print(f"{'queued' if added else 'already queued'}: {recording_id}")
    if args.upload:
        return cmd_upload(argparse.Namespace(**{**vars(args), "retry_failed": False}))
    return 0


def cmd_upload(args: argparse.Namespace) -> int:
    identity = identity_load(agent_home(getattr(args, "home", None)))
    with Outbox(identity.outbox_path) as outbox:
        if getattr(args, "retry_failed", False):
            print(f"requeued {outbox.requeue_failed()} refused recordings")
        uploader = Uploader(
            identity,
            outbox,
            base_delay_s=getattr(args, "base_delay", 2.0),
            max_delay_s=getattr(args, "max_delay", 600.0),
        )
        try:
            if getattr(args, "forever", False):
                uploader.run()
            elif getattr(args, "wait", False):
                uploader.run(until_empty=True)
            else:
                uploader.upload_due()
        finally:
            uploader.close()
        counts = outbox.counts()
    print(f"pending {counts['pending']}  uploaded {counts['uploaded']}  refused {counts['failed']}")
    return 0 if counts["failed"] == 0 else 3


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def cmd_plan(args: argparse.Namespace) -> int:
    """Download (or, offline, show the stored) plan and print what is due today."""
    home = agent_home(getattr(args, "home", None))
    identity = identity_load(home)
    note = ""
    if args.offline:
        document = plan_load(home)
    else:
        try:
            document = plan_download(identity)
        except PlanError as exc:
            if exc.code != "unreachable" or plan_load(home) is None:
                raise
            document, note = plan_load(home), f"clinic unreachable ({exc}); showing the stored plan"
    if document is None:
        raise PlanError("no plan stored yet: run `capture-agent plan` while online", "no_plan")
    items = plan_check(document, identity)
    if args.json:
        print(json.dumps(document))
        return 0
    if note:
        print(note)
    day = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
    print(f"plan of {document.get('generated_at', '?')}: {len(items)} exercises")
    for item in items:
        days = ",".join(_WEEKDAYS[d] for d in item.weekdays if 0 <= d < 7)
        print(f"  {item.describe()}  [{days}, from {item.start_date.isoformat()}]")
    due = exercises_due(items, day)
    print(f"today ({_WEEKDAYS[day.weekday()]} {day.isoformat()}): {len(due) or 'nothing'} due")
    for item in due:
        print(f"  - {item.describe()}")
    return 0


def _add_home(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--home", help="agent data folder (default $TELEREHAB_AGENT_HOME or ~/.telerehab-agent)"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add pair/status/send/upload to the agent's main parser."""
    p = subparsers.add_parser("pair", help="pair this device with a clinic using a one-time code")
    p.add_argument("code")
    p.add_argument("--server", required=True, help="clinic URL, https:// (http only to 127.0.0.1)")
    p.add_argument("--label", help="name shown to the clinic (default: host name)")
    p.add_argument("--fingerprint", help="expected server key fingerprint, if given one")
    p.add_argument("--force", action="store_true", help="replace an existing pairing")
    p.set_defaults(func=cmd_pair)
    _add_home(p)

    s = subparsers.add_parser("status", help="show recordings waiting to upload")
    s.add_argument("--json", action="store_true")
    s.add_argument("--all", action="store_true", help="include uploaded recordings")
    s.set_defaults(func=cmd_status)
    _add_home(s)

    q = subparsers.add_parser("send", help="queue a skeleton file (and optionally upload it)")
    q.add_argument("skeleton", help="SkeletonSequence file (analysis format)")
    q.add_argument("--exercise", required=True)
    q.add_argument("--recording-id")
    q.add_argument("--created-at", help="ISO 8601 UTC, e.g. 2026-11-01T09:00:00Z")
    q.add_argument("--upload", action="store_true")
    q.add_argument("--wait", action="store_true", help="with --upload: retry until delivered")
    q.set_defaults(func=cmd_send)
    _add_home(q)

    u = subparsers.add_parser("upload", help="send pending recordings now")
    u.add_argument("--wait", action="store_true", help="retry until nothing is pending")
    u.add_argument("--forever", action="store_true", help="keep running as the upload daemon")
    u.add_argument("--retry-failed", action="store_true", help="requeue refused recordings")
    u.add_argument("--base-delay", type=float, default=2.0, help="first retry delay, seconds")
    u.add_argument("--max-delay", type=float, default=600.0, help="longest retry delay, seconds")
    u.set_defaults(func=cmd_upload)
    _add_home(u)

    pl = subparsers.add_parser("plan", help="download the exercise plan and show what is due today")
    pl.add_argument("--offline", action="store_true", help="show the stored plan, no download")
    pl.add_argument("--json", action="store_true", help="print the plan document")
    pl.add_argument("--date", help="show what is due on this day (YYYY-MM-DD) instead of today")
    pl.set_defaults(func=cmd_plan)
    _add_home(pl)

    from capture_agent.transport import demo

    demo.register(subparsers, _add_home)


TRANSPORT_ERRORS = (
    IdentityError,
    PairingError,
    PlanError,
    InsecureTransportError,
    wire.EnvelopeError,
    AnalysisError,
    OSError,
)


def run_command(args: argparse.Namespace) -> int:
    """Run a registered command, turning expected failures into a message and exit code 2."""
    try:
        return args.func(args)
    except TRANSPORT_ERRORS as exc:
        print(f"capture-agent: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="capture-agent")
    register(parser.add_subparsers(dest="command", required=True))
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
