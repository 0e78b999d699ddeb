"""``manage.py seed_demo``: the demo clinic and its printed log-ins (development only)."""

import base64

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from clinic.core.demo import demo_clinic_seed


class Command(BaseCommand):
    help = "Create (or refresh) a demo clinic: 1 administrator, 2 therapists, 5 patients."

    def handle(self, *args, **options) -> None:
        if not getattr(settings, "TELEREHAB_DEMO_ALLOWED", False):
            raise CommandError(
                "seed_demo refuses to run: these settings do not allow demo data "
                "(its password is public). Use clinic.settings.dev."
            )
        logins = demo_clinic_seed()
        self.stdout.write("")
        self.stdout.write(
            f"Demo log-ins (fictional people; password for all: {logins[0].password})"
        )
        self.stdout.write(f"  {'user name':<12} {'role':<14} two-step sign-in")
        for login in logins:
            if login.totp_device is None:
                self.stdout.write(f"  {login.username:<12} {login.role:<14} -")
                continue
            device = login.totp_device
            secret = base64.b32encode(device.bin_key).decode().rstrip("=")
            generator = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
            self.stdout.write(
                f"  {login.username:<12} {login.role:<14} authenticator key {secret} "
                f"(code now: {generator.token():06d})"
            )
        self.stdout.write("")
        self.stdout.write(
            "Staff: add the key to an authenticator app, or print a current code with\n"
            "  python manage.py demo_totp_code USERNAME"
        )
