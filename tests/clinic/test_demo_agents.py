"""Which demo agents the run command starts, and with which pairing codes (no server needed)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.care.models import Patient
from clinic.core.demo import DemoNotAllowedError, demo_clinic_seed
from clinic.devices.demo import demo_agent_tasks
from clinic.devices.models import PairingCode
from clinic.devices.services import device_revoke
from tests.clinic.recording_helpers import device_create
from tests.portal.builders import analysed_recording_create

pytestmark = pytest.mark.django_db


def _patient(username: str) -> Patient:
    return Patient.objects.get(user__username=username)


def test_patients_with_recordings_are_skipped_and_codes_are_audited() -> None:
    demo_clinic_seed()
    device, _ = device_create(patient=_patient("patient1"))
    analysed_recording_create(
        patient=_patient("patient1"), device=device, recorded_at=timezone.now()
    )
    tasks = demo_agent_tasks()
    assert [(t.username, t.index) for t in tasks] == [
        ("patient2", 1), ("patient3", 2), ("patient4", 3), ("patient5", 4),
    ]  # fmt: skip
    assert all(t.code and not t.error for t in tasks)
    codes = PairingCode.objects.filter(used_at__isnull=True)
    assert codes.count() == 4
    # Created by each patient's primary therapist, through the audited service.
    assert dict(codes.values_list("patient__user__username", "created_by__username")) == {
        "patient2": "therapist1", "patient3": "therapist2",  # shared; therapist2 is primary
        "patient4": "therapist2", "patient5": "therapist2",
    }  # fmt: skip
    assert (
        AuditEvent.objects.filter(action="device.pairing_code.create", outcome="success").count()
        == 4
    )


def test_an_agent_still_paired_resumes_without_a_new_code() -> None:
    demo_clinic_seed()
    active, _ = device_create(patient=_patient("patient2"))
    revoked, _ = device_create(patient=_patient("patient3"))
    device_revoke(actor=_patient("patient3").user, device=revoked, reason="test")
    other, _ = device_create(patient=_patient("patient5"))
    known = {
        "patient2": str(active.id),
        "patient3": str(revoked.id),  # revoked: pair again
        "patient4": "not-a-device-id",
        "patient1": str(other.id),  # another patient's device: pair again
    }
    tasks = {t.username: t for t in demo_agent_tasks(known_devices=known)}
    assert tasks["patient2"].code is None
    assert all(tasks[u].code for u in ("patient1", "patient3", "patient4", "patient5"))
    assert PairingCode.objects.filter(patient=_patient("patient2")).count() == 0


def test_command_prints_one_json_line_per_task_and_honours_only() -> None:
    demo_clinic_seed()
    out = io.StringIO()
    call_command("demo_pairing_codes", "--only", "patient4", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(d["username"], d["index"], d["error"]) for d in lines] == [("patient4", 3, "")]
    assert len(lines[0]["code"]) == 9 and lines[0]["patient_id"] == str(_patient("patient4").id)


@override_settings(TELEREHAB_DEMO_ALLOWED=False)
def test_refused_where_demo_data_is_not_allowed() -> None:
    with pytest.raises(DemoNotAllowedError):
        demo_agent_tasks()
    assert not PairingCode.objects.exists()
