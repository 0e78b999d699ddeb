"""Celery tasks: thin wrappers over the processing service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from clinic.recordings.processing import recording_process, recordings_stale

STALE_AFTER = timedelta(minutes=10)


@shared_task(name="recordings.process", acks_late=True, reject_on_worker_lost=True)
def recording_process_task(recording_id: str) -> str:
    return recording_process(recording_id=recording_id).state


@shared_task(name="recordings.requeue_stale", acks_late=True)
def recordings_requeue_stale_task(older_than_s: float = STALE_AFTER.total_seconds()) -> int:
    """Re-enqueue recordings whose task was lost; processing is idempotent, so doubles are harmless."""
    ids = recordings_stale(older_than=timedelta(seconds=older_than_s))
    for recording_id in ids:
        recording_process_task.delay(recording_id)
    return len(ids)
