"""The patient's own pages: today's plan, sessions, progress in words, devices, data download."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.devices.errors import DeviceError
from clinic.devices.models import Device
from clinic.devices.selectors import device_get_for_user
from clinic.devices.services import device_revoke, pairing_code_create
from clinic.plans.catalogue import CATALOGUE
from clinic.portal.access import patient_required
from clinic.portal.selectors import patient_for_self, patient_progress


@patient_required
@require_GET
def patient_home(request: HttpRequest) -> HttpResponse:
    patient = patient_for_self(user=request.user)
    progress = patient_progress(user=request.user, patient_id=patient.id, request=request)
    today = timezone.localdate()
    done_today = {
        s["exercise"] for s in progress["sessions"] if timezone.localdate(s["recorded_at"]) == today
    }
    todays_plan = [
        {
            "item": i,
            "label": CATALOGUE[i.exercise].label if i.exercise in CATALOGUE else i.exercise,
            "done": i.exercise in done_today,
        }
        for i in progress["plan"]
        if today.weekday() in i.weekday_numbers and i.start_date <= today
    ]
    chart_data = {"first_day": progress["first_day"], "markers": progress["markers"], "charts": [
        {k: v for k, v in c.items() if k not in ("table", "table_html")} for c in progress["charts"]
    ]}  # fmt: skip
    devices = Device.objects.filter(patient=patient).order_by("-paired_at")
    return render(
        request,
        "portal/patient/home.html",
        {**progress, "todays_plan": todays_plan, "chart_data": chart_data, "devices": devices,
         "pairing_code": request.session.pop("portal_pairing_code", None)},
    )  # fmt: skip


@patient_required
@require_POST
def pairing_code_new(request: HttpRequest) -> HttpResponse:
    patient = patient_for_self(user=request.user)
    try:
        _, code = pairing_code_create(actor=request.user, patient=patient, request=request)
        # Shown once on the next page, then gone (popped); never stored in plain text elsewhere.
        request.session["portal_pairing_code"] = code
    except DeviceError as exc:
        messages.error(request, f"No code made: {exc}")
    return redirect("portal:patient_home")


@patient_required
@require_POST
def device_revoke_own(request: HttpRequest, device_id) -> HttpResponse:
    device = device_get_for_user(user=request.user, device_id=device_id, request=request)
    try:
        device_revoke(
            actor=request.user,
            device=device,
            reason="revoked by the patient in the portal",
            request=request,
        )
        messages.success(request, f"Device “{device.label}” can no longer send recordings.")
    except DeviceError as exc:
        messages.error(request, str(exc))
    return redirect("portal:patient_home")
