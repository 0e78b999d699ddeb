"""``manage.py rotate_keys``: new storage key version, every stored data key re-wrapped under it.

"Every" is ``clinic.keys.sealed.SEALED_FIELDS``: recording skeletons, emergency access
reasons and session notes, and whatever is sealed at rest next (a test keeps that list
complete).

``--transport`` also replaces the envelope key devices seal for; the old one
is archived beside it and stays readable for envelopes already sealed.

Old key files are kept: deleting one is a separate, deliberate act after this
command reports zero rows left on it (``--check``) and every value opens (``--verify``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from clinic.audit.services import audit_event_record
from clinic.keys.keyring import (
    current_storage_version,
    storage_key_create_next,
    transport_key_rotate,
)
from clinic.keys.sealed import sealed_rewrap_all, sealed_values_unopenable, sealed_version_counts


class Command(BaseCommand):
    help = "Create the next storage key version and re-wrap all stored data keys under it."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="only report how many rows use each key version"
        )
        parser.add_argument(
            "--verify",
            action="store_true",
            help="only open every sealed value with the keys held now; fail if any does not",
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
        verify: bool = False,
        rewrap_only: bool = False,
        transport: bool = False,
        **options,
    ) -> None:
        if check:
            self._report()
            return
        if verify:
            failures = sealed_values_unopenable()
            if failures:
                raise CommandError(
                    f"{len(failures)} sealed values do not open: " + "; ".join(failures[:20])
                )
            self.stdout.write("every sealed value opens with the keys held")
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
        by_field = sealed_rewrap_all(to_version=version)
        changed = sum(by_field.values())
        audit_event_record(
            action="keys.rotate",
            outcome="success",
            object_type="storage_key",
            object_id=f"v{version}",
            details={"version": version, "rewrapped": changed, "by_field": by_field},
        )
        self.stdout.write(f"storage key v{version} current; re-wrapped {changed} data keys")
        self._report()

    def _report(self) -> None:
        for label, counts in sealed_version_counts().items():
            spread = ", ".join(f"v{version}: {n}" for version, n in counts.items()) or "none"
            self.stdout.write(f"  {label}: {spread}")
