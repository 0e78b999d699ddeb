"""Administrator reads: accounts, care teams, devices, quarantine and the audit log."""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

from clinic.audit.models import AuditEvent
from clinic.care.models import CareTeam, Patient
from clinic.devices.models import Device

AUDIT_PAGE_SIZE = 200


def users_with_care_teams() -> tuple[list, list]:
    """(users, patients with their care-team therapists): three queries whatever the size."""
    users = list(get_user_model().objects.order_by("role", "username"))
    patients = list(
        Patient.objects.select_related("user").prefetch_related(
            Prefetch("care_team", queryset=CareTeam.objects.select_related("therapist"))
        )
    )
    return users, patients


def devices_all() -> QuerySet[Device]:
    return Device.objects.select_related("patient").order_by("revoked_at", "-paired_at")


def audit_events_filtered(
    *,
    username: str = "",
    patient_id: str = "",
    action: str = "",
    outcome: str = "",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int | None = AUDIT_PAGE_SIZE,
) -> list[AuditEvent]:
    """Newest first; each filter narrows (exact user name, patient, action prefix, outcome, time)."""
    events = AuditEvent.objects.all()
    if username:
        events = events.filter(actor_username=username)
    if patient_id:
        try:
            events = events.filter(patient_id=uuid.UUID(patient_id))
        except ValueError:
            return []
    if action:
        events = events.filter(action__startswith=action)
    if outcome:
        events = events.filter(outcome=outcome)
    if since:
        events = events.filter(created_at__gte=since)
    if until:
        events = events.filter(created_at__lt=until)
    events = events.order_by("-sequence")
    return list(events[:limit] if limit else events)
