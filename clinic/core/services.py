"""Platform health: what the health-check task and the /healthz probe report."""

from __future__ import annotations

import socket

from django.db import connection
from django.utils import timezone


def platform_health_check() -> dict:
    """Prove the process can reach its database; name which one.

    Naming the database lets an operator (and the test suite) confirm that a
    worker on another machine talks to the same database as the web tier.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {
        "status": "ok" if one == 1 else "error",
        "database_vendor": connection.vendor,
        "database_name": str(connection.settings_dict["NAME"]),
        "host": socket.gethostname(),
        "checked_at": timezone.now().isoformat(),
    }
