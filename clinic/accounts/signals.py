"""Authentication events into the audit trail: log-in, failed log-in, log-out, lockout."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from clinic.audit.services import audit_event_record


def _account_named(username: str):
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()


@receiver(user_logged_in, dispatch_uid="audit_user_logged_in")
def audit_logged_in(sender, request, user, **kwargs) -> None:
    audit_event_record(
        action="auth.login",
        outcome="success",
        actor=user,
        object_type="user",
        object_id=str(user.pk),
        request=request,
        details={"second_factor_pending": bool(getattr(user, "mfa_required", False))},
    )


@receiver(user_login_failed, dispatch_uid="audit_user_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username", ""))[:150]
    account = _account_named(username)
    locked = bool(getattr(request, "axes_locked_out", False))
    audit_event_record(
        action="auth.login",
        outcome="denied" if locked else "failure",
        object_type="user",
        object_id=str(account.pk) if account else "",
        request=request,
        details={
            "username": username,
            "reason": "account locked" if locked else "wrong user name or password",
        },
    )


@receiver(user_logged_out, dispatch_uid="audit_user_logged_out")
def audit_logged_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    idle = getattr(request, "logout_reason", "") == "idle"
    details = {"idle_seconds": request.idle_seconds} if idle else {}
    audit_event_record(
        action="auth.idle_logoff" if idle else "auth.logout",
        outcome="success",
        actor=user,
        object_type="user",
        object_id=str(user.pk),
        request=request,
        details=details,
    )


@receiver(user_locked_out, dispatch_uid="audit_user_locked_out")
def audit_locked_out(sender, request, username, ip_address, **kwargs) -> None:
    account = _account_named(username or "")
    audit_event_record(
        action="auth.lockout",
        outcome="denied",
        object_type="user",
        object_id=str(account.pk) if account else "",
        request=request,
        details={"username": (username or "")[:150]},
    )
