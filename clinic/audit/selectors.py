"""Reading the audit trail: chain verification."""

from __future__ import annotations

from dataclasses import dataclass

from clinic.audit.chain import event_fields, event_hash
from clinic.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent


@dataclass(frozen=True)
class ChainVerification:
    """Result of walking the chain; ``broken_event_id`` names the first bad row."""

    ok: bool
    events_checked: int
    broken_sequence: int | None = None
    broken_event_id: str | None = None
    reason: str = ""


def audit_chain_verify(*, batch_size: int = 2000) -> ChainVerification:
    """Walk every event in sequence order and recompute each link.

    Detects an edited row (its hash no longer matches its content), a removed
    row (a gap in the sequence or a previous_hash that does not match), and a
    removed tail (the chain head points past the last row).
    """
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=batch_size):
        if event.sequence != expected_sequence:
            return ChainVerification(
                False,
                checked,
                event.sequence,
                str(event.id),
                f"sequence {expected_sequence} is missing (found {event.sequence} next): a row was deleted",
            )
        if event.previous_hash != expected_previous:
            return ChainVerification(
                False,
                checked,
                event.sequence,
                str(event.id),
                "previous_hash does not match the hash of the row before it",
            )
        recomputed = event_hash(previous_hash=event.previous_hash, fields=event_fields(event))
        if recomputed != event.hash:
            return ChainVerification(
                False,
                checked,
                event.sequence,
                str(event.id),
                "content does not match its hash: the row was edited",
            )
        expected_previous = event.hash
        expected_sequence += 1
        checked += 1
    head = AuditChainHead.objects.filter(id=1).first()
    head_sequence = head.sequence if head else 0
    head_hash = head.hash if head else GENESIS_HASH
    if head_sequence != checked or head_hash != expected_previous:
        return ChainVerification(
            False,
            checked,
            head_sequence,
            None,
            f"chain head points at sequence {head_sequence} but the trail ends at {checked}: "
            "rows at the end were deleted",
        )
    return ChainVerification(True, checked)
