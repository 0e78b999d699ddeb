"""Automatic logoff after 15 idle minutes, decided by the server and audited."""

import time

import pytest
from django.conf import settings
from django.urls import reverse

from clinic.accounts.middleware import LAST_ACTIVITY_KEY
from clinic.audit.models import AuditEvent
from tests.factories import DEFAULT_PASSWORD, patient_create, staff_login_verified, therapist_create

pytestmark = pytest.mark.django_db


def _age_session(client, *, idle_s: int) -> None:
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - idle_s
    session.save()


def test_idle_logoff_is_fifteen_minutes():
    assert settings.IDLE_LOGOFF_S == 15 * 60


def test_session_idle_beyond_the_limit_is_logged_off_and_audited(client):
    therapist = therapist_create()
    staff_login_verified(client, therapist)
    assert client.get(reverse("core:home")).status_code == 200

    _age_session(client, idle_s=settings.IDLE_LOGOFF_S + 60)
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login") + "?reason=idle"
    login_page = client.get(response["Location"])
    assert b"signed out after 15 minutes without activity" in login_page.content
    # The session is gone: the next request is anonymous.
    assert client.get(reverse("core:home"))["Location"].startswith(reverse("accounts:login"))
    event = AuditEvent.objects.get(action="auth.idle_logoff")
    assert event.actor_id == therapist.id
    assert event.details["idle_seconds"] >= settings.IDLE_LOGOFF_S + 60


def test_activity_within_the_limit_keeps_the_session(client):
    patient = patient_create()
    client.post(
        reverse("accounts:login"), {"username": patient.user.username, "password": DEFAULT_PASSWORD}
    )
    client.get(reverse("core:home"))
    _age_session(client, idle_s=settings.IDLE_LOGOFF_S - 60)
    assert client.get(reverse("core:home")).status_code == 200
    # That request counted as activity: the clock restarted.
    assert int(time.time()) - client.session[LAST_ACTIVITY_KEY] < 5
    assert not AuditEvent.objects.filter(action="auth.idle_logoff").exists()
