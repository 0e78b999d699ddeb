"""Key rotation re-wraps everything sealed at rest (164.312(a)(2)(iv); docs/hipaa/key-management.md).

After ``rotate_keys`` and deleting the old storage key file, every skeleton, emergency access
reason and session note still opens, and the list of sealed fields that rotation walks is
complete: a model that gains a ``*wrapped_key`` column fails here until it is listed.
"""

from __future__ import annotations

import shutil

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import override_settings

from clinic.audit.models import AuditEvent
from clinic.emergency.selectors import grant_reason
from clinic.emergency.services import REASON_PURPOSE, emergency_access_grant
from clinic.keys.keyring import current_storage_version
from clinic.keys.sealed import SEALED_FIELDS, sealed_values_unopenable, sealed_version_counts
from clinic.portal.services import NOTE_PURPOSE, session_note_add, session_note_text
from clinic.recordings.ingest import recording_ingest
from clinic.recordings.models import RecordingSkeleton
from clinic.recordings.processing import recording_process
from clinic.recordings.storage import PURPOSE as SKELETON_PURPOSE
from clinic.recordings.storage import skeleton_open
from tests.clinic.recording_helpers import device_create, envelope_for, knee_flexion_session
from tests.factories import patient_create, therapist_create

REASON = "Patient collapsed in the gym; need the last session's knee ROM now."
NOTE = "Pain 6/10 after the third set; reduce the target to 90 degrees."


def test_every_sealed_column_is_in_the_rotation_registry():
    listed = {(f.model, f.wrapped_key_field) for f in SEALED_FIELDS}
    found = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if getattr(field, "name", "").endswith("wrapped_key"):
                found.add((model._meta.label, field.name))
    assert found, "no sealed column found: the scan is broken"
    assert found == listed, f"sealed columns missing from clinic/keys/sealed.py: {found - listed}"
    for field in SEALED_FIELDS:
        names = {f.name for f in field.model_class()._meta.get_fields()}
        attnames = {getattr(f, "attname", f.name) for f in field.model_class()._meta.get_fields()}
        for column in (field.version_field, field.wrapped_key_field, field.ciphertext_field):
            assert column in names, f"{field.model} has no {column}"
        assert field.owner_field in names | attnames, f"{field.model} has no {field.owner_field}"


def test_registry_purposes_match_what_the_apps_seal_with():
    purposes = {f.model: f.purpose for f in SEALED_FIELDS}
    assert purposes == {
        "recordings.RecordingSkeleton": SKELETON_PURPOSE,
        "emergency.EmergencyAccessGrant": REASON_PURPOSE,
        "portal.SessionNote": NOTE_PURPOSE,
    }


@pytest.mark.django_db
def test_rotation_then_retiring_the_old_key_leaves_every_sealed_value_readable(
    tmp_path, settings, capsys
):
    keys = tmp_path / "keys"
    shutil.copytree(settings.TELEREHAB_KEY_DIR, keys)
    with override_settings(TELEREHAB_KEY_DIR=keys):
        therapist = therapist_create()
        patient = patient_create(therapists=[therapist])
        stranger = patient_create()
        device, signing_key = device_create(patient=patient)
        body = envelope_for(device, signing_key, knee_flexion_session(duration_s=2.0, seed=3))
        recording = recording_process(recording_id=recording_ingest(body=body).recording.id)
        skeleton_before = skeleton_open(RecordingSkeleton.objects.get(recording=recording))
        note = session_note_add(author=therapist, recording=recording, text=NOTE)
        grant = emergency_access_grant(therapist=therapist, patient_id=stranger.id, reason=REASON)
        old_version = current_storage_version()

        call_command("rotate_keys")
        new_version = old_version + 1
        counts = sealed_version_counts()
        assert counts == {
            "recording skeletons": {new_version: 1},
            "emergency access reasons": {new_version: 1},
            "session notes": {new_version: 1},
        }
        event = AuditEvent.objects.filter(action="keys.rotate").latest("sequence")
        assert event.details["rewrapped"] == 3
        assert event.details["by_field"] == {
            "recording skeletons": 1,
            "emergency access reasons": 1,
            "session notes": 1,
        }

        # Retire every old storage key: only the new one is left.
        for version in range(1, new_version):
            (keys / f"storage-v{version}.key").unlink(missing_ok=True)
        assert sealed_values_unopenable() == []
        call_command("rotate_keys", "--verify")
        assert "every sealed value opens" in capsys.readouterr().out
        note.refresh_from_db()
        grant.refresh_from_db()
        assert session_note_text(note) == NOTE
        assert grant_reason(grant=grant) == REASON
        skeleton_after = skeleton_open(RecordingSkeleton.objects.get(recording=recording))
        assert skeleton_after.equals(skeleton_before)


@pytest.mark.django_db
def test_verify_names_a_value_left_on_a_retired_key(tmp_path, settings):
    """Without the rotation, deleting the old key leaves the note unreadable, and --verify says so."""
    keys = tmp_path / "keys"
    shutil.copytree(settings.TELEREHAB_KEY_DIR, keys)
    with override_settings(TELEREHAB_KEY_DIR=keys):
        therapist = therapist_create()
        patient = patient_create(therapists=[therapist])
        device, signing_key = device_create(patient=patient)
        body = envelope_for(device, signing_key, knee_flexion_session(duration_s=2.0, seed=4))
        recording = recording_ingest(body=body).recording
        note = session_note_add(author=therapist, recording=recording, text=NOTE)
        old_version = current_storage_version()
        call_command("rotate_keys", "--rewrap-only")  # nothing new: still on the old key
        (keys / f"storage-v{old_version}.key").rename(keys / "retired.key")
        (keys / "storage-v99.key").write_bytes(b"A" * 43 + b"=\n")
        assert sealed_values_unopenable() == [f"session notes {note.pk}: UnknownStorageKeyError"]
        with pytest.raises(CommandError, match="1 sealed values do not open"):
            call_command("rotate_keys", "--verify")
