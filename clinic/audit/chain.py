"""How an audit row is turned into bytes and hashed. Pure: used by writer and verifier alike."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def canonical_json(fields: dict[str, Any]) -> str:
    """Sorted keys, no whitespace, UTF-8: the same row always gives the same text."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_fields(event: Any) -> dict[str, Any]:
    """Every stored column of an AuditEvent that the hash covers (all but the hashes)."""
    created_at: datetime = event.created_at
    return {
        "id": str(event.id),
        "sequence": int(event.sequence),
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "actor_username": event.actor_username,
        "actor_role": event.actor_role,
        "action": event.action,
        "outcome": event.outcome,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "patient_id": str(event.patient_id) if event.patient_id else None,
        "ip_address": event.ip_address,
        "request_id": event.request_id,
        "details": event.details,
    }


def event_hash(*, previous_hash: str, fields: dict[str, Any]) -> str:
    return hashlib.sha256((previous_hash + canonical_json(fields)).encode("utf-8")).hexdigest()
