"""Upstream credentials at rest: encrypted values, masked listings.

The associated data binds each ciphertext to its (source, name), so copying a row's
ciphertext onto another row yields a decryption error, never a wrong secret. Values
are never logged here and never leave except through ``load`` (to configure sources).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enrichment_server.crypto import CredentialCipher
from enrichment_server.store.models import ApiCredential
from enrichment_server.store.rows import insert_for
from enrichment_server.store.types import MaskedCredential

__all__ = ["MIN_LENGTH_FOR_LAST4", "associated_data", "has_any", "list_masked", "load", "save"]

#: Shorter values show no characters at all: 4 of 8 would be half the secret.
MIN_LENGTH_FOR_LAST4 = 12
MASK = "****"


def associated_data(source: str, name: str) -> bytes:
    """The AES-GCM associated data for a credential (NUL cannot occur in either part)."""
    if "\0" in source or "\0" in name:
        raise ValueError("credential source and name cannot contain NUL")
    return f"enrichment-credential\0{source}\0{name}".encode()


def last4(value: str) -> str:
    """The characters a listing may show."""
    return value[-4:] if len(value) >= MIN_LENGTH_FOR_LAST4 else ""


async def save(
    conn: AsyncConnection,
    source: str,
    name: str,
    value: str,
    cipher: CredentialCipher,
    now: datetime,
) -> None:
    """Insert or replace the credential ``(source, name)``."""
    if not value:
        raise ValueError("a credential value cannot be empty")
    sealed = cipher.encrypt(value, associated=associated_data(source, name))
    values = {"ciphertext": sealed, "last4": last4(value), "updated_at": now}
    insert = insert_for(conn, ApiCredential).values(
        {**values, "source": source, "name": name, "created_at": now}
    )
    await conn.execute(insert.on_conflict_do_update(index_elements=["source", "name"], set_=values))


async def list_masked(conn: AsyncConnection) -> list[MaskedCredential]:
    """Every credential, masked, ordered by source and name."""
    query = sa.select(
        ApiCredential.source, ApiCredential.name, ApiCredential.last4, ApiCredential.updated_at
    ).order_by(ApiCredential.source, ApiCredential.name)
    return [
        MaskedCredential(source=source, name=name, masked=MASK + shown, updated_at=updated)
        for source, name, shown, updated in (await conn.execute(query)).all()
    ]


async def load(conn: AsyncConnection, cipher: CredentialCipher) -> dict[tuple[str, str], str]:
    """Every credential decrypted; ``DecryptionFailed`` if any does not open."""
    query = sa.select(ApiCredential.source, ApiCredential.name, ApiCredential.ciphertext)
    return {
        (source, name): cipher.decrypt(sealed, associated=associated_data(source, name))
        for source, name, sealed in (await conn.execute(query)).all()
    }


async def has_any(conn: AsyncConnection) -> bool:
    """True when at least one credential is stored."""
    query = sa.select(sa.exists().select_from(ApiCredential))
    return bool((await conn.execute(query)).scalar())
