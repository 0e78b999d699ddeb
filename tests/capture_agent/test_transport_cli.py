"""The transport commands as a patient runs them: status with progress, refusals as exit codes."""

from __future__ import annotations

import base64
import json
import uuid

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from analysis import CANONICAL_JOINTS, SkeletonSequence
from capture_agent import wire
from capture_agent.transport import cli
from capture_agent.transport.outbox import Outbox
from tests.capture_agent.transport_server import ScriptedServer

SERVER_KEY = X25519PrivateKey.generate()


def _pair_answer(*_: object) -> tuple[int, dict]:
    return 201, {
        "device_id": str(uuid.uuid4()),
        "patient_id": str(uuid.uuid4()),
        "server_public_key": base64.b64encode(
            wire.public_key_bytes(SERVER_KEY.public_key())
        ).decode(),
        "server_key_id": wire.key_id(SERVER_KEY.public_key()),
    }


def test_progress_bar_shows_fraction() -> None:
    assert cli.progress_bar(0.5, width=10) == "[#####.....]  50.0%"
    assert cli.progress_bar(1.0, width=4) == "[####] 100.0%"


def test_pair_send_status_upload(tmp_path, capsys) -> None:
    home = str(tmp_path / "agent")
    skeleton = tmp_path / "s.trsk"
    skeleton.write_bytes(
        SkeletonSequence.build(
            joint_names=CANONICAL_JOINTS,
            timestamps_s=np.arange(30) / 30,
            positions_m=np.random.default_rng(0).normal(0, 0.3, (30, len(CANONICAL_JOINTS), 3)),
        ).to_bytes()
    )
    with ScriptedServer(_pair_answer) as server:
        assert cli.main(["pair", "ABCD-EFGH", "--server", server.url, "--home", home]) == 0
    assert "server key pinned" in capsys.readouterr().out
    assert cli.main(["send", str(skeleton), "--exercise", "deep_squat", "--home", home]) == 0
    assert cli.main(["status", "--home", home]) == 0
    out = capsys.readouterr().out
    assert "pending 1" in out and "[" in out and "0.0%" in out

    with ScriptedServer(
        lambda *a: (403, {"code": "device_revoked", "message": "revoked"})
    ) as server:
        identity_file = tmp_path / "agent" / "identity.json"
        data = json.loads(identity_file.read_text())
        data["server_url"] = server.url
        identity_file.write_text(json.dumps(data))
        assert cli.main(["upload", "--home", home]) == 3
    assert cli.main(["status", "--json", "--home", home]) == 0
    status = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status["counts"]["failed"] == 1
    assert "device_revoked" in status["items"][0]["last_error"]
    with Outbox(tmp_path / "agent" / "outbox.sqlite3") as outbox:
        assert outbox.items()[0].state == "failed"


def test_plain_http_to_a_remote_server_is_an_error_exit(tmp_path, capsys) -> None:
    code = cli.main(["pair", "X", "--server", "http://clinic.example.org", "--home", str(tmp_path)])
    assert code == 2
    assert "InsecureTransportError" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["status", "upload"])
def test_unpaired_agent_says_so(tmp_path, capsys, command: str) -> None:
    assert cli.main([command, "--home", str(tmp_path / "nothing")]) == 2
    assert "pair" in capsys.readouterr().err
