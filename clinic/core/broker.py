"""Declare the Celery queues before the worker and the scheduler start.

Why: on the embedded broker (kombu's SQLAlchemy transport on SQLite) a queue is
a row that the first process to publish or consume inserts. When the worker and
beat start together on a fresh ``var/`` both insert it; the loser's SQLAlchemy
session is left in a rolled-back state and beat then fails every scheduled task
for the life of the process. Declaring the queues once, before either starts,
removes the race. On Redis declaring is a no-op, so this runs unconditionally.
"""

from __future__ import annotations

from kombu import Connection

from clinic.celery import app


def broker_queues_declare(broker_url: str | None = None) -> list[str]:
    """Declare every queue the worker consumes; returns their names.

    ``broker_url`` defaults to the configured broker (tests pass a scratch one,
    opened without the configured broker's transport options, which belong to it).
    """
    queue_names = [app.conf.task_default_queue]
    connection = Connection(broker_url) if broker_url else app.connection_for_write()
    with connection:
        channel = connection.default_channel
        for name in queue_names:
            app.amqp.queues[name](channel).declare()
    return queue_names
