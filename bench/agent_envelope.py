"""Upload size of what the agent itself records: sealed envelopes of real pipeline output.

``bench/bench_ingest.py`` measures envelope size on Kinect v2 motion and on
synthetic motion with added noise; this measures the agent's own skeletons,
whose jitter depends on depth noise, the 2D model and the One-Euro filter.
The synthetic patient (a UI-PRMD repetition played ``--repeat`` times at 2.5 m,
RealSense-like depth noise) goes through BlazePose, the shipped lifter, depth
fusion and smoothing, then through ``wire.seal`` exactly as an upload. The
10-minute figure is the measured bytes per frame × 18,000 frames (30 fps): an
extrapolation, since compression works on the whole payload.

Usage: python bench/agent_envelope.py [--exercise 1] [--seconds 60]
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from capture_agent import wire  # noqa: E402
from capture_agent.fusion.smoothing import OneEuroFilter  # noqa: E402
from capture_agent.pipeline import SkeletonPipeline, default_lifter, default_pose2d  # noqa: E402
from capture_agent.synthetic.source import SyntheticConfig, SyntheticSource  # noqa: E402

FPS = 30
TEN_MINUTES_FRAMES = 10 * 60 * FPS


def sealed_bytes(seq) -> dict[str, int]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    server, device = X25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    return {
        encoding: len(
            wire.seal(
                seq, recording_id=str(uuid.uuid4()), device_id=str(uuid.uuid4()),
                patient_id=str(uuid.uuid4()), exercise="deep_squat",
                server_public_key=server.public_key(), signing_key=device,
                payload_encoding=encoding,
            )
        )
        for encoding in wire.PAYLOAD_ENCODINGS
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exercise", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    probe = SyntheticSource(SyntheticConfig(exercise=args.exercise, distance_m=2.5))
    repeat = max(1, int(args.seconds * FPS / len(probe.motion.timestamps_s)) + 1)
    cfg = SyntheticConfig(exercise=args.exercise, distance_m=2.5, repeat=repeat)
    n_frames = int(args.seconds * FPS)
    pose2d, lifter = default_pose2d(), default_lifter()
    results = {}
    for label, smoother in (
        ("default_smoothing", OneEuroFilter()),
        ("old_1hz_beta4", OneEuroFilter(min_cutoff_hz=1.0, beta=4.0)),
        ("unsmoothed", None),
    ):
        pipe = SkeletonPipeline(pose2d=pose2d, lifter=lifter, smoother=smoother)
        seq = pipe.run(SyntheticSource(cfg), max_frames=n_frames)
        sizes = sealed_bytes(seq)
        results[label] = {
            "frames": seq.n_frames,
            **{f"{enc}_bytes": b for enc, b in sizes.items()},
            **{
                f"{enc}_10min_mb_extrapolated": round(
                    b / seq.n_frames * TEN_MINUTES_FRAMES / 1e6, 3
                )
                for enc, b in sizes.items()
            },
        }
        print(f"{label:18s} {seq.n_frames} frames  " + "  ".join(
            f"{enc}: {b / 1e3:.1f} kB → {b / seq.n_frames * TEN_MINUTES_FRAMES / 1e6:.3f} MB / 10 min"
            for enc, b in sizes.items()
        ), flush=True)  # fmt: skip
    print(json.dumps({"exercise": args.exercise, "distance_m": 2.5, "results": results,
                      "elapsed_s": round(time.perf_counter() - t0, 1)}))  # fmt: skip


if __name__ == "__main__":
    main()
