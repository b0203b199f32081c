"""Leases on work: dead letters for the DLQ worker, unenriched tracks for the scheduler.

A claim is ``claimed_by`` + ``claimed_until``. On Postgres one transaction selects the
candidates with ``FOR UPDATE SKIP LOCKED``, so concurrent workers (other replicas) skip
each other's rows instead of waiting for or sharing them, then sets the lease on the
rows it locked. The UPDATE repeats the claimability test as a second guard. SQLite has
no row locks but runs one writer at a time, so there a single
``UPDATE ... WHERE key IN (candidates) RETURNING`` is atomic.

A claim is a lease, not a lock: a worker killed with -9 never releases it, and its
entries become claimable again when ``claimed_until`` passes. ``record`` ends a claim
by clearing both columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from enrichment_server.domain import EnrichmentRequest
from enrichment_server.store.models import DeadLetterRow, EnrichmentStatusRow, Track
from enrichment_server.store.rows import dead_letter_from_row, insert_for, insert_track_if_new
from enrichment_server.store.types import DeadLetter

__all__ = ["claim_due", "claim_unenriched", "postpone", "save_pending"]


def _unclaimed(claimed_until: Any, now: datetime) -> sa.ColumnElement[bool]:
    """No live lease: never claimed, or the lease has run out."""
    return sa.or_(claimed_until.is_(None), claimed_until <= now)


def _lease(worker: str, now: datetime, lease_s: float) -> dict[str, Any]:
    """The claim columns for a lease of ``lease_s`` seconds from ``now``."""
    if lease_s <= 0:
        raise ValueError("lease_s must be positive")
    return {"claimed_by": worker, "claimed_until": now + timedelta(seconds=lease_s)}


async def _claim_rows(
    conn: AsyncConnection,
    key: Any,
    claimable: sa.ColumnElement[bool],
    order_by: list[Any],
    limit: int,
    lease: dict[str, Any],
    returning: list[Any],
) -> Sequence[RowMapping]:
    """Lease up to ``limit`` claimable rows of ``key``'s table; the leased rows."""
    table = key.table
    candidates = (
        sa.select(key)
        .where(claimable)
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True, of=table)
    )
    if conn.dialect.name == "postgresql":
        # Two statements, not UPDATE ... WHERE key IN (that subquery): Postgres plans the
        # latter as a nested-loop semi-join that re-runs the locking subquery, and under
        # contention it then claimed nothing while due rows remained.
        keys = list((await conn.execute(candidates)).scalars())
        if not keys:
            return []
        chosen = key.in_(keys)
    else:
        chosen = key.in_(candidates.scalar_subquery())  # one statement: atomic on SQLite
    update = sa.update(table).where(chosen, claimable).values(lease).returning(*returning)
    return (await conn.execute(update)).mappings().all()


async def claim_due(
    conn: AsyncConnection, worker: str, limit: int, now: datetime, lease_s: float
) -> list[DeadLetter]:
    """Lease up to ``limit`` due dead letters to ``worker``, oldest due first."""
    dl = DeadLetterRow
    claimable = sa.and_(
        dl.state == "due", dl.next_attempt_at <= now, _unclaimed(dl.claimed_until, now)
    )
    order = [dl.next_attempt_at, dl.id]
    columns = list(DeadLetterRow.__table__.columns)
    lease = _lease(worker, now, lease_s)
    rows = await _claim_rows(conn, dl.id, claimable, order, limit, lease, columns)
    entries = [dead_letter_from_row(row) for row in rows]
    return sorted(entries, key=lambda entry: (entry.next_attempt_at, entry.id))


async def postpone(conn: AsyncConnection, entry_id: int, until: datetime) -> None:
    """End the claim on a dead letter without an attempt; due again at ``until``."""
    update = (
        sa.update(DeadLetterRow)
        .where(DeadLetterRow.id == entry_id, DeadLetterRow.state == "due")
        .values(next_attempt_at=until, claimed_by=None, claimed_until=None)
    )
    await conn.execute(update)


async def save_pending(conn: AsyncConnection, request: EnrichmentRequest, now: datetime) -> bool:
    """Store a track saved without enrichment; True if it was new.

    An existing track (and its status) is left alone: saving a row the service already
    enriched must not put it back in the queue.
    """
    created = await insert_track_if_new(conn, request, now)
    status = {
        "track_id": request.track_id,
        "status": "pending",
        "attempts": 0,
        "is_retriable": True,
        "updated_at": now,
    }
    pending = insert_for(conn, EnrichmentStatusRow).values(status)
    await conn.execute(pending.on_conflict_do_nothing(index_elements=["track_id"]))
    return created


async def _adopt_orphans(conn: AsyncConnection, limit: int, now: datetime) -> None:
    """Give tracks the scrapers wrote directly (no status row) a 'pending' one.

    The claim then works on one table; ON CONFLICT makes racing replicas harmless.
    """
    status = EnrichmentStatusRow
    orphans = (
        sa.select(
            Track.track_id,
            sa.literal("pending"),
            sa.literal(0),
            sa.literal(True),
            sa.literal(now, type_=status.updated_at.type),
        )
        .where(~sa.exists().where(status.track_id == Track.track_id))
        # One order for every replica keeps concurrent inserts from deadlocking.
        .order_by(Track.track_id)
        .limit(limit)
    )
    columns = ["track_id", "status", "attempts", "is_retriable", "updated_at"]
    insert = insert_for(conn, status).from_select(columns, orphans)
    await conn.execute(insert.on_conflict_do_nothing(index_elements=["track_id"]))


async def claim_unenriched(
    conn: AsyncConnection, worker: str, limit: int, now: datetime, lease_s: float
) -> list[EnrichmentRequest]:
    """Lease up to ``limit`` tracks the scheduler should enrich.

    Those are tracks with no status row or status 'pending', plus tracks whose
    ``next_attempt_at`` has passed but which have no dead letter (that retry is
    otherwise nobody's job: the DLQ worker only reads ``dead_letters``).
    """
    await _adopt_orphans(conn, limit, now)
    status = EnrichmentStatusRow
    no_dead_letter = ~sa.exists().where(DeadLetterRow.track_id == status.track_id)
    wanted = sa.or_(
        status.status == "pending", sa.and_(status.next_attempt_at <= now, no_dead_letter)
    )
    claimable = sa.and_(wanted, _unclaimed(status.claimed_until, now))
    order = [status.updated_at, status.track_id]
    lease = _lease(worker, now, lease_s)
    rows = await _claim_rows(
        conn, status.track_id, claimable, order, limit, lease, [status.track_id]
    )
    return await _requests_for(conn, [row["track_id"] for row in rows])


async def _requests_for(conn: AsyncConnection, track_ids: list[str]) -> list[EnrichmentRequest]:
    """Enrichment requests for stored tracks, with the ids they already carry."""
    tracks = sa.select(Track).where(Track.track_id.in_(track_ids)).order_by(Track.track_id)
    return [
        EnrichmentRequest(
            track_id=row.track_id,
            artist=row.artist_name,
            title=row.track_title,
            spotify_id=row.spotify_id,
            isrc=row.isrc,
            musicbrainz_id=row.musicbrainz_id,
        )
        for row in (await conn.execute(tracks)).all()
    ]
