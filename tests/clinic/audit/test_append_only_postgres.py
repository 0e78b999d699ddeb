"""On PostgreSQL the database itself refuses UPDATE and DELETE on the audit table."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from clinic.audit.models import AuditEvent
from clinic.audit.services import audit_event_record

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip(
            "the append-only trigger is PostgreSQL-only; SQLite relies on the hash chain "
            "(run with DATABASE_URL=postgres://… to exercise it)"
        )


def test_orm_update_is_rejected():
    event = audit_event_record(action="test.x", outcome="success")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(id=event.id).update(outcome="failure")
    assert AuditEvent.objects.get(id=event.id).outcome == "success"


def test_raw_update_and_delete_are_rejected():
    event = audit_event_record(action="test.x", outcome="success")
    with pytest.raises(DatabaseError, match="UPDATE is not allowed"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE audit_auditevent SET action = 'edited' WHERE id = %s", [event.id]
            )
    with pytest.raises(DatabaseError, match="DELETE is not allowed"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.filter(id=event.id, action="test.x").exists()
