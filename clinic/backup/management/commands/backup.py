"""``manage.py backup --output FILE [--backup-key KEYFILE]``: encrypted archive of database and keys."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from clinic.backup.archive import BackupArchiveError, backup_key_load
from clinic.backup.services import backup_create

BACKUP_KEY_ENV = "TELEREHAB_BACKUP_KEY_FILE"


def backup_key_from(option: str | None) -> bytes:
    path = option or os.environ.get(BACKUP_KEY_ENV, "")
    if not path:
        raise CommandError(
            f"no backup key: pass --backup-key FILE or set {BACKUP_KEY_ENV} "
            "(create one with `python -m clinic.backup.archive new-key FILE`)"
        )
    try:
        return backup_key_load(Path(path))
    except BackupArchiveError as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = "Write an encrypted backup archive of the database (all blobs included) and the server key files."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", type=Path, required=True, help="archive file to write")
        parser.add_argument("--backup-key", help=f"backup key file (default: ${BACKUP_KEY_ENV})")
        parser.add_argument(
            "--without-keys",
            action="store_true",
            help="leave the server key files out (when they are escrowed separately)",
        )

    def handle(self, *args, output: Path, backup_key: str | None, without_keys: bool, **options):
        key = backup_key_from(backup_key)
        if output.exists():
            raise CommandError(f"{output} exists; backups are never overwritten")
        manifest = backup_create(output=output, backup_key=key, include_keys=not without_keys)
        self.stdout.write(
            f"wrote {output}: {manifest['rows']} rows, {len(manifest['members'])} members, "
            f"{manifest['archive_bytes']} bytes in {manifest['seconds']} s"
        )
