"""TOTP is mandatory for therapists and administrators before any page beyond enrolment."""

import re
import time

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.audit.models import AuditEvent
from tests.factories import (
    DEFAULT_PASSWORD,
    clinic_admin_create,
    patient_create,
    therapist_create,
    totp_code,
    totp_device_create,
)

pytestmark = pytest.mark.django_db


def _password_step(client, user):
    return client.post(
        reverse("accounts:login"), {"username": user.username, "password": DEFAULT_PASSWORD}
    )


@pytest.mark.parametrize("make_staff", [therapist_create, clinic_admin_create])
def test_staff_without_device_are_sent_to_enrolment_and_nowhere_else(client, make_staff):
    staff = make_staff()
    response = _password_step(client, staff)
    assert response["Location"].startswith(reverse("accounts:mfa_enrol"))
    for path in [reverse("core:home"), "/some/portal/page/"]:
        blocked = client.get(path)
        assert blocked.status_code == 302
        assert blocked["Location"].startswith(reverse("accounts:mfa_enrol"))
    page = client.get(reverse("accounts:mfa_enrol"))
    assert page.status_code == 200
    assert b"<svg" in page.content
    assert b"<script" not in page.content
    assert "script-src 'self'" in page["Content-Security-Policy"]


def test_enrolment_confirms_with_a_real_code_and_issues_backup_codes(client):
    therapist = therapist_create()
    _password_step(client, therapist)
    client.get(reverse("accounts:mfa_enrol"))
    device = TOTPDevice.objects.get(user=therapist, confirmed=False)

    wrong_code = "000000" if totp_code(device) != "000000" else "111111"
    wrong = client.post(reverse("accounts:mfa_enrol"), {"token": wrong_code})
    assert wrong.status_code == 400
    assert b"did not match" in wrong.content
    assert client.get(reverse("core:home")).status_code == 302

    # django-otp throttles a device for 2^(failures-1) s after a wrong code.
    time.sleep(1.1)
    done = client.post(reverse("accounts:mfa_enrol"), {"token": totp_code(device)})
    assert done.status_code == 200
    codes = re.findall(rb"<li><code>([a-z0-9]+)</code></li>", done.content)
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=therapist).count() == 10
    assert client.get(reverse("core:home")).status_code == 200
    outcomes = list(AuditEvent.objects.filter(action="mfa.enrol").values_list("outcome", flat=True))
    assert outcomes == ["failure", "success"]


def test_enrolled_staff_must_verify_before_reaching_pages(client):
    therapist = therapist_create()
    device = totp_device_create(user=therapist)
    response = _password_step(client, therapist)
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))
    assert client.get(reverse("core:home"))["Location"].startswith(reverse("accounts:mfa_verify"))
    # An enrolled user cannot re-enrol to dodge verification.
    assert client.get(reverse("accounts:mfa_enrol"))["Location"].startswith(
        reverse("accounts:mfa_verify")
    )

    bad = client.post(reverse("accounts:mfa_verify"), {"token": "12345x"})
    assert bad.status_code == 400
    assert client.get(reverse("core:home")).status_code == 302

    time.sleep(1.1)  # throttled right after a wrong code
    good = client.post(
        reverse("accounts:mfa_verify") + "?next=/", {"token": totp_code(device), "next": "/"}
    )
    assert good.status_code == 302
    assert client.get(reverse("core:home")).status_code == 200
    events = AuditEvent.objects.filter(action="mfa.verify").order_by("sequence")
    assert [e.outcome for e in events] == ["failure", "success"]
    assert events.last().details == {"method": "totp"}


def test_a_backup_code_works_exactly_once(client):
    therapist = therapist_create()
    _password_step(client, therapist)
    client.get(reverse("accounts:mfa_enrol"))
    device = TOTPDevice.objects.get(user=therapist, confirmed=False)
    done = client.post(reverse("accounts:mfa_enrol"), {"token": totp_code(device)})
    code = re.findall(rb"<li><code>([a-z0-9]+)</code></li>", done.content)[0].decode()
    client.post(reverse("accounts:logout"))

    _password_step(client, therapist)
    assert client.post(reverse("accounts:mfa_verify"), {"token": code}).status_code == 302
    assert client.get(reverse("core:home")).status_code == 200
    client.post(reverse("accounts:logout"))

    _password_step(client, therapist)
    assert client.post(reverse("accounts:mfa_verify"), {"token": code}).status_code == 400
    assert client.get(reverse("core:home")).status_code == 302
    used = AuditEvent.objects.filter(action="mfa.verify", outcome="success").last()
    assert used.details == {"method": "backup_code", "backup_codes_left": 9}


def test_patients_are_not_forced_into_mfa(client):
    patient = patient_create()
    assert _password_step(client, patient.user)["Location"] == reverse("core:home")
    assert client.get(reverse("core:home")).status_code == 200


def test_logout_is_audited(client):
    patient = patient_create()
    _password_step(client, patient.user)
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == reverse("accounts:logged_out")
    assert AuditEvent.objects.filter(action="auth.logout", actor=patient.user).exists()
    assert client.get(reverse("core:home")).status_code == 302


def test_right_code_right_after_a_wrong_one_is_throttled(client):
    therapist = therapist_create()
    device = totp_device_create(user=therapist)
    _password_step(client, therapist)
    client.post(
        reverse("accounts:mfa_verify"),
        {"token": "999999" if totp_code(device) != "999999" else "888888"},
    )
    throttled = client.post(reverse("accounts:mfa_verify"), {"token": totp_code(device)})
    assert throttled.status_code == 400
    assert b"wait before trying again" in throttled.content
