"""``manage.py session_figures_backfill``: chart figures for analysed sessions that have none.

Processing writes the figures with each result; this repairs data analysed
before that was so (or after a change to how figures are derived). Each
batch written is audited (``session_figures.backfill``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from clinic.portal.services import session_figures_sync


class Command(BaseCommand):
    help = "Create missing per-session chart figures from stored results (idempotent)."

    def handle(self, *args, **options) -> None:
        added = session_figures_sync()
        self.stdout.write(f"session figures added: {added}")
