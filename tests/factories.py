"""Test data as plain functions: each makes one real row, with defaults that pass validation.

Shared by every test package; other helpers add their own builders here or in
their own modules, importing these for users, patients and care teams.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time

from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import Role
from clinic.care.models import CareTeam, Patient

DEFAULT_PASSWORD = "correct horse battery staple 42"
_counter = itertools.count(1)


def user_create(
    *,
    role: str = Role.PATIENT,
    username: str | None = None,
    password: str = DEFAULT_PASSWORD,
    **extra,
):
    n = next(_counter)
    username = username or f"{role}-{n}"
    return get_user_model().objects.create_user(
        username=username,
        password=password,
        role=role,
        first_name=extra.pop("first_name", "Test"),
        last_name=extra.pop("last_name", f"User{n}"),
        **extra,
    )


def therapist_create(**kwargs):
    return user_create(role=Role.THERAPIST, **kwargs)


def clinic_admin_create(**kwargs):
    return user_create(role=Role.CLINIC_ADMIN, **kwargs)


def patient_create(
    *,
    user=None,
    display_name: str | None = None,
    date_of_birth: dt.date = dt.date(1961, 4, 12),
    therapists=(),
) -> Patient:
    user = user or user_create(role=Role.PATIENT)
    patient = Patient.objects.create(
        user=user,
        display_name=display_name or f"{user.first_name} {user.last_name}",
        date_of_birth=date_of_birth,
    )
    for therapist in therapists:
        care_team_add(patient=patient, therapist=therapist)
    return patient


def care_team_add(*, patient: Patient, therapist, is_primary: bool = False) -> CareTeam:
    return CareTeam.objects.create(patient=patient, therapist=therapist, is_primary=is_primary)


def totp_device_create(*, user, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=confirmed)


def totp_code(device: TOTPDevice, *, at_s: float | None = None) -> str:
    """The 6-digit code an authenticator app would show for ``device`` now (or at ``at_s``)."""
    generator = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    generator.time = time.time() if at_s is None else at_s
    return f"{generator.token():0{device.digits}d}"


def staff_login_verified(client, user, *, password: str = DEFAULT_PASSWORD) -> TOTPDevice:
    """Log ``client`` in as a staff ``user`` through the real password and TOTP pages."""
    device = totp_device_create(user=user)
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302, response.content[:500]
    response = client.post("/accounts/mfa/verify/", {"token": totp_code(device)})
    assert response.status_code == 302, response.content[:500]
    return device
