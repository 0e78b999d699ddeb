"""Every refused request is audited as denied (164.312(b); log-in monitoring, 164.308(a)(5)(ii)(C)).

Role gates raise ``PermissionDenied`` in many places (portal decorators, break-glass views,
DRF permissions, CSRF); ``clinic.audit.middleware.AccessDeniedAuditMiddleware`` turns each
403 into one ``access.denied`` event unless the view already audited its own refusal.
"""

from __future__ import annotations

import pytest
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from clinic.audit.models import AuditEvent
from clinic.audit.services import ACCESS_DENIED_ACTION
from tests.factories import patient_create, staff_login_verified, therapist_create

pytestmark = pytest.mark.django_db


def _events_of(send) -> tuple[object, list[AuditEvent]]:
    before = AuditEvent.objects.aggregate(m=Max("sequence"))["m"] or 0
    response = send()
    return response, list(AuditEvent.objects.filter(sequence__gt=before))


def test_a_patient_on_a_therapist_page_is_refused_and_audited(client):
    patient = patient_create()
    client.force_login(patient.user)
    response, events = _events_of(
        lambda: client.get(reverse("portal:patient", kwargs={"patient_id": patient.id}))
    )
    assert response.status_code == 403
    assert [(e.action, e.outcome) for e in events] == [(ACCESS_DENIED_ACTION, "denied")]
    event = events[0]
    assert event.actor_id == patient.user.id
    assert event.actor_role == "patient"
    assert event.patient_id == patient.id
    assert event.object_type == "url"
    assert event.object_id == "/portal/patients/<uuid:patient_id>/"
    assert event.details == {"status": 403, "method": "GET", "view": "portal:patient"}
    assert event.request_id == response["X-Request-ID"]


def test_a_therapist_on_an_admin_page_is_refused_and_audited(client):
    therapist = therapist_create()
    staff_login_verified(client, therapist)
    response, events = _events_of(lambda: client.get(reverse("portal:admin_audit")))
    assert response.status_code == 403
    denied = [e for e in events if e.outcome == "denied"]
    assert [(e.action, e.actor_id) for e in denied] == [(ACCESS_DENIED_ACTION, therapist.id)]
    assert denied[0].patient_id is None


def test_an_anonymous_api_call_refused_by_drf_is_audited():
    patient = patient_create()
    url = reverse("devices:device_list", kwargs={"patient_id": patient.id})
    response, events = _events_of(lambda: Client().get(url + "?q=anything"))
    assert response.status_code == 403
    assert [(e.action, e.outcome, e.actor_id) for e in events] == [
        (ACCESS_DENIED_ACTION, "denied", None)
    ]
    assert events[0].object_id == "/api/v1/patients/<uuid:patient_id>/devices/"


def test_a_csrf_failure_is_audited(client):
    patient = patient_create()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(patient.user)
    response, events = _events_of(lambda: csrf_client.post(reverse("portal:pairing_code_new")))
    assert response.status_code == 403
    assert [(e.action, e.actor_id) for e in events] == [(ACCESS_DENIED_ACTION, patient.user.id)]


def test_a_view_that_audits_its_own_refusal_is_not_audited_twice(client):
    patient = patient_create()
    client.force_login(patient.user)
    response, events = _events_of(lambda: client.get(reverse("recordings:quarantine_list")))
    assert response.status_code == 403
    assert [(e.action, e.outcome) for e in events] == [("recording.quarantine.list", "denied")]


def test_an_allowed_request_writes_no_denial(client):
    patient = patient_create()
    client.force_login(patient.user)
    response, events = _events_of(lambda: client.get(reverse("portal:patient_home")))
    assert response.status_code == 200
    assert not [e for e in events if e.outcome == "denied"]
