"""Per-subject deep-squat (m01) Kinect − reference ROM error under each reference hip model.

Usage: python tools/squat_error_per_subject.py   (from the project root; ~1 min)
Prints the tables docs/validation.md quotes (Harrington, Hara, functional hip
centres) and, on its last line, one JSON object: mean signed error per
method, measure, side, subject (correct reps), and each method's mean change
of the reference ROM against Harrington.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from analysis.datasets.uiprmd import list_repetitions  # noqa: E402
from analysis.validate.uiprmd import collect_pairs, functional_hips, hara_hips  # noqa: E402

METHODS = ("harrington", "hara", "functional")
CELLS = [(m, s) for m in ("knee_flexion", "hip_flexion") for s in ("left", "right")]
SUBJECTS = range(1, 6)

root = Path("../shared/data/ui-prmd").resolve()
fits, _ = functional_hips(root)
_, hara, _ = hara_hips(root)  # leg lengths from every correct repetition, own markers only
hips = {
    "harrington": None,
    "hara": hara,
    "functional": {
        s: {side: f.centre_mm for side, f in sides.items()} for s, sides in fits.items()
    },
}
tmp = Path(tempfile.mkdtemp())
for rep in list_repetitions(root):
    if rep.exercise != 1:
        continue
    for src in (rep.kinect_positions, rep.kinect_angles, rep.vicon_positions):
        rel = src.relative_to(root)
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(src, tmp / rel)
res = {name: collect_pairs(tmp, h)[0] for name, h in hips.items()}


def errors(name, measure, side, subject=None, correct=True):
    return [
        p.k_peak - p.k_min - p.r_rom
        for p in res[name]
        if p.measure == measure
        and p.side == side
        and (subject is None or p.subject == subject)
        and (correct is None or p.correct == correct)
    ]


figures: dict = {"deep_squat_correct_mean_error_deg": {}, "reference_rom_change_deg": {}}
for correct in (True, None):
    print("correct only" if correct else "all executions")
    print(
        "| measure | side | hip model | "
        + " | ".join(f"s{s:02d}" for s in SUBJECTS)
        + " | raw MAE |"
    )
    for measure, side in CELLS:
        for name in METHODS:
            means = [np.mean(errors(name, measure, side, s, correct)) for s in SUBJECTS]
            mae = np.mean(np.abs(errors(name, measure, side, None, correct)))
            print(f"| {measure} | {side} | {name} | " + " | ".join(f"{m:+.1f}" for m in means) + f" | {mae:.1f} |")  # fmt: skip
            if correct:
                figures["deep_squat_correct_mean_error_deg"].setdefault(name, {})[f"{measure}_{side}"] = {
                    f"s{s:02d}": round(float(m), 2) for s, m in zip(SUBJECTS, means, strict=True)
                }  # fmt: skip
print("reference ROM change against Harrington, mean per subject (correct, m01)")
for measure, side in CELLS:
    base = {(p.subject, p.episode): p.r_rom for p in res["harrington"] if p.measure == measure and p.side == side and p.correct}  # fmt: skip
    for name in METHODS[1:]:
        d = {
            s: np.mean([p.r_rom - base[(p.subject, p.episode)] for p in res[name]
                        if p.subject == s and p.measure == measure and p.side == side and p.correct
                        and (p.subject, p.episode) in base])
            for s in SUBJECTS
        }  # fmt: skip
        print(f"  {measure:12s} {side:5s} {name:10s} " + " ".join(f"s{s:02d} {v:+5.1f}" for s, v in d.items()))  # fmt: skip
        figures["reference_rom_change_deg"].setdefault(name, {})[f"{measure}_{side}"] = {
            f"s{s:02d}": round(float(v), 2) for s, v in d.items()
        }
print(json.dumps(figures))
