"""``manage.py broker_prepare``: declare Celery's queues before worker and beat start."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from clinic.core.broker import broker_queues_declare


class Command(BaseCommand):
    help = "Declare the Celery queues on the broker (run before starting worker and beat)."

    def handle(self, *args, **options) -> None:
        names = broker_queues_declare()
        self.stdout.write(f"broker ready: queues {', '.join(names)}")
