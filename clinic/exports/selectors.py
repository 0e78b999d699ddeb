"""Reads behind each export, audited (action export.<format>) in the same transaction."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404

from clinic.audit.services import audit_event_record
from clinic.care.selectors import patient_get_for_user
from clinic.portal.models import SessionFigure
from clinic.recordings.models import Recording


def export_figures(*, user, patient_id, export_format: str, request=None):
    patient = patient_get_for_user(user=user, patient_id=patient_id, request=request)
    with transaction.atomic():
        rows = list(
            SessionFigure.objects.filter(patient=patient).order_by("recorded_at", "measure", "side")
        )
        audit_event_record(
            action=f"export.{export_format}", outcome="success", actor=user, patient_id=patient.id,
            object_type="patient", object_id=str(patient.id), request=request, details={"rows": len(rows)},
        )  # fmt: skip
    return patient, rows


def export_session_skeleton(*, user, recording_id, request=None):
    from clinic.recordings.storage import skeleton_open

    recording = Recording.objects.filter(id=recording_id).defer("envelope").first()
    if recording is None:
        raise Http404("No such session.")
    patient_get_for_user(user=user, patient_id=recording.patient_id, request=request)
    stored = getattr(recording, "skeleton", None)
    if stored is None:
        raise Http404("This session has no stored skeleton.")
    with transaction.atomic():
        sequence = skeleton_open(stored)
        audit_event_record(
            action="export.trc", outcome="success", actor=user, patient_id=recording.patient_id,
            object_type="recording", object_id=str(recording.id), request=request,
        )  # fmt: skip
    return recording, sequence
