from django.core.management import call_command

from clinic.plans.models import PlanExercise


def test_demo_plans_are_seeded_once(clinic_case):
    call_command("plans_seed_demo")
    call_command("plans_seed_demo")
    assert PlanExercise.objects.filter(patient=clinic_case["patient"]).count() == 1
    assert not PlanExercise.objects.filter(
        patient=clinic_case["other"]
    ).exists()  # no care team, no plan


def test_demo_plans_prescribe_what_the_demo_agents_perform(db):
    """Plans and back-dated demo sessions agree, so the caseload shows no false misses."""
    from clinic.core.demo import DEMO_EXERCISES
    from clinic.devices.demo import demo_agent_tasks

    call_command("seed_demo")
    call_command("plans_seed_demo")
    prescribed = {
        row.patient.user.username: row.exercise
        for row in PlanExercise.objects.select_related("patient__user")
    }
    assert prescribed == DEMO_EXERCISES
    assert {t.username: t.exercise for t in demo_agent_tasks()} == DEMO_EXERCISES
