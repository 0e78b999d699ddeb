"""Why a plan change or a device's plan request is refused."""

from __future__ import annotations


class PlanInputError(ValueError):
    """A prescription with a value the plan cannot hold (named in the message)."""


class DeviceRequestError(Exception):
    """A device request whose signature, time or device does not check out."""

    def __init__(self, code: str, message: str, http_status: int) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
