"""Prescribing and stopping plan exercises; each change is audited in its own transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from analysis.exercises import UnknownExerciseError
from clinic.audit.services import audit_event_record
from clinic.care.models import Patient
from clinic.plans.catalogue import catalogue_entry
from clinic.plans.errors import PlanInputError
from clinic.plans.models import PlanExercise

MAX_SETS = 20
MAX_REPS = 100
MAX_TARGET_ROM_DEG = 200.0


def _weekdays_clean(weekdays) -> str:
    try:
        days = sorted({int(d) for d in weekdays})
    except (TypeError, ValueError) as exc:
        raise PlanInputError(
            f"weekdays must be numbers 0 (Monday) to 6 (Sunday), got {weekdays!r}"
        ) from exc
    if not days:
        raise PlanInputError("a schedule needs at least one weekday")
    if days[0] < 0 or days[-1] > 6:
        raise PlanInputError(f"weekdays must be 0 (Monday) to 6 (Sunday), got {days}")
    return "".join(str(d) for d in days)


def plan_exercise_prescribe(
    *,
    actor,
    patient: Patient,
    exercise: str,
    side: str,
    sets: int,
    reps: int,
    target_rom_deg: float | None,
    weekdays,
    start_date: dt.date | None = None,
    request=None,
) -> PlanExercise:
    """Add one exercise to the patient's plan. The caller has checked the care team."""
    try:
        entry = catalogue_entry(exercise)
    except UnknownExerciseError as exc:
        raise PlanInputError(str(exc)) from exc
    side = side or ""
    if side not in ("", "left", "right"):
        raise PlanInputError(f"side must be 'left', 'right' or empty (both), got {side!r}")
    if side and not entry.sided:
        raise PlanInputError(f"{entry.label} is measured on the trunk and takes no side")
    if not 1 <= int(sets) <= MAX_SETS:
        raise PlanInputError(f"sets must be 1 to {MAX_SETS}, got {sets}")
    if not 1 <= int(reps) <= MAX_REPS:
        raise PlanInputError(f"reps must be 1 to {MAX_REPS}, got {reps}")
    if target_rom_deg is not None:
        if entry.target_measure is None:
            raise PlanInputError(
                f"{entry.label} has no validated measure a target ROM could refer to"
            )
        if not 0.0 < float(target_rom_deg) <= MAX_TARGET_ROM_DEG:
            raise PlanInputError(
                f"target ROM must be above 0° and at most {MAX_TARGET_ROM_DEG:.0f}°, got {target_rom_deg}"
            )
    days = _weekdays_clean(weekdays)
    now = timezone.now()
    with transaction.atomic():
        item = PlanExercise.objects.create(
            patient=patient,
            exercise=entry.key,
            side=side,
            sets=int(sets),
            reps=int(reps),
            target_rom_deg=None if target_rom_deg is None else float(target_rom_deg),
            weekdays=days,
            start_date=start_date or timezone.localdate(),
            prescribed_by=actor,
            prescribed_at=now,
        )
        audit_event_record(
            action="plan.prescribe",
            outcome="success",
            actor=actor,
            patient_id=patient.id,
            object_type="plan_exercise",
            object_id=str(item.id),
            request=request,
            details={
                "exercise": entry.key,
                "side": side,
                "sets": item.sets,
                "reps": item.reps,
                "weekdays": days,
            },
        )
    return item


def plan_exercise_stop(*, actor, item: PlanExercise, request=None) -> PlanExercise:
    """End one prescription (kept for the history of what was prescribed when)."""
    with transaction.atomic():
        item = PlanExercise.objects.select_for_update().get(id=item.id)
        if item.stopped_at is None:
            item.stopped_at = timezone.now()
            item.save(update_fields=["stopped_at"])
        audit_event_record(
            action="plan.stop",
            outcome="success",
            actor=actor,
            patient_id=item.patient_id,
            object_type="plan_exercise",
            object_id=str(item.id),
            request=request,
        )
    return item
