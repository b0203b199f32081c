"""``Store``: the service's one door to its database (SQLite by default, or Postgres).

Every public coroutine is one transaction. The engine is built once (``Store.open`` or
``app.py``) and passed in; nothing here is module state. Timestamps are passed in by
the caller (``now``) so tests and workers control the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from enrichment_server.crypto import CredentialCipher
from enrichment_server.domain import EnrichmentRequest, EnrichmentResult
from enrichment_server.store import admin, browse, claims, credentials, refusals
from enrichment_server.store.engine import create_engine
from enrichment_server.store.migrate import migrate
from enrichment_server.store.recording import Attempt, BackoffFn, write_attempt
from enrichment_server.store.types import DeadLetter, MaskedCredential, StoreStats

__all__ = ["BackoffFn", "Store"]


class Store:
    """Tracks, enrichment status, the dead-letter queue and encrypted credentials."""

    def __init__(self, engine: AsyncEngine) -> None:
        """Use ``engine`` (owned by the caller unless built by ``open``)."""
        self.engine = engine

    @classmethod
    async def open(cls, url: str, *, migrate_schema: bool = True) -> Store:
        """A store on a new engine for ``url``, migrated to the latest schema first."""
        if migrate_schema:
            await migrate(url)
        return cls(create_engine(url))

    async def close(self) -> None:
        """Dispose of the engine's connections."""
        await self.engine.dispose()

    async def ping(self) -> None:
        """One trivial query: raises when the database cannot be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def search_tracks(self, text: str, limit: int = 50) -> list[dict[str, Any]]:
        """Tracks whose id, artist or title contains ``text`` (the console's search)."""
        async with self.engine.connect() as conn:
            return await browse.search_tracks(conn, text, limit)

    async def track_detail(self, track_id: str) -> dict[str, Any] | None:
        """One track's columns and status row, or None."""
        async with self.engine.connect() as conn:
            return await browse.track_detail(conn, track_id)

    async def record(
        self,
        request: EnrichmentRequest,
        result: EnrichmentResult,
        *,
        now: datetime,
        max_attempts: int,
        backoff: BackoffFn,
        rename: bool = False,
    ) -> None:
        """Store a result: track fields, status and dead letter in one transaction.

        Found fields overwrite, missing ones keep their stored value; a retriable
        PARTIAL/FAILED counts an attempt on the dead letter (parked at ``max_attempts``),
        COMPLETED/NOT_FOUND delete it; claims on the track end. ``rename`` (a caller's
        result): another artist/title than the row's replaces its identity and clears
        what was found for the old one; without it (background work) such a result for a
        name the row no longer has is not written.
        """
        attempt = Attempt.from_result(request, result)
        await self._write(
            attempt, now=now, max_attempts=max_attempts, backoff=backoff, rename=rename
        )

    async def record_crash(
        self,
        request: EnrichmentRequest,
        message: str,
        *,
        now: datetime,
        max_attempts: int,
        backoff: BackoffFn,
    ) -> None:
        """Store an attempt that raised: a retriable FAILED with an ``internal`` error."""
        attempt = Attempt.crashed(request, message)
        await self._write(attempt, now=now, max_attempts=max_attempts, backoff=backoff)

    async def _write(
        self,
        attempt: Attempt,
        *,
        now: datetime,
        max_attempts: int,
        backoff: BackoffFn,
        rename: bool = False,
    ) -> None:
        """Run ``write_attempt`` in its own transaction."""
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        async with self.engine.begin() as conn:
            await write_attempt(
                conn, attempt, now=now, max_attempts=max_attempts, backoff=backoff, rename=rename
            )

    async def save_pending(self, request: EnrichmentRequest, *, now: datetime) -> bool:
        """Save a track unenriched (status 'pending'); True if the track was new."""
        async with self.engine.begin() as conn:
            return await claims.save_pending(conn, request, now)

    async def claim_due(
        self, worker: str, limit: int, now: datetime, lease_s: float
    ) -> list[DeadLetter]:
        """Lease up to ``limit`` due dead letters to ``worker`` for ``lease_s`` seconds."""
        async with self.engine.begin() as conn:
            return await claims.claim_due(conn, worker, limit, now, lease_s)

    async def postpone(self, entry_id: int, until: datetime) -> None:
        """Release a claimed dead letter unprocessed, due again at ``until`` (no attempt)."""
        async with self.engine.begin() as conn:
            await claims.postpone(conn, entry_id, until)

    async def claim_unenriched(
        self, worker: str, limit: int, now: datetime, lease_s: float
    ) -> list[EnrichmentRequest]:
        """Lease up to ``limit`` pending (or orphaned due) tracks to the scheduler."""
        async with self.engine.begin() as conn:
            return await claims.claim_unenriched(conn, worker, limit, now, lease_s)

    async def list_dead_letters(
        self,
        source: str | None = None,
        kind: str | None = None,
        state: str | None = None,
        page_size: int = 100,
        page_token: str | None = None,
    ) -> tuple[list[DeadLetter], str | None]:
        """A page of dead letters (id order) and the next page's token, or None."""
        where = admin.DeadLetterFilter(source=source, kind=kind, state=state)
        async with self.engine.connect() as conn:
            return await admin.list_page(conn, where, page_size, page_token)

    async def replay(
        self,
        ids: list[int] | None = None,
        *,
        source: str | None = None,
        kind: str | None = None,
        parked_only: bool = False,
        now: datetime,
    ) -> int:
        """Re-queue matching entries (all when no filter) due now, attempts reset to 0."""
        state = "parked" if parked_only else None
        where = admin.DeadLetterFilter(ids, source=source, kind=kind, state=state)
        async with self.engine.begin() as conn:
            return await admin.replay(conn, where, now)

    async def purge(
        self,
        ids: list[int] | None = None,
        *,
        source: str | None = None,
        kind: str | None = None,
        parked_only: bool = False,
        state: str | None = None,
    ) -> int:
        """Delete matching entries (all when no filter); return how many."""
        state = "parked" if parked_only else state
        where = admin.DeadLetterFilter(ids, source=source, kind=kind, state=state)
        async with self.engine.begin() as conn:
            return await admin.purge(conn, where)

    async def stats(self) -> StoreStats:
        """Coverage percentages, tracks per status and dead-letter depth."""
        async with self.engine.connect() as conn:
            return await admin.stats(conn)

    async def set_credential(
        self, source: str, name: str, value: str, cipher: CredentialCipher, *, now: datetime
    ) -> None:
        """Encrypt and store (or replace) a credential."""
        async with self.engine.begin() as conn:
            await credentials.save(conn, source, name, value, cipher, now)

    async def list_credentials(self) -> list[MaskedCredential]:
        """Every credential masked to its last 4 characters (no key needed)."""
        async with self.engine.connect() as conn:
            return await credentials.list_masked(conn)

    async def load_credentials(self, cipher: CredentialCipher) -> dict[tuple[str, str], str]:
        """Every credential decrypted, keyed by (source, name)."""
        async with self.engine.connect() as conn:
            return await credentials.load(conn, cipher)

    async def reschedule_refused(self, current: Mapping[str, str], *, now: datetime) -> int:
        """Make due the tracks refused by a credential other than ``current``'s (source ->
        fingerprint): they are re-enriched in the background. How many were made due."""
        async with self.engine.begin() as conn:
            return await refusals.reschedule_refused(conn, current, now)

    async def has_credentials(self) -> bool:
        """True when any credential is stored."""
        async with self.engine.connect() as conn:
            return await credentials.has_any(conn)
