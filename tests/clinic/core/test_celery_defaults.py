"""Every task inherits late acknowledgement, time limits and retries of transient failures."""

import pytest
from django.db.utils import OperationalError

from clinic.celery import ClinicTask, app

attempts: list[int] = []


@app.task(bind=True, name="tests.flaky_database")
def flaky_database(self, fail_times: int) -> int:
    attempts.append(self.request.retries)
    if len(attempts) <= fail_times:
        raise OperationalError("database is restarting")
    return len(attempts)


@app.task(bind=True, name="tests.bad_input")
def bad_input(self) -> None:
    attempts.append(self.request.retries)
    raise ValueError("recording is malformed")


@pytest.fixture(autouse=True)
def _reset_attempts():
    attempts.clear()


def test_defaults_make_lost_work_redeliverable_and_bounded():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    assert isinstance(flaky_database, ClinicTask)


def test_transient_failures_are_retried_until_success():
    result = flaky_database.apply(kwargs={"fail_times": 2})
    assert result.successful()
    assert result.get() == 3
    assert attempts == [0, 1, 2]


def test_retries_stop_at_the_limit():
    result = flaky_database.apply(kwargs={"fail_times": 99})
    assert result.failed()
    assert len(attempts) == ClinicTask.max_retries + 1


def test_business_errors_are_not_retried():
    result = bad_input.apply()
    assert result.failed()
    assert isinstance(result.result, ValueError)
    assert attempts == [0]
