"""Trends across sessions: Theil–Sen, MDC, plateau/regression, projected goal date."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from analysis.trends import TrendInputError, rom_trend

START = datetime(2026, 1, 5)


def _days(n, step=7):
    return [START + timedelta(days=step * i) for i in range(n)]


def test_improving_trend_with_outlier_and_goal_date():
    values = [60, 64, 69, 72, 40, 80, 84, 88]  # one bad camera day
    tr = rom_trend(_days(8), values, uncertainties_deg=[3.0] * 8, goal_deg=100.0)
    assert tr.status == "improving"
    assert tr.slope_deg_per_week == pytest.approx(4.0, abs=0.6)
    assert tr.slope_ci_low > 0
    assert tr.mdc_deg == pytest.approx(1.96 * np.sqrt(2) * 3.0)
    assert tr.meaningful_change
    goal = datetime.fromisoformat(tr.projected_goal_date)
    assert START + timedelta(weeks=10) < goal < START + timedelta(weeks=14)


def test_plateau_and_regression():
    flat = rom_trend(
        _days(8), [80, 81, 79, 80, 82, 80, 79, 81], uncertainties_deg=[3.0] * 8, goal_deg=120
    )
    assert (
        flat.status == "plateau" and not flat.meaningful_change and flat.projected_goal_date is None
    )
    down = rom_trend(_days(6), [90, 88, 85, 80, 76, 70], uncertainties_deg=[2.0] * 6)
    assert down.status == "regressing"
    # for a measure where lower is better (e.g. compensatory trunk lean) the same data improves
    assert (
        rom_trend(_days(6), [90, 88, 85, 80, 76, 70], higher_is_better=False).status == "improving"
    )


def test_short_and_invalid_series():
    assert rom_trend([0.0, 7.0], [50, 60], mdc_deg=5.0).status == "insufficient"
    with pytest.raises(TrendInputError, match="increasing"):
        rom_trend([0.0, 7.0, 7.0], [1, 2, 3])
    with pytest.raises(TrendInputError, match="equal-length"):
        rom_trend([0.0, 7.0], [1, 2, 3])
    with pytest.raises(TrendInputError, match="finite"):
        rom_trend([0.0, 7.0, 14.0], [1, np.nan, 3])
