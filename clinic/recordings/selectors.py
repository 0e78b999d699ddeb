"""Reading recordings through the patient access rule; quarantine for administrators."""

from __future__ import annotations

from django.db.models import QuerySet

from clinic.accounts.models import Role
from clinic.care.selectors import patient_get_for_user
from clinic.recordings.models import Recording, RecordingState


def recording_get_for_user(*, user, recording_id, request=None) -> Recording:
    """A recording whose patient ``user`` may see; Http404 (audited) otherwise."""
    from django.http import Http404

    recording = (
        Recording.objects.filter(id=recording_id).select_related("result").defer("envelope").first()
    )
    if recording is None:
        raise Http404("No such recording.")
    patient_get_for_user(user=user, patient_id=recording.patient_id, request=request)
    return recording


def recordings_for_patient(*, user, patient_id, request=None) -> QuerySet[Recording]:
    patient = patient_get_for_user(user=user, patient_id=patient_id, request=request)
    return Recording.objects.filter(patient=patient).defer("envelope").select_related("result")


def recordings_quarantined(*, user) -> QuerySet[Recording]:
    """What an administrator must look at: state, code and reason, no clinical content."""
    if user is None or not user.is_authenticated or user.role != Role.CLINIC_ADMIN:
        return Recording.objects.none()
    return (
        Recording.objects.filter(state__in=[RecordingState.QUARANTINED, RecordingState.REJECTED])
        .defer("envelope")
        .order_by("-state_changed_at")
    )
