from celery import shared_task

from clinic.core.services import platform_health_check


@shared_task(name="clinic.core.tasks.health_check")
def health_check() -> dict:
    """Thin wrapper: lets beat and operators prove a worker is alive and sees the database."""
    return platform_health_check()
