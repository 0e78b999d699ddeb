"""Trend of a measure over sessions: slope, its uncertainty, and when a goal would be reached.

Ordinary least squares of session peak on time in weeks. A slope whose 95 %
interval includes zero is reported as "no clear change" rather than as a
direction, so the words never claim more than the data show.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

MIN_SESSIONS_FOR_TREND = 4
MAX_PROJECTION_WEEKS = 104


@dataclass(frozen=True)
class Trend:
    n_sessions: int
    slope_deg_per_week: float | None
    slope_ci95_deg_per_week: float | None
    fitted_now_deg: float | None
    goal_deg: float | None
    projected_goal_date: dt.date | None

    @property
    def clear(self) -> bool:
        return (
            self.slope_deg_per_week is not None
            and self.slope_ci95_deg_per_week is not None
            and abs(self.slope_deg_per_week) > self.slope_ci95_deg_per_week
        )


def trend_fit(
    *,
    days: np.ndarray,
    peaks_deg: np.ndarray,
    today: dt.date,
    first_day: dt.date,
    goal_deg: float | None,
) -> Trend:
    """``days``: session day numbers since ``first_day``; ``peaks_deg``: their peaks."""
    ok = np.isfinite(peaks_deg)
    x, y = np.asarray(days, float)[ok] / 7.0, np.asarray(peaks_deg, float)[ok]
    n = int(x.size)
    if n < MIN_SESSIONS_FOR_TREND or np.ptp(x) <= 0:
        return Trend(n, None, None, None, goal_deg, None)
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    s2 = float(residual @ residual) / max(n - 2, 1)
    se = np.sqrt(s2 / float(((x - x.mean()) ** 2).sum()))
    ci = 1.96 * float(se)
    now_w = (today - first_day).days / 7.0
    fitted_now = float(slope * now_w + intercept)
    projected = None
    if goal_deg is not None and abs(slope) > ci and slope > 0 and fitted_now < goal_deg:
        weeks = (goal_deg - fitted_now) / slope
        if weeks <= MAX_PROJECTION_WEEKS:
            projected = today + dt.timedelta(days=int(round(weeks * 7)))
    return Trend(n, float(slope), ci, fitted_now, goal_deg, projected)


def trend_words(label: str, trend: Trend, *, today: dt.date) -> str:
    """One sentence a clinician or patient can read aloud."""
    if trend.slope_deg_per_week is None:
        return f"{label}: not enough sessions yet for a trend (needs {MIN_SESSIONS_FOR_TREND})."
    if not trend.clear:
        text = f"{label}: no clear change ({trend.slope_deg_per_week:+.1f}° per week, ±{trend.slope_ci95_deg_per_week:.1f}°)."
    else:
        direction = "improving" if trend.slope_deg_per_week > 0 else "getting worse"
        text = f"{label} is {direction} by {abs(trend.slope_deg_per_week):.1f}° per week (±{trend.slope_ci95_deg_per_week:.1f}°)."
    if trend.goal_deg is not None:
        if trend.fitted_now_deg is not None and trend.fitted_now_deg >= trend.goal_deg:
            text += f" The {trend.goal_deg:.0f}° goal has been reached."
        elif trend.projected_goal_date is not None:
            text += f" At this rate it reaches the {trend.goal_deg:.0f}° goal around {trend.projected_goal_date:%d %B %Y}."
        else:
            text += (
                f" At this rate the {trend.goal_deg:.0f}° goal is not in reach within two years."
            )
    return text
