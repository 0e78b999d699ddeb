"""The Celery application. Tasks are thin wrappers over services.

Defaults every task inherits (settings ``CELERY_*`` in ``clinic.settings.base``):
late acknowledgement with redelivery when a worker dies, one task prefetched
at a time, soft/hard time limits, and automatic retries with exponential
back-off and jitter for transient failures (database or broker unreachable).
"""

from __future__ import annotations

import os

from celery import Celery, Task, signals
from django.db.utils import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.dev")


# Failures that say nothing about the task itself: try again later.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
)


class ClinicTask(Task):
    """Base task: retry transient infrastructure failures with back-off, never business errors."""

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 5


@signals.setup_logging.connect
def _logging_from_django_settings(**kwargs) -> None:
    """Workers log through ``settings.LOGGING`` only.

    Without a receiver here Celery adds handlers of its own (task and multiprocessing
    loggers) that lack the PHI-redacting filter (``clinic.core.log_filters``).
    """
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


app = Celery("clinic", task_cls=ClinicTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
