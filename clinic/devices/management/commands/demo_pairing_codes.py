"""``manage.py demo_pairing_codes``: one JSON line per demo patient whose agent must send sessions.

Used by ``scripts/demo_sessions.py`` after the platform is up; development
settings only. Each line: ``{"username", "index", "patient_id", "code", "exercise", "error", "weekdays"}``
with ``code`` null when the agent home named by ``--known USERNAME=DEVICE_ID``
is still paired to an active device of that patient.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from clinic.core.demo import DemoNotAllowedError
from clinic.devices.demo import demo_agent_tasks


class Command(BaseCommand):
    help = "Create pairing codes for demo patients without recordings (demo settings only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--known",
            action="append",
            default=[],
            metavar="USERNAME=DEVICE_ID",
            help="a demo agent home that is already paired (repeatable)",
        )
        parser.add_argument("--only", nargs="*", help="demo user names (default: all)")

    def handle(self, *args, **options) -> None:
        known = dict(item.split("=", 1) for item in options["known"] if "=" in item)
        try:
            tasks = demo_agent_tasks(known_devices=known, usernames=options["only"])
        except DemoNotAllowedError as exc:
            raise CommandError(f"demo_pairing_codes refuses to run: {exc}") from exc
        for task in tasks:
            self.stdout.write(json.dumps(task.__dict__))
