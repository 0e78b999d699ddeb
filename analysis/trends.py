"""Progress of one patient's measure across sessions.

Theil–Sen slope (median of pairwise slopes; Sen 1968) because home sessions
have outliers — a bad camera day must not bend the trend — with its
confidence interval from ``scipy.stats.theilslopes``. Change since baseline
counts only when it exceeds the minimal detectable change,
MDC95 = 1.96 · √2 · SEM (Weir 2005, J Strength Cond Res 19:231), with SEM
from the sessions' own standard uncertainties unless given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy.stats import theilslopes

from analysis.errors import AnalysisError


class TrendInputError(AnalysisError):
    """Session series that cannot carry a trend (too short, unordered, mismatched)."""


@dataclass(frozen=True)
class Trend:
    n_sessions: int
    slope_deg_per_week: float
    slope_ci_low: float
    slope_ci_high: float
    change_since_baseline_deg: float
    mdc_deg: float
    meaningful_change: bool
    status: str  # "improving", "plateau", "regressing", "insufficient"
    projected_goal_date: str | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _days(times: Sequence[datetime | float]) -> np.ndarray:
    if all(isinstance(t, datetime) for t in times):
        t0 = times[0]
        return np.array([(t - t0).total_seconds() / 86400.0 for t in times])  # type: ignore[operator]
    return np.asarray(times, dtype=np.float64)


def rom_trend(
    times: Sequence[datetime | float],
    values_deg: Sequence[float],
    *,
    uncertainties_deg: Sequence[float] | None = None,
    mdc_deg: float | None = None,
    goal_deg: float | None = None,
    higher_is_better: bool = True,
    confidence: float = 0.95,
) -> Trend:
    """Trend of per-session values (e.g. mean ROM of full reps); times as datetimes or days."""
    t = _days(times)
    y = np.asarray(values_deg, dtype=np.float64)
    if t.shape != y.shape or t.ndim != 1:
        raise TrendInputError(
            f"times and values must be equal-length 1-D, got {t.shape} and {y.shape}"
        )
    if not np.all(np.isfinite(y)) or not np.all(np.isfinite(t)):
        raise TrendInputError("session values and times must be finite")
    if y.size > 1 and not np.all(np.diff(t) > 0):
        raise TrendInputError("session times must be strictly increasing")
    if mdc_deg is None:
        if uncertainties_deg is not None and len(uncertainties_deg) == y.size:
            sem = float(np.sqrt(np.mean(np.square(uncertainties_deg))))
        else:
            sem = float(np.std(np.diff(y), ddof=1) / np.sqrt(2)) if y.size > 2 else 0.0
        mdc_deg = 1.96 * np.sqrt(2.0) * sem
    sign = 1.0 if higher_is_better else -1.0
    if y.size < 3:
        change = float(y[-1] - y[0]) if y.size else 0.0
        return Trend(
            int(y.size),
            0.0,
            0.0,
            0.0,
            change,
            float(mdc_deg),
            abs(change) > mdc_deg,
            "insufficient",
            None,
        )
    slope, intercept, low, high = theilslopes(y, t, alpha=confidence)
    change = float(y[-1] - y[0])
    meaningful = abs(change) > mdc_deg
    if sign * high < 0 or sign * change < -mdc_deg:
        status = "regressing"  # the CI excludes no-change on the bad side, or a real loss
    elif sign * low > 0:
        status = "improving"  # the whole CI is on the good side
    else:
        status = "plateau"  # no detectable trend either way
    projected = None
    if goal_deg is not None and sign * slope > 0 and sign * low > 0:
        fitted_now = intercept + slope * t[-1]
        days_left = (goal_deg - fitted_now) / slope
        if days_left >= 0 and isinstance(times[-1], datetime):
            projected = (times[-1] + timedelta(days=float(days_left))).date().isoformat()
        elif days_left >= 0:
            projected = f"+{days_left:.1f} days"
    week = 7.0
    return Trend(
        n_sessions=int(y.size),
        slope_deg_per_week=float(slope * week),
        slope_ci_low=float(low * week),
        slope_ci_high=float(high * week),
        change_since_baseline_deg=change,
        mdc_deg=float(mdc_deg),
        meaningful_change=meaningful,
        status=status,
        projected_goal_date=projected,
    )
