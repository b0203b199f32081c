"""CredentialService: stored credentials over the environment's, changes reported once."""

from __future__ import annotations

import pytest

from enrichment_server.config import load_settings
from enrichment_server.credentials import Credentials, CredentialService, CredentialsUnreadable
from enrichment_server.crypto import CredentialCipher, generate_key
from enrichment_server.domain import Source
from enrichment_server.store import Store
from tests.integration.store.support import T0

LASTFM_ENV = "lastfm-env-key-0000000000000000"
LASTFM_STORED = "lastfm-stored-key-111111111111"


async def test_stored_credentials_win_and_changes_are_reported(store: Store) -> None:
    """A stored key replaces the environment's, on_change sees it once; a refresh with
    nothing new reports nothing."""
    key = generate_key()
    settings = load_settings(secret_key=key, lastfm_api_key=LASTFM_ENV)
    service = CredentialService(settings, store)
    assert (await service.load()).lastfm_api_key == LASTFM_ENV
    seen: list[Credentials] = []

    async def record(new: Credentials) -> None:
        seen.append(new)

    service.on_change(record)
    masked = await service.set_credential(Source.LASTFM, "api_key", LASTFM_STORED)
    assert LASTFM_STORED not in masked.masked
    assert [c.lastfm_api_key for c in seen] == [LASTFM_STORED]
    await service.refresh()
    assert len(seen) == 1


async def test_refresh_picks_up_a_credential_stored_by_another_replica(store: Store) -> None:
    """A credential written by another replica (same key) is applied by the next refresh."""
    key = generate_key()
    service = CredentialService(load_settings(secret_key=key), store)
    await service.load()
    await store.set_credential(
        "lastfm", "api_key", LASTFM_STORED, CredentialCipher.from_key(key), now=T0
    )
    assert service.current.lastfm_api_key == ""
    await service.refresh()
    assert service.current.lastfm_api_key == LASTFM_STORED


async def test_unknown_name_and_missing_key_are_value_errors(store: Store) -> None:
    """An unknown credential name, or no secret key to store with, is a ValueError."""
    with_key = CredentialService(load_settings(secret_key=generate_key()), store)
    with pytest.raises(ValueError, match="unknown credential"):
        await with_key.set_credential(Source.LASTFM, "password", "x" * 20)
    without_key = CredentialService(load_settings(), store)
    with pytest.raises(ValueError, match="ENRICHMENT_SECRET_KEY"):
        await without_key.set_credential(Source.LASTFM, "api_key", LASTFM_STORED)


async def test_stored_credentials_without_the_key_stop_the_start(store: Store) -> None:
    """Encrypted credentials in the database and no key: load() refuses, naming the key."""
    cipher = CredentialCipher.from_key(generate_key())
    await store.set_credential("lastfm", "api_key", LASTFM_STORED, cipher, now=T0)
    with pytest.raises(CredentialsUnreadable, match="ENRICHMENT_SECRET_KEY"):
        await CredentialService(load_settings(), store).load()
