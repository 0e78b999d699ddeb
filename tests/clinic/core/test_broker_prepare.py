"""The embedded broker's queue exists before worker and beat race to create it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from clinic.celery import app
from clinic.core.broker import broker_queues_declare


def _queue_rows(broker_file: Path) -> list[str]:
    with sqlite3.connect(broker_file) as db:
        return [name for (name,) in db.execute("SELECT name FROM kombu_queue")]


def test_declaring_creates_the_default_queue_once_on_a_fresh_embedded_broker(
    tmp_path: Path,
) -> None:
    broker_file = tmp_path / "broker.sqlite"
    url = f"sqla+sqlite:///{broker_file}"

    assert broker_queues_declare(url) == [app.conf.task_default_queue]
    assert broker_queues_declare(url) == [app.conf.task_default_queue]  # again: no error

    assert _queue_rows(broker_file) == [app.conf.task_default_queue]
