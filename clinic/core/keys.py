"""Server key files: where they live and how development creates its own.

Kept free of Django imports because settings load it before Django is set up.
Production never generates keys: an operator provisions them (``manage.py
server_keys_init``) so that a lost or mis-mounted key directory stops the
server instead of silently creating fresh keys that cannot read old data.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

SECRET_KEY_FILE = "django-secret-key"  # noqa: S105 - a file name, not a secret
SERVER_X25519_FILE = "server-x25519.pem"
STORAGE_KEY_GLOB = "storage-v*.key"
FIRST_STORAGE_KEY_FILE = "storage-v1.key"


class ServerKeysMissingError(RuntimeError):
    """Raised when production starts without the key files it needs."""


def _write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with 0600 permissions before any secret byte is written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def server_keys_missing(*, key_dir: Path) -> list[str]:
    """Names of the key files production needs that ``key_dir`` lacks."""
    missing: list[str] = []
    if not key_dir.is_dir():
        return [f"{key_dir} (directory does not exist)"]
    if not (key_dir / SERVER_X25519_FILE).is_file():
        missing.append(str(key_dir / SERVER_X25519_FILE))
    if not any(key_dir.glob(STORAGE_KEY_GLOB)):
        missing.append(str(key_dir / FIRST_STORAGE_KEY_FILE))
    return missing


def server_keys_ensure(*, key_dir: Path) -> list[Path]:
    """Create any missing server key file in ``key_dir``; return those created.

    Existing files are never overwritten: replacing a key would make every
    envelope or stored blob sealed under the old one unreadable.
    """
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    created: list[Path] = []
    x25519_path = key_dir / SERVER_X25519_FILE
    if not x25519_path.exists():
        pem = X25519PrivateKey.generate().private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
        _write_private(x25519_path, pem)
        created.append(x25519_path)
    if not any(key_dir.glob(STORAGE_KEY_GLOB)):
        storage_path = key_dir / FIRST_STORAGE_KEY_FILE
        _write_private(storage_path, base64.b64encode(secrets.token_bytes(32)) + b"\n")
        created.append(storage_path)
    return created


def dev_secret_key(*, key_dir: Path) -> str:
    """Django SECRET_KEY for development, generated once and kept in ``key_dir``."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = key_dir / SECRET_KEY_FILE
    if not path.exists():
        try:
            _write_private(path, secrets.token_urlsafe(64).encode())
        except FileExistsError:
            pass  # another process created it first; read theirs
    return path.read_text().strip()


def main(argv: list[str] | None = None) -> int:
    """``python -m clinic.core.keys DIR``: create missing key files for production, once."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument(
        "key_dir", type=Path, help="directory outside the repository, e.g. /etc/telerehab/keys"
    )
    args = parser.parse_args(argv)
    created = server_keys_ensure(key_dir=args.key_dir.resolve())
    for path in created:
        print(f"created {path}")
    if not created:
        print(f"all key files already present in {args.key_dir}; nothing changed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
