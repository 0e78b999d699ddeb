"""``python -m analysis.validate ui-prmd [PATH] --out DIR --json FILE [--loso] [--hip-centre M]``.

Default: apply the calibration model shipped in ``analysis/models`` as it is
and fit nothing (the mode for subjects never seen). ``--loso`` is the
development report: models are fitted leave-one-subject-out on PATH, and
``--write-model FILE`` additionally fits the all-subject model to ship.
``--hip-centre functional`` builds the reference's hip centres by a sphere
fit of each subject's own thigh markers in the pelvis frame
(:mod:`analysis.reference.functional_hip`) instead of Harrington's regression;
``--hip-centre hara`` by Hara et al.'s leg-length regression, which does not
read the pelvis markers' spread.
Prints a JSON summary as its last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from analysis.validate.gait import gait_check, gait_hip_check
from analysis.validate.uiprmd import HIP_CENTRE_METHODS, bland_altman_plots, run

DEFAULT_ROOT = Path("../shared/data/ui-prmd")
GAIT_FILE = Path("../shared/data/gait/walk.c3d")


_HEADER = [
    "| exercise | measure | side | primary | n | bias | MAE | 95% LoA | ICC(A,1) | raw MAE | ±u covers | mean u |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def _rows_md(tab: list[dict[str, Any]], *, primary_only: bool = False) -> list[str]:
    lines = list(_HEADER)
    for r in tab:
        if primary_only and not r["primary"]:
            continue
        lines.append(
            f"| {r['exercise']} | {r['measure']} | {r['side'] or '-'} | {'**yes**' if r['primary'] else ''} "
            f"| {r['n']} | {r['bias_deg']:.1f} | {r['mae_deg']:.1f} | {r['loa_low_deg']:.1f} to {r['loa_high_deg']:.1f} "
            f"| {r['icc']:.2f} | {r['_raw_mae_deg']:.1f} | {100 * r['_coverage']:.0f}% | {r['_mean_uncertainty_deg']:.1f} |"
        )
    return lines


def _markdown(
    result: dict[str, Any], args: argparse.Namespace, gait: dict[str, Any] | None, plots: list[str]
) -> str:
    lines = [
        "# UI-PRMD validation: Kinect v2 (production path) vs Vicon joint centres",
        "",
        f"Command: `python -m analysis.validate ui-prmd {args.path} --out {args.out}"
        f"{' --loso' if args.loso else ''} --hip-centre {args.hip_centre}`",
        "",
        "Calibration: "
        + (
            "leave-one-subject-out (fitted without the reported subject)."
            if args.loso
            else "shipped model applied as is (nothing fitted on this folder)."
        ),
        f"Figure compared: range of motion of each repetition (deg). Pairs: {len(result['pairs'])}; "
        f"repetitions skipped: {len(result['skipped'])}.",
        "bias/MAE/LoA: Kinect minus Vicon. raw MAE: without any calibration. ±u covers: share of "
        "repetitions whose true error lies within ±uncertainty (target ≈68 %, one standard "
        "uncertainty). mean u: mean stated uncertainty (deg).",
        "",
        "## All repetitions (correct and incorrect executions) — the --json table",
        "",
        *_rows_md(result["table"]),
        "",
        "## Correct executions only (primary measures)",
        "",
        *_rows_md(result["table_correct"], primary_only=True),
        "",
        "## Incorrect executions only (primary measures)",
        "",
        *_rows_md(result["table_incorrect"], primary_only=True),
        "",
    ]
    if result.get("functional_hip") or result.get("hip_notes") or result.get("leg_lengths_mm"):
        detail = result.get("functional_hip") or {"leg_lengths_mm": result.get("leg_lengths_mm")}
        lines += [
            f"## Reference hip centres: {result['hip_centre']} "
            "(pelvis frame x anterior, y up, z right, mm)",
            "",
            *[f"- {n}" for n in result.get("hip_notes", [])],
            "```",
            json.dumps(detail, indent=1),
            "```",
            "",
        ]
    if result.get("vicon_angle_check"):
        lines += [
            "## Reference check against Vicon's own knee angles (vicon/angles, where shipped)",
            "",
            "Our marker-based knee flexion minus Vicon's Plug-in Gait knee flexion, per "
            "repetition of the knee exercises (ROM and peak, deg; r: time-series correlation):",
            "",
            "```",
            json.dumps(result["vicon_angle_check"], indent=1),
            "```",
            "",
        ]
    if gait:
        lines += [
            "## Reference joint-centre check on gait/walk.c3d",
            "",
            "```",
            json.dumps(gait, indent=1),
            "```",
            "",
        ]
    if result["skipped"]:
        lines += (
            ["## Skipped repetitions and measures", ""]
            + [f"- {s}" for s in result["skipped"]]
            + [""]
        )
    lines += ["## Plots", ""] + [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.validate")
    parser.add_argument("dataset", choices=["ui-prmd"])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--out", type=Path, default=Path("var/validation"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--loso", action="store_true", help="fit calibration leave-one-subject-out on PATH"
    )
    parser.add_argument(
        "--write-model", type=Path, default=None, help="with --loso: write the all-subject model"
    )
    parser.add_argument(
        "--hip-centre",
        choices=HIP_CENTRE_METHODS,
        default="harrington",
        help="reference hip centre: Harrington (pelvis-marker) or Hara (leg-length) regression, "
        "or per-subject functional sphere fit",
    )
    args = parser.parse_args(argv)
    if args.write_model and not args.loso:
        parser.error("--write-model needs --loso (fitting is only done on development data)")
    start = time.perf_counter()
    result = run(
        args.path, loso=args.loso, write_model=args.write_model, hip_centre=args.hip_centre
    )
    args.out.mkdir(parents=True, exist_ok=True)
    plots = bland_altman_plots(result["rows"], args.out)
    gait = gait_check(GAIT_FILE) if GAIT_FILE.exists() else None
    gait_hip = gait_hip_check(GAIT_FILE) if GAIT_FILE.exists() else None
    report = _markdown(result, args, gait, plots)
    if gait_hip:
        report += (
            "\n## Hip centres on gait/walk.c3d (vs Vicon's Plug-in Gait centre, mm)\n\n```\n"
            + json.dumps(gait_hip, indent=1)
            + "\n```\n"
        )
    (args.out / "report.md").write_text(report, encoding="utf-8")
    public = [{k: v for k, v in r.items() if not k.startswith("_")} for r in result["table"]]
    if args.json:
        args.json.write_text(json.dumps(public, indent=1) + "\n", encoding="utf-8")
    primary = [r for r in result["table"] if r["primary"]]
    rows = result["rows"]
    prim_rows = [r for r in rows if r["pair"].primary]
    summary = {
        "dataset": "ui-prmd",
        "path": str(args.path),
        "mode": "loso" if args.loso else "shipped_model",
        "hip_centre": args.hip_centre,
        "pairs": len(result["pairs"]),
        "skipped": len(result["skipped"]),
        "primary_rows": len(primary),
        "primary_rows_mae_below_5": sum(r["mae_deg"] < 5.0 for r in primary),
        "primary_mae_deg_median": round(float(np.median([r["mae_deg"] for r in primary])), 2)
        if primary
        else None,
        "primary_rows_mae_below_5_correct_only": sum(
            r["mae_deg"] < 5.0 for r in result["table_correct"] if r["primary"]
        ),
        "uncertainty_coverage_primary": round(
            float(np.mean([abs(r["k_rom"] - r["r_rom"]) <= r["sigma"] for r in prim_rows])), 3
        )
        if prim_rows
        else None,
        "gait_knee": gait,
        "gait_hip": gait_hip,
        "reference_vs_vicon_knee": result.get("vicon_angle_check"),
        "functional_hip_distance_mm": {
            subject: {side: v["distance_mm"] for side, v in sides.items()}
            for subject, sides in (result.get("functional_hip") or {}).items()
        }
        or None,
        "leg_lengths_mm": result.get("leg_lengths_mm"),
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(f"report: {args.out / 'report.md'}", file=sys.stderr)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
