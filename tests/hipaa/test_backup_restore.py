"""Contingency plan (164.308(a)(7)): a backup restores into a fresh database whose audit chain
verifies and whose recordings decrypt; a wrong key or an altered archive restores nothing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

from clinic.backup.archive import (
    CorruptArchiveError,
    EncryptingWriter,
    WrongBackupKeyError,
    archive_extract,
    backup_key_create,
    backup_key_load,
    decrypt_stream,
)
from clinic.backup.services import RestoreError, backup_restore
from clinic.emergency.services import emergency_access_grant
from clinic.recordings.ingest import recording_ingest
from clinic.recordings.models import RecordingSkeleton, RecordingState
from clinic.recordings.processing import recording_process
from tests.clinic.recording_helpers import device_create, envelope_for, knee_flexion_session
from tests.factories import patient_create, therapist_create

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def backup_key_path(tmp_path) -> Path:
    path = tmp_path / "backup.key"
    backup_key_create(path)
    return path


def _clinic_with_one_analysed_recording() -> dict:
    therapist = therapist_create()
    patient = patient_create(therapists=[therapist])
    device, key = device_create(patient=patient)
    body = envelope_for(device, key, knee_flexion_session(duration_s=6.0, seed=3))
    recording = recording_ingest(body=body).recording
    assert recording_process(recording_id=recording.id).state == RecordingState.ANALYSED
    grant = emergency_access_grant(
        therapist=therapist_create(),
        patient_id=patient.id,
        reason="covering the weekend on-call rota for this patient",
    )
    return {"patient": patient, "recording": recording, "grant": grant}


@pytest.mark.slow
@pytest.mark.django_db
def test_restored_copy_verifies_its_audit_chain_and_decrypts_its_recordings(
    tmp_path, backup_key_path
):
    made = _clinic_with_one_analysed_recording()
    assert RecordingSkeleton.objects.count() == 1
    archive = tmp_path / "clinic.trbk"
    call_command("backup", output=archive, backup_key=str(backup_key_path))
    raw = archive.read_bytes()
    # The archive is ciphertext: no key file, table name or identifier is readable in it.
    for needle in (b"storage-v1.key", b"audit.auditevent", str(made["patient"].id).encode()):
        assert needle not in raw

    # Restore into a brand-new SQLite database and a brand-new key directory, in a fresh process.
    run_id = uuid.uuid4().hex[:10]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="clinic.settings.test",
        DATABASE_URL=f"sqlite:///{tmp_path / 'restored.sqlite3'}",
        TELEREHAB_TEST_RUN_ID=run_id,
    )
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("TELEREHAB_WORKER_DATABASE_NAME", None)
    restore = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "restore",
            str(archive),
            "--backup-key",
            str(backup_key_path),
            "--replace-keys",
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert "skeletons decrypted: 1;" in restore.stdout
    assert "envelopes decrypted: 1;" in restore.stdout
    assert "emergency reasons decrypted: 1" in restore.stdout
    assert "restored copy verified" in restore.stdout
    verify = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # A second restore into the now non-empty database is refused, changing nothing.
    again = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "restore",
            str(archive),
            "--backup-key",
            str(backup_key_path),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode != 0
    assert "empty database" in again.stderr


@pytest.mark.django_db
def test_restore_refuses_a_database_that_is_not_empty(tmp_path, backup_key_path):
    patient_create()
    archive = tmp_path / "a.trbk"
    call_command("backup", output=archive, backup_key=str(backup_key_path), without_keys=True)
    with pytest.raises(RestoreError, match="empty database"):
        backup_restore(archive=archive, backup_key=backup_key_load(backup_key_path))


@pytest.mark.django_db
def test_wrong_key_altered_or_truncated_archive_restores_nothing(tmp_path, backup_key_path):
    patient_create()
    archive = tmp_path / "b.trbk"
    call_command("backup", output=archive, backup_key=str(backup_key_path), without_keys=True)
    key = backup_key_load(backup_key_path)
    other = tmp_path / "other.key"
    backup_key_create(other)
    with pytest.raises(WrongBackupKeyError):
        archive_extract(path=archive, key=backup_key_load(other), into=tmp_path)
    data = archive.read_bytes()
    for name, broken in (
        ("flipped", data[:100] + bytes([data[100] ^ 1]) + data[101:]),
        ("truncated", data[: len(data) - 7]),
        ("appended", data + b"\x00"),
    ):
        bad = tmp_path / f"{name}.trbk"
        bad.write_bytes(broken)
        with pytest.raises(CorruptArchiveError):
            archive_extract(path=bad, key=key, into=tmp_path)


def test_dropping_whole_final_chunks_is_detected():
    key = os.urandom(32)
    sink = io.BytesIO()
    writer = EncryptingWriter(sink, key)
    writer.write(os.urandom(3 * 1024 * 1024 + 5))  # three full chunks and a final one
    writer.close()
    data = sink.getvalue()
    out = io.BytesIO()
    assert decrypt_stream(io.BytesIO(data), key, out) == 3 * 1024 * 1024 + 5
    cut = 29 + 3 * (4 + 1024 * 1024 + 16)  # header + three full chunks: the final one dropped
    with pytest.raises(CorruptArchiveError, match="no final chunk"):
        decrypt_stream(io.BytesIO(data[:cut]), key, io.BytesIO())


def test_backup_without_a_key_names_the_fix(tmp_path, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.delenv("TELEREHAB_BACKUP_KEY_FILE", raising=False)
    with pytest.raises(CommandError, match="new-key"):
        call_command("backup", output=tmp_path / "x.trbk")
