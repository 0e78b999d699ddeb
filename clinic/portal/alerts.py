"""Caseload alerts, as pure functions of a patient's recent figures, sessions, plan and devices.

ROM regression is judged against the minimal detectable change: two
sessions' peaks each carry a standard uncertainty u, so their difference has
u_diff = sqrt(u1² + u2²) and a change is detectable at 95 % beyond
1.96 · u_diff — never below MDC_FLOOR_DEG, the platform's validation
tolerance, so that a perfectly steady sensor cannot make noise an alert.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from statistics import median

MDC_FLOOR_DEG = 5.0
UNCERTAINTY_ALERT_DEG = 5.0
REFERENCE_SESSIONS = 3
MISSED_WINDOW_DAYS = 7


@dataclass(frozen=True)
class Alert:
    kind: str  # regression | missed | uncertain | silent | no_device
    text: str


def mdc95_deg(u_a_deg: float | None, u_b_deg: float | None) -> float:
    u_a, u_b = u_a_deg or 0.0, u_b_deg or 0.0
    return max(MDC_FLOOR_DEG, 1.96 * math.sqrt(u_a * u_a + u_b * u_b))


def regression_alerts(
    series: dict[tuple[str, str], list[tuple[dt.datetime, float, float | None]]], label
) -> list[Alert]:
    """``series``: (measure, side) → [(recorded_at, peak_deg, uncertainty_deg)] oldest first."""
    alerts = []
    for (measure, side), points in sorted(series.items()):
        if len(points) < REFERENCE_SESSIONS + 1:
            continue
        latest = points[-1]
        reference = points[-1 - REFERENCE_SESSIONS : -1]
        ref_peak = median(p[1] for p in reference)
        ref_u = median((p[2] or 0.0) for p in reference)
        drop = ref_peak - latest[1]
        mdc = mdc95_deg(latest[2], ref_u)
        if drop > mdc:
            alerts.append(
                Alert(
                    "regression",
                    f"{label(measure, side)} fell {drop:.0f}° (beyond the {mdc:.0f}° detectable change)",
                )
            )
    return alerts


def missed_sessions(*, due_days: list[tuple[dt.date, str]], done: set[tuple[dt.date, str]]) -> int:
    """How many (day, exercise) sessions that were due have no recording that day."""
    return sum(1 for key in due_days if key not in done)


def caseload_alerts(
    *,
    regression: list[Alert],
    missed: int,
    latest_flagged: bool,
    device_last_seen: dt.datetime | None,
    has_device: bool,
    has_plan: bool,
    now: dt.datetime,
    silent_days: int,
) -> list[Alert]:
    alerts = list(regression)
    if missed:
        alerts.append(
            Alert(
                "missed",
                f"{missed} missed session{'s' if missed != 1 else ''} in {MISSED_WINDOW_DAYS} days",
            )
        )
    if latest_flagged:
        alerts.append(
            Alert(
                "uncertain",
                f"latest session has figures with uncertainty over {UNCERTAINTY_ALERT_DEG:.0f}°",
            )
        )
    if has_plan and not has_device:
        alerts.append(Alert("no_device", "no device paired"))
    elif has_device and (
        device_last_seen is None or now - device_last_seen > dt.timedelta(days=silent_days)
    ):
        alerts.append(Alert("silent", f"device silent for more than {silent_days} days"))
    return alerts
