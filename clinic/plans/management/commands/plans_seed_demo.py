"""Give each demo patient without a plan one prescription, so adherence and goals show at first log-in."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clinic.care.models import CareTeam
from clinic.core.demo import DEMO_EXERCISES, DEMO_PLAN_WEEKDAYS
from clinic.plans.models import PlanExercise
from clinic.plans.services import plan_exercise_prescribe


class Command(BaseCommand):
    help = "Prescribe a demo exercise plan to every patient that has none (demo settings only)."

    def handle(self, *args, **options) -> None:
        if not getattr(settings, "TELEREHAB_DEMO_ALLOWED", False):
            raise CommandError(
                "plans_seed_demo refuses to run: these settings do not allow demo data."
            )
        added = 0
        for member in CareTeam.objects.select_related("patient__user", "therapist").order_by(
            "-is_primary"
        ):
            if PlanExercise.objects.filter(patient=member.patient).exists():
                continue
            plan_exercise_prescribe(
                actor=member.therapist,
                patient=member.patient,
                exercise=DEMO_EXERCISES.get(member.patient.user.username, "inline_lunge"),
                side="right",
                sets=3,
                reps=10,
                target_rom_deg=110.0,
                weekdays=list(DEMO_PLAN_WEEKDAYS),
                start_date=timezone.localdate() - dt.timedelta(days=28),
            )
            added += 1
        self.stdout.write(f"demo plans prescribed: {added}")
