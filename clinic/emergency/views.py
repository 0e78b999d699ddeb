"""Break-glass pages. Rules live in services/selectors; views check the role and wire forms."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.models import Role
from clinic.audit.services import audit_event_record
from clinic.emergency import errors, selectors, services
from clinic.emergency.models import EmergencyAccessGrant

#: Where a therapist lands after breaking the glass, first name that exists wins.
PATIENT_PAGE_URL_NAMES = ("portal:patient_detail", "portal:patient")


class EmergencyRequestForm(forms.Form):
    reason = forms.CharField(
        label="Clinical reason for emergency access",
        # The minimum is the service's rule (it audits refusals); only the maximum is here.
        max_length=services.REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Reviewed by a clinic administrator. Access ends automatically.",
    )


class EmergencyReviewForm(forms.Form):
    outcome = forms.ChoiceField(choices=[(o, o.capitalize()) for o in services.REVIEW_OUTCOMES])


def role_required(role: str) -> Callable:
    """403 for any other role: the page exists, the person may not use it."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if getattr(request.user, "role", None) != role:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def _patient_page(patient_id: uuid.UUID) -> str:
    for name in PATIENT_PAGE_URL_NAMES:
        try:
            return reverse(name, kwargs={"patient_id": patient_id})
        except NoReverseMatch:
            continue
    return reverse("emergency:mine")


@role_required(Role.THERAPIST)
@require_http_methods(["GET", "POST"])
def emergency_request(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """State a reason to open a patient outside the care team. Shows no patient data."""
    form = EmergencyRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.emergency_access_grant(
                therapist=request.user,
                patient_id=patient_id,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except errors.EmergencyPatientNotFoundError:
            raise Http404("No such patient.") from None
        except errors.EmergencyAccessNotNeededError as exc:
            messages.info(request, str(exc))
            return HttpResponseRedirect(_patient_page(patient_id))
        except errors.EmergencyReasonError as exc:
            form.add_error("reason", str(exc))
        else:
            messages.warning(
                request,
                f"Emergency access granted until {grant.expires_at:%H:%M} UTC. "
                "It is recorded and will be reviewed.",
            )
            return HttpResponseRedirect(_patient_page(patient_id))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "emergency/request.html",
        {
            "form": form,
            "patient_id": patient_id,
            "minutes": services.grant_duration().seconds // 60,
        },
        status=status,
    )


@role_required(Role.THERAPIST)
@require_GET
def emergency_mine(request: HttpRequest) -> HttpResponse:
    """A therapist's own grants, and the place to start one from a patient reference."""
    reference = request.GET.get("patient", "").strip()
    if reference:
        try:
            patient_id = uuid.UUID(reference)
        except ValueError:
            messages.error(
                request, "A patient reference looks like 1b4e28ba-2fa1-11d2-883f-0016d3cca427."
            )
        else:
            return HttpResponseRedirect(reverse("emergency:request", args=[patient_id]))
    grants = selectors.grants_of_therapist(therapist=request.user)[:100]
    return render(request, "emergency/mine.html", {"grants": grants})


@role_required(Role.THERAPIST)
@require_POST
def emergency_end(request: HttpRequest, grant_id: uuid.UUID) -> HttpResponse:
    grant = EmergencyAccessGrant.objects.filter(id=grant_id).first()
    if grant is None or grant.therapist_id != request.user.id:
        audit_event_record(
            action="emergency.end",
            outcome="denied",
            request=request,
            patient_id=grant.patient_id if grant else None,
            object_type="emergency_grant",
            object_id=str(grant_id),
            details={"reason": "not a grant of this therapist"},
        )
        raise Http404("No such grant.")
    services.emergency_access_end(grant=grant, user=request.user, request=request)
    return HttpResponseRedirect(reverse("emergency:mine"))


@role_required(Role.CLINIC_ADMIN)
@require_GET
def emergency_review_list(request: HttpRequest) -> HttpResponse:
    """Every grant with its decrypted reason, unreviewed first (164.308(a)(1)(ii)(D) activity review)."""
    pending_only = request.GET.get("pending") == "1"
    grants = list(selectors.grants_for_review(pending_only=pending_only)[:200])
    rows = [{"grant": grant, "reason": selectors.grant_reason(grant=grant)} for grant in grants]
    audit_event_record(
        action="emergency.review_list",
        outcome="success",
        request=request,
        object_type="emergency_grant",
        details={
            "grants_shown": len(rows),
            "patient_ids": sorted({str(g.patient_id) for g in grants}),
        },
    )
    return render(
        request,
        "emergency/review.html",
        {"rows": rows, "pending_only": pending_only, "form": EmergencyReviewForm()},
    )


@role_required(Role.CLINIC_ADMIN)
@require_POST
def emergency_review(request: HttpRequest, grant_id: uuid.UUID) -> HttpResponse:
    form = EmergencyReviewForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose whether the access was justified.", status=400)
    try:
        services.emergency_grant_review(
            grant_id=grant_id,
            reviewer=request.user,
            outcome=form.cleaned_data["outcome"],
            request=request,
        )
    except errors.EmergencyReviewError as exc:
        if not EmergencyAccessGrant.objects.filter(id=grant_id).exists():
            raise Http404("No such grant.") from None
        messages.error(request, str(exc))
    return HttpResponseRedirect(reverse("emergency:review_list"))
