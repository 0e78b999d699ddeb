"""Repetitions, range of motion and tempo from one measure's time series.

A repetition is one excursion of the measure away from its resting value and
back. Peaks are found with a prominence relative to the session's own
movement amplitude (robust 5th-95th percentile span), so the same code
counts a 20° shoulder extension and a 120° squat. A repetition starts where
the movement leaves its rest (within 5 % of the excursion) and ends where it
gets back, so a pause at rest is not counted as rep time; a minimum spacing of
``min_period_s`` stops a tremor or a pause with jitter at the top from
counting twice. Excursions smaller than ``partial_fraction`` of the median
are kept but marked partial and left out of the rep count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.signal import find_peaks

MIN_AMPLITUDE_DEG = 5.0
PROMINENCE_FRACTION = 0.25
ONSET_FRACTION = 0.05
PARTIAL_FRACTION = 0.6
MIN_PERIOD_S = 0.8


@dataclass(frozen=True)
class Repetition:
    """One repetition's window and figures (degrees, seconds)."""

    start_s: float
    peak_s: float
    end_s: float
    peak_deg: float
    min_deg: float
    rom_deg: float
    partial: bool
    #: the whole excursion (lowest rest before → lowest rest after): where figures are read
    window_start_s: float = 0.0
    window_end_s: float = 0.0

    def to_dict(self) -> dict[str, float | bool]:
        return asdict(self)


def _interpolate_nans(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    if ok.all() or not ok.any():
        return x
    return np.interp(t, t[ok], x[ok])


def segment_repetitions(
    t_s: np.ndarray,
    values_deg: np.ndarray,
    *,
    direction: str = "peak",
    min_period_s: float = MIN_PERIOD_S,
) -> list[Repetition]:
    """Repetitions in a (T,) angle series; ``direction="valley"`` for movements that lower the angle."""
    if direction not in ("peak", "valley"):
        raise ValueError(f"direction must be 'peak' or 'valley', got {direction!r}")
    t = np.asarray(t_s, dtype=np.float64)
    x = np.asarray(values_deg, dtype=np.float64)
    if x.size < 3 or np.mean(np.isfinite(x)) < 0.5:
        return []
    x = _interpolate_nans(t, x)
    signed = x if direction == "peak" else -x
    amplitude = np.percentile(signed, 95) - np.percentile(signed, 5)
    full_span = np.ptp(signed)
    if max(amplitude, full_span) < MIN_AMPLITUDE_DEG:
        return []
    fs = 1.0 / np.median(np.diff(t))
    peaks, _ = find_peaks(
        np.concatenate(([-np.inf], signed, [-np.inf])),
        prominence=max(PROMINENCE_FRACTION * max(amplitude, 0.5 * full_span), MIN_AMPLITUDE_DEG),
        distance=max(1, int(min_period_s * fs)),
    )
    peaks = peaks - 1
    reps: list[Repetition] = []
    bounds = np.concatenate(([0], peaks, [x.size - 1]))
    for k, p in enumerate(peaks):
        lo, hi = bounds[k], bounds[k + 2]
        # onset/offset: where the movement leaves/reaches its rest, not the first frame of a pause
        before, after = signed[lo : p + 1], signed[p : hi + 1]
        rest_before, rest_after = before.min(), after.min()
        margin = ONSET_FRACTION * (signed[p] - min(rest_before, rest_after))
        start = lo + int(np.flatnonzero(before <= rest_before + margin)[-1])
        end = p + int(np.flatnonzero(after <= rest_after + margin)[0])
        # figures over the whole excursion, from the lowest rest before to the lowest after
        w_lo, w_hi = lo + int(np.argmin(before)), p + int(np.argmin(after))
        window = x[w_lo : w_hi + 1]
        rest = float(window.min() if direction == "peak" else window.max())
        reps.append(
            Repetition(
                start_s=float(t[start]),
                peak_s=float(t[p]),
                end_s=float(t[end]),
                peak_deg=float(window.max()),
                min_deg=float(window.min()),
                rom_deg=abs(float(x[p]) - rest),
                partial=False,
                window_start_s=float(t[w_lo]),
                window_end_s=float(t[w_hi]),
            )
        )
    if reps:
        median_rom = float(np.median([r.rom_deg for r in reps]))
        reps = [
            Repetition(**{**asdict(r), "partial": r.rom_deg < PARTIAL_FRACTION * median_rom})
            for r in reps
        ]
    return reps


@dataclass(frozen=True)
class Tempo:
    """Pace of the full repetitions: what a therapist prescribes as "slow and controlled"."""

    reps_per_min: float | None
    mean_rep_s: float | None
    mean_rise_s: float | None
    mean_return_s: float | None


def tempo(reps: list[Repetition]) -> Tempo:
    """Tempo of the full (non-partial) repetitions; None where there are none."""
    full = [r for r in reps if not r.partial]
    if not full:
        return Tempo(None, None, None, None)
    span = full[-1].end_s - full[0].start_s
    return Tempo(
        reps_per_min=60.0 * len(full) / span if span > 0 else None,
        mean_rep_s=float(np.mean([r.end_s - r.start_s for r in full])),
        mean_rise_s=float(np.mean([r.peak_s - r.start_s for r in full])),
        mean_return_s=float(np.mean([r.end_s - r.peak_s for r in full])),
    )
