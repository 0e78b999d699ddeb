"""Backup and restore of everything needed to bring the clinic back: database rows (including
every ciphertext blob, which lives in the database) and the server key files.

The database travels as Django's JSON-lines serialisation (with full-precision times, see
``clinic.backup.serializer``) with natural
foreign keys: one code path for SQLite and PostgreSQL, restorable across
vendors, and every binary column (envelopes, wrapped keys, ciphertext)
carried byte for byte. Rows that migrations recreate (content types,
permissions) and sessions (a restored server must log everyone out) are left
out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from clinic.audit.selectors import audit_chain_verify
from clinic.audit.services import audit_event_record
from clinic.backup.archive import (
    KEYS_PREFIX,
    BackupArchiveError,
    archive_extract,
    archive_write,
    key_files_install,
)
from clinic.backup.serializer import FORMAT_NAME
from clinic.backup.serializer import register as register_format

DATABASE_MEMBER = "database.tjsonl"
MANIFEST_MEMBER = "manifest.json"
FORMAT = "telerehab-backup/1"
EXCLUDED_MODELS = ["contenttypes", "auth.permission", "sessions"]


class RestoreError(Exception):
    """The archive was read but the restored copy is not trustworthy (or the target is not empty)."""


@dataclass
class RestoreReport:
    rows: int = 0
    keys_installed: list[str] = field(default_factory=list)
    audit_events_verified: int = 0
    skeletons_decrypted: int = 0
    envelopes_decrypted: int = 0
    emergency_reasons_decrypted: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _database_dump(path: Path) -> None:
    """One consistent snapshot: REPEATABLE READ on PostgreSQL; SQLite's transaction holds a lock.

    Inside a caller's transaction (tests) that transaction already is the snapshot.
    """
    register_format()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        call_command(
            "dumpdata",
            format=FORMAT_NAME,
            natural_foreign=True,
            exclude=EXCLUDED_MODELS,
            output=str(path),
            verbosity=0,
        )


def backup_create(*, output: Path, backup_key: bytes, include_keys: bool = True) -> dict:
    """Write an encrypted archive of the database and (by default) the server key files."""
    key_dir = Path(settings.TELEREHAB_KEY_DIR)
    started = time.perf_counter()
    audit_event_record(
        action="backup.create",
        outcome="success",
        object_type="backup",
        object_id=output.name[:100],
        details={"include_keys": include_keys},
    )
    with tempfile.TemporaryDirectory(prefix="telerehab-backup-") as tmp:
        work = Path(tmp)
        database_path = work / DATABASE_MEMBER
        _database_dump(database_path)
        members: dict[str, Path] = {DATABASE_MEMBER: database_path}
        if include_keys:
            for key_file in sorted(p for p in key_dir.iterdir() if p.is_file()):
                members[KEYS_PREFIX + key_file.name] = key_file
        with database_path.open("rb") as handle:
            rows = sum(1 for _ in handle)
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "database_vendor": connection.vendor,
            "rows": rows,
            "members": {name: _sha256(path) for name, path in members.items()},
        }
        manifest_path = work / MANIFEST_MEMBER
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
        archive_write(
            path=output, key=backup_key, members={MANIFEST_MEMBER: manifest_path, **members}
        )
    manifest["seconds"] = round(time.perf_counter() - started, 3)
    manifest["archive_bytes"] = output.stat().st_size
    return manifest


def _target_is_empty() -> bool:
    from django.contrib.auth import get_user_model

    from clinic.audit.models import AuditEvent
    from clinic.care.models import Patient

    return not (
        get_user_model().objects.exists() or AuditEvent.objects.exists() or Patient.objects.exists()
    )


def restore_verify() -> RestoreReport:
    """Prove the restored copy is whole: the audit chain verifies and every blob decrypts."""
    from capture_agent import wire
    from clinic.emergency.models import EmergencyAccessGrant
    from clinic.emergency.selectors import grant_reason
    from clinic.keys.keyring import KeyringError, transport_keys
    from clinic.recordings.models import Recording, RecordingSkeleton
    from clinic.recordings.storage import skeleton_open

    report = RestoreReport()
    chain = audit_chain_verify()
    report.audit_events_verified = chain.events_checked
    if not chain.ok:
        report.problems.append(
            f"audit chain broken at sequence {chain.broken_sequence}: {chain.reason}"
        )
    for stored in RecordingSkeleton.objects.order_by("recording_id").iterator(chunk_size=200):
        try:
            skeleton_open(stored)
            report.skeletons_decrypted += 1
        except Exception as exc:  # noqa: BLE001 - every failure is reported by recording
            report.problems.append(f"skeleton of recording {stored.recording_id}: {exc}")
    for recording in Recording.objects.order_by("id").iterator(chunk_size=200):
        try:
            server_key = transport_keys().get(recording.server_key_id)
            wire.decrypt_payload(wire.parse(bytes(recording.envelope)), server_key)
            report.envelopes_decrypted += 1
        except (KeyringError, wire.EnvelopeError) as exc:
            report.problems.append(f"envelope of recording {recording.id}: {exc}")
    for grant in EmergencyAccessGrant.objects.order_by("id").iterator(chunk_size=200):
        try:
            grant_reason(grant=grant)
            report.emergency_reasons_decrypted += 1
        except Exception as exc:  # noqa: BLE001
            report.problems.append(f"reason of emergency grant {grant.id}: {exc}")
    return report


def backup_restore(
    *, archive: Path, backup_key: bytes, replace_keys: bool = False
) -> RestoreReport:
    """Restore an archive into this (migrated, empty) database and key directory, then verify.

    Refuses a non-empty database rather than merging: a merge of two audit
    chains would verify as neither.
    """
    started = time.perf_counter()
    if not _target_is_empty():
        raise RestoreError(
            "the target database already holds users, patients or audit events; "
            "restore only into a freshly migrated, empty database"
        )
    with tempfile.TemporaryDirectory(prefix="telerehab-restore-") as tmp:
        work = Path(tmp)
        names = archive_extract(path=archive, key=backup_key, into=work)
        if MANIFEST_MEMBER not in names:
            raise BackupArchiveError("archive has no manifest")
        manifest = json.loads((work / MANIFEST_MEMBER).read_text())
        if manifest.get("format") != FORMAT:
            raise BackupArchiveError(f"unknown backup format {manifest.get('format')!r}")
        for name, digest in manifest["members"].items():
            member = work / name
            if not member.is_file() or _sha256(member) != digest:
                raise BackupArchiveError(f"archive member {name} is missing or altered")
        report = RestoreReport(rows=int(manifest["rows"]))
        keys_dir = work / KEYS_PREFIX.rstrip("/")
        if keys_dir.is_dir():
            report.keys_installed = key_files_install(
                source_dir=keys_dir, key_dir=Path(settings.TELEREHAB_KEY_DIR), replace=replace_keys
            )
            from clinic.keys.keyring import _transport_keys

            _transport_keys.cache_clear()  # the key directory's content just changed
        register_format()
        call_command("loaddata", str(work / DATABASE_MEMBER), verbosity=0)
    verified = restore_verify()
    verified.rows = report.rows
    verified.keys_installed = report.keys_installed
    verified.seconds = round(time.perf_counter() - started, 3)
    audit_event_record(
        action="backup.restore",
        outcome="success" if not verified.problems else "failure",
        object_type="backup",
        object_id=archive.name[:100],
        details={
            "rows": verified.rows,
            "audit_events_verified": verified.audit_events_verified,
            "skeletons_decrypted": verified.skeletons_decrypted,
            "envelopes_decrypted": verified.envelopes_decrypted,
            "problems": len(verified.problems),
            "backup_created_at": manifest.get("created_at", ""),
            "restored_at": dt.datetime.now(dt.UTC).isoformat(),
        },
    )
    return verified
