"""Break-glass (164.312(a)(2)(ii)): reason required, time-limited, audited, reviewed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from clinic.audit.models import AuditEvent
from clinic.care.selectors import patient_get_for_user
from clinic.emergency import errors
from clinic.emergency.models import EmergencyAccessGrant
from clinic.emergency.selectors import active_grant_exists, grant_reason
from clinic.emergency.services import emergency_access_grant, emergency_grant_review
from tests.factories import (
    clinic_admin_create,
    patient_create,
    staff_login_verified,
    therapist_create,
)

pytestmark = pytest.mark.django_db

REASON = "Patient fell at home; on-call cover needs the last knee flexion figures"


@pytest.fixture
def outsider_and_patient():
    outsider = therapist_create()
    patient = patient_create(therapists=[therapist_create()])
    return outsider, patient


def test_outside_therapist_opens_patient_only_after_stating_a_reason(outsider_and_patient):
    outsider, patient = outsider_and_patient
    with pytest.raises(Http404):
        patient_get_for_user(user=outsider, patient_id=patient.id)
    grant = emergency_access_grant(therapist=outsider, patient_id=patient.id, reason=REASON)
    assert patient_get_for_user(user=outsider, patient_id=patient.id) == patient
    granted = AuditEvent.objects.get(action="emergency.grant", outcome="success")
    assert granted.patient_id == patient.id and granted.object_id == str(grant.id)
    accessed = AuditEvent.objects.get(action="emergency.access")
    assert accessed.details["grant_id"] == str(grant.id)
    assert accessed.actor_id == outsider.id


def test_access_ends_when_the_grant_expires(outsider_and_patient):
    outsider, patient = outsider_and_patient
    grant = emergency_access_grant(therapist=outsider, patient_id=patient.id, reason=REASON)
    assert grant.expires_at - grant.granted_at == dt.timedelta(minutes=60)
    EmergencyAccessGrant.objects.filter(id=grant.id).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert not active_grant_exists(user=outsider, patient_id=patient.id)
    with pytest.raises(Http404):
        patient_get_for_user(user=outsider, patient_id=patient.id)


def test_grant_is_for_one_patient_and_one_therapist(outsider_and_patient):
    outsider, patient = outsider_and_patient
    emergency_access_grant(therapist=outsider, patient_id=patient.id, reason=REASON)
    another_patient = patient_create()
    with pytest.raises(Http404):
        patient_get_for_user(user=outsider, patient_id=another_patient.id)
    with pytest.raises(Http404):
        patient_get_for_user(user=therapist_create(), patient_id=patient.id)


@pytest.mark.parametrize("reason", ["", "urgent", "   need   it   "])
def test_a_short_reason_is_refused_and_audited(outsider_and_patient, reason):
    outsider, patient = outsider_and_patient
    with pytest.raises(errors.EmergencyReasonError, match="at least 20 characters"):
        emergency_access_grant(therapist=outsider, patient_id=patient.id, reason=reason)
    assert not EmergencyAccessGrant.objects.exists()
    assert AuditEvent.objects.filter(action="emergency.grant", outcome="denied").count() == 1


def test_only_therapists_may_break_the_glass(outsider_and_patient):
    _, patient = outsider_and_patient
    for user in (clinic_admin_create(), patient_create().user):
        with pytest.raises(errors.EmergencyRoleError):
            emergency_access_grant(therapist=user, patient_id=patient.id, reason=REASON)
    assert not EmergencyAccessGrant.objects.exists()


def test_care_team_member_needs_no_grant():
    therapist = therapist_create()
    patient = patient_create(therapists=[therapist])
    with pytest.raises(errors.EmergencyAccessNotNeededError):
        emergency_access_grant(therapist=therapist, patient_id=patient.id, reason=REASON)


def test_reason_is_encrypted_and_readable_by_the_reviewer(outsider_and_patient):
    outsider, patient = outsider_and_patient
    grant = emergency_access_grant(therapist=outsider, patient_id=patient.id, reason=REASON)
    stored = EmergencyAccessGrant.objects.get(id=grant.id)
    assert b"knee flexion" not in bytes(stored.reason_ciphertext)
    assert grant_reason(grant=stored) == REASON


def test_administrator_reviews_once_and_the_review_is_audited(outsider_and_patient):
    outsider, patient = outsider_and_patient
    grant = emergency_access_grant(therapist=outsider, patient_id=patient.id, reason=REASON)
    admin = clinic_admin_create()
    emergency_grant_review(grant_id=grant.id, reviewer=admin, outcome="justified")
    grant.refresh_from_db()
    assert grant.review_outcome == "justified" and grant.reviewed_by_id == admin.id
    assert AuditEvent.objects.get(action="emergency.review").patient_id == patient.id
    with pytest.raises(errors.EmergencyReviewError, match="already reviewed"):
        emergency_grant_review(grant_id=grant.id, reviewer=admin, outcome="unjustified")
    with pytest.raises(errors.EmergencyRoleError):
        emergency_grant_review(grant_id=grant.id, reviewer=outsider, outcome="justified")


def test_pages_request_list_and_review(client, outsider_and_patient):
    outsider, patient = outsider_and_patient
    staff_login_verified(client, outsider)
    url = f"/emergency/patients/{patient.id}/"
    page = client.get(url)
    assert page.status_code == 200
    assert patient.display_name.encode() not in page.content  # nothing shown before the grant
    refused = client.post(url, {"reason": "because"})
    assert refused.status_code == 400 and b"at least 20 characters" in refused.content
    assert not EmergencyAccessGrant.objects.exists()
    assert AuditEvent.objects.filter(action="emergency.grant", outcome="denied").count() == 1
    assert client.post(url, {"reason": REASON}).status_code == 302
    assert active_grant_exists(user=outsider, patient_id=patient.id)
    assert client.get("/emergency/review/").status_code == 403  # therapists do not review

    admin_client = client.__class__()
    admin = clinic_admin_create()
    staff_login_verified(admin_client, admin)
    listing = admin_client.get("/emergency/review/")
    assert listing.status_code == 200
    assert REASON.encode() in listing.content
    assert outsider.username.encode() in listing.content
    grant = EmergencyAccessGrant.objects.get()
    response = admin_client.post(f"/emergency/review/{grant.id}/", {"outcome": "unjustified"})
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.review_outcome == "unjustified"
    assert admin_client.get(url).status_code == 403  # administrators cannot break the glass


def test_reasons_rewrap_under_a_new_storage_key(outsider_and_patient, tmp_path, settings):
    import shutil

    from django.test import override_settings

    from clinic.keys.keyring import current_storage_version, storage_key_create_next
    from clinic.keys.sealed import SEALED_FIELDS, sealed_field_rewrap

    keys = tmp_path / "keys"
    shutil.copytree(settings.TELEREHAB_KEY_DIR, keys)
    with override_settings(TELEREHAB_KEY_DIR=keys):
        outsider, patient = outsider_and_patient
        grant = emergency_access_grant(therapist=outsider, patient_id=patient.id, reason=REASON)
        old_version = current_storage_version()
        new_version = storage_key_create_next()
        reasons = next(f for f in SEALED_FIELDS if f.model == "emergency.EmergencyAccessGrant")
        assert sealed_field_rewrap(field=reasons, to_version=new_version) == 1
        grant.refresh_from_db()
        assert grant.reason_key_version == new_version != old_version
        assert grant_reason(grant=grant) == REASON


def test_break_glass_opens_the_portal_patient_page_and_audits_each_read(
    client, outsider_and_patient
):
    outsider, patient = outsider_and_patient
    staff_login_verified(client, outsider)
    page = f"/portal/patients/{patient.id}/"
    assert client.get(page).status_code == 404
    response = client.post(f"/emergency/patients/{patient.id}/", {"reason": REASON})
    assert response.status_code == 302 and response["Location"] == page
    assert client.get(page).status_code == 200
    assert AuditEvent.objects.filter(
        action="emergency.access", actor_id=outsider.id, patient_id=patient.id
    ).exists()


def test_a_therapist_starts_from_a_patient_reference(client, outsider_and_patient):
    outsider, patient = outsider_and_patient
    staff_login_verified(client, outsider)
    response = client.get("/emergency/mine/", {"patient": str(patient.id)})
    assert response.status_code == 302
    assert response["Location"] == f"/emergency/patients/{patient.id}/"
    assert client.get("/emergency/mine/", {"patient": "not-a-reference"}).status_code == 200
