"""Time-limited emergency access grants, kept for administrator review."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from clinic.care.models import Patient


class EmergencyAccessGrant(models.Model):
    """A therapist's stated reason to open one patient outside their care team, for a limited time.

    The reason is clinical free text, so it is stored encrypted at rest
    (``clinic.keys.at_rest``, purpose ``emergency-reason``, owner = grant id)
    like every other piece of clinical text; the audit trail records that a
    grant exists, not why.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_grants"
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="emergency_grants")
    reason_key_version = models.PositiveIntegerField()
    reason_wrapped_key = models.BinaryField()
    reason_ciphertext = models.BinaryField()
    granted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    review_outcome = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        indexes = [
            models.Index(fields=["therapist", "patient", "expires_at"]),
            models.Index(fields=["reviewed_at", "granted_at"]),
        ]

    def __str__(self) -> str:
        return f"EmergencyAccessGrant({self.id})"
