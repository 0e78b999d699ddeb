"""A patient's exercise plan: prescribed exercises from the catalogue, with dose and schedule."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from clinic.care.models import Patient

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class PlanExercise(models.Model):
    """One prescribed exercise; the patient's plan is every item not yet stopped.

    Items are never edited: a changed dose is a new item and the old one is
    stopped, so the plan in force on any past day can be reconstructed (and
    adherence on that day judged against it).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="plan_exercises")
    exercise = models.CharField(max_length=64)  # key of analysis.exercises.EXERCISES
    side = models.CharField(max_length=8, blank=True)  # "left", "right" or "" (both)
    sets = models.PositiveSmallIntegerField()
    reps = models.PositiveSmallIntegerField()
    target_rom_deg = models.FloatField(null=True, blank=True)
    # ISO weekdays Monday=0 … Sunday=6 as digits, e.g. "024" = Mon, Wed, Fri.
    weekdays = models.CharField(max_length=7)
    start_date = models.DateField()
    prescribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    prescribed_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["prescribed_at"]
        indexes = [models.Index(fields=["patient", "stopped_at"])]

    def __str__(self) -> str:
        return f"PlanExercise({self.id}, {self.exercise})"

    @property
    def weekday_numbers(self) -> tuple[int, ...]:
        return tuple(int(c) for c in self.weekdays)

    @property
    def schedule_words(self) -> str:
        days = self.weekday_numbers
        if len(days) == 7:
            return "every day"
        return ", ".join(WEEKDAY_NAMES[d] for d in days)
