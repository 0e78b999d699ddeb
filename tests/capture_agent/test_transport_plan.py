"""``capture-agent plan``: a signed GET, a plan checked before it is trusted, stored for offline use."""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from capture_agent import wire
from capture_agent.transport import cli
from capture_agent.transport.identity import identity_load
from capture_agent.transport.plan import PLAN_PATH, PlanItem, exercises_due
from tests.capture_agent.transport_server import ScriptedServer

SERVER_KEY = X25519PrivateKey.generate()
PATIENT_ID = str(uuid.uuid4())
MONDAY = dt.date(2026, 11, 30)


def _document(patient_id: str = PATIENT_ID, version: int = 1) -> dict:
    return {
        "version": version,
        "patient_id": patient_id,
        "generated_at": "2026-11-30T08:00:00+00:00",
        "exercises": [
            {
                "id": str(uuid.uuid4()), "exercise": "inline_lunge", "label": "Inline lunge",
                "side": "right", "sets": 3, "reps": 10, "target_measure": "knee_flexion",
                "target_label": "Right knee flexion", "target_rom_deg": 110.0,
                "weekdays": [0, 2, 4], "start_date": "2026-11-01",
            }
        ],
    }  # fmt: skip


class Clinic:
    """Answers pairing, then the plan; records what each request carried."""

    def __init__(self) -> None:
        self.plan: tuple[int, dict] = (200, _document())

    def __call__(self, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
        if path == "/api/v1/devices/pair/":
            self.signing_key = base64.b64decode(json.loads(body)["signing_public_key"])
            return 201, {
                "device_id": str(uuid.uuid4()),
                "patient_id": PATIENT_ID,
                "server_public_key": base64.b64encode(
                    wire.public_key_bytes(SERVER_KEY.public_key())
                ).decode(),
                "server_key_id": wire.key_id(SERVER_KEY.public_key()),
            }
        return self.plan


@pytest.fixture
def paired(tmp_path):
    clinic = Clinic()
    with ScriptedServer(clinic) as server:
        home = str(tmp_path / "agent")
        assert cli.main(["pair", "ABCD-EFGH", "--server", server.url, "--home", home]) == 0
        yield clinic, server, home


def test_plan_request_is_signed_by_the_device_key(paired, capsys) -> None:
    clinic, server, home = paired
    assert cli.main(["plan", "--home", home, "--date", MONDAY.isoformat()]) == 0
    path, _, headers = server.requests[-1]
    assert path == PLAN_PATH
    identity = identity_load(Path(home))
    assert headers["x-telerehab-device"] == identity.device_id
    message = wire.device_request_message(
        method="GET", path=PLAN_PATH, device_id=identity.device_id,
        timestamp_s=int(headers["x-telerehab-time"]),
    )  # fmt: skip
    Ed25519PublicKey.from_public_bytes(clinic.signing_key).verify(
        base64.b64decode(headers["x-telerehab-signature"]), message
    )
    out = capsys.readouterr().out
    assert "today (Mon 2026-11-30): 1 due" in out
    assert "Inline lunge, right: 3 × 10, goal Right knee flexion 110°" in out


def test_stored_plan_is_private_and_serves_offline_and_when_unreachable(paired, capsys) -> None:
    clinic, server, home = paired
    assert cli.main(["plan", "--home", home]) == 0
    stored = Path(home) / "plan.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text()) == clinic.plan[1]
    server.httpd.shutdown()
    server.httpd.server_close()
    capsys.readouterr()
    assert cli.main(["plan", "--home", home, "--date", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    assert "clinic unreachable" in out and "today (Tue 2026-12-01): nothing due" in out
    assert cli.main(["plan", "--home", home, "--offline", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == clinic.plan[1]


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        ((403, {"code": "device_revoked", "message": "device was revoked"}), "device_revoked"),
        ((200, _document(patient_id=str(uuid.uuid4()))), "another patient"),
        ((200, _document(version=99)), "unsupported plan version"),
        ((200, {"version": 1, "patient_id": PATIENT_ID, "exercises": [{"sets": 1}]}), "malformed"),
    ],
)
def test_refused_or_untrustworthy_plans_are_errors_and_not_stored(
    paired, capsys, answer, code
) -> None:
    clinic, server, home = paired
    clinic.plan = answer
    assert cli.main(["plan", "--home", home]) == 2
    assert code in capsys.readouterr().err
    assert not (Path(home) / "plan.json").exists()


def test_no_stored_plan_offline_is_a_clear_error(paired, capsys) -> None:
    _, _, home = paired
    assert cli.main(["plan", "--home", home, "--offline"]) == 2
    assert "no plan stored yet" in capsys.readouterr().err


def test_exercises_due_respects_weekdays_and_start_date() -> None:
    item = PlanItem(
        "deep_squat", "Deep squat", None, 2, 8, None, None, (0, 3), dt.date(2026, 12, 3)
    )
    assert exercises_due([item], MONDAY) == []  # before the start date
    assert exercises_due([item], dt.date(2026, 12, 3)) == [item]  # Thursday, first day
    assert exercises_due([item], dt.date(2026, 12, 5)) == []  # Saturday


def test_signed_request_message_is_pinned() -> None:
    """Agent and server build it from one function; this pins its bytes (a vector)."""
    message = wire.device_request_message(
        method="get", path="/api/v1/devices/plan/", device_id="d-1", timestamp_s=1764576000
    )
    assert message == b"telerehab/device-request/v1\x00GET\n/api/v1/devices/plan/\nd-1\n1764576000"
