"""Envelope encryption for anything the server decrypts and keeps.

Each blob gets its own random data key (AES-256-GCM); the data key is wrapped
by a versioned storage key.  Rotation re-wraps the small data keys under the
newest storage key and never touches (or risks) the blob ciphertext.  The
associated data binds each blob to its owner row, so a ciphertext copied onto
another recording fails to decrypt instead of showing the wrong patient's data.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinic.keys.keyring import current_storage_version, storage_key

_NONCE = 12


class AtRestDecryptionError(Exception):
    """A stored blob does not decrypt: wrong owner, altered bytes or wrong key."""


@dataclass(frozen=True)
class SealedBlob:
    key_version: int
    wrapped_key: bytes
    ciphertext: bytes


def _aad(owner: str, purpose: str) -> bytes:
    return f"telerehab/at-rest/v1|{purpose}|{owner}".encode()


def blob_seal(plaintext: bytes, *, owner: str, purpose: str) -> SealedBlob:
    version = current_storage_version()
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE)
    ciphertext = nonce + AESGCM(data_key).encrypt(nonce, plaintext, _aad(owner, purpose))
    return SealedBlob(version, _wrap(data_key, version, owner, purpose), ciphertext)


def blob_open(blob: SealedBlob, *, owner: str, purpose: str) -> bytes:
    data_key = _unwrap(blob.wrapped_key, blob.key_version, owner, purpose)
    try:
        return AESGCM(data_key).decrypt(
            blob.ciphertext[:_NONCE], blob.ciphertext[_NONCE:], _aad(owner, purpose)
        )
    except InvalidTag:
        raise AtRestDecryptionError(f"{purpose} of {owner} fails authentication") from None


def blob_rewrap(blob: SealedBlob, *, owner: str, purpose: str, to_version: int) -> SealedBlob:
    """Same ciphertext, data key re-wrapped under ``to_version``."""
    data_key = _unwrap(blob.wrapped_key, blob.key_version, owner, purpose)
    return SealedBlob(to_version, _wrap(data_key, to_version, owner, purpose), blob.ciphertext)


def _wrap(data_key: bytes, version: int, owner: str, purpose: str) -> bytes:
    nonce = os.urandom(_NONCE)
    aad = _aad(owner, purpose) + f"|v{version}".encode()
    return nonce + AESGCM(storage_key(version)).encrypt(nonce, data_key, aad)


def _unwrap(wrapped: bytes, version: int, owner: str, purpose: str) -> bytes:
    aad = _aad(owner, purpose) + f"|v{version}".encode()
    try:
        return AESGCM(storage_key(version)).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], aad)
    except InvalidTag:
        raise AtRestDecryptionError(
            f"data key of {purpose} {owner} does not unwrap with storage key v{version}"
        ) from None
