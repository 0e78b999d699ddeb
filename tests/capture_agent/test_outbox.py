"""Outbox: durable before upload, idempotent by recording id, back-off with jitter."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from capture_agent.transport.outbox import (
    FAILED,
    PENDING,
    UPLOADED,
    Outbox,
    OutboxConflictError,
    backoff_delay_s,
)

RID = "0b6c1d7e-3f4a-4c55-8e21-6a7b8c9d0e1f"


def _add(outbox: Outbox, rid: str = RID, envelope: bytes = b"sealed bytes") -> bool:
    return outbox.add(
        recording_id=rid,
        envelope=envelope,
        exercise="knee_flexion",
        created_at="2026-01-01T00:00:00Z",
    )


def test_outbox_uses_wal_and_full_sync(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        assert outbox._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert outbox._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_added_recording_is_committed_and_visible_to_another_process(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    with Outbox(path) as outbox:
        _add(outbox)
        other = sqlite3.connect(path)
        assert other.execute("SELECT state, envelope FROM outbox").fetchall() == [
            (PENDING, b"sealed bytes")
        ]
        other.close()


def test_adding_the_same_recording_twice_is_a_no_op(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        assert _add(outbox) is True
        assert _add(outbox) is False
        assert outbox.counts() == {PENDING: 1, UPLOADED: 0, FAILED: 0}


def test_same_id_with_other_bytes_is_refused(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        _add(outbox)
        with pytest.raises(OutboxConflictError):
            _add(outbox, envelope=b"different")
        assert outbox.envelope(RID) == b"sealed bytes"


def test_retry_waits_for_its_back_off(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        _add(outbox)
        outbox.mark_retry(RID, error="network down", delay_s=60)
        assert outbox.due() == []
        import time

        (item,) = outbox.due(now=time.time() + 61)
        assert item.attempts == 1 and item.last_error == "network down"


def test_uploaded_recording_keeps_its_record_but_not_its_bytes(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        _add(outbox)
        outbox.mark_uploaded(RID, server_status=201)
        (item,) = outbox.items()
        assert item.state == UPLOADED and item.progress == 1.0
        assert outbox._db.execute("SELECT envelope FROM outbox").fetchone()[0] is None
        assert _add(outbox) is False  # idempotent even after the bytes are gone


def test_refused_recording_is_kept_until_requeued(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        _add(outbox)
        outbox.mark_failed(RID, error="HTTP 403 device_revoked", server_status=403)
        assert outbox.due() == []
        assert outbox.envelope(RID) == b"sealed bytes"
        assert outbox.requeue_failed() == 1
        assert [i.recording_id for i in outbox.due()] == [RID]


def test_due_is_oldest_first(tmp_path: Path) -> None:
    ids = [f"00000000-0000-4000-8000-00000000000{i}" for i in range(3)]
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        for rid in ids:
            _add(outbox, rid, rid.encode())
        assert [i.recording_id for i in outbox.due()] == ids


def test_progress_is_visible(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        _add(outbox, envelope=b"x" * 1000)
        outbox.set_progress(RID, 250)
        assert outbox.items()[0].progress == 0.25


def test_back_off_grows_exponentially_with_bounded_jitter() -> None:
    rng = random.Random(1)
    delays = [backoff_delay_s(n, base_s=2, cap_s=600, rng=rng) for n in range(12)]
    for n, delay in enumerate(delays):
        ceiling = min(600, 2 * 2**n)
        assert ceiling / 2 <= delay <= ceiling
    assert delays[-1] <= 600
    # jitter: two devices with the same attempt count do not retry in lock-step
    a = [backoff_delay_s(5, rng=random.Random(seed)) for seed in range(20)]
    assert len({round(x, 6) for x in a}) == 20
