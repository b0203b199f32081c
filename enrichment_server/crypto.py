"""Encryption at rest for upstream credentials: AES-256-GCM under an operator's key.

The master key comes from the environment (via ``config.py``) as the URL-safe base64
form of 32 random bytes; ``generate_key()`` makes one. There is no default key: a
service without one cannot store or read credentials. Each ciphertext is
``version || nonce || AES-GCM(ciphertext + tag)`` and is bound to associated data (the
credential's source and name), so a value copied onto another row fails to decrypt
instead of silently becoming another service's secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["CredentialCipher", "DecryptionFailed", "credential_fingerprint", "generate_key"]

KEY_BYTES = 32
NONCE_BYTES = 12  # the size GCM is specified for; random nonces are safe far past our volume
#: Format byte, so a later key rotation or algorithm change can tell old rows apart.
VERSION = b"\x01"
#: Strict alphabet: ``urlsafe_b64decode`` alone silently skips characters outside it.
URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class DecryptionFailed(ValueError):
    """A ciphertext did not decrypt: wrong master key, tampering, or moved to another row."""


def generate_key() -> str:
    """A fresh master key in the form ``from_key`` takes (for docs and operators)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def _decode_key(key: str) -> bytes:
    """The 32 key bytes, or a ``ValueError`` that never echoes the key itself."""
    text = key.strip()
    try:
        if not URLSAFE_B64.fullmatch(text):
            raise ValueError("not URL-safe base64")
        raw = base64.urlsafe_b64decode(text.encode("ascii"))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(
            "credential key is not URL-safe base64 (make one with generate_key())"
        ) from exc
    if len(raw) != KEY_BYTES:
        raise ValueError(
            f"credential key must decode to {KEY_BYTES} bytes, got {len(raw)} "
            "(make one with generate_key())"
        )
    return raw


class CredentialCipher:
    """Encrypts and decrypts credential values; holds the key, never shows it."""

    __slots__ = ("_aead",)

    def __init__(self, aead: AESGCM) -> None:
        """Use ``from_key``; this takes an already built AES-GCM instance."""
        self._aead = aead

    @classmethod
    def from_key(cls, key: str) -> CredentialCipher:
        """A cipher for a URL-safe base64 key of 32 bytes; ``ValueError`` otherwise."""
        return cls(AESGCM(_decode_key(key)))

    def __repr__(self) -> str:
        """Never the key."""
        return "CredentialCipher(key=<redacted>)"

    def encrypt(self, plaintext: str, *, associated: bytes) -> bytes:
        """Seal ``plaintext`` bound to ``associated`` (which is not stored in it)."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), VERSION + associated)
        return VERSION + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, associated: bytes) -> str:
        """Open a value sealed by ``encrypt`` with the same key and associated data."""
        if len(ciphertext) < 1 + NONCE_BYTES or ciphertext[:1] != VERSION:
            raise DecryptionFailed("credential ciphertext has an unknown format")
        nonce = ciphertext[1 : 1 + NONCE_BYTES]
        try:
            plain = self._aead.decrypt(nonce, ciphertext[1 + NONCE_BYTES :], VERSION + associated)
        except InvalidTag:
            # Deliberately vague: the three causes are indistinguishable by design.
            raise DecryptionFailed(
                "credential did not decrypt: wrong master key, or the stored value was "
                "altered or belongs to another credential"
            ) from None
        return plain.decode("utf-8")


def credential_fingerprint(source: str, *values: str) -> str:
    """A short, one-way name for the credential ``values`` of ``source``.

    Recorded beside a track whose enrichment that credential failed, so a changed
    credential (set at run time, or fixed in the environment and restarted) is told
    apart from the one that failed without storing it: 64 bits of SHA-256 over
    high-entropy keys reveal nothing usable.
    """
    material = "\0".join(("enrichment-credential-fingerprint", source, *values))
    return hashlib.sha256(material.encode()).hexdigest()[:16]
