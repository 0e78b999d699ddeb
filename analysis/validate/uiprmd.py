"""UI-PRMD validation: Kinect v2 through the production path vs the Vicon reference.

Per repetition (each UI-PRMD file is one; the systems are not synchronised),
the Kinect skeleton goes through ``analysis.pipeline.analyse_session`` and
the Vicon markers through ``analysis.reference`` then the same measures. The
figure compared is the repetition's range of motion.

Pairing: a repetition is compared only if both files hold the same movement
window — durations within 25 % and the pelvis's vertical excursion within a
factor of 3 between systems; neither check looks at an angle. A measure is
compared only where both systems observe it on >= 90 % of the frames. The
prescribed side of a unilateral exercise is the side the subject actually
exercised (read from the reference, per subject and exercise: UI-PRMD's s02
did the hurdle step and inline lunge with the left leg), so a primary row
never compares a stance leg.

Calibration (``reference ≈ a + b · kinect`` per measure: b the median ratio
of reference to Kinect ROM, a the median peak offset, over repetitions of the
exercises that prescribe the measure; kept only where an inner
leave-one-subject-out shows it helps) and the uncertainty terms are fitted
leave-one-subject-out for the report: the subject reported on is never in the fit.
Because the correction is linear with b > 0 it commutes with max/min, so it
is applied to the pipeline's session figures exactly as the pipeline applies
it to every frame (a unit test checks the two agree).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from analysis.calibration import CalibrationModel, LinearCorrection, load_model
from analysis.conditioning import condition
from analysis.datasets.uiprmd import (
    EXERCISES as UIPRMD_NAMES,
)
from analysis.datasets.uiprmd import (
    DatasetError,
    kinect_sequence,
    list_repetitions,
    load_vicon_markers_mm,
    vicon_sequence,
)
from analysis.errors import AnalysisError
from analysis.exercises import BY_UIPRMD_ID
from analysis.frames import up_axis
from analysis.measures import MEASURES, compute_measure
from analysis.pipeline import analyse_session
from analysis.reference import (
    PLUG_IN_GAIT_MARKERS,
    fill_marker_gaps,
    hara_hip_centres_pelvis_mm,
    marker_leg_lengths_mm,
)
from analysis.reference.functional_hip import (
    DegenerateMotionError,
    FunctionalHip,
    functional_hip_centres,
)
from analysis.skeleton import JointSource, SkeletonSequence
from analysis.validate.stats import agreement

IDENTITY = CalibrationModel(device="identity")
COVERAGE_TARGET = 0.68
#: The two systems were segmented separately; a pair whose durations differ by
#: more than this ratio is not the same movement window (a different or
#: truncated repetition) and is excluded before any angle is compared.
MAX_DURATION_RATIO = 1.25
#: Same movement window: the pelvis must move vertically by the same amount
#: in both files within this factor. The pelvis is the part both systems track
#: best (Kinect's root joint, Vicon's four pelvis markers) and not a joint whose
#: label a depth sensor can swap. Kinect's waist and Vicon's hip-centre midpoint
#: do disagree: in side lunges (lateral pelvic tilt) Kinect reads 1.2-1.5× the
#: Vicon excursion on correct repetitions and up to 2.3× on incorrect ones whose
#: durations match, so only a factor beyond 3 is taken as a different (or cut)
#: movement — e.g. a 12 cm Vicon dip paired with a 55 cm Kinect squat. Arm
#: exercises (the pelvis moves < MIN_EXCURSION_M) are not judged by it.
MAX_EXCURSION_RATIO = 3.0
MIN_EXCURSION_M = 0.10
#: A measure is compared only if both systems observe it on at least this share
#: of the repetition's frames. Vicon markers lost at the start or end of a file
#: (e.g. STRN in 94 % of m02_s05_e02) cannot be interpolated, and the ROM of the
#: observed part is not the repetition's ROM; 10 % at one end is rest.
MIN_OBSERVED_FRACTION = 0.9
#: Joints whose vertical excursion identifies the movement (both systems have them).
EXCURSION_JOINTS: tuple[str, ...] = ("pelvis",)
#: Reference hip-centre models the harness offers (``--hip-centre``).
HIP_CENTRE_METHODS: tuple[str, ...] = ("harrington", "hara", "functional")
#: Exercises pooled for a subject's functional hip centre: the lower-limb ones
#: move the hip in the sagittal and frontal planes (no single one does enough,
#: see MIN_EXCURSION_MM); the arm exercises add only standing frames.
FUNCTIONAL_HIP_EXERCISES: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
#: Frames kept for the functional fit: every 5th (20 Hz; 100 Hz samples of
#: skin markers are strongly correlated and only cost time).
FUNCTIONAL_HIP_STEP = 5


@dataclass(frozen=True)
class Pair:
    """Kinect (uncalibrated) and reference figures of one measure in one repetition."""

    exercise: int
    subject: int
    correct: bool
    episode: int
    measure: str
    side: str | None
    primary: bool
    k_peak: float
    k_min: float
    k_sigma_rom: float
    r_peak: float
    r_min: float

    @property
    def r_rom(self) -> float:
        return self.r_peak - self.r_min


def vertical_excursions_m(seq: SkeletonSequence) -> dict[str, float]:
    """Robust vertical range (2nd-98th percentile, metres) of each observed movement joint."""
    up = up_axis(seq)
    out: dict[str, float] = {}
    for name in EXCURSION_JOINTS:
        if not seq.has_joint(name):
            continue
        j = seq.joint_names.index(name)
        ok = seq.source[:, j] != JointSource.MISSING
        if ok.sum() < 3:
            continue
        h = seq.positions_m[ok, j].astype(np.float64) @ up
        lo, hi = np.percentile(h, [2.0, 98.0])
        out[name] = float(hi - lo)
    return out


def observed_fraction(seq: SkeletonSequence, measure: str, side: str | None) -> float:
    """Share of frames where every joint the measure needs is observed (not MISSING)."""
    needed = MEASURES[measure].needed_joints(side)
    if not all(seq.has_joint(j) for j in needed):
        return 0.0
    idx = [seq.joint_names.index(j) for j in needed]
    return float(np.mean(np.all(seq.source[:, idx] != JointSource.MISSING, axis=1)))


def same_movement(kinect: dict[str, float], reference: dict[str, float]) -> str | None:
    """None if both files show the same movement; else why not (angle-free check).

    Compares the joint (of EXCURSION_JOINTS) that moves most in the reference
    with the same joint in the Kinect file; movements where it moves less than
    MIN_EXCURSION_M are not judged.
    """
    common = [j for j in reference if j in kinect]
    if not common:
        return None
    joint = max(common, key=lambda j: reference[j])
    ref, kin = reference[joint], kinect[joint]
    if ref < MIN_EXCURSION_M:
        return None
    if not 1 / MAX_EXCURSION_RATIO <= kin / ref <= MAX_EXCURSION_RATIO:
        return (
            f"{joint} moves {100 * kin:.0f} cm vertically in the Kinect file, "
            f"{100 * ref:.0f} cm in the Vicon file (not the same movement window)"
        )
    return None


#: Measure whose reference peak tells which side a unilateral exercise used:
#: the lifted/front/lunging leg flexes its hip most; for the arm exercises the
#: prescribed measure itself.
SIDE_EVIDENCE_LOWER_LIMB = "hip_flexion"


def exercised_sides(pairs: list[Pair]) -> dict[tuple[int, int, bool], str]:
    """(exercise, subject, correct) → the side that subject exercised, from the reference.

    The prescription says which side a patient exercises; UI-PRMD does not, and
    its subjects did not all use the right side. Per subject and execution kind,
    the side whose reference peak of the evidence measure is higher (median over
    the repetitions) is the exercised one. Uses only the reference, never Kinect.
    """
    peaks: dict[tuple[int, int, bool], dict[str, list[float]]] = {}
    for p in pairs:
        ex = BY_UIPRMD_ID[p.exercise]
        if ex.default_side is None or p.side is None:
            continue
        evidence = (
            SIDE_EVIDENCE_LOWER_LIMB
            if SIDE_EVIDENCE_LOWER_LIMB in (*ex.primary, *ex.secondary)
            else ex.driver
        )
        if p.measure != evidence:
            continue
        value = p.r_peak if evidence == SIDE_EVIDENCE_LOWER_LIMB else p.r_peak - p.r_min
        peaks.setdefault((p.exercise, p.subject, p.correct), {}).setdefault(p.side, []).append(
            value
        )
    sides = {}
    for key, by_side in peaks.items():
        med = {s: float(np.median(v)) for s, v in by_side.items() if v}
        if med:
            sides[key] = max(med, key=lambda s: med[s])
    return sides


def mark_exercised_side(pairs: list[Pair]) -> list[Pair]:
    """Pairs with ``primary`` set on the exercised side of unilateral exercises."""
    sides = exercised_sides(pairs)
    out = []
    for p in pairs:
        ex = BY_UIPRMD_ID[p.exercise]
        side = sides.get((p.exercise, p.subject, p.correct))
        if ex.default_side is None or p.side is None or side is None:
            out.append(p)
            continue
        out.append(replace(p, primary=p.measure in ex.primary and p.side == side))
    return out


HipCentres = dict[int, dict[str, np.ndarray]]


def functional_hips(root: Path) -> tuple[dict[int, dict[str, FunctionalHip]], list[str]]:
    """Per subject, functional hip centres from their own Vicon markers (never the Kinect).

    Pools the subject's lower-limb repetitions (correct and incorrect) in the
    folder; a subject whose motion cannot locate a centre keeps Harrington's
    regression, and the note says so.
    """
    trials: dict[int, list[np.ndarray]] = {}
    subjects: set[int] = set()
    for rep in list_repetitions(root):
        subjects.add(rep.subject)
        if rep.exercise not in FUNCTIONAL_HIP_EXERCISES:
            continue
        try:
            markers = load_vicon_markers_mm(rep.vicon_positions)
        except DatasetError:
            continue
        filled = fill_marker_gaps(markers, PLUG_IN_GAIT_MARKERS)[::FUNCTIONAL_HIP_STEP]
        trials.setdefault(rep.subject, []).append(filled)
    fits: dict[int, dict[str, FunctionalHip]] = {}
    notes: list[str] = []
    for subject, subject_trials in sorted(trials.items()):
        try:
            fits[subject] = functional_hip_centres(subject_trials, PLUG_IN_GAIT_MARKERS, step=1)
        except DegenerateMotionError as exc:
            notes.append(f"s{subject:02d}: no functional hip centre ({exc}); Harrington kept")
    for subject in sorted(subjects - set(trials)):
        notes.append(
            f"s{subject:02d}: no readable lower-limb repetition to fit a functional hip centre; "
            "Harrington kept"
        )
    return fits, notes


def hara_hips(
    root: Path,
) -> tuple[dict[int, dict[str, float]], HipCentres, list[str]]:
    """Per subject, leg lengths (mm) and Hara's hip centres from their own Vicon markers.

    A subject's leg length is the median over its correct repetitions of each
    trial's extended-leg ASIS-to-ankle distance (its incorrect ones where a
    folder holds no correct ones: both stand at the start); nothing comes from
    the Kinect or from another subject. A subject whose markers give no length
    keeps Harrington's regression, and the note says so.
    """
    lengths: dict[tuple[int, bool], dict[str, list[float]]] = {}
    subjects: set[int] = set()
    for rep in list_repetitions(root):
        subjects.add(rep.subject)
        try:
            markers = load_vicon_markers_mm(rep.vicon_positions)
        except DatasetError:
            continue
        for side, ll in marker_leg_lengths_mm(markers, PLUG_IN_GAIT_MARKERS).items():
            if np.isfinite(ll):
                lengths.setdefault((rep.subject, rep.correct), {}).setdefault(side, []).append(ll)
    leg_lengths: dict[int, dict[str, float]] = {}
    notes: list[str] = []
    for subject in sorted(subjects):
        for correct in (True, False):
            sides = lengths.get((subject, correct), {})
            if set(sides) == {"left", "right"}:
                leg_lengths[subject] = {side: float(np.median(v)) for side, v in sides.items()}
                if not correct:
                    notes.append(f"s{subject:02d}: leg length from incorrect executions only")
                break
        else:
            notes.append(f"s{subject:02d}: no leg length from its markers; Harrington kept")
    hips = {s: hara_hip_centres_pelvis_mm(ll) for s, ll in leg_lengths.items()}
    return leg_lengths, hips, notes


def functional_hip_summary(fits: dict[int, dict[str, FunctionalHip]]) -> dict[str, Any]:
    """Per subject and side: centres (pelvis frame, mm), distance to Harrington, fit quality."""
    return {
        f"s{subject:02d}": {
            side: {
                "centre_mm": [round(float(v), 1) for v in f.centre_mm],
                "harrington_mm": [round(float(v), 1) for v in f.harrington_mm],
                "distance_mm": round(f.distance_from_harrington_mm, 1),
                "rms_residual_mm": round(f.fit.rms_residual, 1),
                "centre_se_mm": round(f.fit.centre_se, 2),
                "min_excursion_mm": round(f.fit.min_excursion, 1),
            }
            for side, f in sides.items()
        }
        for subject, sides in sorted(fits.items())
    }


def collect_pairs(
    root: Path, hip_centres: HipCentres | None = None
) -> tuple[list[Pair], list[str]]:
    """Every (repetition, measure, side) figure pair, and the repetitions skipped and why.

    ``hip_centres`` (subject -> side -> pelvis-frame centre, mm) replaces
    Harrington's regression in the reference for the subjects it names.
    """
    pairs: list[Pair] = []
    skipped: list[str] = []
    for rep in list_repetitions(root):
        ex = BY_UIPRMD_ID[rep.exercise]
        hips = (hip_centres or {}).get(rep.subject)
        try:
            kin_seq, ref_seq = kinect_sequence(rep), vicon_sequence(rep, hips)
            kin = analyse_session(kin_seq, exercise=ex.name, calibration=IDENTITY)
            ref = analyse_session(ref_seq, exercise=ex.name, calibration=IDENTITY)
        except (DatasetError, AnalysisError) as exc:
            skipped.append(f"{rep.key}: {exc}")
            continue
        ratio = (kin.duration_s + 1 / 30) / (ref.duration_s + 1 / 100)
        if not 1 / MAX_DURATION_RATIO <= ratio <= MAX_DURATION_RATIO:
            skipped.append(
                f"{rep.key}: Kinect lasts {kin.duration_s:.2f} s, Vicon {ref.duration_s:.2f} s "
                "(segmented differently, not the same movement window)"
            )
            continue
        why = same_movement(vertical_excursions_m(kin_seq), vertical_excursions_m(ref_seq))
        if why is not None:
            skipped.append(f"{rep.key}: {why}")
            continue
        for k in kin.measures:
            try:
                r = ref.result(k.measure, k.side)
            except KeyError:
                continue
            figs = (k.session_peak, k.session_min, k.session_rom, r.session_peak, r.session_min)
            if not (k.available and r.available) or any(
                f is None or f.value_deg is None for f in figs
            ):
                continue
            seen = min(
                observed_fraction(kin_seq, k.measure, k.side),
                observed_fraction(ref_seq, k.measure, k.side),
            )
            if seen < MIN_OBSERVED_FRACTION:
                skipped.append(
                    f"{rep.key} {k.measure} {k.side or ''}: observed on {100 * seen:.0f} % of "
                    "the repetition's frames in one system (the ROM of part of a movement)"
                )
                continue
            pairs.append(
                Pair(
                    rep.exercise, rep.subject, rep.correct, rep.episode, k.measure, k.side,
                    k.primary,
                    k.session_peak.value_deg, k.session_min.value_deg,
                    k.session_rom.uncertainty_deg or float("nan"),
                    r.session_peak.value_deg, r.session_min.value_deg,
                )
            )  # fmt: skip
    return mark_exercised_side(pairs), skipped


def _fit_corrections(pairs: list[Pair]) -> dict[str, LinearCorrection]:
    """Per measure: slope = median ratio of reference to Kinect ROM, intercept = median peak offset."""
    corrections: dict[str, LinearCorrection] = {}
    for measure in sorted({p.measure for p in pairs if p.primary}):
        sel = [p for p in pairs if p.primary and p.measure == measure and p.k_peak - p.k_min > 10.0]
        if len(sel) < 10:
            continue
        slope = float(np.median([p.r_rom / (p.k_peak - p.k_min) for p in sel]))
        if slope <= 0:
            continue
        intercept = float(np.median([p.r_peak - slope * p.k_peak for p in sel]))
        corrections[measure] = LinearCorrection(intercept, slope)
    return corrections


def _rom_mae(pairs: list[Pair], corr: LinearCorrection | None) -> float:
    slope = 1.0 if corr is None else corr.slope
    return float(np.mean([abs(slope * (p.k_peak - p.k_min) - p.r_rom) for p in pairs]))


def _select_corrections(pairs: list[Pair]) -> dict[str, LinearCorrection]:
    """Keep a measure's correction only if it lowers MAE in an inner leave-one-subject-out.

    Joint-centre disagreement between a camera and markers is largely
    subject-specific; a population line can make unseen subjects worse, so it
    has to earn its place on subjects it was not fitted on.
    """
    fitted = _fit_corrections(pairs)
    subjects = sorted({p.subject for p in pairs})
    kept: dict[str, LinearCorrection] = {}
    for measure, corr in fitted.items():
        raw, corrected = [], []
        for s in subjects:
            inner = _fit_corrections([p for p in pairs if p.subject != s]).get(measure)
            test = [p for p in pairs if p.subject == s and p.primary and p.measure == measure]
            if test:
                raw.append(_rom_mae(test, None))
                corrected.append(_rom_mae(test, inner))
        if raw and np.mean(corrected) < np.mean(raw):
            kept[measure] = corr
    return kept


def fit_model(pairs: list[Pair], provenance: dict[str, Any]) -> CalibrationModel:
    """Corrections that survive inner LOSO, the systematic terms and the uncertainty scale."""
    corrections = _select_corrections(pairs)
    # 1) one data-quality scale for the device, 2) per measure, the systematic
    # (joint-definition) term needed for that measure's errors to be covered too
    bare = CalibrationModel("kinect_v2", corrections)
    usable = [p for p in pairs if p.primary and np.isfinite(p.k_sigma_rom) and p.k_sigma_rom > 0]
    if not usable:
        return CalibrationModel("kinect_v2", corrections, 1.0, {}, provenance)
    errs = np.array([_calibrated_rom(bare, p) for p in usable])
    scale = float(np.quantile(np.abs(errs[:, 0]) / errs[:, 1], COVERAGE_TARGET))
    systematic: dict[str, float] = {}
    for measure in sorted({p.measure for p in usable}):
        sel = np.array([p.measure == measure for p in usable])
        e, sigma = errs[sel, 0], errs[sel, 1] * scale
        need = np.sqrt(np.maximum(e**2 - sigma**2, 0.0))
        systematic[measure] = round(float(np.quantile(need, COVERAGE_TARGET)), 3)
    return CalibrationModel("kinect_v2", corrections, scale, systematic, provenance)


def _calibrated_rom(model: CalibrationModel, p: Pair) -> tuple[float, float]:
    """(error, uncertainty) of the calibrated Kinect ROM of one pair."""
    corr = model.corrections.get(p.measure, LinearCorrection())
    rom = corr.slope * (p.k_peak - p.k_min)
    return rom - p.r_rom, model.combine(p.measure, abs(corr.slope) * p.k_sigma_rom, rom=True)


def evaluate(pairs: list[Pair], *, loso: bool, shipped: CalibrationModel) -> list[dict[str, Any]]:
    """Per-pair calibrated figures: LOSO models when ``loso``, else the shipped model as is."""
    models: dict[int, CalibrationModel] = {}
    rows = []
    for p in pairs:
        if loso:
            if p.subject not in models:
                models[p.subject] = fit_model(
                    [q for q in pairs if q.subject != p.subject], {"held_out_subject": p.subject}
                )
            model = models[p.subject]
        else:
            model = shipped
        err, sigma = _calibrated_rom(model, p)
        rows.append(
            {
                "pair": p,
                "k_rom": p.r_rom + err,
                "k_rom_raw": p.k_peak - p.k_min,
                "r_rom": p.r_rom,
                "sigma": sigma,
            }
        )
    return rows


def table(rows: list[dict[str, Any]], *, correct: bool | None = None) -> list[dict[str, Any]]:
    """The issue's table: one object per exercise × measure × side (optionally one execution kind)."""
    groups: dict[tuple[int, str, str | None, bool], list[dict[str, Any]]] = {}
    for r in rows:
        p = r["pair"]
        if correct is not None and p.correct != correct:
            continue
        groups.setdefault((p.exercise, p.measure, p.side, p.primary), []).append(r)
    out = []
    for (ex, measure, side, _), g in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], str(kv[0][2]), not kv[0][3])
    ):
        a = agreement(np.array([r["k_rom"] for r in g]), np.array([r["r_rom"] for r in g]))
        out.append(
            {
                "exercise": UIPRMD_NAMES[ex],
                "measure": measure,
                "side": side,
                "n": a.n,
                "bias_deg": round(a.bias_deg, 2),
                "mae_deg": round(a.mae_deg, 2),
                "loa_low_deg": round(a.loa_low_deg, 2),
                "loa_high_deg": round(a.loa_high_deg, 2),
                "icc": round(a.icc, 3),
                "primary": bool(g[0]["pair"].primary),
                "_raw_mae_deg": round(
                    float(np.mean([abs(r["k_rom_raw"] - r["r_rom"]) for r in g])), 2
                ),
                "_coverage": round(
                    float(np.mean([abs(r["k_rom"] - r["r_rom"]) <= r["sigma"] for r in g])), 3
                ),
                "_mean_uncertainty_deg": round(float(np.nanmean([r["sigma"] for r in g])), 2),
            }
        )
    return out


def bland_altman_plots(rows: list[dict[str, Any]], out_dir: Path) -> list[str]:
    """One Bland–Altman PNG per primary exercise × measure × side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[tuple[int, str, str | None], list[dict[str, Any]]] = {}
    for r in rows:
        p = r["pair"]
        if p.primary:
            groups.setdefault((p.exercise, p.measure, p.side), []).append(r)
    names = []
    for (ex, measure, side), g in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1], str(kv[0][2]))
    ):
        k = np.array([r["k_rom"] for r in g])
        ref = np.array([r["r_rom"] for r in g])
        a = agreement(k, ref)
        fig, ax = plt.subplots(figsize=(5, 3.6), dpi=100)
        ax.scatter((k + ref) / 2, k - ref, s=10, alpha=0.7)
        for y, style in ((a.bias_deg, "-"), (a.loa_low_deg, "--"), (a.loa_high_deg, "--")):
            ax.axhline(y, color="k", linestyle=style, linewidth=1)
        ax.set_xlabel("mean of Kinect and Vicon ROM (deg)")
        ax.set_ylabel("Kinect - Vicon ROM (deg)")
        ax.set_title(
            f"{UIPRMD_NAMES[ex]}\n{measure} {side or ''}  n={a.n} MAE={a.mae_deg:.1f}°", fontsize=9
        )
        fig.tight_layout()
        name = f"ba_m{ex:02d}_{measure}_{side or 'none'}.png"
        fig.savefig(out_dir / name)
        plt.close(fig)
        names.append(name)
    return names


#: Columns of UI-PRMD's undocumented ``vicon/angles`` files (39 × 3, degrees)
#: holding Vicon's own (Plug-in Gait) knee flexion, identified from the data:
#: joint 19 / 20, first component, range 0-140° in the deep squat, correlating
#: r ≥ 0.998 over time with the reference's knee flexion, left / right by
#: which leg moves in the hurdle step.
VICON_KNEE_FLEXION_COLUMN: dict[str, int] = {"left": 19 * 3, "right": 20 * 3}


def vicon_angle_check(
    root: Path, hip_centres: HipCentres | None = None
) -> dict[str, dict[str, float]] | None:
    """Our marker-based knee flexion against Vicon's own, per repetition (where shipped).

    Over the exercises prescribed for knee flexion: ROM and peak differences
    (ours minus Vicon's) and the correlation of the two time series.

    Not part of the table: UI-PRMD ships Vicon's angles for s01 only (none for
    unseen subjects), and Plug-in Gait's knee angle is a Cardan angle between
    segment frames, ours the three-point angle every device uses, so a small
    bias is expected. It tells how far the reference itself can be trusted.
    """
    per_side: dict[str, list[tuple[float, float, float, float, float]]] = {}
    for rep in list_repetitions(root):
        if "knee_flexion" not in BY_UIPRMD_ID[rep.exercise].primary:
            continue
        angles = (
            rep.vicon_positions.parent.parent
            / "angles"
            / rep.vicon_positions.name.replace("_positions", "_angles")
        )
        if not angles.exists():
            continue
        try:
            vicon = np.loadtxt(angles, delimiter=",", ndmin=2)
            clean, _ = condition(vicon_sequence(rep, (hip_centres or {}).get(rep.subject)))
        except (OSError, ValueError, AnalysisError):
            continue
        if vicon.shape != (clean.n_frames, 117) or clean.n_frames < 10:
            continue
        for side, col in VICON_KNEE_FLEXION_COLUMN.items():
            ours = compute_measure(clean, "knee_flexion", side)
            theirs = vicon[:, col]
            ok = np.isfinite(ours)
            if ok.sum() < 10:
                continue
            o, t = ours[ok], theirs[ok]
            per_side.setdefault(side, []).append(
                (o.max() - o.min(), t.max() - t.min(), o.max(), t.max(), np.corrcoef(o, t)[0, 1])
            )
    if not per_side:
        return None
    out = {}
    for side, v in sorted(per_side.items()):
        a = np.array(v)
        d_rom = a[:, 0] - a[:, 1]
        out[side] = {
            "n": int(a.shape[0]),
            "rom_bias_deg": round(float(d_rom.mean()), 2),
            "rom_mae_deg": round(float(np.abs(d_rom).mean()), 2),
            "peak_bias_deg": round(float((a[:, 2] - a[:, 3]).mean()), 2),
            "median_r": round(float(np.median(a[:, 4])), 4),
        }
    return out


def run(
    root: Path, *, loso: bool, write_model: Path | None = None, hip_centre: str = "harrington"
) -> dict[str, Any]:
    """Collect, (fit,) evaluate; returns everything the report needs.

    ``hip_centre``: the reference's hip model, one of HIP_CENTRE_METHODS.
    """
    if hip_centre not in HIP_CENTRE_METHODS:
        raise ValueError(f"hip_centre must be one of {HIP_CENTRE_METHODS}, got {hip_centre!r}")
    fits: dict[int, dict[str, FunctionalHip]] = {}
    hip_notes: list[str] = []
    leg_lengths: dict[int, dict[str, float]] = {}
    hips: HipCentres = {}
    if hip_centre == "functional":
        fits, hip_notes = functional_hips(root)
        hips = {s: {side: f.centre_mm for side, f in sides.items()} for s, sides in fits.items()}
    elif hip_centre == "hara":
        leg_lengths, hips, hip_notes = hara_hips(root)
    pairs, skipped = collect_pairs(root, hips)
    shipped = load_model("kinect_v2")
    rows = evaluate(pairs, loso=loso, shipped=shipped)
    final = None
    if write_model is not None:
        subjects = sorted({p.subject for p in pairs})
        final = fit_model(
            pairs,
            {
                "data": "UI-PRMD s"
                + ",s".join(f"{s:02d}" for s in subjects)
                + " correct+incorrect",
                "method": "slope = median ROM ratio, intercept = median peak offset, kept only if inner LOSO improves; "
                "uncertainty scale = 68th percentile of |error|/sigma of calibrated ROM",
                "pairs": len(pairs),
            },
        )
        write_model.write_text(json.dumps(final.to_json(), indent=2, sort_keys=True) + "\n")
    return {
        "pairs": pairs,
        "skipped": skipped,
        "rows": rows,
        "table": table(rows),
        "table_correct": table(rows, correct=True),
        "table_incorrect": table(rows, correct=False),
        "model": final or shipped,
        "vicon_angle_check": vicon_angle_check(root, hips),
        "hip_centre": hip_centre,
        "functional_hip": functional_hip_summary(fits) if fits else None,
        "hip_notes": hip_notes,
        "leg_lengths_mm": {
            f"s{s:02d}": {side: round(v, 1) for side, v in ll.items()}
            for s, ll in leg_lengths.items()
        }
        or None,
    }
