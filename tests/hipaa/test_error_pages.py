"""Error pages (403/404/500) show no patient data, no request echo and no stack trace."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import patient_create, staff_login_verified, therapist_create

pytestmark = pytest.mark.django_db

NAME = "Ottoline Quarrington"
BIRTH = "1937-02-11"


def _assert_clean(response) -> None:
    body = response.content.decode()
    for leak in ("Ottoline", "Quarrington", BIRTH, "Traceback", 'File "/', "settings.py", "DEBUG"):
        assert leak not in body, f"{leak!r} on a {response.status_code} page"


def test_404_page_does_not_echo_the_path():
    response = Client().get(f"/no-such-page/{NAME.replace(' ', '-')}/{BIRTH}/")
    assert response.status_code == 404
    assert "Not found" in response.content.decode()
    _assert_clean(response)


def test_foreign_patient_gives_the_same_clean_404(client):
    patient = patient_create(display_name=NAME)
    therapist = therapist_create()
    staff_login_verified(client, therapist)
    response = client.get(f"/portal/patients/{patient.id}/")
    assert response.status_code == 404
    _assert_clean(response)


def test_403_page_is_generic(client):
    patient = patient_create(display_name=NAME)
    client.force_login(patient.user)
    response = client.get(f"/emergency/patients/{patient.id}/")
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    _assert_clean(response)


@pytest.mark.urls("tests.hipaa.urls_failing")
def test_500_page_hides_the_exception_and_its_patient_data():
    client = Client(raise_request_exception=False)
    response = client.get("/explode/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    _assert_clean(response)
