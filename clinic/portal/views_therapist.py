"""Therapist pages: caseload, patient progress, session replay, plan and notes. Thin views."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from clinic.accounts.models import Role
from clinic.care.selectors import patient_get_for_user
from clinic.plans.catalogue import CATALOGUE
from clinic.plans.errors import PlanInputError
from clinic.plans.models import PlanExercise
from clinic.plans.services import plan_exercise_prescribe, plan_exercise_stop
from clinic.portal.access import clinician_or_patient_required, therapist_required
from clinic.portal.forms import (
    CaseloadFilterForm,
    ClinicalEventForm,
    NoteForm,
    PrescribeForm,
    blank_form_html,
)
from clinic.portal.rendering import caseload_table_rows, session_list_items
from clinic.portal.selectors import caseload_for_therapist, patient_progress, session_detail
from clinic.portal.services import NoteInputError, clinical_event_add, session_note_add
from clinic.recordings.selectors import recording_get_for_user


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    target = {
        Role.THERAPIST: "portal:caseload",
        Role.PATIENT: "portal:patient_home",
        Role.CLINIC_ADMIN: "portal:admin_users",
    }
    return redirect(target.get(request.user.role, "core:home"))


@therapist_required
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    form = CaseloadFilterForm(request.GET or None)
    params = form.cleaned_data if form.is_valid() else {}
    rows = caseload_for_therapist(
        user=request.user,
        request=request,
        sort=params.get("sort") or "alerts",
        name_filter=params.get("q") or "",
        only_alerts=bool(params.get("alerts")),
    )
    return render(
        request,
        "portal/therapist/caseload.html",
        {"rows": rows, "rows_html": caseload_table_rows(rows), "form": form},
    )


@therapist_required
@require_GET
def patient_page(request: HttpRequest, patient_id) -> HttpResponse:
    progress = patient_progress(user=request.user, patient_id=patient_id, request=request)
    chart_data = {"first_day": progress["first_day"], "markers": progress["markers"], "charts": [
        {k: v for k, v in c.items() if k not in ("table", "table_html")} for c in progress["charts"]
    ]}  # fmt: skip
    return render(
        request,
        "portal/therapist/patient.html",
        {
            **progress,
            "chart_data": chart_data,
            "sessions_html": session_list_items(progress["sessions"]),
            "prescribe_form_html": blank_form_html(PrescribeForm),
            "event_form_html": blank_form_html(ClinicalEventForm),
            "catalogue": CATALOGUE,
        },
    )


@therapist_required
@require_POST
def plan_prescribe(request: HttpRequest, patient_id) -> HttpResponse:
    patient = patient_get_for_user(user=request.user, patient_id=patient_id, request=request)
    form = PrescribeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            plan_exercise_prescribe(
                actor=request.user,
                patient=patient,
                exercise=data["exercise"],
                side=data["side"],
                sets=data["sets"],
                reps=data["reps"],
                target_rom_deg=data["target_rom_deg"],
                weekdays=data["weekdays"],
                request=request,
            )
            messages.success(request, f"Prescribed {CATALOGUE[data['exercise']].label}.")
        except PlanInputError as exc:
            messages.error(request, f"Not prescribed: {exc}")
    else:
        messages.error(
            request, "Not prescribed: " + "; ".join(f"{k}: {v[0]}" for k, v in form.errors.items())
        )
    return redirect("portal:patient", patient_id=patient.id)


@therapist_required
@require_POST
def plan_stop(request: HttpRequest, patient_id, item_id) -> HttpResponse:
    patient = patient_get_for_user(user=request.user, patient_id=patient_id, request=request)
    item = PlanExercise.objects.filter(id=item_id, patient=patient).first()
    if item is None:
        messages.error(request, "No such prescription for this patient.")
    else:
        plan_exercise_stop(actor=request.user, item=item, request=request)
        messages.success(request, "Prescription stopped.")
    return redirect("portal:patient", patient_id=patient.id)


@therapist_required
@require_POST
def event_add(request: HttpRequest, patient_id) -> HttpResponse:
    patient = patient_get_for_user(user=request.user, patient_id=patient_id, request=request)
    form = ClinicalEventForm(request.POST)
    if form.is_valid():
        clinical_event_add(
            actor=request.user,
            patient=patient,
            kind=form.cleaned_data["kind"],
            day=form.cleaned_data["day"],
            request=request,
        )
        messages.success(request, "Marker added to the charts.")
    else:
        messages.error(request, "Marker not added: give a kind and a date.")
    return redirect("portal:patient", patient_id=patient.id)


@clinician_or_patient_required
@require_GET
def session_page(request: HttpRequest, recording_id) -> HttpResponse:
    detail = session_detail(user=request.user, recording_id=recording_id, request=request)
    template = (
        "portal/therapist/session.html"
        if request.user.role == Role.THERAPIST
        else "portal/patient/session.html"
    )
    return render(request, template, {**detail, "note_form": NoteForm()})


@therapist_required
@require_POST
def note_add(request: HttpRequest, recording_id) -> HttpResponse:
    recording = recording_get_for_user(
        user=request.user, recording_id=recording_id, request=request
    )
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            session_note_add(
                author=request.user,
                recording=recording,
                text=form.cleaned_data["text"],
                request=request,
            )
            messages.success(request, "Note saved.")
        except NoteInputError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "Note not saved: " + "; ".join(v[0] for v in form.errors.values()))
    return redirect("portal:session", recording_id=recording.id)
