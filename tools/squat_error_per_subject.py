"""Per-subject deep-squat (m01) Kinect − reference ROM error, Harrington vs functional hips.

Usage: python tools/squat_error_per_subject.py   (from the project root; ~1 min)
Prints the table docs/validation.md quotes and, on its last line, one JSON
object: mean signed error per method, measure, side, subject (correct reps).
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analysis.datasets.uiprmd import list_repetitions  # noqa: E402
from analysis.validate.uiprmd import collect_pairs, functional_hips  # noqa: E402

root = Path("../shared/data/ui-prmd").resolve()
fits, notes = functional_hips(root)
hips = {s: {side: f.centre_mm for side, f in sides.items()} for s, sides in fits.items()}
tmp = Path(tempfile.mkdtemp())
for rep in list_repetitions(root):
    if rep.exercise != 1:
        continue
    for src in (rep.kinect_positions, rep.kinect_angles, rep.vicon_positions):
        rel = src.relative_to(root)
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(src, tmp / rel)
res = {}
for name, h in (("harrington", None), ("functional", hips)):
    pairs, _ = collect_pairs(tmp, h)
    res[name] = pairs
for correct in (True, None):
    print("correct only" if correct else "all executions")
    for measure in ("knee_flexion", "hip_flexion"):
        for side in ("left", "right"):
            line = f"  {measure:12s} {side:5s}"
            for s in range(1, 6):
                cells = []
                for name in ("harrington", "functional"):
                    e = [
                        p.k_peak - p.k_min - p.r_rom
                        for p in res[name]
                        if p.subject == s
                        and p.measure == measure
                        and p.side == side
                        and (correct is None or p.correct == correct)
                    ]
                    cells.append(f"{np.mean(e):+5.1f}")
                line += f" | s{s:02d} {cells[0]} -> {cells[1]}"
            allh = [
                abs(p.k_peak - p.k_min - p.r_rom)
                for p in res["harrington"]
                if p.measure == measure
                and p.side == side
                and (correct is None or p.correct == correct)
            ]
            allf = [
                abs(p.k_peak - p.k_min - p.r_rom)
                for p in res["functional"]
                if p.measure == measure
                and p.side == side
                and (correct is None or p.correct == correct)
            ]
            line += f" | raw MAE {np.mean(allh):.1f} -> {np.mean(allf):.1f}"
            print(line)
# reference ROM itself (how much the reference moved)
print("reference ROM change functional - harrington, mean per subject (correct, m01)")
for measure in ("knee_flexion", "hip_flexion"):
    for side in ("left", "right"):
        hd = {
            (p.subject, p.correct, p.episode): p.r_rom
            for p in res["harrington"]
            if p.measure == measure and p.side == side
        }
        line = f"  {measure:12s} {side:5s}"
        for s in range(1, 6):
            d = [
                p.r_rom - hd[(p.subject, p.correct, p.episode)]
                for p in res["functional"]
                if p.subject == s
                and p.measure == measure
                and p.side == side
                and p.correct
                and (p.subject, p.correct, p.episode) in hd
            ]
            line += f" s{s:02d} {np.mean(d):+5.1f}"
        print(line)

figures = {
    name: {
        f"{measure}_{side}": {
            f"s{s:02d}": round(float(np.mean([
                p.k_peak - p.k_min - p.r_rom for p in res[name]
                if p.subject == s and p.measure == measure and p.side == side and p.correct
            ])), 2)
            for s in range(1, 6)
        }
        for measure in ("knee_flexion", "hip_flexion") for side in ("left", "right")
    }
    for name in ("harrington", "functional")
}  # fmt: skip
print(json.dumps({"deep_squat_correct_mean_error_deg": figures}))
