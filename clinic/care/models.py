"""Patients and the therapists responsible for them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Patient(models.Model):
    """The clinical record of one patient, owned by exactly one patient log-in."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patient_profile"
    )
    display_name = models.CharField(max_length=200)
    date_of_birth = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        # Deliberately not the name: str() ends up in logs and error pages.
        return f"Patient {self.id}"


class CareTeam(models.Model):
    """One therapist on one patient's care team; every clinical read is filtered through it."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_team")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_teams"
    )
    is_primary = models.BooleanField(default=False)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient", "therapist"], name="care_team_unique_member")
        ]

    def __str__(self) -> str:
        return f"CareTeam(patient={self.patient_id}, therapist={self.therapist_id})"
