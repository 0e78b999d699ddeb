"""The agent's durable queue of sealed recordings (SQLite, WAL).

A recording is sealed and committed here (``synchronous=FULL``) before any
upload of it starts, so a power cut or a killed process can lose at most a
recording that was never sealed, never one the patient was told was saved.
Rows are keyed by recording id: adding the same envelope twice is a no-op and
the uploader's retries are safe because the server is idempotent by id too.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PENDING, UPLOADED, FAILED = "pending", "uploaded", "failed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    recording_id     TEXT PRIMARY KEY,
    exercise         TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    sealed_at        REAL NOT NULL,
    envelope         BLOB,
    envelope_sha256  TEXT NOT NULL,
    size_bytes       INTEGER NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'uploaded', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL NOT NULL DEFAULT 0,
    bytes_sent       INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT NOT NULL DEFAULT '',
    server_status    INTEGER,
    uploaded_at      REAL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
"""


class OutboxError(Exception):
    """The outbox cannot do what was asked."""


class OutboxConflictError(OutboxError):
    """A recording id already queued with different bytes: never overwrite a sealed recording."""


@dataclass(frozen=True)
class OutboxItem:
    recording_id: str
    exercise: str
    created_at: str
    sealed_at: float
    envelope_sha256: str
    size_bytes: int
    state: str
    attempts: int
    next_attempt_at: float
    bytes_sent: int
    last_error: str
    server_status: int | None
    uploaded_at: float | None

    @property
    def progress(self) -> float:
        if self.state == UPLOADED:
            return 1.0
        return min(1.0, self.bytes_sent / self.size_bytes) if self.size_bytes else 0.0


_ITEM_COLUMNS = ", ".join(OutboxItem.__dataclass_fields__)


def backoff_delay_s(
    attempts: int, *, base_s: float = 2.0, cap_s: float = 600.0, rng: random.Random | None = None
) -> float:
    """Exponential back-off with "equal jitter": half fixed, half random.

    The fixed half guarantees the server a breather; the random half keeps a
    clinic's devices from retrying in lock-step after an outage.
    """
    ceiling = min(cap_s, base_s * (2 ** min(attempts, 30)))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


class Outbox:
    """One SQLite file; safe to open from the recorder, the uploader and ``status`` at once."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        for statement in _SCHEMA.strip().split(";"):
            if statement.strip():
                self._db.execute(statement)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- writes --------------------------------------------------------------------

    def add(self, *, recording_id: str, envelope: bytes, exercise: str, created_at: str) -> bool:
        """Queue a sealed envelope durably; True if new, False if already queued identically."""
        digest = hashlib.sha256(envelope).hexdigest()
        with self._write() as db:
            row = db.execute(
                "SELECT envelope_sha256 FROM outbox WHERE recording_id = ?", (recording_id,)
            ).fetchone()
            if row is not None:
                if row[0] != digest:
                    raise OutboxConflictError(
                        f"recording {recording_id} is already queued with different content"
                    )
                return False
            db.execute(
                "INSERT INTO outbox (recording_id, exercise, created_at, sealed_at, envelope,"
                " envelope_sha256, size_bytes, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    recording_id,
                    exercise,
                    created_at,
                    time.time(),
                    envelope,
                    digest,
                    len(envelope),
                    PENDING,
                ),
            )
        return True

    def mark_uploaded(self, recording_id: str, *, server_status: int) -> None:
        """Done: drop the envelope bytes (the server has them) but keep the record of it."""
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET state = ?, server_status = ?, uploaded_at = ?, envelope = NULL,"
                " bytes_sent = size_bytes, last_error = '' WHERE recording_id = ?",
                (UPLOADED, server_status, time.time(), recording_id),
            )

    def mark_retry(self, recording_id: str, *, error: str, delay_s: float) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,"
                " bytes_sent = 0 WHERE recording_id = ? AND state = ?",
                (time.time() + delay_s, error[:500], recording_id, PENDING),
            )

    def mark_failed(self, recording_id: str, *, error: str, server_status: int | None) -> None:
        """A refusal retrying cannot fix; kept (never dropped) until someone requeues it."""
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?,"
                " server_status = ?, bytes_sent = 0 WHERE recording_id = ?",
                (FAILED, error[:500], server_status, recording_id),
            )

    def requeue_failed(self) -> int:
        with self._write() as db:
            cursor = db.execute(
                "UPDATE outbox SET state = ?, next_attempt_at = 0 WHERE state = ?",
                (PENDING, FAILED),
            )
            return cursor.rowcount

    def set_progress(self, recording_id: str, bytes_sent: int) -> None:
        self._db.execute(
            "UPDATE outbox SET bytes_sent = ? WHERE recording_id = ?", (bytes_sent, recording_id)
        )

    # -- reads ---------------------------------------------------------------------

    def has(self, recording_id: str) -> bool:
        return (
            self._db.execute(
                "SELECT 1 FROM outbox WHERE recording_id = ?", (recording_id,)
            ).fetchone()
            is not None
        )

    def envelope(self, recording_id: str) -> bytes:
        row = self._db.execute(
            "SELECT envelope FROM outbox WHERE recording_id = ?", (recording_id,)
        ).fetchone()
        if row is None or row[0] is None:
            raise OutboxError(f"recording {recording_id} has no envelope to send")
        return bytes(row[0])

    def due(self, *, now: float | None = None, limit: int = 100) -> list[OutboxItem]:
        """Pending recordings whose back-off has expired, oldest first."""
        rows = self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM outbox WHERE state = ? AND next_attempt_at <= ?"  # noqa: S608
            " ORDER BY sealed_at LIMIT ?",
            (PENDING, time.time() if now is None else now, limit),
        ).fetchall()
        return [OutboxItem(*row) for row in rows]

    def items(self) -> list[OutboxItem]:
        rows = self._db.execute(
            f"SELECT {_ITEM_COLUMNS} FROM outbox ORDER BY sealed_at"  # noqa: S608
        ).fetchall()
        return [OutboxItem(*row) for row in rows]

    def counts(self) -> dict[str, int]:
        counts = {PENDING: 0, UPLOADED: 0, FAILED: 0}
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
            counts[state] = n
        return counts

    def next_attempt_at(self) -> float | None:
        row = self._db.execute(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE state = ?", (PENDING,)
        ).fetchone()
        return row[0]
