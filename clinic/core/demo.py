"""The demo clinic the README's run command creates: fictional people only.

Idempotent: running it again finds the same accounts, resets their demo
password, and keeps each staff member's authenticator secret so a phone
already set up keeps working.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import Role
from clinic.audit.services import audit_event_record
from clinic.care.models import CareTeam, Patient

DEMO_PASSWORD = "telerehab-demo-2026"  # noqa: S105 - printed on purpose; demo only

DEMO_STAFF = [
    ("admin", Role.CLINIC_ADMIN, "Alex", "Admin"),
    ("therapist1", Role.THERAPIST, "Tara", "Okafor"),
    ("therapist2", Role.THERAPIST, "Ravi", "Lindqvist"),
]
DEMO_PATIENTS = [
    ("patient1", "Jamie", "Rivera", dt.date(1958, 3, 14)),
    ("patient2", "Morgan", "Chen", dt.date(1972, 11, 2)),
    ("patient3", "Sam", "Novak", dt.date(1965, 6, 23)),
    ("patient4", "Robin", "Adeyemi", dt.date(1981, 1, 30)),
    ("patient5", "Kim", "Haddad", dt.date(1949, 9, 8)),
]
#: The exercise each demo patient is prescribed and performs in the demo sessions
#: (plans and back-dated sessions must agree, or the caseload shows false misses).
DEMO_EXERCISES = {
    "patient1": "inline_lunge",
    "patient2": "deep_squat",
    "patient3": "inline_lunge",
    "patient4": "deep_squat",
    "patient5": "inline_lunge",
}
#: The days of the week (0 = Monday) the demo plans prescribe and the demo agents exercise on.
DEMO_PLAN_WEEKDAYS = (0, 2, 4)
# therapist1 cares for patients 1-3, therapist2 for 3-5: patient3 is shared,
# and each therapist has patients they must not be able to open.
DEMO_CARE_TEAMS = {
    "therapist1": ["patient1", "patient2", "patient3"],
    "therapist2": ["patient3", "patient4", "patient5"],
}


class DemoNotAllowedError(RuntimeError):
    """Demo data with a published password must never reach a production database."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    password: str
    totp_device: TOTPDevice | None


def _user_upsert(*, username: str, role: str, first_name: str, last_name: str):
    user, created = get_user_model().objects.get_or_create(
        username=username,
        defaults={"role": role, "first_name": first_name, "last_name": last_name},
    )
    user.role = role
    user.first_name = first_name
    user.last_name = last_name
    user.is_active = True
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user, created


def demo_clinic_seed() -> list[DemoLogin]:
    """Create or refresh the demo clinic; return the log-ins to print."""
    logins: list[DemoLogin] = []
    created_any = False
    with transaction.atomic():
        users = {}
        for username, role, first, last in DEMO_STAFF:
            user, created = _user_upsert(
                username=username, role=role, first_name=first, last_name=last
            )
            created_any |= created
            device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
            if device is None:
                device = TOTPDevice.objects.create(
                    user=user, name="demo authenticator", confirmed=True
                )
            users[username] = user
            logins.append(DemoLogin(username, role, DEMO_PASSWORD, device))
        for username, first, last, born in DEMO_PATIENTS:
            user, created = _user_upsert(
                username=username, role=Role.PATIENT, first_name=first, last_name=last
            )
            created_any |= created
            Patient.objects.get_or_create(
                user=user, defaults={"display_name": f"{first} {last}", "date_of_birth": born}
            )
            users[username] = user
            logins.append(DemoLogin(username, Role.PATIENT, DEMO_PASSWORD, None))
        for therapist_name, patient_names in DEMO_CARE_TEAMS.items():
            for index, patient_name in enumerate(patient_names):
                CareTeam.objects.get_or_create(
                    patient=users[patient_name].patient_profile,
                    therapist=users[therapist_name],
                    defaults={"is_primary": index == 0},
                )
        audit_event_record(
            action="demo.seed",
            outcome="success",
            object_type="clinic",
            details={"created": created_any, "users": len(logins)},
        )
    return logins
