"""Every clinical read goes through the care team; refusals are 404 and audited."""

import uuid

import pytest
from django.http import Http404

from clinic.audit.models import AuditEvent
from clinic.care.selectors import patient_get_for_user, patients_visible_to
from tests.factories import clinic_admin_create, patient_create, therapist_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    mine = therapist_create()
    other = therapist_create()
    own_patient = patient_create(therapists=[mine])
    foreign_patient = patient_create(therapists=[other])
    return mine, other, own_patient, foreign_patient


def test_therapist_loads_a_patient_on_their_care_team(clinic):
    mine, _, own_patient, _ = clinic
    assert patient_get_for_user(user=mine, patient_id=own_patient.id) == own_patient
    assert patient_get_for_user(user=mine, patient_id=str(own_patient.id)) == own_patient
    assert not AuditEvent.objects.filter(outcome="denied").exists()


def test_therapist_cannot_load_a_patient_outside_the_care_team(clinic):
    mine, _, _, foreign_patient = clinic
    with pytest.raises(Http404):
        patient_get_for_user(user=mine, patient_id=foreign_patient.id)
    event = AuditEvent.objects.get(action="patient.access", outcome="denied")
    assert event.actor_id == mine.id
    assert event.patient_id == foreign_patient.id
    assert event.object_type == "patient"


def test_missing_and_malformed_ids_look_the_same_as_forbidden_ones(clinic):
    mine, *_ = clinic
    for bad in [uuid.uuid4(), "not-a-uuid", "1 OR 1=1"]:
        with pytest.raises(Http404):
            patient_get_for_user(user=mine, patient_id=bad)
    assert AuditEvent.objects.filter(action="patient.access", outcome="denied").count() == 3


def test_patient_sees_only_themselves(clinic):
    _, _, own_patient, foreign_patient = clinic
    assert patient_get_for_user(user=own_patient.user, patient_id=own_patient.id) == own_patient
    with pytest.raises(Http404):
        patient_get_for_user(user=own_patient.user, patient_id=foreign_patient.id)


def test_clinic_admin_has_no_clinical_access(clinic):
    *_, own_patient, foreign_patient = clinic
    admin = clinic_admin_create()
    assert list(patients_visible_to(user=admin)) == []
    with pytest.raises(Http404):
        patient_get_for_user(user=admin, patient_id=own_patient.id)


def test_visible_set_follows_care_team_changes(clinic):
    mine, other, own_patient, foreign_patient = clinic
    shared = patient_create(therapists=[mine, other])
    assert set(patients_visible_to(user=mine)) == {own_patient, shared}
    assert set(patients_visible_to(user=other)) == {foreign_patient, shared}
    shared.care_team.filter(therapist=mine).delete()
    assert set(patients_visible_to(user=mine)) == {own_patient}
