"""recording_process: decrypt, validate, analyse and store results; idempotent.

Each state transition locks the row, checks the state it expects and writes
its audit event in the same transaction, so a task delivered twice (acks_late
after a worker died, or the stale sweep) moves a recording on exactly once.
Anything that cannot be processed ends rejected (the data is bad) or
quarantined (the server could not; an administrator looks), never dropped.
The result is stored together with the rows other apps derive from it (the
portals' chart figures, hence trends and alerts) in one transaction, through
:func:`clinic.recordings.results.recording_result_store`.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from analysis import SkeletonSequence
from analysis.errors import ImplausibleSkeletonError
from capture_agent import wire
from clinic.audit.services import audit_event_record
from clinic.keys.keyring import KeyringError, transport_keys
from clinic.recordings.analysing import UnknownExerciseError, session_analyse
from clinic.recordings.models import (
    FINAL_STATES,
    Recording,
    RecordingSkeleton,
    RecordingState,
)
from clinic.recordings.results import recording_result_store
from clinic.recordings.storage import skeleton_open, skeleton_seal

logger = logging.getLogger(__name__)

#: A recording whose processing started this often without finishing (a worker
#: killed by it each time) is quarantined instead of retried forever.
MAX_PROCESSING_ATTEMPTS = 5


class _Rejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _Quarantined(_Rejected):
    pass


def _transition(
    recording_id,
    *,
    expect: frozenset[str] | set[str],
    to: str,
    code: str = "",
    reason: str = "",
    details: dict | None = None,
) -> Recording | None:
    """Move to ``to`` if the row is still in one of ``expect``; audit it. None if someone else did."""
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(id=recording_id)
        if recording.state not in expect:
            return None
        previous = recording.state
        recording.state = to
        recording.state_code = code
        recording.state_reason = reason[:300]
        recording.state_changed_at = timezone.now()
        recording.save(update_fields=["state", "state_code", "state_reason", "state_changed_at"])
        audit_event_record(
            action="recording.state",
            outcome="success"
            if to in (RecordingState.VERIFIED, RecordingState.ANALYSED)
            else "failure",
            patient_id=recording.patient_id,
            object_type="recording",
            object_id=str(recording.id),
            details={"from": previous, "to": to, "code": code, **(details or {})},
        )
    return recording


def _decrypt_and_validate(recording: Recording) -> SkeletonSequence:
    try:
        server_key = transport_keys().get(recording.server_key_id)
    except KeyringError as exc:
        raise _Quarantined("server_key_unavailable", str(exc)) from exc
    envelope = wire.parse(bytes(recording.envelope))
    try:
        sequence = wire.open_sequence(envelope, server_key)
    except wire.InvalidPayloadError as exc:
        text = str(exc)
        code = "skeleton_nan" if "NaN" in text or "infinity" in text else "skeleton_invalid"
        raise _Rejected(code, text) from exc
    except wire.EnvelopeError as exc:
        raise _Rejected("undecryptable", f"{exc.code}: {exc}") from exc
    try:
        from analysis.quality import check_plausible

        check_plausible(sequence)
    except ImplausibleSkeletonError as exc:
        raise _Rejected("implausible_bone_lengths", str(exc)) from exc
    return sequence


def recording_process(*, recording_id: str) -> Recording:
    """Bring one recording to a final state; safe to call any number of times."""
    started = time.perf_counter()
    with transaction.atomic():
        recording = Recording.objects.select_for_update().get(id=recording_id)
        if recording.state in FINAL_STATES:
            return recording
        recording.processing_attempts += 1
        recording.save(update_fields=["processing_attempts"])
    if recording.processing_attempts > MAX_PROCESSING_ATTEMPTS:
        _transition(
            recording_id,
            expect={RecordingState.RECEIVED, RecordingState.VERIFIED},
            to=RecordingState.QUARANTINED,
            code="processing_attempts_exhausted",
            reason=f"processing started {recording.processing_attempts} times without finishing",
        )
        return Recording.objects.get(id=recording_id)

    try:
        if recording.state == RecordingState.RECEIVED:
            sequence = _decrypt_and_validate(recording)
            stored = skeleton_seal(recording, sequence)
            with transaction.atomic():
                moved = _transition(
                    recording_id,
                    expect={RecordingState.RECEIVED},
                    to=RecordingState.VERIFIED,
                    details={"n_frames": sequence.n_frames, "key_version": stored.key_version},
                )
                if moved is not None:
                    stored.save(force_insert=True)
            if moved is None:
                return Recording.objects.get(id=recording_id)
        else:
            sequence = skeleton_open(RecordingSkeleton.objects.get(recording_id=recording_id))
        try:
            method, measures, quality = session_analyse(sequence, exercise=recording.exercise)
        except UnknownExerciseError as exc:
            raise _Rejected("unknown_exercise", str(exc)) from exc
    except _Quarantined as exc:
        _transition(
            recording_id,
            expect={RecordingState.RECEIVED, RecordingState.VERIFIED},
            to=RecordingState.QUARANTINED,
            code=exc.code,
            reason=str(exc),
        )
        return Recording.objects.get(id=recording_id)
    except _Rejected as exc:
        _transition(
            recording_id,
            expect={RecordingState.RECEIVED, RecordingState.VERIFIED},
            to=RecordingState.REJECTED,
            code=exc.code,
            reason=str(exc),
        )
        return Recording.objects.get(id=recording_id)
    except Exception as exc:  # noqa: BLE001 - whatever broke, the recording must not vanish
        logger.exception("processing recording %s failed", recording_id)
        _transition(
            recording_id,
            expect={RecordingState.RECEIVED, RecordingState.VERIFIED},
            to=RecordingState.QUARANTINED,
            code="processing_error",
            reason=f"{type(exc).__name__}: {exc}",
        )
        return Recording.objects.get(id=recording_id)

    with transaction.atomic():
        moved = _transition(
            recording_id,
            expect={RecordingState.VERIFIED},
            to=RecordingState.ANALYSED,
            details={"method": method, "measures": len(measures)},
        )
        if moved is not None:
            # The result and what is derived from it (chart figures, hence trends
            # and alerts) in this same transaction: pages only ever read.
            recording_result_store(
                recording=moved,
                analysis_method=method,
                measures=measures,
                quality=quality,
                processing_s=time.perf_counter() - started,
            )
    return Recording.objects.get(id=recording_id)


def recordings_stale(*, older_than: timedelta) -> list[str]:
    """Recordings stuck before a final state (task lost with a killed worker or a broker outage)."""
    cutoff = timezone.now() - older_than
    return [
        str(pk)
        for pk in Recording.objects.filter(
            state__in=[RecordingState.RECEIVED, RecordingState.VERIFIED],
            state_changed_at__lt=cutoff,
        ).values_list("id", flat=True)
    ]
