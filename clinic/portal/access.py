"""Role gates for portal views: the wrong role gets 403 (the page exists, it is not theirs)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from clinic.accounts.models import Role


def role_required(*roles: str):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.user.role not in roles:
                raise PermissionDenied("This page is not for your role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


therapist_required = role_required(Role.THERAPIST)
patient_required = role_required(Role.PATIENT)
clinic_admin_required = role_required(Role.CLINIC_ADMIN)
clinician_or_patient_required = role_required(Role.THERAPIST, Role.PATIENT)
