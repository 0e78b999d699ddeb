"""TOTP enrolment and verification, and backup codes, on top of django-otp."""

from __future__ import annotations

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.audit.services import audit_event_record

BACKUP_DEVICE_NAME = "backup-codes"
TOTP_DEVICE_NAME = "authenticator"


def user_has_confirmed_totp(*, user) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def totp_device_pending_get_or_create(*, user) -> TOTPDevice:
    """The unconfirmed device an enrolment page shows; reused so a reload keeps the same secret."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def totp_secret_base32(*, device: TOTPDevice) -> str:
    """The secret as people type it into an authenticator app."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def totp_qr_svg(*, device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG QR code (no external image, no script)."""
    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2
    )
    buffer = BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    # Drop the XML declaration; the SVG is embedded in HTML.
    return svg[svg.index("<svg") :]


def backup_codes_regenerate(*, user) -> list[str]:
    """Replace the user's backup codes with fresh single-use ones and return them (shown once)."""
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(settings.MFA_BACKUP_CODE_COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
        audit_event_record(
            action="mfa.backup_codes_issued",
            outcome="success",
            actor=user,
            object_type="user",
            object_id=str(user.pk),
            details={"count": len(codes)},
        )
    return codes


def totp_enrolment_confirm(*, user, device: TOTPDevice, token: str, request=None) -> bool:
    """Confirm a pending device if ``token`` is a current code from it; audited either way."""
    with transaction.atomic():
        ok = device.user_id == user.pk and not device.confirmed and device.verify_token(token)
        if ok:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            # Only one confirmed authenticator per user: drop stale pending ones.
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        audit_event_record(
            action="mfa.enrol",
            outcome="success" if ok else "failure",
            actor=user,
            object_type="totp_device",
            object_id=str(device.pk),
            request=request,
            details={} if ok else {"reason": "code did not match"},
        )
    return ok
