"""Writes of the break-glass path: grant, end early, review. Each audited in its own transaction."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import Role
from clinic.audit.services import audit_event_record
from clinic.care.models import CareTeam, Patient
from clinic.emergency import errors
from clinic.emergency.models import EmergencyAccessGrant
from clinic.keys.at_rest import blob_seal

#: A reviewer must be able to judge the reason: one word ("urgent") is not enough.
REASON_MIN_CHARS = 20
REASON_MAX_CHARS = 2000
#: Long enough to treat one emergency, short enough that access does not linger.
DEFAULT_DURATION = dt.timedelta(minutes=60)
REASON_PURPOSE = "emergency-reason"

REVIEW_OUTCOMES = ("justified", "unjustified")


def grant_duration() -> dt.timedelta:
    minutes = getattr(settings, "EMERGENCY_ACCESS_MINUTES", None)
    return dt.timedelta(minutes=minutes) if minutes else DEFAULT_DURATION


def _denied(*, action: str, user, request, patient_id, reason: str) -> None:
    audit_event_record(
        action=action,
        outcome="denied",
        actor=user,
        patient_id=patient_id,
        object_type="patient" if patient_id else "",
        object_id=str(patient_id or ""),
        request=request,
        details={"reason": reason},
    )


def emergency_access_grant(
    *, therapist, patient_id: uuid.UUID, reason: str, request=None
) -> EmergencyAccessGrant:
    """Open ``patient_id`` to ``therapist`` for :func:`grant_duration`, on a stated reason.

    Refusals are audited too: a pattern of refused break-glass attempts is
    itself something an administrator needs to see.
    """
    if therapist is None or getattr(therapist, "role", None) != Role.THERAPIST:
        _denied(
            action="emergency.grant",
            user=therapist,
            request=request,
            patient_id=patient_id,
            reason="only therapists may request emergency access",
        )
        raise errors.EmergencyRoleError("only therapists may request emergency access")
    clean_reason = " ".join((reason or "").split())
    if len(clean_reason) < REASON_MIN_CHARS:
        _denied(
            action="emergency.grant",
            user=therapist,
            request=request,
            patient_id=patient_id,
            reason="reason too short",
        )
        raise errors.EmergencyReasonError(
            f"state the clinical reason in at least {REASON_MIN_CHARS} characters"
        )
    if len(clean_reason) > REASON_MAX_CHARS:
        raise errors.EmergencyReasonError(
            f"the reason is longer than {REASON_MAX_CHARS} characters"
        )
    patient = Patient.objects.filter(id=patient_id).first()
    if patient is None:
        _denied(
            action="emergency.grant",
            user=therapist,
            request=request,
            patient_id=patient_id,
            reason="no such patient",
        )
        raise errors.EmergencyPatientNotFoundError("no patient with this id")
    if CareTeam.objects.filter(patient=patient, therapist=therapist).exists():
        _denied(
            action="emergency.grant",
            user=therapist,
            request=request,
            patient_id=patient.id,
            reason="on the care team: ordinary access applies",
        )
        raise errors.EmergencyAccessNotNeededError(
            "you are on this patient's care team; open the patient normally"
        )
    now = timezone.now()
    grant_id = uuid.uuid4()
    sealed = blob_seal(clean_reason.encode("utf-8"), owner=str(grant_id), purpose=REASON_PURPOSE)
    with transaction.atomic():
        grant = EmergencyAccessGrant.objects.create(
            id=grant_id,
            therapist=therapist,
            patient=patient,
            reason_key_version=sealed.key_version,
            reason_wrapped_key=sealed.wrapped_key,
            reason_ciphertext=sealed.ciphertext,
            granted_at=now,
            expires_at=now + grant_duration(),
        )
        audit_event_record(
            action="emergency.grant",
            outcome="success",
            actor=therapist,
            patient_id=patient.id,
            object_type="emergency_grant",
            object_id=str(grant.id),
            request=request,
            details={
                "expires_at": grant.expires_at.isoformat(),
                "reason_chars": len(clean_reason),
            },
        )
    return grant


def emergency_access_end(*, grant: EmergencyAccessGrant, user, request=None) -> None:
    """The therapist closes their own grant before it expires."""
    if grant.therapist_id != getattr(user, "id", None):
        raise errors.EmergencyRoleError("only the therapist who holds a grant can end it")
    if grant.ended_at is not None or grant.expires_at <= timezone.now():
        return
    with transaction.atomic():
        grant.ended_at = timezone.now()
        grant.save(update_fields=["ended_at"])
        audit_event_record(
            action="emergency.end",
            outcome="success",
            actor=user,
            patient_id=grant.patient_id,
            object_type="emergency_grant",
            object_id=str(grant.id),
            request=request,
        )


def emergency_grant_review(
    *, grant_id: uuid.UUID, reviewer, outcome: str, request=None
) -> EmergencyAccessGrant:
    """An administrator records whether the emergency access was justified."""
    if getattr(reviewer, "role", None) != Role.CLINIC_ADMIN:
        raise errors.EmergencyRoleError("only clinic administrators review emergency access")
    if outcome not in REVIEW_OUTCOMES:
        raise errors.EmergencyReviewError(
            f"review outcome must be one of {', '.join(REVIEW_OUTCOMES)}, got {outcome!r}"
        )
    with transaction.atomic():
        grant = EmergencyAccessGrant.objects.select_for_update().filter(id=grant_id).first()
        if grant is None:
            raise errors.EmergencyReviewError("no emergency access grant with this id")
        if grant.reviewed_at is not None:
            raise errors.EmergencyReviewError("this grant was already reviewed")
        grant.reviewed_at = timezone.now()
        grant.reviewed_by = reviewer
        grant.review_outcome = outcome
        grant.save(update_fields=["reviewed_at", "reviewed_by", "review_outcome"])
        audit_event_record(
            action="emergency.review",
            outcome="success",
            actor=reviewer,
            patient_id=grant.patient_id,
            object_type="emergency_grant",
            object_id=str(grant.id),
            request=request,
            details={"review_outcome": outcome, "therapist_id": str(grant.therapist_id)},
        )
    return grant
