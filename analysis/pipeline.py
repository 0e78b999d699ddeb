"""The one entry point production uses: skeleton in, clinical figures out.

``analyse_session`` runs plausibility → conditioning → measures → device
calibration → repetitions → uncertainty, and returns plain JSON-able data.
The validation harness calls exactly this function on Kinect data, so the
figures in docs/validation.md describe what patients and therapists see.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from analysis.calibration import CalibrationModel, load_model
from analysis.conditioning import bone_lengths, condition
from analysis.errors import MeasureUnavailableError
from analysis.exercises import get_exercise, prescribed_sides
from analysis.measures import compute_measure, measure_sides
from analysis.normative import AAOS_NORMATIVE
from analysis.quality import check_plausible
from analysis.reps import Repetition, segment_repetitions, tempo
from analysis.skeleton import JointSource, SkeletonSequence
from analysis.uncertainty import FLAG_THRESHOLD_DEG, angle_sigma_deg, joint_sigma_m


@dataclass(frozen=True)
class Figure:
    """A number a clinician reads, with its standard uncertainty and flag."""

    value_deg: float | None
    uncertainty_deg: float | None
    flagged: bool

    @classmethod
    def of(cls, value: float, sigma: float) -> Figure:
        if not math.isfinite(value):
            return cls(None, None, True)
        s = float(sigma) if math.isfinite(sigma) else None
        return cls(
            round(float(value), 2),
            None if s is None else round(s, 2),
            s is None or s > FLAG_THRESHOLD_DEG,
        )


@dataclass(frozen=True)
class RepFigures:
    start_s: float
    peak_s: float
    end_s: float
    partial: bool
    peak: Figure
    min: Figure
    rom: Figure


@dataclass(frozen=True)
class MeasureResult:
    measure: str
    side: str | None
    primary: bool
    available: bool
    reason: str | None = None
    session_peak: Figure | None = None
    session_min: Figure | None = None
    session_rom: Figure | None = None
    reps: list[RepFigures] = field(default_factory=list)
    rep_count: int = 0
    partial_reps: int = 0
    tempo: dict[str, float | None] = field(default_factory=dict)
    normative_deg: tuple[float, float] | None = None


@dataclass(frozen=True)
class SessionAnalysis:
    exercise: str
    side: str | None
    duration_s: float
    n_frames: int
    rep_count: int
    measures: list[MeasureResult]
    quality: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def result(self, measure: str, side: str | None) -> MeasureResult:
        for r in self.measures:
            if r.measure == measure and r.side == side:
                return r
        raise KeyError(f"no result for {measure} ({side})")


class _Series:
    """One measure's values ready for repeated window queries (NaN-safe argmax/argmin)."""

    def __init__(self, t: np.ndarray, values: np.ndarray) -> None:
        self.t, self.values = t, values
        finite = np.isfinite(values)
        self.for_max = np.where(finite, values, -np.inf)
        self.for_min = np.where(finite, values, np.inf)

    def extremes(self, lo_s: float, hi_s: float) -> tuple[int, int] | None:
        """Frame indices of the maximum and minimum inside [lo_s, hi_s], or None if all NaN."""
        lo = int(np.searchsorted(self.t, lo_s, "left"))
        hi = int(np.searchsorted(self.t, hi_s, "right"))
        if hi <= lo or not np.isfinite(self.for_max[lo:hi]).any():
            return None
        return lo + int(np.argmax(self.for_max[lo:hi])), lo + int(np.argmin(self.for_min[lo:hi]))

    def figures(
        self, ext: tuple[int, int] | None, sigma: dict[int, float]
    ) -> tuple[Figure, Figure, Figure]:
        if ext is None:
            nan = Figure(None, None, True)
            return nan, nan, nan
        i_max, i_min = ext
        v_max, v_min = float(self.values[i_max]), float(self.values[i_min])
        s_max, s_min = sigma[i_max], sigma[i_min]
        return (
            Figure.of(v_max, s_max),
            Figure.of(v_min, s_min),
            Figure.of(v_max - v_min, math.hypot(s_max, s_min)),
        )


def _jitter_m(raw: SkeletonSequence, smooth: SkeletonSequence) -> np.ndarray:
    """(J,) RMS distance between raw and conditioned positions over observed frames."""
    ok = (raw.source != JointSource.MISSING) & (smooth.source != JointSource.MISSING)
    d = raw.positions_m - smooth.positions_m
    d2 = np.einsum("tjc,tjc->tj", d, d).astype(np.float64)
    n = ok.sum(axis=0)
    return np.sqrt(np.where(n > 0, np.sum(np.where(ok, d2, 0.0), axis=0) / np.maximum(n, 1), 0.0))


def analyse_session(
    seq: SkeletonSequence,
    *,
    exercise: str,
    side: str | None = None,
    calibration: CalibrationModel | None = None,
) -> SessionAnalysis:
    """Every prescribed and secondary measure of one exercise session, per side.

    ``side`` overrides the exercise's default moving side for unilateral
    exercises. ``calibration`` defaults to the model shipped for
    ``seq.metadata["device"]`` (identity when there is none).
    """
    ex = get_exercise(exercise)
    lengths = bone_lengths(seq)
    segments = check_plausible(seq, lengths)
    clean, report = condition(seq, lengths=lengths)
    model = calibration if calibration is not None else load_model(seq.metadata.get("device"))
    jitter = _jitter_m(seq, clean)
    bone_sd = {k: v * segments.get(k, 0.0) for k, v in report.bone_length_cv.items()}
    sigma_m = joint_sigma_m(clean, jitter, bone_sd)
    t = clean.timestamps_s
    pos64 = clean.positions_m.astype(np.float64)
    primary_sides = prescribed_sides(ex, side)

    series: dict[tuple[str, str | None], np.ndarray] = {}
    reasons: dict[tuple[str, str | None], str] = {}
    for name in (*ex.primary, *ex.secondary):
        for s in measure_sides(name):
            try:
                values = model.correct(name, compute_measure(clean, name, s, positions_m=pos64))
            except MeasureUnavailableError as exc:
                reasons[(name, s)] = str(exc)
                continue
            series[(name, s)] = values

    driver_side = primary_sides[0] if measure_sides(ex.driver)[0] is not None else None
    driver = series.get((ex.driver, driver_side))
    windows: list[Repetition] = (
        segment_repetitions(t, driver, direction=ex.direction) if driver is not None else []
    )
    full = [w for w in windows if not w.partial]

    results: list[MeasureResult] = []
    for name in (*ex.primary, *ex.secondary):
        for s in measure_sides(name):
            is_primary = name in ex.primary and (s is None or s in primary_sides)
            norm = AAOS_NORMATIVE.get(name)
            if (name, s) not in series:
                results.append(MeasureResult(name, s, is_primary, False, reasons.get((name, s))))
                continue
            one = _Series(t, series[(name, s)])
            spans = [(t[0], t[-1])] + [(w.window_start_s, w.window_end_s) for w in windows]
            ext = [one.extremes(a, b) for a, b in spans]
            # uncertainty only where a figure is read: the peaks and minima
            frames = np.unique([i for e in ext if e is not None for i in e]).astype(np.intp)
            slope = abs(model.corrections[name].slope) if name in model.corrections else 1.0
            frame_sigma = model.combine(
                name, angle_sigma_deg(clean, name, s, sigma_m, frames=frames) * slope
            )
            sigma = dict(zip(frames.tolist(), np.atleast_1d(frame_sigma).tolist(), strict=True))
            peak, low, rom = one.figures(ext[0], sigma)
            reps = []
            for w, e in zip(windows, ext[1:], strict=True):
                rp, rl, rr = one.figures(e, sigma)
                reps.append(RepFigures(w.start_s, w.peak_s, w.end_s, w.partial, rp, rl, rr))
            results.append(
                MeasureResult(
                    measure=name,
                    side=s,
                    primary=is_primary,
                    available=True,
                    session_peak=peak,
                    session_min=low,
                    session_rom=rom,
                    reps=reps,
                    rep_count=len(full),
                    partial_reps=len(windows) - len(full),
                    tempo=asdict(tempo(windows)),
                    normative_deg=None if norm is None else (norm.low_deg, norm.high_deg),
                )
            )
    observed = clean.source != JointSource.MISSING
    n_obs = max(int(observed.sum()), 1)
    quality = {
        "device": seq.metadata.get("device"),
        "calibration": "identity" if model.is_identity else model.device,
        "cutoff_hz": round(report.cutoff_hz, 2),
        "rejected_fraction": round(report.rejected_samples / n_obs, 4),
        "interpolated_fraction": round(report.filled_samples / n_obs, 4),
        "lifted_fraction": round(float(np.sum(clean.source == JointSource.LIFTED)) / n_obs, 4),
        "depth_fraction": round(float(np.sum(clean.source == JointSource.DEPTH)) / n_obs, 4),
        "mean_confidence": round(
            float(clean.confidence[observed].mean()) if observed.any() else 0.0, 3
        ),
        "jitter_mm": round(
            float(np.median(jitter[observed.any(axis=0)]) * 1000.0) if observed.any() else 0.0, 2
        ),
        "bone_length_cv": {k: round(v, 4) for k, v in report.bone_length_cv.items()},
    }
    return SessionAnalysis(
        exercise=ex.name,
        side=side or ex.default_side,
        duration_s=float(t[-1] - t[0]) if seq.n_frames else 0.0,
        n_frames=seq.n_frames,
        rep_count=len(full),
        measures=results,
        quality=quality,
    )
