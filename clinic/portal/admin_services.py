"""Administrator writes: roles and care-team membership, each audited with the change."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from clinic.accounts.models import Role
from clinic.audit.services import audit_event_record
from clinic.care.models import CareTeam, Patient


class AdminInputError(ValueError):
    """An administrative change that is not allowed (named in the message)."""


def user_role_set(*, actor, user, role: str, request=None):
    if role not in Role.values:
        raise AdminInputError(f"unknown role {role!r}; known: {', '.join(Role.values)}")
    if user.pk == actor.pk:
        raise AdminInputError("administrators cannot change their own role")
    if role != Role.PATIENT and Patient.objects.filter(user=user).exists():
        raise AdminInputError("this log-in owns a patient record and must stay a patient")
    with transaction.atomic():
        previous = user.role
        user.role = role
        user.save(update_fields=["role"])
        audit_event_record(
            action="user.role_set", outcome="success", actor=actor, object_type="user",
            object_id=str(user.pk), request=request, details={"from": previous, "to": role},
        )  # fmt: skip
    return user


def care_team_assign(*, actor, patient: Patient, therapist, request=None) -> CareTeam:
    if therapist.role != Role.THERAPIST:
        raise AdminInputError("only therapists can join a care team")
    try:
        with transaction.atomic():
            member = CareTeam.objects.create(patient=patient, therapist=therapist)
            audit_event_record(
                action="care_team.assign", outcome="success", actor=actor, patient_id=patient.id,
                object_type="user", object_id=str(therapist.pk), request=request,
            )  # fmt: skip
    except IntegrityError:
        raise AdminInputError("this therapist is already on the patient's care team") from None
    return member


def care_team_remove(*, actor, patient: Patient, therapist, request=None) -> None:
    with transaction.atomic():
        deleted, _ = CareTeam.objects.filter(patient=patient, therapist=therapist).delete()
        if not deleted:
            raise AdminInputError("this therapist is not on the patient's care team")
        audit_event_record(
            action="care_team.remove", outcome="success", actor=actor, patient_id=patient.id,
            object_type="user", object_id=str(therapist.pk), request=request,
        )  # fmt: skip
