"""What the server benchmarks share: a free port and a throw-away database.

Why a module: each benchmark that starts a real gunicorn needs the same two
things, and a copy in each drifts (file names, FORCE on drop).
"""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scratch_database_url(base: str, folder: Path, *, prefix: str) -> tuple[str, str | None]:
    """(URL, PostgreSQL database name or None): a new database beside ``base``, else SQLite.

    ``base`` is a ``postgres://`` URL to create the new database next to, or
    anything else for a SQLite file in ``folder``.
    """
    if base.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(urlsplit(base)._replace(path="/" + name)), name
    return f"sqlite:///{folder / (prefix + '.sqlite3')}", None


def scratch_database_drop(base: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
