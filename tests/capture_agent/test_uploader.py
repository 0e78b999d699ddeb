"""Uploader against a real socket: delivery, retries, refusals, outage catch-up, transport rules."""

from __future__ import annotations

import base64
import os
import stat
import uuid
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from analysis import CANONICAL_JOINTS, SkeletonSequence
from capture_agent import wire
from capture_agent.transport.identity import (
    InsecureKeyFileError,
    NotPairedError,
    identity_load,
)
from capture_agent.transport.outbox import FAILED, PENDING, UPLOADED, Outbox
from capture_agent.transport.pairing import AlreadyPairedError, PairingError, pair
from capture_agent.transport.sealing import recording_seal_and_enqueue
from capture_agent.transport.security import InsecureTransportError, server_url_check
from capture_agent.transport.uploader import Uploader
from tests.capture_agent.transport_server import ScriptedServer

SERVER_KEY = X25519PrivateKey.generate()
SERVER_PUB = wire.public_key_bytes(SERVER_KEY.public_key())
DEVICE_ID = str(uuid.uuid4())
PATIENT_ID = str(uuid.uuid4())


def _pair_answer(path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    return 201, {
        "device_id": DEVICE_ID,
        "patient_id": PATIENT_ID,
        "server_public_key": base64.b64encode(SERVER_PUB).decode(),
        "server_key_id": wire.key_id(SERVER_KEY.public_key()),
    }


def _sequence(n_frames: int = 60) -> SkeletonSequence:
    rng = np.random.default_rng(0)
    return SkeletonSequence.build(
        joint_names=CANONICAL_JOINTS,
        timestamps_s=np.arange(n_frames) / 30,
        positions_m=rng.normal(0, 0.3, (n_frames, len(CANONICAL_JOINTS), 3)) + [0, 0, 2.5],
    )


@pytest.fixture
def paired(tmp_path: Path):
    with ScriptedServer(_pair_answer) as server:
        identity = pair(code="ABCD-EFGH", server_url=server.url, home=tmp_path / "agent")
    return identity


def _queue(identity, n: int = 1) -> tuple[Outbox, list[str]]:
    outbox = Outbox(identity.outbox_path)
    ids = [
        recording_seal_and_enqueue(
            sequence=_sequence(), identity=identity, outbox=outbox, exercise="knee_flexion"
        )[0]
        for _ in range(n)
    ]
    return outbox, ids


def _uploader_for(identity, outbox, url: str) -> Uploader:
    import dataclasses

    return Uploader(
        dataclasses.replace(identity, server_url=url), outbox, base_delay_s=0.01, max_delay_s=0.05
    )


# -- pairing and identity --------------------------------------------------------------


def test_pairing_stores_private_keys_0600_and_pins_server_key(paired, tmp_path: Path) -> None:
    home = tmp_path / "agent"
    for name in ("device-ed25519.key", "device-x25519.key"):
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o600
    assert paired.server_key_id == wire.key_id(SERVER_KEY.public_key())
    assert paired.device_id == DEVICE_ID and paired.patient_id == PATIENT_ID


def test_pairing_sends_only_public_keys(tmp_path: Path) -> None:
    with ScriptedServer(_pair_answer) as server:
        identity = pair(code="ABCD-EFGH", server_url=server.url, home=tmp_path / "a")
        ((_, body, _),) = server.requests
    private = wire.private_key_bytes(identity.keys.signing_key)
    assert base64.b64encode(private) not in body and private not in body
    assert b"signing_public_key" in body and b"encryption_public_key" in body


def test_pairing_refuses_an_unexpected_server_key(tmp_path: Path) -> None:
    with ScriptedServer(_pair_answer) as server, pytest.raises(PairingError, match="expected"):
        pair(code="X", server_url=server.url, home=tmp_path / "a", server_key_fingerprint="0" * 32)
    assert not list((tmp_path / "a").glob("device-*.key"))


def test_refused_pairing_leaves_no_keys(tmp_path: Path) -> None:
    def refuse(*_: object) -> tuple[int, dict]:
        return 400, {"code": "pairing_code_invalid", "message": "unknown or expired code"}

    with (
        ScriptedServer(refuse) as server,
        pytest.raises(PairingError, match="pairing_code_invalid"),
    ):
        pair(code="NOPE", server_url=server.url, home=tmp_path / "a")
    assert not list((tmp_path / "a").glob("device-*.key"))
    with pytest.raises(NotPairedError):
        identity_load(tmp_path / "a")


def test_pairing_twice_needs_force(paired, tmp_path: Path) -> None:
    with ScriptedServer(_pair_answer) as server, pytest.raises(AlreadyPairedError):
        pair(code="X", server_url=server.url, home=tmp_path / "agent")


def test_world_readable_private_key_is_refused(paired, tmp_path: Path) -> None:
    os.chmod(tmp_path / "agent" / "device-ed25519.key", 0o644)
    with pytest.raises(InsecureKeyFileError):
        identity_load(tmp_path / "agent")


# -- transport rules ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://clinic.example.org", "http://10.0.0.5:8000", "ftp://127.0.0.1", "clinic.org"]
)
def test_plain_http_is_refused_except_to_loopback(url: str) -> None:
    with pytest.raises(InsecureTransportError):
        server_url_check(url)


@pytest.mark.parametrize(
    "url", ["https://clinic.example.org/", "http://127.0.0.1:8000", "http://localhost:8000"]
)
def test_https_and_loopback_http_are_allowed(url: str) -> None:
    assert server_url_check(url) == url.rstrip("/")


def test_pairing_over_plain_http_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InsecureTransportError):
        pair(code="X", server_url="http://clinic.example.org", home=tmp_path / "a")
    assert not (tmp_path / "a").exists()


# -- uploads -----------------------------------------------------------------------


def test_delivered_upload_carries_the_envelope_as_is(paired) -> None:
    outbox, (rid,) = _queue(paired)
    envelope = outbox.envelope(rid)
    with ScriptedServer(lambda *a: (201, {"recording_id": rid})) as server:
        report = _uploader_for(paired, outbox, server.url).upload_due()
        ((path, body, headers),) = server.requests
    assert report.delivered == [rid]
    assert path == "/api/v1/recordings/"
    assert body == envelope
    assert headers["content-type"] == wire.CONTENT_TYPE
    assert outbox.items()[0].state == UPLOADED


def test_transient_errors_are_retried_then_delivered(paired) -> None:
    outbox, (rid,) = _queue(paired)
    answers = iter([(503, {"code": "unavailable"}), (500, {}), (200, {"recording_id": rid})])
    with ScriptedServer(lambda *a: next(answers)) as server:
        _uploader_for(paired, outbox, server.url).run(until_empty=True, poll_s=0.01)
        assert len(server.requests) == 3
    (item,) = outbox.items()
    assert item.state == UPLOADED and item.attempts == 2 and item.server_status == 200


@pytest.mark.parametrize(
    ("status", "code"),
    [(409, "recording_conflict"), (403, "device_revoked"), (400, "bad_signature")],
)
def test_refusals_are_kept_not_retried(paired, status: int, code: str) -> None:
    outbox, (rid,) = _queue(paired)
    with ScriptedServer(lambda *a: (status, {"code": code, "message": "no"})) as server:
        report = _uploader_for(paired, outbox, server.url).upload_due()
        assert len(server.requests) == 1
    assert report.failed == [rid]
    (item,) = outbox.items()
    assert item.state == FAILED and code in item.last_error
    assert outbox.envelope(rid)  # never dropped


def test_server_down_then_back_catches_up(paired) -> None:
    """Recording continues during an outage; everything arrives once the server is back."""
    outbox, first = _queue(paired, 2)
    uploader = _uploader_for(paired, outbox, "http://127.0.0.1:9")  # nothing listens
    report = uploader.upload_due()
    assert sorted(report.retrying) == sorted(first)
    _, more = _queue(paired, 2)  # the patient keeps recording while the server is down
    received: list[bytes] = []

    def accept(path: str, body: bytes, headers: dict) -> tuple[int, dict]:
        received.append(body)
        return 201, {}

    with ScriptedServer(accept) as server:
        _uploader_for(paired, outbox, server.url).run(until_empty=True, poll_s=0.01)
    assert outbox.counts()[UPLOADED] == 4 and outbox.counts()[PENDING] == 0
    assert sorted(wire.parse(b).header.recording_id for b in received) == sorted(first + more)


def test_progress_reaches_the_full_size(paired) -> None:
    outbox, (rid,) = _queue(paired)
    seen: list[int] = []
    with ScriptedServer(lambda *a: (201, {})) as server:
        import dataclasses

        uploader = Uploader(
            dataclasses.replace(paired, server_url=server.url),
            outbox,
            on_progress=lambda item, sent: seen.append(sent),
        )
        uploader.upload_due()
    assert seen[-1] == outbox.items()[0].size_bytes
    assert seen == sorted(seen)


def test_sealing_again_with_the_same_id_is_a_no_op(paired) -> None:
    outbox = Outbox(paired.outbox_path)
    rid = str(uuid.uuid4())
    kwargs = {"sequence": _sequence(), "identity": paired, "outbox": outbox, "exercise": "squat"}
    assert recording_seal_and_enqueue(recording_id=rid, **kwargs) == (rid, True)
    before = outbox.envelope(rid)
    assert recording_seal_and_enqueue(recording_id=rid, **kwargs) == (rid, False)
    assert outbox.envelope(rid) == before


def test_queued_envelope_opens_for_the_pinned_server_key(paired) -> None:
    outbox, (rid,) = _queue(paired)
    header, seq = wire.verify_and_open(
        outbox.envelope(rid),
        device_public_key=paired.keys.signing_key.public_key(),
        server_private_key=SERVER_KEY,
    )
    assert header.device_id == DEVICE_ID and header.patient_id == PATIENT_ID
    assert seq.n_frames == 60
