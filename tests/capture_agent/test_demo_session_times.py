"""Demo sessions fall on the plan's weekdays, up to the last such day before now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from capture_agent.transport.demo import demo_session_times

MON_WED_FRI = (0, 2, 4)


def _days(times: list[datetime]) -> list[str]:
    return [t.strftime("%a %d %b %H:%M") for t in times]


def test_sessions_fall_on_the_weekdays_oldest_first_up_to_the_last_one() -> None:
    tuesday_noon = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    times = demo_session_times(now=tuesday_noon, count=5, weekdays=MON_WED_FRI)
    assert _days(times) == [
        "Fri 20 Nov 09:30",
        "Mon 23 Nov 09:30",
        "Wed 25 Nov 09:30",
        "Fri 27 Nov 09:30",
        "Mon 30 Nov 09:30",
    ]


def test_todays_session_exists_only_once_its_time_has_passed() -> None:
    before = demo_session_times(
        now=datetime(2026, 11, 30, 8, 0, tzinfo=UTC), count=1, weekdays=MON_WED_FRI
    )
    after = demo_session_times(
        now=datetime(2026, 11, 30, 10, 0, tzinfo=UTC), count=1, weekdays=MON_WED_FRI
    )
    assert _days(before) == ["Fri 27 Nov 09:30"]
    assert _days(after) == ["Mon 30 Nov 09:30"]


@pytest.mark.parametrize("weekdays", [(), (7,), (-1, 2)])
def test_impossible_weekdays_are_refused(weekdays) -> None:
    with pytest.raises(ValueError, match="weekdays must be numbers 0"):
        demo_session_times(now=datetime(2026, 12, 1, tzinfo=UTC), count=3, weekdays=weekdays)
