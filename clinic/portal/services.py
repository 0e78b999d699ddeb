"""Writes of the portals: the figures read model and session notes (each audited where it is PHI)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from clinic.audit.services import audit_event_record
from clinic.keys.at_rest import SealedBlob, blob_open, blob_seal
from clinic.portal.figures import result_figures
from clinic.portal.models import SessionFigure, SessionNote
from clinic.recordings.models import Recording, RecordingResult, RecordingState

NOTE_PURPOSE = "session-note"
MAX_NOTE_CHARS = 4000


class NoteInputError(ValueError):
    """A note that cannot be stored (empty or too long)."""


def session_figures_for_result(
    result: RecordingResult, recording: Recording
) -> list[SessionFigure]:
    """Unsaved figure rows for one result (only measures with a number)."""
    rows = []
    for f in result_figures(result.measures):
        if not f.available or f.peak_deg is None:
            continue
        peaks = f.full_rep_peaks_deg
        rows.append(
            SessionFigure(
                recording_id=recording.id,
                patient_id=recording.patient_id,
                recorded_at=recording.recorded_at,
                exercise=recording.exercise,
                measure=f.measure,
                side=f.side,
                primary=f.primary,
                peak_deg=f.peak_deg,
                uncertainty_deg=f.uncertainty_deg,
                flagged=f.flagged,
                rep_peak_low_deg=min(peaks) if peaks else None,
                rep_peak_high_deg=max(peaks) if peaks else None,
                rep_count=len(peaks),
            )
        )
    return rows


def session_figures_store(result: RecordingResult, recording: Recording) -> int:
    """Write one new result's figure rows; runs inside the transaction that stores the result.

    Registered with :func:`clinic.recordings.results.result_stored_hook_register`
    (in ``PortalConfig.ready``), so processing keeps the charts, trends and
    alerts current without importing the portals, and pages only read.
    """
    rows = session_figures_for_result(result, recording)
    SessionFigure.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def session_figures_sync(*, patient_ids=None, recorded_since=None, batch_size: int = 500) -> int:
    """Repair/backfill: copy figures of analysed recordings that have none; returns rows added.

    Processing writes figures with each result (:func:`session_figures_store`),
    so this only matters for results stored before that, or after a change to
    how figures are derived (``manage.py session_figures_backfill``). Never
    called from a read path. ``recorded_since`` narrows the check.
    """
    missing = Recording.objects.filter(state=RecordingState.ANALYSED).filter(
        ~Exists(SessionFigure.objects.filter(recording=OuterRef("pk")))
    )
    if patient_ids is not None:
        missing = missing.filter(patient_id__in=list(patient_ids))
    if recorded_since is not None:
        missing = missing.filter(recorded_at__gte=recorded_since)
    pending_ids = list(missing.values_list("id", flat=True))
    added = 0
    for start in range(0, len(pending_ids), batch_size):
        batch = list(
            RecordingResult.objects.filter(recording_id__in=pending_ids[start : start + batch_size])
            .select_related("recording")
            .defer("recording__envelope")
        )
        rows = [
            row for result in batch for row in session_figures_for_result(result, result.recording)
        ]
        with transaction.atomic():
            SessionFigure.objects.bulk_create(rows, ignore_conflicts=True)
            audit_event_record(
                action="session_figures.backfill",
                outcome="success",
                object_type="recording",
                details={"recordings": len(batch), "rows": len(rows)},
            )
        added += len(rows)
    return added


def session_note_add(*, author, recording: Recording, text: str, request=None) -> SessionNote:
    """Store a note encrypted under the current at-rest key; the caller checked access."""
    text = (text or "").strip()
    if not text:
        raise NoteInputError("a note cannot be empty")
    if len(text) > MAX_NOTE_CHARS:
        raise NoteInputError(
            f"a note may have at most {MAX_NOTE_CHARS} characters, this has {len(text)}"
        )
    note = SessionNote(
        recording=recording,
        patient_id=recording.patient_id,
        author=author,
        created_at=timezone.now(),
    )
    blob = blob_seal(text.encode(), owner=str(note.id), purpose=NOTE_PURPOSE)
    note.key_version, note.wrapped_key, note.ciphertext = (
        blob.key_version,
        blob.wrapped_key,
        blob.ciphertext,
    )
    with transaction.atomic():
        note.save(force_insert=True)
        audit_event_record(
            action="session.note_add",
            outcome="success",
            actor=author,
            patient_id=recording.patient_id,
            object_type="recording",
            object_id=str(recording.id),
            request=request,
            details={"note_id": str(note.id), "chars": len(text)},
        )
    return note


def session_note_text(note: SessionNote) -> str:
    blob = SealedBlob(note.key_version, bytes(note.wrapped_key), bytes(note.ciphertext))
    return blob_open(blob, owner=str(note.id), purpose=NOTE_PURPOSE).decode()


def clinical_event_add(*, actor, patient, kind: str, day, request=None):
    """A dated marker (surgery, baseline…) on the patient's charts; audited."""
    from clinic.portal.models import ClinicalEvent

    if kind not in ClinicalEvent.Kind.values:
        raise NoteInputError(
            f"unknown event kind {kind!r}; known: {', '.join(ClinicalEvent.Kind.values)}"
        )
    with transaction.atomic():
        event = ClinicalEvent.objects.create(
            patient=patient, kind=kind, day=day, created_by=actor, created_at=timezone.now()
        )
        audit_event_record(
            action="patient.event_add",
            outcome="success",
            actor=actor,
            patient_id=patient.id,
            object_type="clinical_event",
            object_id=str(event.id),
            request=request,
            details={"kind": kind},
        )
    return event
