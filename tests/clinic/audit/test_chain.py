"""The audit trail's hash chain: it verifies, and any edit or deletion is named by audit_verify."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from clinic.audit.models import AuditEvent
from clinic.audit.selectors import audit_chain_verify
from clinic.audit.services import AuditInputError, audit_event_record
from tests.factories import patient_create, therapist_create

pytestmark = pytest.mark.django_db


def _table_writable():
    """On PostgreSQL the trigger forbids edits; a tamperer with owner rights disables it first."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")


def _record_five():
    therapist = therapist_create()
    patient = patient_create(therapists=[therapist])
    start = AuditEvent.objects.count()
    for index in range(5):
        audit_event_record(
            action="test.action",
            outcome="success",
            actor=therapist,
            patient_id=patient.id,
            object_type="thing",
            object_id=str(index),
            details={"index": index, "note": "résumé ✓", "nested": {"b": 1, "a": [1.5, None]}},
        )
    return list(AuditEvent.objects.order_by("sequence"))[start:]


def test_chain_links_and_verifies(capsys):
    events = _record_five()
    all_events = list(AuditEvent.objects.order_by("sequence"))
    assert [e.sequence for e in all_events] == list(range(1, len(all_events) + 1))
    for previous, current in zip(all_events, all_events[1:], strict=False):
        assert current.previous_hash == previous.hash
    assert all_events[0].previous_hash == "0" * 64
    assert len({e.hash for e in events}) == 5
    result = audit_chain_verify()
    assert result.ok and result.events_checked == len(all_events)
    call_command("audit_verify")
    assert f"audit chain OK: {len(all_events)} events verified" in capsys.readouterr().out


@pytest.mark.parametrize("victim_index", range(5))
@pytest.mark.parametrize(
    "column, new_value",
    [("action", "test.innocent"), ("outcome", "failure"), ("details", {"index": 99})],
)
def test_editing_any_row_makes_audit_verify_name_that_row(victim_index, column, new_value):
    events = _record_five()
    victim = events[victim_index]
    _table_writable()
    AuditEvent.objects.filter(id=victim.id).update(**{column: new_value})
    with pytest.raises(CommandError) as excinfo:
        call_command("audit_verify")
    message = str(excinfo.value)
    assert f"sequence {victim.sequence} " in message
    assert str(victim.id) in message
    assert "edited" in message


def test_rehashing_an_edited_row_still_breaks_the_next_link():
    events = _record_five()
    victim = events[1]
    _table_writable()
    AuditEvent.objects.filter(id=victim.id).update(hash="f" * 64)
    result = audit_chain_verify()
    assert not result.ok
    assert result.broken_sequence == victim.sequence


def test_deleting_a_row_names_the_row_after_the_gap():
    events = _record_five()
    _table_writable()
    AuditEvent.objects.filter(id=events[2].id).delete()
    result = audit_chain_verify()
    assert not result.ok
    assert result.broken_event_id == str(events[3].id)
    assert "deleted" in result.reason


def test_deleting_the_newest_rows_is_detected_through_the_chain_head():
    events = _record_five()
    _table_writable()
    AuditEvent.objects.filter(id__in=[events[3].id, events[4].id]).delete()
    result = audit_chain_verify()
    assert not result.ok
    assert "end were deleted" in result.reason


def test_an_audit_row_rolls_back_with_its_action():
    _record_five()
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_event_record(action="test.rolled_back", outcome="success")
        raise RuntimeError("the action failed")
    assert AuditEvent.objects.count() == before
    audit_event_record(action="test.after", outcome="success")
    assert audit_chain_verify().ok


def test_bad_input_is_refused_with_a_specific_error():
    with pytest.raises(AuditInputError, match="outcome"):
        audit_event_record(action="x", outcome="maybe")
    with pytest.raises(AuditInputError, match="not a UUID"):
        audit_event_record(action="x", outcome="success", patient_id="42")
    with pytest.raises(AuditInputError, match="plain JSON"):
        audit_event_record(action="x", outcome="success", details={"t": object()})
    with pytest.raises(AuditInputError, match="plain JSON"):
        audit_event_record(action="x", outcome="success", details={"v": float("nan")})
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    threads_n, events_per_thread = 4, 10
    errors: list[BaseException] = []

    def writer(index: int) -> None:
        try:
            for n in range(events_per_thread):
                with transaction.atomic():
                    audit_event_record(
                        action="test.concurrent", outcome="success", details={"t": index, "n": n}
                    )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert (
        AuditEvent.objects.filter(action="test.concurrent").count() == threads_n * events_per_thread
    )
    result = audit_chain_verify()
    assert result.ok, result.reason


def test_removing_a_user_leaves_their_audit_rows_untouched():
    therapist = therapist_create()
    event = audit_event_record(action="test.by_someone", outcome="success", actor=therapist)
    therapist.delete()
    stored = AuditEvent.objects.get(id=event.id)
    assert stored.actor_username == therapist.username
    assert stored.hash == event.hash
    assert audit_chain_verify().ok
