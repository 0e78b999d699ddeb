"""Speed of the whole agent path at 640×480: frames/second and latency per stage.

The frames are a real RealSense recording (written at start-up from the
synthetic patient through the SDK's software device, with a D435-like
depth imager: its own 75° view, colour 15 mm aside), played back by the SDK.
The recording is written uncompressed: the SDK recorder's LZ4 compression
costs ~8 ms of CPU per frame pair to decompress, work a live camera does not
do (it is measured separately, ``playback_lz4_ms``). Then BlazePose (2D),
lifting (the shipped ONNX lifter; a missing or modified one stops the
benchmark, as it stops the agent), depth fusion (keypoints mapped into the
unaligned depth image) and One-Euro smoothing.

Runs: ``tracking`` (BlazePose follows the previous frame's region — the
normal case), ``detection`` (the person detector runs on every frame — the
worst case, e.g. after the patient leaves the view) and
``tracking_sdk_align`` (the whole-frame SDK path the agent used before:
``rs.align`` + spatial/temporal/hole-filling filters, for comparison).

Usage: python bench/bench_agent.py [--frames 90] [--threads 1]
The last line is one JSON object. Timings depend on what else the machine is
doing; the figures quoted in the issue were taken on the shared 2-core box.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from capture_agent.pipeline import STAGES, SkeletonPipeline, default_lifter  # noqa: E402
from capture_agent.pose2d.blazepose import BlazePose  # noqa: E402
from capture_agent.sources.realsense import RealSenseSource  # noqa: E402
from capture_agent.sources.realsense_recording import write_realsense_recording  # noqa: E402
from capture_agent.synthetic.source import SyntheticConfig, SyntheticSource  # noqa: E402


class DetectEveryFrame:
    """BlazePose forced to run its person detector on every frame."""

    def __init__(self, inner: BlazePose) -> None:
        self.inner = inner
        self.joint_names = inner.joint_names

    def reset(self) -> None:
        self.inner.reset()

    def estimate(self, frame_rgb: np.ndarray):
        self.inner.reset()
        return self.inner.estimate(frame_rgb)


def stats(values: list[float]) -> dict[str, float]:
    a = np.asarray(values)
    return {
        "mean_ms": round(float(a.mean()), 2),
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p95_ms": round(float(np.percentile(a, 95)), 2),
    }


def run(path: Path, pose2d, lifter, warmup: int = 5, *, sdk_align: bool = False) -> dict:
    pipe = SkeletonPipeline(pose2d=pose2d, lifter=lifter)
    seq = pipe.run(RealSenseSource(path=path, align=sdk_align, filters=sdk_align))
    per_stage = {s: pipe.timings_ms[s][warmup:] for s in STAGES}
    total = np.sum([per_stage[s] for s in STAGES], axis=0)
    return {
        "frames": seq.n_frames,
        "fps": round(1000.0 / float(total.mean()), 1),
        "latency": stats(total.tolist()),
        "stages": {s: stats(v) for s, v in per_stage.items()},
        "lifting": pipe.lifting_used,
    }


def playback_ms(path: Path) -> float:
    """Mean wall time per frame pair of bare SDK playback of ``path`` (no conversion)."""
    src = RealSenseSource(path=path)
    src.open()
    try:
        t0 = time.perf_counter()
        n = 0
        while True:
            ok, _fs = src._syncer.try_wait_for_frames(200)
            if not ok:
                break
            n += 1
        return (time.perf_counter() - t0 - 0.2) * 1e3 / max(n, 1)
    finally:
        src.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    args = ap.parse_args()
    src = SyntheticSource(SyntheticConfig(exercise=7, distance_m=2.5, repeat=10, registered=False))
    src.open()
    frames, render_ms = [], []
    for _ in range(args.frames):
        t0 = time.perf_counter()
        frames.append(src.read())
        render_ms.append((time.perf_counter() - t0) * 1e3)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db3"
        write_realsense_recording(path, frames, compress=False)
        lz4 = Path(tmp) / "bench-lz4.db3"
        write_realsense_recording(lz4, frames, compress=True)
        playback = {"uncompressed": playback_ms(path), "lz4": playback_ms(lz4)}
        blazepose = BlazePose(threads=args.threads)
        lifter = default_lifter()
        results = {
            "tracking": run(path, blazepose, lifter),
            "detection": run(path, DetectEveryFrame(blazepose), lifter),
            "tracking_sdk_align": run(path, blazepose, lifter, sdk_align=True),
        }
    for mode, r in results.items():
        print(f"{mode:9s}: {r['fps']:5.1f} FPS, latency p50 {r['latency']['p50_ms']} ms "
              f"p95 {r['latency']['p95_ms']} ms  (lifting: {r['lifting']})")  # fmt: skip
        for s in STAGES:
            print(
                f"    {s:7s} {r['stages'][s]['mean_ms']:7.2f} ms mean, p95 {r['stages'][s]['p95_ms']}"
            )
    report = {
        "resolution": "640x480",
        "threads": args.threads,
        "synthetic_render_ms_not_in_path": stats(render_ms),
        "playback_uncompressed_ms": round(playback["uncompressed"], 2),
        "playback_lz4_ms": round(playback["lz4"], 2),
        **results,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
