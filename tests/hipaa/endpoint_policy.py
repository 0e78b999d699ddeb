"""What every URL of telerehab lets each role do, and what it must write to the audit trail.

One entry per URL name (``namespace:name``). ``test_rbac_matrix.py`` walks the URL
configuration and fails when a pattern has no entry here, so a new endpoint cannot ship
without a decision on who may use it and whether it touches patient data.

Access rules (expected outcome per role × relation, see ``expected_outcome``):

* ``public``         everyone, logged in or not (log-in page, health probe);
* ``authenticated``  any logged-in role; anonymous is sent to log in;
* ``clinical``       the patient's own record, or a therapist on the care team; everyone else
                     is refused (404, audited) and administrators have no clinical access;
* ``care_team``      therapist pages about one patient: a therapist on the care team only;
                     patients and administrators 403, other therapists 404 (audited);
* ``patient_self``   a patient acting on their own record only (own device…): other patients
                     404, other roles 403;
* ``patient_only``   pages of the logged-in patient about themselves (no id in the URL);
* ``therapist_only`` therapists, whichever patient; other roles 403;
* ``clinic_admin``   clinic administrators only; other roles 403;
* ``device_signed``  only a paired device's Ed25519 signature opens it: a browser session of
                     any role, or none, is refused with a 4xx.

Outcomes: ``allow`` (one of ``Probe.ok``), ``deny`` (403/404), ``login`` (redirect to the log-in
page, or 401/403 from the API), ``reject`` (a 4xx for a request without a device signature).
"""

from __future__ import annotations

from dataclasses import dataclass, field

RULES = (
    "public",
    "authenticated",
    "clinical",
    "care_team",
    "patient_self",
    "patient_only",
    "therapist_only",
    "clinic_admin",
    "device_signed",
)


@dataclass(frozen=True)
class Probe:
    """One request the matrix sends to an endpoint in every cell."""

    rule: str
    method: str = "GET"
    #: audit action an allowed request writes; None only with ``no_audit_reason``
    audit: str | None = None
    no_audit_reason: str = ""
    #: form fields; a value "<new_therapist>" is replaced by a fresh therapist's id per request
    data: dict | None = None
    content_type: str | None = None
    ok: tuple[int, ...] = (200,)
    #: state-changing: every cell gets its own fresh target object
    fresh: bool = False
    #: the allowed request's audit row names the target patient (False: lists or no patient)
    audit_names_patient: bool = True
    #: a known audit gap: the endpoint touches patient data but writes no audit event yet.
    #: The matrix still checks access; the gap is counted and printed, never hidden.
    audit_gap: str = ""
    #: per-cell exceptions to the rule, (role, relation) -> outcome, each with a reason below
    overrides: dict[tuple[str, str], str] = field(default_factory=dict)
    overrides_reason: str = ""


def expected_outcome(rule: str, role: str, relation: str) -> str:
    if rule == "public":
        return "allow"
    if rule == "device_signed":
        return "reject"
    if role == "anonymous":
        return "login"
    if rule == "authenticated":
        return "allow"
    if rule == "therapist_only":
        return "allow" if role == "therapist" else "deny"
    if rule == "clinic_admin":
        return "allow" if role == "clinic_admin" else "deny"
    if rule == "patient_only":
        return "allow" if role == "patient" else "deny"
    if rule == "patient_self":
        return "allow" if (role, relation) == ("patient", "own") else "deny"
    if rule == "care_team":
        return "allow" if role == "therapist" and relation in ("own", "care") else "deny"
    if rule == "clinical":
        if role == "patient":
            return "allow" if relation == "own" else "deny"
        if role == "therapist":
            return "allow" if relation in ("own", "care") else "deny"
        return "deny"
    raise ValueError(f"unknown access rule {rule!r}")


_NO_PHI_ACCOUNT = (
    "account pages: the user's own log-in state, no patient record (log-ins are audited as auth.*)"
)

POLICY: dict[str, list[Probe]] = {
    # --- core -----------------------------------------------------------------
    "core:home": [
        Probe("authenticated", no_audit_reason="landing page: the user's own name and role only")
    ],
    "core:healthz": [
        Probe("public", no_audit_reason="load-balancer probe: database reachable or not")
    ],
    # --- accounts ---------------------------------------------------------------
    "accounts:login": [Probe("public", no_audit_reason=_NO_PHI_ACCOUNT)],
    "accounts:logout": [Probe("public", method="POST", ok=(302,), no_audit_reason=_NO_PHI_ACCOUNT)],
    "accounts:logged_out": [Probe("public", no_audit_reason=_NO_PHI_ACCOUNT)],
    "accounts:mfa_enrol": [Probe("authenticated", ok=(200, 302), no_audit_reason=_NO_PHI_ACCOUNT)],
    "accounts:mfa_verify": [Probe("authenticated", ok=(200, 302), no_audit_reason=_NO_PHI_ACCOUNT)],
    "accounts:backup_codes_new": [
        Probe("authenticated", method="POST", ok=(200, 302), no_audit_reason=_NO_PHI_ACCOUNT)
    ],
    # --- emergency (break-glass) -----------------------------------------------------
    "emergency:request": [
        Probe(
            "therapist_only",
            no_audit_reason="the form shows only the patient reference typed into the URL",
        ),
        Probe(
            "therapist_only",
            method="POST",
            data={"reason": "probing the endpoint matrix with a long enough reason"},
            ok=(302,),
            audit="emergency.grant",
            fresh=True,
        ),
    ],
    "emergency:mine": [
        Probe(
            "therapist_only",
            no_audit_reason="lists the therapist's own grants by patient reference, no record content",
        )
    ],
    "emergency:end": [
        Probe(
            "therapist_only",
            method="POST",
            ok=(302,),
            audit="emergency.end",
            fresh=True,
            overrides={("therapist", "care"): "deny", ("therapist", "other"): "deny"},
            overrides_reason="a therapist ends only a grant they hold (care/other: another therapist's)",
        )
    ],
    "emergency:review_list": [
        Probe("clinic_admin", audit="emergency.review_list", audit_names_patient=False)
    ],
    "emergency:review": [
        Probe(
            "clinic_admin",
            method="POST",
            data={"outcome": "justified"},
            ok=(302,),
            audit="emergency.review",
            fresh=True,
        )
    ],
    # --- devices ----------------------------------------------------------------
    "devices:pairing_code_create": [
        Probe(
            "clinical",
            method="POST",
            ok=(201,),
            audit="device.pairing_code.create",
            fresh=True,
        )
    ],
    "devices:device_list": [Probe("clinical", audit="device.list")],
    "devices:device_pair": [
        Probe(
            "public",
            method="POST",
            data={},
            ok=(400,),
            no_audit_reason=(
                "device pairing authenticates by one-time code, not session: without a code it "
                "is refused before any patient is known; a successful pairing is audited as "
                "device.pair (tests/clinic/test_devices.py)"
            ),
        )
    ],
    "devices:device_revoke": [
        Probe("clinical", method="POST", ok=(200,), audit="device.revoke", fresh=True)
    ],
    # --- recordings ---------------------------------------------------------------
    "recordings:ingest": [
        Probe(
            "device_signed",
            method="POST",
            content_type="application/vnd.telerehab.envelope",
            audit="recording.ingest",
            audit_names_patient=False,
        )
    ],
    "recordings:detail": [Probe("clinical", audit="recording.view")],
    # --- plans ----------------------------------------------------------------------
    "plans:device_plan": [Probe("device_signed", audit="plan.download", audit_names_patient=False)],
}

_PRESCRIPTION = {
    "exercise": "deep_squat",
    "side": "",
    "sets": "3",
    "reps": "10",
    "target_rom_deg": "90",
    "weekdays": ["0", "2", "4"],
}
_NOTE = {"text": "probing the endpoint matrix: a session note"}

POLICY.update(
    {
        # --- therapist portal -----------------------------------------------------
        "portal:index": [
            Probe(
                "authenticated",
                ok=(302,),
                no_audit_reason="redirects each role to its own start page",
            )
        ],
        "portal:caseload": [
            Probe("therapist_only", audit="caseload.view", audit_names_patient=False)
        ],
        "portal:patient": [Probe("care_team", audit="patient.view")],
        "portal:plan_prescribe": [
            Probe(
                "care_team",
                method="POST",
                data=_PRESCRIPTION,
                ok=(302,),
                audit="plan.prescribe",
                fresh=True,
            )
        ],
        "portal:plan_stop": [
            Probe("care_team", method="POST", ok=(302,), audit="plan.stop", fresh=True)
        ],
        "portal:event_add": [
            Probe(
                "care_team",
                method="POST",
                data={"kind": "surgery", "day": "2026-01-15"},
                ok=(302,),
                audit="patient.event_add",
                fresh=True,
            )
        ],
        "portal:session": [Probe("clinical", audit="session.view")],
        "portal:note_add": [
            Probe(
                "care_team",
                method="POST",
                data=_NOTE,
                ok=(302,),
                audit="session.note_add",
                fresh=True,
            )
        ],
        # --- exports --------------------------------------------------------------------
        "portal:export_csv": [Probe("clinical", audit="export.csv")],
        "portal:export_fhir": [Probe("clinical", audit="export.fhir")],
        "portal:export_pdf": [Probe("clinical", audit="export.pdf")],
        "portal:export_trc": [Probe("clinical", audit="export.trc")],
        # --- patient portal ---------------------------------------------------------------
        "portal:patient_home": [
            Probe("patient_only", audit="patient.view", audit_names_patient=False)
        ],
        "portal:pairing_code_new": [
            Probe(
                "patient_only",
                method="POST",
                ok=(302,),
                audit="device.pairing_code.create",
                audit_names_patient=False,
            )
        ],
        "portal:device_revoke_own": [
            Probe("patient_self", method="POST", ok=(302,), audit="device.revoke", fresh=True)
        ],
        "portal:my_data": [
            Probe("patient_only", audit="export.all_data", audit_names_patient=False)
        ],
        # --- administrator portal -------------------------------------------------------------
        "portal:admin_users": [
            Probe("clinic_admin", audit="admin.users_view", audit_names_patient=False)
        ],
        "portal:admin_role_set": [
            Probe(
                "clinic_admin",
                method="POST",
                data={"role": "patient"},
                ok=(302,),
                audit="user.role_set",
                audit_names_patient=False,
            )
        ],
        "portal:admin_care_team": [
            Probe(
                "clinic_admin",
                method="POST",
                data={"op": "add", "therapist": "<new_therapist>"},
                ok=(302,),
                audit="care_team.assign",
                fresh=True,
            )
        ],
        "portal:admin_devices": [
            Probe("clinic_admin", audit="admin.devices_view", audit_names_patient=False)
        ],
        "portal:admin_device_revoke": [
            Probe("clinic_admin", method="POST", ok=(302,), audit="device.revoke", fresh=True)
        ],
        "portal:admin_quarantine": [
            Probe(
                "clinic_admin",
                no_audit_reason=(
                    "recording ids, states, codes and reasons of failed processing; no name, "
                    "no clinical figure (the API twin recordings:quarantine_list audits anyway)"
                ),
            )
        ],
        "portal:admin_audit": [
            Probe("clinic_admin", audit="audit.view", audit_names_patient=False)
        ],
        "portal:admin_audit_export": [
            Probe("clinic_admin", audit="audit.export", audit_names_patient=False)
        ],
        "recordings:quarantine_list": [
            Probe("clinic_admin", audit="recording.quarantine.list", audit_names_patient=False)
        ],
    }
)


#: HTTP methods an endpoint answers beyond its probes, with the reason. Any other method
#: must be refused with 405 for a user who may use the endpoint (test_rbac_matrix), so a
#: handler added to an existing URL cannot slip past this table either.
METHODS_CHECKED = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALSO_ACCEPTS: dict[str, dict[str, str]] = {
    "accounts:login": {
        "POST": "the log-in form posts here (tests/clinic/accounts/)",
        "PUT": "Django's LoginView answers PUT like POST; a PUT carries no form data, so it "
        "only re-renders the empty form",
    },
    "accounts:logged_out": {
        "POST": "static goodbye page rendered for any method; changes nothing",
        "PUT": "static goodbye page rendered for any method; changes nothing",
        "PATCH": "static goodbye page rendered for any method; changes nothing",
        "DELETE": "static goodbye page rendered for any method; changes nothing",
    },
    "accounts:mfa_enrol": {
        "POST": "the enrolment form posts here (tests/clinic/accounts/test_mfa.py)"
    },
    "accounts:mfa_verify": {"POST": "the code form posts here (tests/clinic/accounts/test_mfa.py)"},
}
