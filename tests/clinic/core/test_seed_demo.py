"""The demo clinic: the right people, care teams, working log-ins, idempotent."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import User
from clinic.care.models import CareTeam, Patient
from clinic.core.demo import DEMO_PASSWORD
from tests.factories import totp_code

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_working_logins(capsys, client):
    call_command("seed_demo")
    first_output = capsys.readouterr().out
    first_device = TOTPDevice.objects.get(user__username="therapist1")
    call_command("seed_demo")
    second_output = capsys.readouterr().out

    assert User.objects.filter(role="clinic_admin").count() == 1
    assert User.objects.filter(role="therapist").count() == 2
    assert Patient.objects.count() == 5
    assert CareTeam.objects.count() == 6
    assert TOTPDevice.objects.filter(confirmed=True).count() == 3
    # The authenticator secret survives a re-seed, so a phone set up once keeps working.
    assert TOTPDevice.objects.get(user__username="therapist1").key == first_device.key
    for output in (first_output, second_output):
        assert DEMO_PASSWORD in output
        for name in ["admin", "therapist1", "therapist2", "patient1", "patient5"]:
            assert re.search(rf"^\s+{name}\s", output, re.MULTILINE)

    # The printed key is the device's: a code from it completes a real log-in.
    printed_key = re.search(
        r"therapist1\s+therapist\s+authenticator key (\w+)", second_output
    ).group(1)
    assert printed_key
    client.post(reverse("accounts:login"), {"username": "therapist1", "password": DEMO_PASSWORD})
    response = client.post(reverse("accounts:mfa_verify"), {"token": totp_code(first_device)})
    assert response.status_code == 302
    assert client.get(reverse("core:home")).status_code == 200


def test_demo_care_teams_keep_therapists_apart():
    call_command("seed_demo")
    therapist1 = User.objects.get(username="therapist1")
    visible = set(
        Patient.objects.filter(care_team__therapist=therapist1).values_list(
            "user__username", flat=True
        )
    )
    assert visible == {"patient1", "patient2", "patient3"}


def test_seed_demo_refuses_without_demo_settings(settings):
    settings.TELEREHAB_DEMO_ALLOWED = False
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="refuses to run"):
        call_command("seed_demo")
