"""Writing to the audit trail. The only code that creates AuditEvent rows."""

from __future__ import annotations

import ipaddress
import json
import uuid
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinic.audit.chain import event_fields, event_hash
from clinic.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent, Outcome


class AuditInputError(ValueError):
    """An audit event was asked for with a value the trail cannot record faithfully."""


def _client_ip(request: HttpRequest | None) -> str | None:
    """REMOTE_ADDR only: behind a proxy, gunicorn's forwarded-allow-ips sets it.

    X-Forwarded-For is not read here because any client can forge it.
    """
    if request is None:
        return None
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def _as_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise AuditInputError(f"patient_id {value!r} is not a UUID") from exc


def _json_round_trip(details: dict | None) -> dict:
    """The details exactly as the database will give them back, so the hash verifies later."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise AuditInputError(f"details must be a dict, got {type(details).__name__}")
    try:
        return json.loads(json.dumps(details, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise AuditInputError(f"details are not plain JSON: {exc}") from exc


def audit_event_record(
    *,
    action: str,
    outcome: str,
    actor=None,
    patient_id=None,
    object_type: str = "",
    object_id: str = "",
    request: HttpRequest | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the audit trail and extend the hash chain.

    Call it inside the transaction of the action it records, so that the
    action and its audit row commit or roll back together. The chain head row
    is locked (SELECT … FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
    transactions already serialise writers), so concurrent writers line up
    instead of forking the chain.
    """
    if outcome not in Outcome.values:
        raise AuditInputError(f"outcome {outcome!r} is not one of {sorted(Outcome.values)}")
    if not action:
        raise AuditInputError("action must not be empty")
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if request is not None and outcome == Outcome.DENIED:
        # The refusal is on the trail: AccessDeniedAuditMiddleware need not add a generic one.
        getattr(request, "_request", request).audit_denial_recorded = True
    patient_uuid = _as_uuid(patient_id)
    clean_details = _json_round_trip(details)
    request_id = getattr(request, "request_id", "") if request is not None else ""

    # No savepoint inside a caller's transaction: a failed audit write must fail the action
    # it records anyway, and the two extra round trips per audited page view were measurable.
    with transaction.atomic(savepoint=False):
        # Read the head under a row lock; create it on first use only (get_or_create alone
        # would not lock when it loses a creation race, so lock again after it).
        head = AuditChainHead.objects.select_for_update().filter(id=1).first()
        if head is None:
            AuditChainHead.objects.get_or_create(
                id=1, defaults={"sequence": 0, "hash": GENESIS_HASH}
            )
            head = AuditChainHead.objects.select_for_update().get(id=1)
        event = AuditEvent(
            sequence=head.sequence + 1,
            created_at=timezone.now(),
            actor=actor,
            actor_username=actor.get_username() if actor is not None else "",
            actor_role=getattr(actor, "role", "") if actor is not None else "",
            action=action[:100],
            outcome=outcome,
            object_type=object_type[:100],
            object_id=str(object_id)[:100],
            patient_id=patient_uuid,
            ip_address=_client_ip(request),
            request_id=request_id[:64],
            details=clean_details,
            previous_hash=head.hash,
        )
        event.hash = event_hash(previous_hash=head.hash, fields=event_fields(event))
        event.save(force_insert=True)
        head.sequence = event.sequence
        head.hash = event.hash
        head.save(update_fields=["sequence", "hash"])
    return event


#: Action of the event written for a refused request that no view audited itself.
ACCESS_DENIED_ACTION = "access.denied"
_AUDITED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def access_denied_record(*, request: HttpRequest, status_code: int) -> AuditEvent | None:
    """Audit a request the site refused (403: wrong role, DRF permission, CSRF) as denied.

    Called for every 403 response by ``clinic.audit.middleware.AccessDeniedAuditMiddleware``,
    so a role gate added anywhere is audited without code of its own. A view that already
    wrote its own denied event (with its domain action) for this request is not audited twice.
    The event names the URL pattern, never the path as typed or the query string, and the
    patient only by the ``patient_id`` the URL addressed.
    """
    request = getattr(request, "_request", request)
    if getattr(request, "audit_denial_recorded", False):
        return None
    match = getattr(request, "resolver_match", None)
    route = "/" + match.route if match is not None and match.route else ""
    patient_id = match.kwargs.get("patient_id") if match is not None else None
    if not isinstance(patient_id, uuid.UUID):
        patient_id = None
    return audit_event_record(
        action=ACCESS_DENIED_ACTION,
        outcome=Outcome.DENIED,
        request=request,
        patient_id=patient_id,
        object_type="url",
        object_id=route,
        details={
            "status": status_code,
            "method": request.method if request.method in _AUDITED_METHODS else "OTHER",
            "view": match.view_name if match is not None else "",
        },
    )
