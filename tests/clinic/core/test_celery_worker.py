"""A task round-trips through the configured broker to a real worker process and back."""

import pytest
from django.db import connection

from clinic.core.tasks import health_check


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_health_check_round_trips_through_real_worker(celery_worker_process, settings):
    result = health_check.delay()
    try:
        payload = result.get(timeout=60)
    except Exception:
        print(celery_worker_process.log_text())
        raise
    assert payload["status"] == "ok"
    # The worker is on the same database as this test, not the development one.
    assert payload["database_vendor"] == connection.vendor
    assert payload["database_name"] == str(connection.settings_dict["NAME"])
    expected_transport = (
        "redis" if settings.CELERY_BROKER_URL.startswith("redis") else "sqla+sqlite"
    )
    assert settings.CELERY_BROKER_URL.startswith(expected_transport)
    assert "clinic.core.tasks.health_check" in celery_worker_process.log_text()
