"""The patient's exercise plan on the device: downloaded with a signed request, kept for offline use.

Why signed and not a token: the device already holds the Ed25519 key it
registered at pairing, so the clinic can tell it is this device (and refuse
a revoked one) without another secret on disk. The plan is stored beside the
identity (0600, written atomically) so the agent can show today's exercises
when the clinic is unreachable. The server sends no names, only exercises.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from capture_agent import wire
from capture_agent.transport.identity import Identity
from capture_agent.transport.security import server_url_check

PLAN_PATH = "/api/v1/devices/plan/"
PLAN_FILE = "plan.json"
#: Plan document versions this agent understands.
PLAN_VERSIONS = (1,)


class PlanError(Exception):
    """The plan could not be downloaded, or what came back is not a plan for this device."""

    def __init__(self, message: str, code: str = "plan_error") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class PlanItem:
    exercise: str
    label: str
    side: str | None
    sets: int
    reps: int
    target_label: str | None
    target_rom_deg: float | None
    weekdays: tuple[int, ...]  # Monday = 0 … Sunday = 6
    start_date: dt.date

    def describe(self) -> str:
        text = f"{self.label}{', ' + self.side if self.side else ''}: {self.sets} × {self.reps}"
        if self.target_rom_deg is not None and self.target_label:
            text += f", goal {self.target_label} {self.target_rom_deg:.0f}°"
        return text


def _plan_items(document: dict[str, Any]) -> list[PlanItem]:
    try:
        return [
            PlanItem(
                exercise=str(e["exercise"]),
                label=str(e.get("label") or e["exercise"]),
                side=e.get("side"),
                sets=int(e["sets"]),
                reps=int(e["reps"]),
                target_label=e.get("target_label"),
                target_rom_deg=None
                if e.get("target_rom_deg") is None
                else float(e["target_rom_deg"]),
                weekdays=tuple(int(d) for d in e["weekdays"]),
                start_date=dt.date.fromisoformat(e["start_date"]),
            )
            for e in document["exercises"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"plan document is malformed: {exc!r}", "plan_malformed") from exc


def plan_check(document: Any, identity: Identity) -> list[PlanItem]:
    """The plan's items, if ``document`` is a plan this agent understands, for its own patient."""
    if not isinstance(document, dict) or document.get("version") not in PLAN_VERSIONS:
        version = document.get("version") if isinstance(document, dict) else None
        raise PlanError(f"unsupported plan version {version!r}", "plan_version")
    if str(document.get("patient_id")) != identity.patient_id:
        raise PlanError("the plan is for another patient than this device's", "plan_patient")
    return _plan_items(document)


def plan_download(identity: Identity, *, client: httpx.Client | None = None) -> dict[str, Any]:
    """GET this device's plan, signed with its key; stores it and returns the document."""
    url = server_url_check(identity.server_url) + PLAN_PATH
    headers = wire.device_request_headers(
        signing_key=identity.keys.signing_key,
        method="GET",
        path=PLAN_PATH,
        device_id=identity.device_id,
    )
    own_client = client is None
    client = client or httpx.Client(timeout=30.0, verify=True)
    try:
        response = client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise PlanError(f"cannot reach {identity.server_url}: {exc}", "unreachable") from exc
    finally:
        if own_client:
            client.close()
    if response.status_code != 200:
        try:
            body = response.json()
            code, message = str(body.get("code")), str(body.get("message"))
        except ValueError:
            code, message = f"http_{response.status_code}", response.text[:200]
        raise PlanError(f"server refused (HTTP {response.status_code}) {code}: {message}", code)
    try:
        document = response.json()
    except ValueError as exc:
        raise PlanError("server answered something that is not JSON", "plan_malformed") from exc
    plan_check(document, identity)
    plan_save(identity.home, document)
    return document


def plan_save(home: Path, document: dict[str, Any]) -> None:
    """Write plan.json atomically, readable by this user only."""
    tmp = home / (PLAN_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, home / PLAN_FILE)


def plan_load(home: Path) -> dict[str, Any] | None:
    """The last downloaded plan, or None if there is none."""
    try:
        return json.loads((home / PLAN_FILE).read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise PlanError(f"{home / PLAN_FILE} is corrupt: {exc}", "plan_malformed") from exc


def exercises_due(items: list[PlanItem], day: dt.date) -> list[PlanItem]:
    """The plan's exercises scheduled on ``day`` (started, and on that weekday)."""
    return [i for i in items if i.start_date <= day and day.weekday() in i.weekdays]
