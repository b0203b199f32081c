"""CredentialCipher: AES-GCM with associated data, strict keys, no default key."""

from __future__ import annotations

import base64

import pytest

from enrichment_server.crypto import CredentialCipher, DecryptionFailed, generate_key

SECRET = "s3cr3t-client-secret-value"


def test_round_trip() -> None:
    """A value encrypted under a key and associated data decrypts to itself."""
    cipher = CredentialCipher.from_key(generate_key())
    sealed = cipher.encrypt(SECRET, associated=b"spotify/client_secret")
    assert cipher.decrypt(sealed, associated=b"spotify/client_secret") == SECRET
    assert SECRET.encode() not in sealed


def test_encryptions_differ() -> None:
    """A fresh nonce per call: the same value never gives the same ciphertext."""
    cipher = CredentialCipher.from_key(generate_key())
    assert cipher.encrypt(SECRET, associated=b"a") != cipher.encrypt(SECRET, associated=b"a")


def test_wrong_key_fails() -> None:
    """Another key cannot open the value."""
    sealed = CredentialCipher.from_key(generate_key()).encrypt(SECRET, associated=b"a")
    with pytest.raises(DecryptionFailed, match="wrong master key"):
        CredentialCipher.from_key(generate_key()).decrypt(sealed, associated=b"a")


def test_other_associated_data_fails() -> None:
    """A ciphertext bound to one credential does not open as another."""
    cipher = CredentialCipher.from_key(generate_key())
    sealed = cipher.encrypt(SECRET, associated=b"spotify/client_secret")
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(sealed, associated=b"lastfm/api_key")


def test_tampering_fails() -> None:
    """One flipped bit anywhere in the ciphertext is detected."""
    cipher = CredentialCipher.from_key(generate_key())
    sealed = bytearray(cipher.encrypt(SECRET, associated=b"a"))
    sealed[-5] ^= 0x01
    with pytest.raises(DecryptionFailed):
        cipher.decrypt(bytes(sealed), associated=b"a")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not base64 at all!",
        base64.urlsafe_b64encode(b"x" * 16).decode(),
        base64.urlsafe_b64encode(b"x" * 33).decode(),
        base64.b64encode(b"\xfb" * 32).decode(),  # standard alphabet: '+' and '/'
    ],
)
def test_malformed_keys_are_refused_clearly(key: str) -> None:
    """A key that is not URL-safe base64 of 32 bytes is a ValueError naming the fix."""
    with pytest.raises(ValueError, match="generate_key") as caught:
        CredentialCipher.from_key(key)
    assert not key or key not in str(caught.value)


def test_key_is_never_shown() -> None:
    """repr does not reveal the key."""
    key = generate_key()
    assert key not in repr(CredentialCipher.from_key(key))
    assert "redacted" in repr(CredentialCipher.from_key(key))


def test_generated_keys_are_valid_and_distinct() -> None:
    """generate_key gives 32 random bytes in the accepted form."""
    first, second = generate_key(), generate_key()
    assert first != second
    assert len(base64.urlsafe_b64decode(first)) == 32
