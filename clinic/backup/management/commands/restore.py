"""``manage.py restore ARCHIVE [--backup-key KEYFILE] [--replace-keys]``: restore, then prove it.

Migrates the configured (empty) database, installs the archived key files,
loads the rows, then verifies the audit chain and decrypts every stored
skeleton, envelope and emergency reason. Exits non-zero if anything fails.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from clinic.backup.archive import BackupArchiveError
from clinic.backup.management.commands.backup import backup_key_from
from clinic.backup.services import RestoreError, backup_restore


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database and verify the restored copy."

    def add_arguments(self, parser) -> None:
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--backup-key", help="backup key file (default: $TELEREHAB_BACKUP_KEY_FILE)"
        )
        parser.add_argument(
            "--replace-keys",
            action="store_true",
            help="move differing key files in the key directory aside instead of refusing",
        )

    def handle(self, *args, archive: Path, backup_key: str | None, replace_keys: bool, **options):
        key = backup_key_from(backup_key)
        if not archive.is_file():
            raise CommandError(f"{archive} is not a file")
        call_command("migrate", interactive=False, verbosity=0)
        try:
            report = backup_restore(archive=archive, backup_key=key, replace_keys=replace_keys)
        except (BackupArchiveError, RestoreError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"restored {report.rows} rows in {report.seconds} s; keys installed: "
            f"{len(report.keys_installed)}; audit events verified: {report.audit_events_verified}; "
            f"skeletons decrypted: {report.skeletons_decrypted}; envelopes decrypted: "
            f"{report.envelopes_decrypted}; emergency reasons decrypted: "
            f"{report.emergency_reasons_decrypted}"
        )
        if report.problems:
            for problem in report.problems:
                self.stderr.write(f"PROBLEM: {problem}")
            raise CommandError(
                f"restored copy failed verification ({len(report.problems)} problems)"
            )
        self.stdout.write("restored copy verified")
