"""Storing a session's result, and the data other apps derive from it, in one transaction.

Why a hook list: apps above ``recordings`` (the portals' chart figures) keep
read models derived from each result, and those must exist the moment the
result does, so that trends and alerts are current at once and every page
only reads. ``recordings`` may not import those apps, so each registers its
writer here from its ``AppConfig.ready``; :func:`recording_result_store`
calls them inside the transaction that stores the result, so a result never
exists without its derived rows (or the other way round).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from clinic.recordings.models import Recording, RecordingResult

ResultStoredHook = Callable[[RecordingResult, Recording], object]

_result_stored_hooks: list[ResultStoredHook] = []


def result_stored_hook_register(hook: ResultStoredHook) -> None:
    """Have ``hook(result, recording)`` run in the transaction of every stored result (once)."""
    if hook not in _result_stored_hooks:
        _result_stored_hooks.append(hook)


def recording_result_store(
    *,
    recording: Recording,
    analysis_method: str,
    measures: list,
    quality: dict,
    processing_s: float,
    created_at=None,
) -> RecordingResult:
    """Create the result row and every registered derived row atomically."""
    with transaction.atomic():
        result = RecordingResult.objects.create(
            recording=recording,
            analysis_method=analysis_method,
            measures=measures,
            quality=quality,
            processing_s=processing_s,
            created_at=created_at or timezone.now(),
        )
        for hook in _result_stored_hooks:
            hook(result, recording)
    return result
