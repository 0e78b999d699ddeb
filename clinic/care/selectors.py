"""Reading patients, always through the care team.

Every clinical read starts here so the access rule lives in one place:
a patient sees their own record; a therapist sees the patients on whose care
team they are; a clinic administrator manages accounts but has no clinical
access (emergency "break-glass" access is a separate, audited path).
"""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from clinic.accounts.models import Role
from clinic.audit.services import audit_event_record
from clinic.care.models import Patient


def patients_visible_to(*, user) -> QuerySet[Patient]:
    """The patients ``user`` may see clinically (possibly none)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    if user.role == Role.PATIENT:
        return Patient.objects.filter(user=user)
    if user.role == Role.THERAPIST:
        return Patient.objects.filter(care_team__therapist=user).distinct()
    return Patient.objects.none()


def patient_get_for_user(*, user, patient_id, request=None) -> Patient:
    """The patient if ``user`` may see it; otherwise audit the denial and raise Http404.

    404 rather than 403 so that a probing user cannot tell an existing patient
    from a missing one. The denial is audited immediately: do not call this
    inside a transaction you roll back on Http404, or the denial row goes too.
    """
    try:
        wanted = patient_id if isinstance(patient_id, uuid.UUID) else uuid.UUID(str(patient_id))
    except ValueError:
        wanted = None
    patient = None
    if wanted is not None:
        patient = patients_visible_to(user=user).filter(id=wanted).first()
    if patient is None and wanted is not None:
        from clinic.emergency.selectors import emergency_patient_open

        patient = emergency_patient_open(user=user, patient_id=wanted, request=request)
    if patient is None:
        audit_event_record(
            action="patient.access",
            outcome="denied",
            actor=user,
            patient_id=wanted,
            object_type="patient",
            object_id=str(patient_id)[:100],
            request=request,
            details={"reason": "not visible to this user" if wanted else "malformed patient id"},
        )
        raise Http404("No such patient.")
    return patient
