"""Recordings as received (ciphertext), their decrypted skeleton (encrypted at rest), and results.

The database never holds a plaintext skeleton: ``Recording.envelope`` is the
device's ciphertext exactly as received, ``RecordingSkeleton`` is the
server's own at-rest encryption of what it decrypted.
"""

from __future__ import annotations

from django.db import models

from clinic.care.models import Patient
from clinic.devices.models import Device


class RecordingState(models.TextChoices):
    RECEIVED = "received", "Received (signature verified, ciphertext stored)"
    VERIFIED = "verified", "Verified (decrypted, valid skeleton stored encrypted)"
    ANALYSED = "analysed", "Analysed"
    REJECTED = "rejected", "Rejected (the skeleton is invalid)"
    QUARANTINED = "quarantined", "Quarantined (could not be processed; needs an administrator)"


FINAL_STATES = frozenset(
    {RecordingState.ANALYSED, RecordingState.REJECTED, RecordingState.QUARANTINED}
)


class Recording(models.Model):
    id = models.UUIDField(primary_key=True, editable=False)  # the device's recording id
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="recordings")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="recordings")
    exercise = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()
    received_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=RecordingState.choices)
    state_code = models.CharField(max_length=64, blank=True)
    state_reason = models.CharField(max_length=300, blank=True)
    state_changed_at = models.DateTimeField()
    envelope = models.BinaryField()
    envelope_sha256 = models.CharField(max_length=64)
    envelope_bytes = models.PositiveIntegerField()
    payload_encoding = models.CharField(max_length=32)
    server_key_id = models.CharField(max_length=32)
    processing_attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-recorded_at"]
        indexes = [
            models.Index(fields=["patient", "recorded_at"]),
            models.Index(fields=["state", "state_changed_at"]),
            models.Index(fields=["device", "received_at"]),  # the per-device upload limit
        ]

    def __str__(self) -> str:
        return f"Recording({self.id}, {self.state})"


class RecordingSkeleton(models.Model):
    """The validated skeleton, encrypted under a versioned storage key (see clinic.keys.at_rest)."""

    recording = models.OneToOneField(
        Recording, on_delete=models.CASCADE, primary_key=True, related_name="skeleton"
    )
    key_version = models.PositiveIntegerField()
    wrapped_key = models.BinaryField()
    ciphertext = models.BinaryField()
    payload_encoding = models.CharField(max_length=32)
    n_frames = models.PositiveIntegerField()
    duration_s = models.FloatField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"RecordingSkeleton({self.recording_id}, key v{self.key_version})"


class RecordingResult(models.Model):
    """Clinical figures of one recording; one row per recording, written exactly once."""

    recording = models.OneToOneField(
        Recording, on_delete=models.CASCADE, primary_key=True, related_name="result"
    )
    analysis_method = models.CharField(max_length=64)
    measures = models.JSONField()
    quality = models.JSONField(default=dict)
    processing_s = models.FloatField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"RecordingResult({self.recording_id})"
