from django.core.management import call_command

from clinic.plans.models import PlanExercise


def test_demo_plans_are_seeded_once(clinic_case):
    call_command("plans_seed_demo")
    call_command("plans_seed_demo")
    assert PlanExercise.objects.filter(patient=clinic_case["patient"]).count() == 1
    assert not PlanExercise.objects.filter(
        patient=clinic_case["other"]
    ).exists()  # no care team, no plan
