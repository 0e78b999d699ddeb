"""Administrator pages: users and roles, care teams, devices, quarantine, audit log."""

from __future__ import annotations

import csv
import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.accounts.models import Role
from clinic.audit.models import Outcome
from clinic.audit.selectors import audit_chain_verify
from clinic.audit.services import audit_event_record
from clinic.care.models import Patient
from clinic.devices.errors import DeviceError
from clinic.devices.models import Device
from clinic.devices.services import device_revoke
from clinic.portal.access import clinic_admin_required
from clinic.portal.admin_selectors import audit_events_filtered, devices_all, users_with_care_teams
from clinic.portal.admin_services import (
    AdminInputError,
    care_team_assign,
    care_team_remove,
    user_role_set,
)
from clinic.recordings.selectors import recordings_quarantined


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, label="User name")
    patient = forms.CharField(required=False, label="Patient id")
    action = forms.CharField(required=False, label="Action starts with")
    outcome = forms.ChoiceField(required=False, choices=[("", "Any"), *Outcome.choices])
    since = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From"
    )
    until = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To (inclusive)"
    )


def _audit_filters(form: AuditFilterForm) -> dict:
    d = form.cleaned_data if form.is_valid() else {}

    def start(day):
        return (
            dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())
            if day
            else None
        )

    return {
        "username": d.get("user") or "",
        "patient_id": (d.get("patient") or "").strip(),
        "action": d.get("action") or "",
        "outcome": d.get("outcome") or "",
        "since": start(d.get("since")),
        "until": start(d["until"] + dt.timedelta(days=1)) if d.get("until") else None,
    }


def _admin_view_audit(request, action: str, rows: int) -> None:
    """Administrative lists name patients (names are PHI), so reading them is audited too."""
    audit_event_record(action=action, outcome="success", request=request, details={"rows": rows})


@clinic_admin_required
@require_GET
def admin_users(request: HttpRequest) -> HttpResponse:
    users, patients = users_with_care_teams()
    _admin_view_audit(request, "admin.users_view", len(patients))
    therapists = [u for u in users if u.role == Role.THERAPIST]
    return render(
        request,
        "portal/admin/users.html",
        {"users": users, "patients": patients, "therapists": therapists, "roles": Role.choices},
    )


@clinic_admin_required
@require_POST
def admin_role_set(request: HttpRequest, user_id) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=user_id)
    try:
        user_role_set(
            actor=request.user, user=user, role=request.POST.get("role", ""), request=request
        )
        messages.success(request, f"{user.username} is now a {user.get_role_display().lower()}.")
    except AdminInputError as exc:
        messages.error(request, str(exc))
    return redirect("portal:admin_users")


@clinic_admin_required
@require_POST
def admin_care_team(request: HttpRequest, patient_id) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=patient_id)
    therapist = get_object_or_404(get_user_model(), pk=request.POST.get("therapist"))
    try:
        if request.POST.get("op") == "remove":
            care_team_remove(
                actor=request.user, patient=patient, therapist=therapist, request=request
            )
            messages.success(request, f"{therapist.username} removed from the care team.")
        else:
            care_team_assign(
                actor=request.user, patient=patient, therapist=therapist, request=request
            )
            messages.success(request, f"{therapist.username} added to the care team.")
    except AdminInputError as exc:
        messages.error(request, str(exc))
    return redirect("portal:admin_users")


@clinic_admin_required
@require_GET
def admin_devices(request: HttpRequest) -> HttpResponse:
    devices = list(devices_all())
    _admin_view_audit(request, "admin.devices_view", len(devices))
    return render(request, "portal/admin/devices.html", {"devices": devices})


@clinic_admin_required
@require_POST
def admin_device_revoke(request: HttpRequest, device_id) -> HttpResponse:
    device = get_object_or_404(Device, pk=device_id)
    reason = (request.POST.get("reason") or "").strip() or "revoked by an administrator"
    try:
        device_revoke(actor=request.user, device=device, reason=reason, request=request)
        messages.success(request, "Device revoked.")
    except DeviceError as exc:
        messages.error(request, str(exc))
    return redirect("portal:admin_devices")


@clinic_admin_required
@require_GET
def admin_quarantine(request: HttpRequest) -> HttpResponse:
    recordings = list(recordings_quarantined(user=request.user)[:500])
    _admin_view_audit(request, "admin.quarantine_view", len(recordings))
    return render(request, "portal/admin/quarantine.html", {"recordings": recordings})


@clinic_admin_required
@require_GET
def admin_audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = audit_events_filtered(**_audit_filters(form))
    _admin_view_audit(request, "audit.view", len(events))
    verification = audit_chain_verify() if request.GET.get("verify") == "1" else None
    if verification is not None:
        audit_event_record(action="audit.verify", outcome="success" if verification.ok else "failure", request=request,
                           details={"events_checked": verification.events_checked})  # fmt: skip
    return render(
        request,
        "portal/admin/audit.html",
        {
            "form": form,
            "events": events,
            "verification": verification,
            "query": request.GET.urlencode(),
        },
    )


@clinic_admin_required
@require_GET
def admin_audit_export(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = _audit_filters(form)
    events = audit_events_filtered(**filters, limit=None)
    audit_event_record(action="audit.export", outcome="success", request=request,
                       details={"rows": len(events), **{k: str(v) for k, v in filters.items() if v}})  # fmt: skip
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "sequence",
            "created_at",
            "actor",
            "role",
            "action",
            "outcome",
            "object_type",
            "object_id",
            "patient_id",
            "ip",
            "request_id",
            "hash",
        ]
    )
    for e in events:
        writer.writerow([e.sequence, e.created_at.isoformat(), e.actor_username, e.actor_role, e.action, e.outcome,
                         e.object_type, e.object_id, e.patient_id or "", e.ip_address or "", e.request_id, e.hash])  # fmt: skip
    return response
