"""Credentials at rest: encrypted, bound to their row, listed masked, never in clear."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from enrichment_server.crypto import CredentialCipher, DecryptionFailed, generate_key
from enrichment_server.domain import EnrichmentRequest
from enrichment_server.store import Store
from enrichment_server.store.models import ApiCredential, Base
from tests.integration.store.support import T0, later

SECRET = "spotify-client-secret-0123456789abcdef"
LASTFM_KEY = "lastfm-api-key-fedcba9876543210"
#: Stored in clear on purpose, to prove the search below would find a clear value.
CANARY = "canary-value-in-clear-5f0e9c"


@pytest.fixture
def cipher() -> CredentialCipher:
    """A cipher under a fresh random key."""
    return CredentialCipher.from_key(generate_key())


async def test_round_trip(store: Store, cipher: CredentialCipher) -> None:
    """Stored credentials load back in clear with the same key; replacing one updates it."""
    assert await store.has_credentials() is False
    await store.set_credential("spotify", "client_secret", "old-value-000000", cipher, now=T0)
    await store.set_credential("spotify", "client_secret", SECRET, cipher, now=later(1))
    await store.set_credential("lastfm", "api_key", LASTFM_KEY, cipher, now=T0)
    assert await store.has_credentials() is True
    assert await store.load_credentials(cipher) == {
        ("spotify", "client_secret"): SECRET,
        ("lastfm", "api_key"): LASTFM_KEY,
    }


async def test_wrong_key_fails_to_decrypt(store: Store, cipher: CredentialCipher) -> None:
    """Another master key cannot read the stored values."""
    await store.set_credential("spotify", "client_secret", SECRET, cipher, now=T0)
    other = CredentialCipher.from_key(generate_key())
    with pytest.raises(DecryptionFailed):
        await store.load_credentials(other)


async def test_ciphertext_moved_to_another_row_fails(
    store: Store, cipher: CredentialCipher
) -> None:
    """Copying Spotify's ciphertext onto Last.fm's row does not hand Last.fm the secret."""
    await store.set_credential("spotify", "client_secret", SECRET, cipher, now=T0)
    await store.set_credential("lastfm", "api_key", LASTFM_KEY, cipher, now=T0)
    spotify = sa.select(ApiCredential.ciphertext).where(ApiCredential.source == "spotify")
    async with store.engine.begin() as conn:
        sealed = (await conn.execute(spotify)).scalar_one()
        await conn.execute(
            sa.update(ApiCredential)
            .where(ApiCredential.source == "lastfm")
            .values(ciphertext=sealed)
        )
    with pytest.raises(DecryptionFailed, match="belongs to another credential"):
        await store.load_credentials(cipher)


async def test_listing_masks_all_but_the_last_four(store: Store, cipher: CredentialCipher) -> None:
    """Listings show '****' plus the last 4 characters; short values show nothing."""
    await store.set_credential("spotify", "client_secret", SECRET, cipher, now=T0)
    await store.set_credential("deezer", "token", "short-1234", cipher, now=later(5))
    listed = await store.list_credentials()
    assert [(c.source, c.name, c.masked, c.updated_at) for c in listed] == [
        ("deezer", "token", "****", later(5)),
        ("spotify", "client_secret", "****cdef", T0),
    ]


async def test_empty_value_is_refused(store: Store, cipher: CredentialCipher) -> None:
    """An empty credential is a mistake, not a way to delete one."""
    with pytest.raises(ValueError, match="empty"):
        await store.set_credential("spotify", "client_secret", "", cipher, now=T0)


async def _dump_postgres(store: Store) -> str:
    """Every value of every row of every table, as text (bytes decoded leniently)."""
    parts: list[str] = []
    async with store.engine.connect() as conn:
        for table in [*Base.metadata.sorted_tables, sa.table("alembic_version")]:
            rows = (await conn.execute(sa.select(sa.text("*")).select_from(table))).all()
            for row in rows:
                for value in row:
                    is_bytes = isinstance(value, bytes | memoryview)
                    parts.append(bytes(value).decode("latin-1") if is_bytes else str(value))
    return "\n".join(parts)


def _sqlite_bytes(db_url: str) -> bytes:
    """The raw bytes of the database file and its WAL/SHM companions."""
    path = Path(str(make_url(db_url).database))
    return b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))


async def test_plaintext_appears_nowhere_in_the_database(
    store: Store, cipher: CredentialCipher, db_url: str
) -> None:
    """Neither the value nor its UTF-8 bytes are in any row (Postgres) or file (SQLite)."""
    await store.save_pending(EnrichmentRequest(track_id="canary", artist=CANARY, title="x"), now=T0)
    await store.set_credential("spotify", "client_secret", SECRET, cipher, now=T0)
    await store.list_credentials()
    await store.load_credentials(cipher)
    if store.engine.dialect.name == "postgresql":
        dump = await _dump_postgres(store)
        assert CANARY in dump
        assert SECRET not in dump
        assert SECRET[:-4] not in dump
    else:
        await store.close()  # flush and release the file before reading it raw
        raw = _sqlite_bytes(db_url)
        assert CANARY.encode() in raw
        assert SECRET.encode() not in raw
        assert SECRET[:-4].encode() not in raw
