"""People who log in to telerehab and the role each one holds."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    THERAPIST = "therapist", "Therapist"
    CLINIC_ADMIN = "clinic_admin", "Clinic administrator"


# Roles that can reach other people's data must prove a second factor.
MFA_REQUIRED_ROLES = frozenset({Role.THERAPIST, Role.CLINIC_ADMIN})


class User(AbstractUser):
    """A person with a log-in. The UUID key never reveals how many users exist."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PATIENT)

    class Meta:
        db_table = "accounts_user"

    def __str__(self) -> str:
        return self.username

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == Role.CLINIC_ADMIN

    @property
    def mfa_required(self) -> bool:
        return self.role in MFA_REQUIRED_ROLES
