"""``manage.py rotate_keys``: new storage key version, every stored data key re-wrapped under it.

``--transport`` also replaces the envelope key devices seal for; the old one
is archived beside it and stays readable for envelopes already sealed.

Old key files are kept: deleting one is a separate, deliberate act after this
command reports zero blobs left on it (``--check``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from clinic.audit.services import audit_event_record
from clinic.keys.keyring import (
    current_storage_version,
    storage_key_create_next,
    transport_key_rotate,
)
from clinic.recordings.models import RecordingSkeleton
from clinic.recordings.storage import skeletons_rewrap


class Command(BaseCommand):
    help = "Create the next storage key version and re-wrap all stored data keys under it."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="only report how many blobs use each key version"
        )
        parser.add_argument(
            "--transport",
            action="store_true",
            help="also replace the envelope (X25519) key; the old one is archived, still readable",
        )
        parser.add_argument(
            "--rewrap-only",
            action="store_true",
            help="re-wrap under the current version without creating a new one (resume)",
        )

    def handle(
        self,
        *args,
        check: bool = False,
        rewrap_only: bool = False,
        transport: bool = False,
        **options,
    ) -> None:
        if check:
            self._report()
            return
        if transport:
            old_id, new_id = transport_key_rotate()
            audit_event_record(
                action="keys.rotate_transport",
                outcome="success",
                object_type="transport_key",
                object_id=new_id,
                details={"archived": old_id, "current": new_id},
            )
            self.stdout.write(f"transport key {new_id} current; {old_id} archived (still readable)")
        version = current_storage_version() if rewrap_only else storage_key_create_next()
        changed = skeletons_rewrap(to_version=version)
        audit_event_record(
            action="keys.rotate",
            outcome="success",
            object_type="storage_key",
            object_id=f"v{version}",
            details={"version": version, "rewrapped": changed},
        )
        self.stdout.write(f"storage key v{version} current; re-wrapped {changed} blobs")
        self._report()

    def _report(self) -> None:
        from django.db.models import Count

        rows = (
            RecordingSkeleton.objects.values("key_version")
            .annotate(n=Count("recording_id"))
            .order_by("key_version")
        )
        for row in rows:
            self.stdout.write(f"  key v{row['key_version']}: {row['n']} blobs")
