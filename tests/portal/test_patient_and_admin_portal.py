import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.care.models import CareTeam
from clinic.devices.models import Device, PairingCode
from clinic.plans.services import plan_exercise_prescribe
from clinic.portal import alerts
from clinic.portal.trend import trend_fit, trend_words
from tests.factories import clinic_admin_create, staff_login_verified, therapist_create


def test_patient_home_shows_todays_plan_progress_words_and_pairs_and_revokes(client, clinic_case):
    patient = clinic_case["patient"]
    plan_exercise_prescribe(actor=clinic_case["therapist"], patient=patient, exercise="inline_lunge", side="right",
                            sets=2, reps=8, target_rom_deg=100, weekdays=range(7),
                            start_date=timezone.localdate() - dt.timedelta(days=1))  # fmt: skip
    client.force_login(patient.user)
    page = client.get("/portal/me/")
    text = page.content.decode()
    assert "Inline lunge" in text and "2 sets of 8" in text
    assert "Right knee flexion is improving" in text
    assert AuditEvent.objects.filter(
        action="patient.view", actor=patient.user, patient_id=patient.id
    ).exists()

    client.post("/portal/me/pairing-code/")
    code_page = client.get("/portal/me/").content.decode()
    assert (
        "Your pairing code" in code_page
        and PairingCode.objects.filter(patient=patient).count() == 1
    )
    assert "Your pairing code" not in client.get("/portal/me/").content.decode()  # shown once

    client.post(f"/portal/me/devices/{clinic_case['device'].id}/revoke/")
    assert Device.objects.get(id=clinic_case["device"].id).is_revoked


def test_patient_cannot_revoke_another_patients_device(client, clinic_case):
    from tests.clinic.recording_helpers import device_create

    foreign, _ = device_create(patient=clinic_case["other"])
    client.force_login(clinic_case["patient"].user)
    assert client.post(f"/portal/me/devices/{foreign.id}/revoke/").status_code == 404
    assert not Device.objects.get(id=foreign.id).is_revoked


def test_staff_pages_refuse_the_wrong_role(client, clinic_case):
    client.force_login(clinic_case["patient"].user)
    for url in ("/portal/caseload/", "/portal/admin/", "/portal/admin/audit/"):
        assert client.get(url).status_code == 403, url


def test_admin_assigns_care_team_changes_role_and_revokes_device(client, clinic_case):
    admin = clinic_admin_create()
    staff_login_verified(client, admin)
    new_therapist = therapist_create()
    patient = clinic_case["patient"]
    client.post(f"/portal/admin/patients/{patient.id}/care-team/", {"therapist": new_therapist.pk})
    assert CareTeam.objects.filter(patient=patient, therapist=new_therapist).exists()
    client.post(
        f"/portal/admin/patients/{patient.id}/care-team/",
        {"therapist": new_therapist.pk, "op": "remove"},
    )
    assert not CareTeam.objects.filter(patient=patient, therapist=new_therapist).exists()
    client.post(f"/portal/admin/users/{patient.user.pk}/role/", {"role": "therapist"})
    patient.user.refresh_from_db()
    assert patient.user.role == "patient"  # a patient record's owner stays a patient
    client.post(f"/portal/admin/devices/{clinic_case['device'].id}/revoke/", {"reason": "stolen"})
    assert Device.objects.get(id=clinic_case["device"].id).revoked_reason == "stolen"
    assert {"care_team.assign", "care_team.remove", "device.revoke"} <= set(
        AuditEvent.objects.filter(actor=admin).values_list("action", flat=True)
    )
    assert client.get("/portal/admin/quarantine/").status_code == 200
    assert AuditEvent.objects.filter(actor=admin, action="admin.quarantine_view").exists()


def test_alert_rules_uncertain_and_no_device():
    now = timezone.now()
    found = alerts.caseload_alerts(regression=[], missed=0, latest_flagged=True, device_last_seen=None,
                                   has_device=False, has_plan=True, now=now, silent_days=3)  # fmt: skip
    assert [a.kind for a in found] == ["uncertain", "no_device"]
    quiet = alerts.caseload_alerts(regression=[], missed=0, latest_flagged=False, device_last_seen=now,
                                   has_device=True, has_plan=True, now=now, silent_days=3)  # fmt: skip
    assert quiet == []


def test_regression_within_detectable_change_is_not_an_alert():
    t = timezone.now()
    steady = {
        ("knee_flexion", "right"): [(t, 80.0, 2.0), (t, 81.0, 2.0), (t, 79.0, 2.0), (t, 76.5, 2.0)]
    }
    assert alerts.regression_alerts(steady, lambda m, s: m) == []
    dropped = {
        ("knee_flexion", "right"): [(t, 80.0, 2.0), (t, 81.0, 2.0), (t, 79.0, 2.0), (t, 70.0, 2.0)]
    }
    assert [a.kind for a in alerts.regression_alerts(dropped, lambda m, s: m)] == ["regression"]


def test_trend_words_project_goal_date_and_refuse_unclear_trends():
    today = dt.date(2026, 11, 22)
    days = np.arange(0, 42, 3, dtype=float)
    rising = trend_fit(
        days=days,
        peaks_deg=60 + days / 7 * 2.0,
        today=today,
        first_day=today - dt.timedelta(days=42),
        goal_deg=100,
    )
    assert rising.slope_deg_per_week == pytest.approx(2.0)
    assert "improving by 2.0° per week" in trend_words("Right knee flexion", rising, today=today)
    assert rising.projected_goal_date is not None and rising.projected_goal_date > today
    noise = np.random.default_rng(1).normal(0, 5, days.size)
    flat = trend_fit(
        days=days,
        peaks_deg=70 + noise,
        today=today,
        first_day=today - dt.timedelta(days=42),
        goal_deg=100,
    )
    assert "no clear change" in trend_words("Right knee flexion", flat, today=today)
