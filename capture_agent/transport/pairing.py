"""Pairing: turn a one-time code from the clinic into a device identity.

The private keys are generated here and never sent; the server's answer
carries its X25519 public key, which is pinned (and, when the patient was
given its fingerprint out of band, checked against it).
"""

from __future__ import annotations

import base64
import platform
import shutil
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from capture_agent import wire
from capture_agent.transport.identity import (
    IDENTITY_FILE,
    Identity,
    device_keys_create,
    identity_load,
    identity_save,
)
from capture_agent.transport.security import server_url_check

PAIR_PATH = "/api/v1/devices/pair/"


class PairingError(Exception):
    """The server refused the pairing or answered something untrustworthy."""


class AlreadyPairedError(PairingError):
    """This agent home already belongs to a device; pairing again needs --force."""


def pair(
    *,
    code: str,
    server_url: str,
    home: Path,
    label: str | None = None,
    server_key_fingerprint: str | None = None,
    force: bool = False,
    client: httpx.Client | None = None,
) -> Identity:
    """Register this device with the clinic using a pairing code."""
    server_url = server_url_check(server_url)
    if (home / IDENTITY_FILE).exists():
        if not force:
            raise AlreadyPairedError(f"{home} is already paired; use --force to re-pair")
        backup = home.with_name(home.name + ".replaced")
        shutil.rmtree(backup, ignore_errors=True)
        home.rename(backup)
    keys = device_keys_create(home)
    body = {"code": code.strip(), "label": label or platform.node()[:80] or "capture agent"}
    body.update(keys.public_payload())
    own_client = client is None
    client = client or httpx.Client(timeout=30.0)
    try:
        response = client.post(server_url + PAIR_PATH, json=body)
    except httpx.HTTPError as exc:
        _discard_keys(home)
        raise PairingError(f"cannot reach {server_url}: {exc}") from exc
    finally:
        if own_client:
            client.close()
    if response.status_code != 201:
        _discard_keys(home)
        try:
            detail = response.json()
            reason = f"{detail.get('code')}: {detail.get('message')}"
        except ValueError:
            reason = response.text[:200]
        raise PairingError(f"server refused pairing (HTTP {response.status_code}) {reason}")
    answer = response.json()
    try:
        server_public = base64.b64decode(answer["server_public_key"], validate=True)
        fingerprint = wire.key_id(X25519PublicKey.from_public_bytes(server_public))
    except (KeyError, ValueError) as exc:
        _discard_keys(home)
        raise PairingError(f"server answered without a usable public key: {exc}") from exc
    if answer.get("server_key_id") != fingerprint:
        _discard_keys(home)
        raise PairingError("server key fingerprint does not match the key it sent")
    if server_key_fingerprint and server_key_fingerprint.lower() != fingerprint:
        _discard_keys(home)
        raise PairingError(
            f"server key {fingerprint} is not the expected {server_key_fingerprint}: not pinning it"
        )
    identity_save(
        home=home,
        server_url=server_url,
        device_id=str(answer["device_id"]),
        patient_id=str(answer["patient_id"]),
        server_public_key=server_public,
    )
    return identity_load(home)


def _discard_keys(home: Path) -> None:
    """A failed pairing leaves no half identity behind."""
    for path in home.glob("device-*.key"):
        path.unlink(missing_ok=True)
