"""Every refused request is on the audit trail (45 CFR 164.312(b), 164.308(a)(1)(ii)(D))."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

from clinic.audit.services import access_denied_record

logger = logging.getLogger(__name__)


class AccessDeniedAuditMiddleware:
    """Write an ``access.denied`` event for each 403 response that no view audited itself.

    One place instead of one call per role gate: ``PermissionDenied`` from a decorator, a DRF
    permission refusal and a CSRF failure all end as a 403 response that passes through here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 403:
            try:
                access_denied_record(request=request, status_code=response.status_code)
            except DatabaseError:
                # The refusal stands; losing its audit row must at least be visible to operators.
                logger.exception(
                    "could not audit a refused request %s", getattr(request, "request_id", "")
                )
        return response
