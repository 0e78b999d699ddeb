"""Reading plans: what is in force for a patient, and the document a device downloads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import timezone

from clinic.plans.catalogue import CATALOGUE, measure_label
from clinic.plans.models import PlanExercise

PLAN_DOCUMENT_VERSION = 1


def plan_active_for_patient(*, patient_id) -> QuerySet[PlanExercise]:
    """The prescriptions in force now. Callers have already passed the care-team check."""
    return PlanExercise.objects.filter(patient_id=patient_id, stopped_at__isnull=True)


def _schedule(item: PlanExercise) -> tuple[dt.date, dt.date | None, tuple[int, ...]]:
    stopped_day = timezone.localdate(item.stopped_at) if item.stopped_at else None
    return item.start_date, stopped_day, item.weekday_numbers


def _due(day: dt.date, start: dt.date, stopped_day: dt.date | None, weekdays) -> bool:
    return start <= day and (stopped_day is None or day < stopped_day) and day.weekday() in weekdays


def plan_in_force_on(items: Iterable[PlanExercise], day: dt.date) -> list[PlanExercise]:
    """Which of ``items`` were due on ``day`` (started, not yet stopped, scheduled that weekday)."""
    return [item for item in items if _due(day, *_schedule(item))]


def plan_due_sessions(
    items: Iterable[PlanExercise], days: list[dt.date]
) -> list[tuple[dt.date, str]]:
    """(day, exercise) for each item due on each of ``days``, by the rule of plan_in_force_on.

    One pass per item: pages ask this for 14 to 100 days per patient, and re-deriving
    each item's stop day and weekdays for every day cost more than the page's queries.
    """
    due = []
    for item in items:
        schedule = _schedule(item)
        due += [(day, item.exercise) for day in days if _due(day, *schedule)]
    return due


def plans_for_patients_since(*, patient_ids, since: dt.date) -> dict:
    """Every prescription that was in force at some time since ``since``, by patient: one query."""
    rows = PlanExercise.objects.filter(patient_id__in=list(patient_ids)).filter(
        Q(stopped_at__isnull=True) | Q(stopped_at__date__gte=since)
    )
    out: dict = {}
    for item in rows:
        out.setdefault(item.patient_id, []).append(item)
    return out


def plan_document(*, patient_id) -> dict:
    """The plan as the capture agent receives it: plain JSON, no names or other identifiers."""
    items = []
    for item in plan_active_for_patient(patient_id=patient_id).order_by("prescribed_at"):
        entry = CATALOGUE.get(item.exercise)
        side = item.side or (entry.default_side if entry else None)
        items.append(
            {
                "id": str(item.id),
                "exercise": item.exercise,
                "label": entry.label if entry else item.exercise,
                "side": side,
                "sets": item.sets,
                "reps": item.reps,
                "target_measure": entry.target_measure if entry else None,
                "target_label": measure_label(entry.target_measure, side)
                if entry and entry.target_measure
                else None,
                "target_rom_deg": item.target_rom_deg,
                "weekdays": list(item.weekday_numbers),
                "start_date": item.start_date.isoformat(),
            }
        )
    return {
        "version": PLAN_DOCUMENT_VERSION,
        "patient_id": str(patient_id),
        "generated_at": timezone.now().isoformat(),
        "exercises": items,
    }
