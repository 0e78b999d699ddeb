"""Password log-in, failed log-ins and django-axes lockout, each audited."""

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinic.audit.models import AuditEvent
from tests.factories import DEFAULT_PASSWORD, patient_create

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_patient_logs_in_and_the_login_is_audited(client):
    patient = patient_create()
    response = _login(client, patient.user.username, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    assert client.get(reverse("core:home")).status_code == 200
    event = AuditEvent.objects.get(action="auth.login", outcome="success")
    assert event.actor_id == patient.user.id
    assert event.actor_role == "patient"
    assert event.ip_address == "127.0.0.1"
    assert len(event.request_id) >= 8


def test_wrong_password_is_refused_clearly_and_audited(client):
    patient = patient_create()
    response = _login(client, patient.user.username, "not the password at all")
    assert response.status_code == 200
    assert b"Please enter a correct" in response.content
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="auth.login", outcome="failure")
    assert event.actor_id is None
    assert event.object_id == str(patient.user.id)
    assert event.details["username"] == patient.user.username


def test_account_locks_after_failure_limit_even_with_the_right_password(client):
    patient = patient_create()
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert _login(client, patient.user.username, "wrong password 123").status_code == 200
    locked = _login(client, patient.user.username, "wrong password 123")
    assert locked.status_code == 429
    assert b"Sign-in temporarily locked" in locked.content
    assert b"locked for 15 minutes" in locked.content
    # The right password no longer works during the cool-off period.
    again = _login(client, patient.user.username, DEFAULT_PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    lockouts = AuditEvent.objects.filter(action="auth.lockout", outcome="denied")
    assert lockouts.count() >= 1
    assert lockouts.first().details["username"] == patient.user.username
    assert AuditEvent.objects.filter(action="auth.login", outcome="success").count() == 0


def test_one_below_the_limit_does_not_lock(client):
    patient = patient_create()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, patient.user.username, "wrong password 123")
    assert _login(client, patient.user.username, DEFAULT_PASSWORD).status_code == 302


def test_password_validators_demand_twelve_characters():
    with pytest.raises(ValidationError) as excinfo:
        validate_password("Short1!pass")  # 11 characters
    assert any("at least 12 characters" in message for message in excinfo.value.messages)
    validate_password("quiet-river-lantern-88")
    with pytest.raises(ValidationError):
        validate_password("password1234")  # common
