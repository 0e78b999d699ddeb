"""Log-in, log-out and second-factor pages. Rules live in middleware and ``mfa``; views only wire them."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_static.models import StaticDevice

from clinic.accounts.forms import OtpTokenForm
from clinic.accounts.mfa import (
    backup_codes_regenerate,
    totp_device_pending_get_or_create,
    totp_enrolment_confirm,
    totp_qr_svg,
    totp_secret_base32,
    user_has_confirmed_totp,
)
from clinic.audit.services import audit_event_record


def _safe_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """Password step. Staff then go to the second factor before anything else."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["idle_logged_off"] = self.request.GET.get("reason") == "idle"
        context["idle_logoff_minutes"] = settings.IDLE_LOGOFF_S // 60
        return context

    def get_success_url(self) -> str:
        user = self.request.user
        if getattr(user, "mfa_required", False):
            target = (
                "accounts:mfa_verify"
                if user_has_confirmed_totp(user=user)
                else "accounts:mfa_enrol"
            )
            return f"{reverse(target)}?{urlencode({'next': _safe_next(self.request)})}"
        return _safe_next(self.request)


class LogoutView(auth_views.LogoutView):
    template_name = "accounts/logged_out.html"


def logged_out(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/logged_out.html")


@login_required
@require_http_methods(["GET", "POST"])
def mfa_enrol(request: HttpRequest) -> HttpResponse:
    """Show a QR code for a new authenticator; confirm it with a first code; issue backup codes."""
    user = request.user
    if user_has_confirmed_totp(user=user):
        return HttpResponseRedirect(
            reverse("accounts:mfa_verify") if not user.is_verified() else _safe_next(request)
        )
    device = totp_device_pending_get_or_create(user=user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if totp_enrolment_confirm(
            user=user, device=device, token=form.cleaned_data["token"], request=request
        ):
            otp_login(request, device)
            codes = backup_codes_regenerate(user=user)
            return render(
                request,
                "accounts/backup_codes.html",
                {"codes": codes, "next": _safe_next(request), "first_time": True},
            )
        form.add_error(
            "token",
            "That code did not match. Check the time on your phone and try the newest code.",
        )
    return render(
        request,
        "accounts/mfa_enrol.html",
        {
            "form": form,
            "qr_svg": totp_qr_svg(device=device),
            "secret": totp_secret_base32(device=device),
            "next": request.GET.get("next", ""),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def mfa_verify(request: HttpRequest) -> HttpResponse:
    """Second step of log-in: an authenticator code or a single-use backup code."""
    user = request.user
    if not user_has_confirmed_totp(user=user):
        return HttpResponseRedirect(reverse("accounts:mfa_enrol"))
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            method = "backup_code" if isinstance(device, StaticDevice) else "totp"
            details = {"method": method}
            if isinstance(device, StaticDevice):
                details["backup_codes_left"] = device.token_set.count()
            audit_event_record(
                action="mfa.verify",
                outcome="success",
                actor=user,
                object_type="user",
                object_id=str(user.pk),
                request=request,
                details=details,
            )
            return HttpResponseRedirect(_safe_next(request))
        audit_event_record(
            action="mfa.verify",
            outcome="failure",
            actor=user,
            object_type="user",
            object_id=str(user.pk),
            request=request,
            details={"reason": "code did not match or too many recent attempts"},
        )
        form.add_error(
            "token",
            "That code did not match. Use the newest code from your authenticator app or one "
            "of your backup codes. After several wrong codes you must wait before trying again.",
        )
    return render(
        request,
        "accounts/mfa_verify.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def backup_codes_new(request: HttpRequest) -> HttpResponse:
    """Issue a fresh set of backup codes (the old ones stop working)."""
    codes = backup_codes_regenerate(user=request.user)
    return render(
        request,
        "accounts/backup_codes.html",
        {"codes": codes, "next": resolve_url(settings.LOGIN_REDIRECT_URL), "first_time": False},
    )
