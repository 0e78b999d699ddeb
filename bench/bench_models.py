"""Milliseconds per frame of the agent's models at 640×480 on this machine.

    python bench/bench_models.py [--threads 1 2] [--repeats 60]

Stages: ``detection`` (detector alone: letterbox, network, decoding, NMS),
``redetect_frame`` (a frame that runs detector + landmarks, as after a loss),
``tracking_frame`` (landmarks only, the steady state), ``lifting`` (one
9-frame window through the lifter), ``lifting_batch256_per_window``. Medians
over ``--repeats`` runs after warm-up; the machine is shared, so medians, not
means. The frame is the COCO photo of ../shared/data padded to 640×480 when
present, else a person crop from the committed test fixture. The last line
is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from capture_agent.interfaces import pixels_to_normalised  # noqa: E402
from capture_agent.pose2d import BlazePose  # noqa: E402

COCO_IMAGE = REPO.parent / "shared" / "data" / "coco-keypoints" / "000000000785.jpg"
FIXTURE = REPO / "tests" / "capture_agent" / "fixtures" / "blazepose_parity.npz"


def test_frame() -> tuple[np.ndarray, str]:
    canvas = np.full((480, 640, 3), 90, np.uint8)
    if COCO_IMAGE.exists():
        image = cv2.cvtColor(cv2.imread(str(COCO_IMAGE)), cv2.COLOR_BGR2RGB)
        canvas[: image.shape[0], : image.shape[1]] = image[:480, :640]
        return canvas, "coco 785 padded to 640x480"
    with np.load(FIXTURE) as data:
        crop = data["lm_input_u8"]
    canvas[100:356, 200:456] = crop
    return canvas, "fixture crop on 640x480"


def median_ms(fn, repeats: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times) * 1000)


def bench(threads: int, repeats: int, frame: np.ndarray) -> dict:
    pose = BlazePose(threads=threads)
    out: dict = {"threads": threads}
    out["detection_ms"] = median_ms(lambda: pose.detector.detect(frame), repeats)

    def redetect() -> None:
        pose.reset()
        pose.estimate(frame)

    out["redetect_frame_ms"] = median_ms(redetect, repeats)
    pose.reset()
    kp = pose.estimate(frame)
    if not kp.found:
        raise SystemExit("benchmark frame has no detectable person")
    out["tracking_frame_ms"] = median_ms(lambda: pose.estimate(frame), repeats)
    try:
        from capture_agent.lifting import OnnxLifter
    except ImportError:
        return out
    lifter = OnnxLifter(threads=threads)
    xy = pixels_to_normalised(kp.xy_px, fx=500.0, fy=500.0, cx=320.0, cy=240.0)
    window = np.repeat(xy[None], lifter.window, 0)
    conf = np.repeat(kp.confidence[None], lifter.window, 0)
    out["lifting_ms"] = median_ms(lambda: lifter.lift(window, conf), repeats)
    batch = np.repeat(window[None], 256, 0)
    conf_b = np.repeat(conf[None], 256, 0)
    out["lifting_batch256_per_window_ms"] = (
        median_ms(lambda: lifter.lift_batch(batch, conf_b), max(5, repeats // 6)) / 256
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    frame, frame_name = test_frame()
    results = []
    for threads in args.threads:
        r = bench(threads, args.repeats, frame)
        track_path = r["tracking_frame_ms"] + r.get("lifting_ms", 0.0)
        detect_path = r["redetect_frame_ms"] + r.get("lifting_ms", 0.0)
        r["fps_tracking_plus_lifting"] = 1000.0 / track_path
        r["fps_detection_plus_lifting"] = 1000.0 / detect_path
        results.append({k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()})
        for k, v in results[-1].items():
            print(f"threads={threads:<2} {k:<34} {v}")
    import os

    print(
        json.dumps(
            {
                "bench": "bench_models",
                "frame": frame_name,
                "frame_px": [640, 480],
                "cpu_count": os.cpu_count(),
                "load_avg_1min": round(os.getloadavg()[0], 2),
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
