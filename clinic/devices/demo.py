"""Pairing codes for the demo agents that send the demo clinic's back-dated sessions.

Why codes and not a shortcut that writes recordings: the demo data must take
the real path (agent process → ingest API → worker), so each demo patient's
agent pairs like any other, with a one-time code its primary therapist
created through :func:`pairing_code_create` (audited there). Patients that
already have recordings are left alone, so re-running the README's run
command adds nothing; an agent that is already paired to an active device of
its patient (a run interrupted mid-upload) gets no new code and just resumes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings

from clinic.care.models import CareTeam, Patient
from clinic.core.demo import (
    DEMO_EXERCISES,
    DEMO_PATIENTS,
    DEMO_PLAN_WEEKDAYS,
    DemoNotAllowedError,
)
from clinic.devices.errors import PairingRateLimitedError
from clinic.devices.models import Device
from clinic.devices.services import pairing_code_create


def _as_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class DemoAgentTask:
    """What one demo agent must do: pair with ``code`` (None: already paired) and send sessions."""

    username: str
    index: int  # position among the demo patients, so each agent moves differently
    patient_id: str
    code: str | None
    exercise: str = ""
    error: str = ""
    weekdays: tuple[int, ...] = DEMO_PLAN_WEEKDAYS  # the days the demo plan prescribes


def demo_agent_tasks(
    *, known_devices: dict[str, str] | None = None, usernames: list[str] | None = None
) -> list[DemoAgentTask]:
    """One task per demo patient that has no recording yet, in the demo's patient order.

    ``known_devices`` maps a username to the device id its agent home already
    holds; that agent needs no code when the device is still an active device
    of the same patient. ``usernames`` narrows the demo patients considered.
    """
    if not getattr(settings, "TELEREHAB_DEMO_ALLOWED", False):
        raise DemoNotAllowedError("these settings do not allow demo data")
    known_devices = known_devices or {}
    demo_usernames = [row[0] for row in DEMO_PATIENTS]
    patients = {
        p.user.username: p
        for p in Patient.objects.filter(user__username__in=demo_usernames).select_related("user")
    }
    tasks: list[DemoAgentTask] = []
    for index, username in enumerate(demo_usernames):
        patient = patients.get(username)
        if usernames is not None and username not in usernames:
            continue
        if patient is None or patient.recordings.exists():
            continue
        known = _as_uuid(known_devices.get(username))
        if (
            known
            and Device.objects.filter(id=known, patient=patient, revoked_at__isnull=True).exists()
        ):
            tasks.append(
                DemoAgentTask(username, index, str(patient.id), None, DEMO_EXERCISES[username])
            )
            continue
        member = (
            CareTeam.objects.filter(patient=patient)
            .select_related("therapist")
            .order_by("-is_primary", "therapist__username")
            .first()
        )
        actor = member.therapist if member is not None else patient.user
        try:
            _, code = pairing_code_create(actor=actor, patient=patient)
        except PairingRateLimitedError as exc:
            tasks.append(
                DemoAgentTask(
                    username, index, str(patient.id), None, DEMO_EXERCISES[username], str(exc)
                )
            )
            continue
        tasks.append(
            DemoAgentTask(username, index, str(patient.id), code, DEMO_EXERCISES[username])
        )
    return tasks
