"""Session rules that apply to every page: idle logoff and mandatory second factor."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from clinic.accounts.mfa import user_has_confirmed_totp

LAST_ACTIVITY_KEY = "telerehab_last_activity_s"
# Refresh the stored time at most this often, to avoid a session write per request.
_ACTIVITY_WRITE_GRANULARITY_S = 10


class IdleLogoffMiddleware:
    """Log out a session that made no request for ``IDLE_LOGOFF_S`` seconds (audited).

    The server decides, not the browser: a closed laptop with a tab open is
    logged off on its next request no matter what the page's script did.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now_s = int(time.time())
            last_s = request.session.get(LAST_ACTIVITY_KEY)
            if last_s is not None and now_s - int(last_s) > settings.IDLE_LOGOFF_S:
                request.logout_reason = "idle"
                request.idle_seconds = now_s - int(last_s)
                logout(request)
                login_url = reverse("accounts:login")
                return HttpResponseRedirect(f"{login_url}?{urlencode({'reason': 'idle'})}")
            if last_s is None or now_s - int(last_s) >= _ACTIVITY_WRITE_GRANULARITY_S:
                request.session[LAST_ACTIVITY_KEY] = now_s
        return self.get_response(request)


def _mfa_exempt_paths() -> tuple[str, ...]:
    return (
        reverse("accounts:mfa_enrol"),
        reverse("accounts:mfa_verify"),
        reverse("accounts:logout"),
        reverse("accounts:logged_out"),
        reverse("core:healthz"),
        settings.STATIC_URL,
    )


class MfaRequiredMiddleware:
    """Therapists and administrators reach nothing but enrolment/verification until their second factor is proven."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "mfa_required", False)
            and not user.is_verified()
            and not request.path.startswith(_mfa_exempt_paths())
        ):
            target = (
                "accounts:mfa_verify"
                if user_has_confirmed_totp(user=user)
                else "accounts:mfa_enrol"
            )
            return HttpResponseRedirect(
                f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)
