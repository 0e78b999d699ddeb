"""Reads of the break-glass path; ``active_grant_exists`` is what the care selector consults."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.emergency.models import EmergencyAccessGrant
from clinic.keys.at_rest import SealedBlob, blob_open


def _active(queryset: QuerySet[EmergencyAccessGrant]) -> QuerySet[EmergencyAccessGrant]:
    return queryset.filter(expires_at__gt=timezone.now(), ended_at__isnull=True)


def active_grant_get(*, user, patient_id: uuid.UUID) -> EmergencyAccessGrant | None:
    """The unexpired, unended grant of therapist ``user`` for the patient, if any."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "role", None) != Role.THERAPIST or not user.is_active:
        return None
    return (
        _active(EmergencyAccessGrant.objects.filter(therapist=user, patient_id=patient_id))
        .order_by("-expires_at")
        .first()
    )


def active_grant_exists(*, user, patient_id: uuid.UUID) -> bool:
    return active_grant_get(user=user, patient_id=patient_id) is not None


def grants_of_therapist(*, therapist) -> QuerySet[EmergencyAccessGrant]:
    return EmergencyAccessGrant.objects.filter(therapist=therapist).order_by("-granted_at")


def grants_for_review(*, pending_only: bool = False) -> QuerySet[EmergencyAccessGrant]:
    """Every grant, unreviewed first, newest first within each group."""
    queryset = EmergencyAccessGrant.objects.select_related("therapist", "reviewed_by")
    if pending_only:
        queryset = queryset.filter(reviewed_at__isnull=True)
    return queryset.order_by("reviewed_at", "-granted_at")


def grant_reason(*, grant: EmergencyAccessGrant) -> str:
    """The decrypted reason, for the reviewing administrator only."""
    from clinic.emergency.services import REASON_PURPOSE

    blob = SealedBlob(
        grant.reason_key_version, bytes(grant.reason_wrapped_key), bytes(grant.reason_ciphertext)
    )
    return blob_open(blob, owner=str(grant.id), purpose=REASON_PURPOSE).decode("utf-8")


def emergency_patient_open(*, user, patient_id: uuid.UUID, request=None):
    """The patient under an active grant of ``user``, audited as emergency access; else None.

    Called by ``clinic.care.selectors.patient_get_for_user`` only after the
    care-team rule said no, so every read that break-glass makes possible
    leaves its own ``emergency.access`` row naming the grant.
    """
    grant = active_grant_get(user=user, patient_id=patient_id)
    if grant is None:
        return None
    from clinic.audit.services import audit_event_record

    audit_event_record(
        action="emergency.access",
        outcome="success",
        actor=user,
        patient_id=grant.patient_id,
        object_type="patient",
        object_id=str(grant.patient_id),
        request=request,
        details={"grant_id": str(grant.id), "expires_at": grant.expires_at.isoformat()},
    )
    return grant.patient
