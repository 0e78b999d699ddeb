"""Choose the agent's One-Euro parameters on subjects the accuracy figures do not report.

The One-Euro filter trades jitter at rest against lag in motion, and lag
shows up as angle error (a peak reached late is a peak missed). Its
parameters are therefore *chosen on data*, which makes them a fitted model:
this command fits them on ``--select-subjects`` (default s04 and s05) only,
so that ``bench/agent_accuracy.py`` on s01–s03 reports figures the choice
never saw (leave-subjects-out, as the project's validation rules require).

For each take the frames are rendered and run through 2D, lifting and depth
fusion once, unsmoothed; each candidate filter is then applied to those
fused joints in time order, exactly as the pipeline applies it frame by
frame, and scored against the ground truth on the exercises' prescribed
measures. The grid, the chosen pair and the figures of the current default
are printed; the last line is one JSON object.

Usage: python bench/select_smoothing.py [--select-subjects 4 5] [--exercises 1 7]
       [--distances 2.5] [--pose2d blazepose|projected]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import agent_accuracy as acc_bench  # noqa: E402

from analysis.exercises import BY_UIPRMD_ID, prescribed_sides  # noqa: E402
from analysis.measures import MEASURES, measure_sides  # noqa: E402
from analysis.skeleton import JointSource, SkeletonSequence  # noqa: E402
from capture_agent.fusion.smoothing import OneEuroFilter  # noqa: E402
from capture_agent.pipeline import default_lifter, default_pose2d  # noqa: E402
from capture_agent.synthetic.keypoints import ProjectedTruthPose2D  # noqa: E402

MIN_CUTOFFS_HZ = (0.5, 1.0, 2.0, 3.0, 5.0)
BETAS = (0.0, 4.0, 10.0, 20.0, 40.0, 80.0)


class _NoSmoothing:
    """Stands in for OneEuroFilter while the raw takes are made."""

    def __call__(self, x: np.ndarray, _t: float) -> np.ndarray:
        return x

    def reset(self) -> None:
        pass


def smoothed(seq: SkeletonSequence, filt: OneEuroFilter) -> SkeletonSequence:
    """``seq`` filtered frame by frame as the pipeline does (missing joints reset)."""
    filt.reset()
    observed = seq.source != JointSource.MISSING
    out = np.empty_like(seq.positions_m)
    for i, t in enumerate(seq.timestamps_s):
        x = np.where(observed[i][:, None], seq.positions_m[i], np.nan)
        out[i] = np.nan_to_num(filt(x, float(t)), nan=0.0)
    return SkeletonSequence.build(
        joint_names=seq.joint_names, timestamps_s=seq.timestamps_s, positions_m=out,
        confidence=seq.confidence, source=seq.source, metadata=seq.metadata,
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--select-subjects", type=int, nargs="+", default=[4, 5])
    ap.add_argument("--exercises", type=int, nargs="+", default=[1, 7])
    ap.add_argument("--distances", type=float, nargs="+", default=[2.5])
    ap.add_argument("--pose2d", choices=("blazepose", "projected"), default="blazepose")
    args = ap.parse_args()
    t0 = time.perf_counter()
    lifter = default_lifter()
    acc_bench.OneEuroFilter = _NoSmoothing  # raw takes; filters are applied below
    takes = []
    for dist, ex, subj in itertools.product(args.distances, args.exercises, args.select_subjects):
        cfg = acc_bench.first_complete_take(ex, subj, dist)
        if cfg is None:
            print(f"  m{ex:02d} s{subj:02d}: no repetition with every marker; skipped")
            continue
        exercise = BY_UIPRMD_ID[ex]
        measures = [
            (m, s) for m in (*exercise.primary, *exercise.secondary) for s in measure_sides(m)
            if m in MEASURES
        ]  # fmt: skip
        primary = {
            f"{s}_{m}" if MEASURES[m].sided else m
            for m in exercise.primary
            for s in prescribed_sides(exercise, None)
        }
        pose = (
            default_pose2d() if args.pose2d == "blazepose"
            else ProjectedTruthPose2D(cfg.intrinsics, seed=subj)
        )  # fmt: skip
        take = acc_bench.run_take(cfg, pose, lifter, 1)
        takes.append((take, measures, primary, f"m{ex:02d}_s{subj:02d}_e{cfg.episode:02d}"))
        print(f"  {takes[-1][3]} at {dist} m: {take['truth'].n_frames} frames", flush=True)
    if not takes:
        raise SystemExit("no take could be made for the selection subjects")

    def evaluate(min_cutoff_hz: float, beta: float) -> float:
        errs = []
        for take, measures, primary, _ in takes:
            seq = smoothed(
                take["est"]["fused"], OneEuroFilter(min_cutoff_hz=min_cutoff_hz, beta=beta)
            )
            scored = acc_bench.score({"truth": take["truth"], "est": {"fused": seq}}, measures)
            for key, values in scored["fused"]["angle_err_deg"].items():
                if key in primary:
                    errs.extend(values)
        return float(np.mean(errs))

    grid = {}
    for mc, beta in itertools.product(MIN_CUTOFFS_HZ, BETAS):
        grid[f"{mc}/{beta}"] = round(evaluate(mc, beta), 3)
        print(
            f"  min_cutoff {mc:4.1f} Hz  beta {beta:5.1f} s/m  primary MAE {grid[f'{mc}/{beta}']:.3f}°"
        )
    best = min(grid, key=grid.get)
    current = OneEuroFilter()
    current_key = f"{current.min_cutoff_hz}/{current.beta}"
    unsmoothed = round(evaluate(1e6, 0.0), 3)  # cut-off far above Nyquist: the raw joints
    mc, beta = (float(v) for v in best.split("/"))
    print(f"chosen: min_cutoff {mc} Hz, beta {beta} s/m ({grid[best]}°); "
          f"current default {current_key}: {grid.get(current_key)}°; unsmoothed {unsmoothed}°")  # fmt: skip
    print(json.dumps({
        "selection_subjects": args.select_subjects, "exercises": args.exercises,
        "distances_m": args.distances, "pose2d": args.pose2d,
        "takes": [t[3] for t in takes], "criterion": "fused primary angle MAE (deg)",
        "grid_primary_mae_deg": grid, "chosen": {"min_cutoff_hz": mc, "beta": beta},
        "chosen_primary_mae_deg": grid[best], "current_default": current_key,
        "current_default_primary_mae_deg": grid.get(current_key),
        "unsmoothed_primary_mae_deg": unsmoothed,
        "elapsed_s": round(time.perf_counter() - t0, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
