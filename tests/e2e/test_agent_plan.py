"""``capture-agent plan`` against the real server: signed download, stored for offline use, revocation."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.devices.models import Device
from clinic.devices.services import device_revoke, pairing_code_create
from clinic.plans.services import plan_exercise_prescribe
from tests.e2e.conftest import agent_run
from tests.factories import care_team_add, patient_create, therapist_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_agent_downloads_its_plan_shows_today_and_is_refused_once_revoked(
    clinic_server, tmp_path: Path
) -> None:
    therapist = therapist_create()
    patient = patient_create()
    care_team_add(patient=patient, therapist=therapist, is_primary=True)
    start = timezone.localdate() - dt.timedelta(days=14)
    plan_exercise_prescribe(
        actor=therapist, patient=patient, exercise="deep_squat", side=None, sets=2, reps=8,
        target_rom_deg=None, weekdays=[0, 3], start_date=start,
    )  # fmt: skip
    plan_exercise_prescribe(
        actor=therapist, patient=patient, exercise="inline_lunge", side="right", sets=3,
        reps=10, target_rom_deg=110.0, weekdays=[3], start_date=start,
    )  # fmt: skip
    _, code = pairing_code_create(actor=therapist, patient=patient)
    home = tmp_path / "agent"
    agent_run("pair", code, "--server", clinic_server.url, home=home)

    monday = start + dt.timedelta(days=7 - start.weekday())
    thursday, tuesday = monday + dt.timedelta(days=3), monday + dt.timedelta(days=1)
    out = agent_run("plan", "--date", thursday.isoformat(), home=home).stdout
    assert "2 exercises" in out, out
    assert f"today (Thu {thursday.isoformat()}): 2 due" in out, out
    assert "3 × 10, goal" in out and "110°" in out, out
    stored = home / "plan.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    document = json.loads(stored.read_text())
    assert document["patient_id"] == str(patient.id)
    assert {e["exercise"] for e in document["exercises"]} == {"deep_squat", "inline_lunge"}
    device = Device.objects.get(patient=patient)
    assert AuditEvent.objects.filter(
        action="plan.download", outcome="success", object_id=str(device.id)
    ).exists()

    offline = agent_run("plan", "--offline", "--date", tuesday.isoformat(), home=home).stdout
    assert f"today (Tue {tuesday.isoformat()}): nothing due" in offline, offline

    device_revoke(actor=therapist, device=device, reason="lost laptop")
    refused = agent_run("plan", home=home, check=False)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "device_revoked" in refused.stderr, refused.stderr
    assert AuditEvent.objects.filter(action="plan.download", outcome="denied").exists()
    assert json.loads(stored.read_text()) == document  # a refusal leaves the stored plan alone
