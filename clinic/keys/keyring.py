"""Loading server keys from the key directory, by id or version.

Transport keys: ``server-x25519.pem`` is the current X25519 key devices seal
for; older ones kept as ``server-x25519-<key id>.pem`` still open envelopes
sealed before a change.  Storage keys: ``storage-v<N>.key`` (base64 of 32
random bytes); the highest N is current, older versions stay readable until
``rotate_keys`` has re-wrapped everything under the newest.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.conf import settings

from capture_agent import wire

SERVER_X25519_FILE = "server-x25519.pem"
_OLD_SERVER_RE = re.compile(r"^server-x25519-([0-9a-f]{32})\.pem$")
_STORAGE_RE = re.compile(r"^storage-v(\d+)\.key$")


class KeyringError(Exception):
    """A key the server needs is missing or unreadable."""


class UnknownServerKeyError(KeyringError):
    """No transport key with this id is held by this server."""


class UnknownStorageKeyError(KeyringError):
    """A blob names a storage key version this server does not hold."""


def key_dir() -> Path:
    return Path(settings.TELEREHAB_KEY_DIR)


def _load_x25519(path: Path) -> X25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, X25519PrivateKey):
        raise KeyringError(f"{path} is not an X25519 private key")
    return key


@dataclass(frozen=True)
class TransportKeys:
    current: X25519PrivateKey
    by_id: dict[str, X25519PrivateKey]

    @property
    def current_id(self) -> str:
        return wire.key_id(self.current.public_key())

    def get(self, key_id: str) -> X25519PrivateKey:
        try:
            return self.by_id[key_id]
        except KeyError:
            raise UnknownServerKeyError(f"server holds no transport key {key_id}") from None


@lru_cache(maxsize=4)
def _transport_keys(directory: str, _mtime_ns: int = 0) -> TransportKeys:
    path = Path(directory)
    current_path = path / SERVER_X25519_FILE
    if not current_path.is_file():
        raise KeyringError(f"server transport key {current_path} is missing")
    current = _load_x25519(current_path)
    by_id = {wire.key_id(current.public_key()): current}
    for file in path.iterdir():
        if _OLD_SERVER_RE.match(file.name):
            old = _load_x25519(file)
            by_id[wire.key_id(old.public_key())] = old
    return TransportKeys(current, by_id)


def transport_keys() -> TransportKeys:
    """The transport keys, re-read whenever the key directory changes (rotation by another process)."""
    directory = key_dir()
    try:
        mtime_ns = directory.stat().st_mtime_ns
    except FileNotFoundError:
        raise KeyringError(f"key directory {directory} does not exist") from None
    return _transport_keys(str(directory), mtime_ns)


def storage_keys() -> dict[int, bytes]:
    """Every storage key version held, read fresh (rotation adds files while running)."""
    keys: dict[int, bytes] = {}
    directory = key_dir()
    if not directory.is_dir():
        raise KeyringError(f"key directory {directory} does not exist")
    for file in directory.iterdir():
        match = _STORAGE_RE.match(file.name)
        if match:
            raw = base64.b64decode(file.read_bytes().strip(), validate=True)
            if len(raw) != 32:
                raise KeyringError(f"{file} does not hold a 256-bit key")
            keys[int(match.group(1))] = raw
    if not keys:
        raise KeyringError(f"no storage key (storage-v1.key) in {directory}")
    return keys


def storage_key(version: int) -> bytes:
    try:
        return storage_keys()[version]
    except KeyError:
        raise UnknownStorageKeyError(f"storage key version {version} is not held") from None


def current_storage_version() -> int:
    return max(storage_keys())


def storage_key_create_next() -> int:
    """Write storage-v<N+1>.key (0600, never overwriting) and return N+1."""
    version = current_storage_version() + 1
    path = key_dir() / f"storage-v{version}.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(32)) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return version


def transport_key_rotate() -> tuple[str, str]:
    """Archive the current X25519 key as server-x25519-<id>.pem and create a new current one.

    Envelopes sealed for the archived key stay readable (ingest and
    processing look keys up by id); devices move to the new key when they
    pair again.  Returns (old id, new id).
    """
    directory = key_dir()
    current_path = directory / SERVER_X25519_FILE
    old = _load_x25519(current_path)
    old_id = wire.key_id(old.public_key())
    archived = directory / f"server-x25519-{old_id}.pem"
    fd = os.open(archived, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(current_path.read_bytes())
        handle.flush()
        os.fsync(handle.fileno())
    new = X25519PrivateKey.generate()
    tmp = directory / (SERVER_X25519_FILE + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            new.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, current_path)
    _transport_keys.cache_clear()
    return old_id, wire.key_id(new.public_key())
