"""RBAC matrix and audit completeness, generated from the URL configuration.

Every URL pattern × role (anonymous, patient, therapist, clinic administrator) × relation
(own record, care-team patient, other patient) is requested for real through the whole
middleware stack, and the response is held against ``endpoint_policy.POLICY``:

* the outcome (allowed / refused / sent to log in) matches the endpoint's access rule;
* an allowed request to an endpoint that touches patient data writes an audit event naming
  the patient (audit completeness, 164.312(b));
* a refused request for a patient's data is itself audited as denied, and so is every 403;
* no log record written on any of these paths (ingest, processing, every page and API call,
  allowed or refused) holds a patient's name, birth date or skeleton value, and no refusal
  page shows them (164.312(b)/(c): PHI stays out of logs and error pages).

A URL pattern without a policy entry fails ``test_every_url_pattern_has_a_policy``.
"""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.db.models import Max
from django.urls import reverse

from clinic.audit.models import AuditEvent
from tests.hipaa import figures
from tests.hipaa.endpoint_policy import (
    ALSO_ACCEPTS,
    METHODS_CHECKED,
    POLICY,
    RULES,
    Probe,
    expected_outcome,
)
from tests.hipaa.urlwalk import url_endpoints
from tests.hipaa.world import (
    KWARG_BUILDERS,
    RELATIONS,
    ROLES,
    World,
    client_for,
    phi_needles,
    world_build,
)

#: URL keywords that identify patient data: an endpoint with one of them must audit.
PATIENT_KWARGS = frozenset({"patient_id", "recording_id", "device_id", "session_id", "note_id"})


def unpoliced(endpoints: dict, policy: dict) -> tuple[list[str], list[str]]:
    """(URL patterns without a policy entry, policy entries for URLs that no longer exist)."""
    return sorted(set(endpoints) - set(policy)), sorted(set(policy) - set(endpoints))


def test_every_url_pattern_has_a_policy():
    missing, stale = unpoliced(url_endpoints(), POLICY)
    assert not missing, (
        f"URL patterns with no entry in tests/hipaa/endpoint_policy.py: {missing}. "
        "Decide who may use each, and which audit action it writes."
    )
    assert not stale, f"policy entries for URL names that no longer exist: {stale}"


def test_an_unknown_url_pattern_is_caught():
    missing_before, _ = unpoliced(url_endpoints(), POLICY)
    missing, _ = unpoliced(url_endpoints("tests.hipaa.urls_with_an_extra_endpoint"), POLICY)
    assert sorted(set(missing) - set(missing_before)) == ["route:unreviewed/<uuid:patient_id>/"]


def test_policy_entries_are_complete_decisions():
    endpoints = url_endpoints()
    for key, probes in POLICY.items():
        assert probes, f"{key}: no probe"
        for probe in probes:
            assert probe.rule in RULES, f"{key}: unknown rule {probe.rule}"
            decisions = [bool(probe.audit), bool(probe.no_audit_reason), bool(probe.audit_gap)]
            assert sum(decisions) == 1, (
                f"{key} {probe.method}: give exactly one of an audit action, a reason it needs "
                "none, or a known audit gap"
            )
            if probe.overrides:
                assert probe.overrides_reason, f"{key}: overrides need a reason"
            endpoint = endpoints.get(key)
            if endpoint and PATIENT_KWARGS & set(endpoint.kwargs):
                assert not probe.no_audit_reason or probe.rule in ("therapist_only",), (
                    f"{key} addresses a patient's data by URL and must be audited"
                )


def phi_in_log_records(records, needles: dict[str, str]) -> list[str]:
    """Every log record (message and traceback) that holds one of the PHI needles."""
    formatter = logging.Formatter()
    found = []
    for record in records:
        text = record.getMessage()
        if record.exc_info:
            text += formatter.formatException(record.exc_info)
        if record.exc_text:
            text += record.exc_text
        for label, needle in needles.items():
            if needle in text:
                found.append(f"log record from {record.name} holds {label}: {text[:200]!r}")
    return found


@pytest.mark.django_db
def test_the_log_scan_finds_phi_when_it_is_logged():
    """Guard against a scan that can never fail.

    The records are built by hand: logged for real they would pass the redacting filter on
    the configured handler first (tests/hipaa/test_log_redaction.py proves that part).
    """
    import sys

    world = world_build()
    charting = logging.makeLogRecord(
        {
            "name": "clinic.example",
            "msg": "charting %s",
            "args": (world.patients["care"].display_name,),
        }
    )
    try:
        raise ValueError(f"born {world.patients['other'].date_of_birth.isoformat()}")
    except ValueError:
        failed = logging.makeLogRecord(
            {"name": "clinic.example", "msg": "failed", "exc_info": sys.exc_info()}
        )
    found = phi_in_log_records([charting, failed], phi_needles(world))
    assert any("care patient's name" in f for f in found)
    assert any("other birth date (ISO)" in f for f in found)


def _outcome_ok(outcome: str, response, probe: Probe) -> bool:
    status = response.status_code
    if outcome == "allow":
        return status in probe.ok
    if outcome == "deny":
        return status in (403, 404)
    if outcome == "login":
        if status == 302:
            return response["Location"].startswith(reverse(settings.LOGIN_URL))
        return status in (401, 403)
    if outcome == "reject":
        return 400 <= status < 500
    raise ValueError(outcome)


def _form_data(probe: Probe) -> dict:
    from tests.factories import therapist_create

    data = dict(probe.data or {})
    for name, value in data.items():
        if value == "<new_therapist>":
            data[name] = str(therapist_create().id)
    return data


def _send(client, probe: Probe, url: str):
    if probe.content_type:
        return client.generic(probe.method, url, b"", content_type=probe.content_type)
    if probe.method == "GET":
        return client.get(url)
    return client.post(url, _form_data(probe))


def _cell_patient(world: World, kwargs: dict):
    """The patient whose data the URL addresses (None when it names none)."""
    for value in kwargs.values():
        patient_id = world.patient_of.get(value)
        if patient_id is not None:
            return patient_id
    return None


def _run_cell(world, client, key, endpoint, probe, role, relation, refusal_pages) -> list[str]:
    problems: list[str] = []
    kwargs = {}
    for name in endpoint.kwargs:
        builder = KWARG_BUILDERS.get(name)
        if builder is None:
            return [f"{key}: URL keyword {name!r} has no builder in tests/hipaa/world.py"]
        kwargs[name] = builder(world, relation, probe.fresh)
    url = reverse(key, kwargs=kwargs) if not key.startswith("route:") else "/" + endpoint.route
    expected = probe.overrides.get((role, relation)) or expected_outcome(probe.rule, role, relation)
    before = AuditEvent.objects.aggregate(m=Max("sequence"))["m"] or 0
    response = _send(client, probe, url)
    events = list(AuditEvent.objects.filter(sequence__gt=before))
    cell = f"{key} {probe.method} as {role}/{relation}"
    if expected != "allow":
        refusal_pages.append((f"{key} {probe.method} as {role}/{relation}", response.content))
    if not _outcome_ok(expected, response, probe):
        problems.append(f"{cell}: expected {expected}, got HTTP {response.status_code}")
        return problems
    patient_id = _cell_patient(world, kwargs)
    if expected == "allow" and probe.audit:
        hits = [e for e in events if e.action == probe.audit]
        if not hits:
            problems.append(
                f"{cell}: allowed but no {probe.audit!r} audit event (got {[e.action for e in events]})"
            )
        elif (
            probe.audit_names_patient
            and patient_id
            and not any(e.patient_id == patient_id for e in hits)
        ):
            problems.append(f"{cell}: audit event does not name the patient")
    if expected == "reject" and probe.audit:
        if not any(e.action == probe.audit and e.outcome == "denied" for e in events):
            problems.append(f"{cell}: refused but not audited as {probe.audit!r} denied")
    if expected == "allow" and probe.audit_gap and any(e.outcome == "success" for e in events):
        problems.append(
            f"{cell}: the known audit gap is closed ({[e.action for e in events]}): "
            "replace audit_gap with audit=... in endpoint_policy.py"
        )
    # A 404 is the care-team selector refusing one patient: it must be audited. A 403 is a
    # role gate (the page is not for this role at all) and names no patient.
    if expected == "deny" and response.status_code == 404 and patient_id:
        if not any(e.outcome == "denied" and e.patient_id == patient_id for e in events):
            problems.append(f"{cell}: refused access to a patient's data was not audited")
    # Every 403 (role gate, DRF permission) is audited as denied, by the view or by
    # clinic.audit.middleware.AccessDeniedAuditMiddleware.
    if response.status_code == 403 and not any(e.outcome == "denied" for e in events):
        problems.append(f"{cell}: refused with 403 but no denied audit event")
    if expected != "allow" and any(
        e.outcome == "success" and patient_id and e.patient_id == patient_id for e in events
    ):
        problems.append(f"{cell}: refused, yet a success was audited for the patient")
    return problems


def _unexpected_methods(world, clients, key, endpoint) -> list[str]:
    """Methods nobody probed must answer 405 to a user the endpoint is meant for."""
    probe = POLICY[key][0]
    role = next(
        (r for r in ROLES if expected_outcome(probe.rule, r, "own") in ("allow", "reject")), None
    )
    if role is None:
        return [f"{key}: no role may use it; is it dead code?"]
    kwargs = {name: KWARG_BUILDERS[name](world, "own", True) for name in endpoint.kwargs}
    url = reverse(key, kwargs=kwargs)
    probed = {p.method for p in POLICY[key]}
    problems = []
    for method in METHODS_CHECKED:
        if method in probed or method in ALSO_ACCEPTS.get(key, {}):
            continue
        response = clients[role].generic(method, url)
        if response.status_code != 405:
            problems.append(
                f"{key} answers {method} with HTTP {response.status_code} as {role}: probe it in "
                "POLICY or explain it in ALSO_ACCEPTS"
            )
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(POLICY))
def test_rbac_matrix(key, caplog):
    caplog.set_level(logging.DEBUG)
    endpoints = url_endpoints()
    if key not in endpoints:
        pytest.skip(f"{key} is not in the URL configuration (caught by the policy test)")
    endpoint = endpoints[key]
    world = world_build()
    clients = {role: client_for(world, role) for role in ROLES}
    relations = RELATIONS if endpoint.kwargs else ("own",)
    problems: list[str] = []
    refusal_pages: list[tuple[str, bytes]] = []
    cells = 0
    for probe in POLICY[key]:
        for role in ROLES:
            for relation in relations:
                problems += _run_cell(
                    world, clients[role], key, endpoint, probe, role, relation, refusal_pages
                )
                cells += 1
    problems += _unexpected_methods(world, clients, key, endpoint)
    needles = phi_needles(world)
    problems += phi_in_log_records(caplog.records, needles)
    for cell, content in refusal_pages:
        page = content.decode("utf-8", "replace")
        for label, needle in needles.items():
            if needle in page:
                problems.append(f"{cell}: refusal page shows {label}")
    touches = any(p.audit or p.audit_gap for p in POLICY[key])
    gap = any(p.audit_gap for p in POLICY[key])
    figures.record(
        "rbac",
        key,
        {
            "cells": cells,
            "patient_data": touches,
            "audited": touches and not gap and not problems,
            "audit_gap": gap,
        },
    )
    assert not problems, "\n".join(problems)
