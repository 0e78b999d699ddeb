"""The backup archive: a tar stream encrypted in authenticated chunks. Free of Django.

Free of Django so an operator can take the server key files out of an archive
on a bare machine (``python -m clinic.backup.archive unpack-keys``) before
production settings, which refuse to start without those keys, can load.

Layout::

    magic b"TRBK" | version u8 | key_id 16 | nonce_prefix 8       (the header, 29 bytes)
    then chunks:  length u32 | AES-256-GCM(chunk)                  (up to 1 MiB plaintext each)

Each chunk's nonce is ``nonce_prefix + counter``; its associated data is the
header, the counter and a final-chunk flag, so reordered, dropped, appended or
truncated chunks all fail authentication instead of restoring a partial
database. The backup key is 32 random bytes kept apart from the archive
(``new-key``); its id tells a wrong key from a corrupted archive.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import secrets
import struct
import tarfile
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"TRBK"
VERSION = 1
CHUNK_BYTES = 1024 * 1024
_HEADER = struct.Struct(">4sB16s8s")
_LENGTH = struct.Struct(">I")
_TAG_BYTES = 16
KEYS_PREFIX = "keys/"


class BackupArchiveError(Exception):
    """The archive cannot be written or read as a whole, authenticated backup."""


class WrongBackupKeyError(BackupArchiveError):
    """The archive was made with a different backup key."""


class CorruptArchiveError(BackupArchiveError):
    """Chunks fail authentication, are missing, or the archive ends early."""


def backup_key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"telerehab/backup-key-id\x00" + key).digest()[:16]


def backup_key_create(path: Path) -> None:
    """Write a new backup key file (0600); never overwrites one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(secrets.token_bytes(32)) + b"\n")


def backup_key_load(path: Path) -> bytes:
    try:
        raw = base64.b64decode(Path(path).read_bytes().strip(), validate=True)
    except (OSError, ValueError) as exc:
        raise BackupArchiveError(f"backup key {path} is unreadable: {exc}") from None
    if len(raw) != 32:
        raise BackupArchiveError(f"backup key {path} does not hold a 256-bit key")
    return raw


def _nonce(prefix: bytes, counter: int) -> bytes:
    return prefix + struct.pack(">I", counter)


def _aad(header: bytes, counter: int, final: bool) -> bytes:
    return header + struct.pack(">IB", counter, 1 if final else 0)


class EncryptingWriter(io.RawIOBase):
    """File-like sink: plaintext in, authenticated chunks out to ``sink``."""

    def __init__(self, sink: BinaryIO, key: bytes) -> None:
        super().__init__()
        self._sink = sink
        self._aes = AESGCM(key)
        self._prefix = secrets.token_bytes(8)
        self._header = _HEADER.pack(MAGIC, VERSION, backup_key_id(key), self._prefix)
        self._buffer = bytearray()
        self._counter = 0
        sink.write(self._header)

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer.extend(data)
        while len(self._buffer) > CHUNK_BYTES:
            self._emit(bytes(self._buffer[:CHUNK_BYTES]), final=False)
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def _emit(self, chunk: bytes, *, final: bool) -> None:
        sealed = self._aes.encrypt(
            _nonce(self._prefix, self._counter), chunk, _aad(self._header, self._counter, final)
        )
        self._sink.write(_LENGTH.pack(len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._sink.flush()
        super().close()


def decrypt_stream(source: BinaryIO, key: bytes, sink: BinaryIO) -> int:
    """Authenticate and decrypt a whole archive into ``sink``; returns plaintext bytes."""
    header = source.read(_HEADER.size)
    if len(header) != _HEADER.size:
        raise CorruptArchiveError("file is shorter than a backup archive header")
    magic, version, key_id, prefix = _HEADER.unpack(header)
    if magic != MAGIC:
        raise CorruptArchiveError("not a telerehab backup archive (bad magic)")
    if version != VERSION:
        raise CorruptArchiveError(f"backup archive version {version} is not supported")
    if key_id != backup_key_id(key):
        raise WrongBackupKeyError("this archive was made with a different backup key")
    aes = AESGCM(key)
    counter = 0
    total = 0
    while True:
        length_bytes = source.read(_LENGTH.size)
        if len(length_bytes) != _LENGTH.size:
            raise CorruptArchiveError(f"archive ends early at chunk {counter} (no final chunk)")
        (length,) = _LENGTH.unpack(length_bytes)
        if length < _TAG_BYTES or length > CHUNK_BYTES + _TAG_BYTES:
            raise CorruptArchiveError(f"chunk {counter} has an impossible length {length}")
        sealed = source.read(length)
        if len(sealed) != length:
            raise CorruptArchiveError(f"archive ends inside chunk {counter}")
        plain = None
        for final in (False, True):
            try:
                plain = aes.decrypt(_nonce(prefix, counter), sealed, _aad(header, counter, final))
            except InvalidTag:
                continue
            break
        if plain is None:
            raise CorruptArchiveError(
                f"chunk {counter} fails authentication (altered or reordered)"
            )
        sink.write(plain)
        total += len(plain)
        counter += 1
        if final:
            if source.read(1):
                raise CorruptArchiveError("bytes follow the final chunk")
            return total


def archive_write(*, path: Path, key: bytes, members: dict[str, Path]) -> None:
    """Tar ``members`` (archive name → file) through the encrypting writer into ``path`` (0600)."""
    tmp = path.with_name(path.name + ".partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw:
        writer = EncryptingWriter(raw, key)
        with tarfile.open(fileobj=writer, mode="w|") as tar:
            for name, source in members.items():
                tar.add(str(source), arcname=name, recursive=False)
        writer.close()
        os.fsync(raw.fileno())
    os.replace(tmp, path)


def archive_extract(*, path: Path, key: bytes, into: Path) -> list[str]:
    """Decrypt (all chunks authenticated first) then untar into ``into``; returns member names."""
    plain_path = into / ".archive.tar"
    fd = os.open(plain_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(path, "rb") as source, os.fdopen(fd, "wb") as sink:
        decrypt_stream(source, key, sink)
    try:
        with tarfile.open(plain_path, mode="r:") as tar:
            names = tar.getnames()
            tar.extractall(into, filter="data")
    except tarfile.TarError as exc:
        raise CorruptArchiveError(f"archive content is not a valid tar: {exc}") from None
    finally:
        plain_path.unlink(missing_ok=True)
    return names


def key_files_install(*, source_dir: Path, key_dir: Path, replace: bool = False) -> list[str]:
    """Copy key files into ``key_dir`` (0600). Identical files are kept; a differing one is
    refused unless ``replace``, and then moved aside, never deleted: a key is the only way
    back into whatever was sealed under it."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    installed: list[str] = []
    for file in sorted(p for p in source_dir.iterdir() if p.is_file()):
        target = key_dir / file.name
        data = file.read_bytes()
        if target.exists():
            if target.read_bytes() == data:
                continue
            if not replace:
                raise BackupArchiveError(
                    f"{target} exists and differs from the archived key; "
                    "pass --replace-keys to move it aside"
                )
            target.rename(target.with_name(f"{target.name}.replaced-{secrets.token_hex(4)}"))
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        installed.append(file.name)
    return installed


def main(argv: list[str] | None = None) -> int:
    """``python -m clinic.backup.archive new-key FILE | unpack-keys ARCHIVE --backup-key FILE --key-dir DIR``."""
    import tempfile

    parser = argparse.ArgumentParser(description="telerehab backup archive tools (no Django)")
    sub = parser.add_subparsers(dest="command", required=True)
    new_key = sub.add_parser("new-key", help="create a backup key file (keep it off the server)")
    new_key.add_argument("path", type=Path)
    unpack = sub.add_parser("unpack-keys", help="install the server key files from an archive")
    unpack.add_argument("archive", type=Path)
    unpack.add_argument("--backup-key", type=Path, required=True)
    unpack.add_argument("--key-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "new-key":
        backup_key_create(args.path)
        print(f"created {args.path}")
        return 0
    with tempfile.TemporaryDirectory(prefix="telerehab-unpack-") as tmp:
        archive_extract(path=args.archive, key=backup_key_load(args.backup_key), into=Path(tmp))
        installed = key_files_install(source_dir=Path(tmp) / "keys", key_dir=args.key_dir)
    print(f"installed {len(installed)} key files into {args.key_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
