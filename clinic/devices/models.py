"""Capture devices paired to a patient, and the one-time codes that pair them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from clinic.care.models import Patient


class PairingCode(models.Model):
    """A short-lived, single-use code; only its hash is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code_sha256 = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="pairing_codes")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"PairingCode({self.id})"


class Device(models.Model):
    """One capture agent installation; it authenticates by signing with its Ed25519 key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="devices")
    label = models.CharField(max_length=80)
    signing_public_key = models.BinaryField(max_length=32)
    encryption_public_key = models.BinaryField(max_length=32)
    signing_key_id = models.CharField(max_length=32, unique=True)
    paired_at = models.DateTimeField()
    pairing_code = models.OneToOneField(
        PairingCode, on_delete=models.SET_NULL, null=True, blank=True, related_name="device"
    )
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-paired_at"]

    def __str__(self) -> str:
        return f"Device({self.id})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
