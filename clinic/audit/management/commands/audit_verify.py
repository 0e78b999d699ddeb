"""``manage.py audit_verify``: exit 0 if the audit chain is intact, else name the first broken row."""

from django.core.management.base import BaseCommand, CommandError

from clinic.audit.selectors import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain and name the first broken row."

    def handle(self, *args, **options) -> None:
        result = audit_chain_verify()
        if not result.ok:
            raise CommandError(
                f"audit chain BROKEN at sequence {result.broken_sequence} "
                f"(event id {result.broken_event_id}): {result.reason}. "
                f"{result.events_checked} events before it verified."
            )
        self.stdout.write(f"audit chain OK: {result.events_checked} events verified")
