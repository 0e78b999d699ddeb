"""The device's own keys and what it learned when it paired.

Private keys are written with 0600 permissions before any byte of them exists
on disk and never leave the device; the server's public key is pinned at
pairing, so a later server (or an attacker with a valid certificate) presenting
another key is refused rather than trusted.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from capture_agent import wire

IDENTITY_FILE = "identity.json"
SIGNING_KEY_FILE = "device-ed25519.key"
ENCRYPTION_KEY_FILE = "device-x25519.key"
OUTBOX_FILE = "outbox.sqlite3"
HOME_ENV = "TELEREHAB_AGENT_HOME"


class IdentityError(Exception):
    """The agent's identity is missing, unreadable or unsafe."""


class NotPairedError(IdentityError):
    """The agent has not been paired with a clinic yet."""


class InsecureKeyFileError(IdentityError):
    """A private key file is readable by other users of this machine."""


def agent_home(path: str | os.PathLike[str] | None = None) -> Path:
    """Where the agent keeps keys and the outbox: argument, env var, or ~/.telerehab-agent."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".telerehab-agent")


def write_private_file(path: Path, data: bytes) -> None:
    """Create with 0600 before writing; refuse to overwrite an existing key."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _read_private_file(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureKeyFileError(
            f"{path} is accessible to other users (mode {oct(mode & 0o777)})"
        )
    return base64.b64decode(path.read_bytes())


@dataclass(frozen=True)
class DeviceKeys:
    signing_key: Ed25519PrivateKey
    encryption_key: X25519PrivateKey

    @classmethod
    def generate(cls) -> DeviceKeys:
        return cls(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    def public_payload(self) -> dict[str, str]:
        """What registration sends: public halves only."""
        return {
            "signing_public_key": base64.b64encode(
                wire.public_key_bytes(self.signing_key.public_key())
            ).decode(),
            "encryption_public_key": base64.b64encode(
                wire.public_key_bytes(self.encryption_key.public_key())
            ).decode(),
        }


def device_keys_create(home: Path) -> DeviceKeys:
    """Generate and store fresh key pairs; an existing pair is never replaced silently."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(home, 0o700)
    keys = DeviceKeys.generate()
    write_private_file(
        home / SIGNING_KEY_FILE, base64.b64encode(wire.private_key_bytes(keys.signing_key))
    )
    write_private_file(
        home / ENCRYPTION_KEY_FILE, base64.b64encode(wire.private_key_bytes(keys.encryption_key))
    )
    return keys


def device_keys_load(home: Path) -> DeviceKeys:
    try:
        signing = _read_private_file(home / SIGNING_KEY_FILE)
        encryption = _read_private_file(home / ENCRYPTION_KEY_FILE)
    except FileNotFoundError as exc:
        raise NotPairedError(f"no device keys in {home}; run `capture-agent pair`") from exc
    return DeviceKeys(
        Ed25519PrivateKey.from_private_bytes(signing),
        X25519PrivateKey.from_private_bytes(encryption),
    )


@dataclass(frozen=True)
class Identity:
    """A paired device: who it is, whom it records, and which server key it trusts."""

    home: Path
    server_url: str
    device_id: str
    patient_id: str
    server_public_key: X25519PublicKey
    keys: DeviceKeys

    @property
    def server_key_id(self) -> str:
        return wire.key_id(self.server_public_key)

    @property
    def outbox_path(self) -> Path:
        return self.home / OUTBOX_FILE


def identity_save(
    *, home: Path, server_url: str, device_id: str, patient_id: str, server_public_key: bytes
) -> None:
    """Write identity.json atomically (write, fsync, rename)."""
    data = {
        "server_url": server_url,
        "device_id": device_id,
        "patient_id": patient_id,
        "server_public_key": base64.b64encode(server_public_key).decode(),
    }
    tmp = home / (IDENTITY_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, home / IDENTITY_FILE)


def identity_load(home: Path) -> Identity:
    try:
        data = json.loads((home / IDENTITY_FILE).read_text())
    except FileNotFoundError as exc:
        raise NotPairedError(f"{home} holds no pairing; run `capture-agent pair CODE`") from exc
    except json.JSONDecodeError as exc:
        raise IdentityError(f"{home / IDENTITY_FILE} is corrupt: {exc}") from exc
    return Identity(
        home=home,
        server_url=data["server_url"],
        device_id=data["device_id"],
        patient_id=data["patient_id"],
        server_public_key=X25519PublicKey.from_public_bytes(
            base64.b64decode(data["server_public_key"])
        ),
        keys=device_keys_load(home),
    )
