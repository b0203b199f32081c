"""Operator queries on the dead-letter queue, and the numbers behind ``GetStats``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enrichment_server.domain import ErrorKind, Source
from enrichment_server.store.models import DeadLetterRow, EnrichmentStatusRow, Track
from enrichment_server.store.rows import dead_letter_from_row
from enrichment_server.store.types import DeadLetter, StoreStats

__all__ = ["DeadLetterFilter", "list_page", "purge", "replay", "stats"]

MAX_PAGE_SIZE = 1000
#: Coverage reported by stats: name shown -> ``tracks`` column.
COVERAGE_COLUMNS = {
    "spotify_id": Track.spotify_id,
    "isrc": Track.isrc,
    "musicbrainz_id": Track.musicbrainz_id,
    "bpm": Track.bpm,
    "key": Track.musical_key,
}


def _json_array_has(column: Any, value: str) -> sa.ColumnElement[bool]:
    """``value`` is an element of the JSON string array in ``column``.

    Portable on purpose: JSON containment is spelled differently by each engine, and the
    values searched for are closed enums (validated by ``DeadLetterFilter``), so the
    quoted element cannot match anything but itself.
    """
    return sa.cast(column, sa.Text).contains(f'"{value}"', autoescape=True)


class DeadLetterFilter:
    """Which dead letters an operator means: ids and/or source, kind, state."""

    def __init__(
        self,
        ids: list[int] | None = None,
        *,
        source: str | None = None,
        kind: str | None = None,
        state: str | None = None,
    ) -> None:
        """Validate the filter; unknown source, kind or state is a ``ValueError``."""
        if source is not None:
            Source(source)
        if kind is not None and kind != "internal":
            ErrorKind(kind)
        if state not in (None, "due", "parked"):
            raise ValueError(f"unknown dead-letter state {state!r}")
        self.ids, self.source, self.kind, self.state = ids, source, kind, state

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        """WHERE clauses; none at all means every entry."""
        clauses: list[sa.ColumnElement[bool]] = []
        if self.ids is not None:
            clauses.append(DeadLetterRow.id.in_(self.ids))
        if self.source is not None:
            clauses.append(_json_array_has(DeadLetterRow.failed_sources, self.source))
        if self.kind is not None:
            clauses.append(_json_array_has(DeadLetterRow.error_kinds, self.kind))
        if self.state is not None:
            clauses.append(DeadLetterRow.state == self.state)
        return clauses


def _decode_token(token: str | None) -> int:
    """The last id of the previous page (0 for the first page)."""
    if not token:
        return 0
    if not token.isdigit():
        raise ValueError("malformed page token")
    return int(token)


async def list_page(
    conn: AsyncConnection, where: DeadLetterFilter, page_size: int, page_token: str | None
) -> tuple[list[DeadLetter], str | None]:
    """One page in id order and the token of the next (None on the last page).

    Keyset paging on ``id`` stays correct while entries are added or purged between
    pages, which an OFFSET would not.
    """
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    query = (
        sa.select(DeadLetterRow)
        .where(DeadLetterRow.id > _decode_token(page_token), *where.clauses())
        .order_by(DeadLetterRow.id)
        .limit(size + 1)
    )
    rows = (await conn.execute(query)).mappings().all()
    items = [dead_letter_from_row(row) for row in rows[:size]]
    next_token = str(items[-1].id) if len(rows) > size else None
    return items, next_token


async def replay(conn: AsyncConnection, where: DeadLetterFilter, now: datetime) -> int:
    """Make matching entries due now with a fresh attempt budget; return how many.

    ``attempts`` restarts at 0: the operator replays because the cause is fixed, and a
    parked entry kept at ``max_attempts`` would park again after a single failure. The
    lifetime count stays in ``enrichment_status.attempts``. Live claims are left alone
    so an entry in flight is not handed to a second worker.
    """
    update = (
        sa.update(DeadLetterRow)
        .where(*where.clauses())
        .values(state="due", attempts=0, next_attempt_at=now, updated_at=now)
        .returning(DeadLetterRow.track_id)
    )
    track_ids = list((await conn.execute(update)).scalars())
    await _set_next_attempt(conn, track_ids, now)
    return len(track_ids)


async def purge(conn: AsyncConnection, where: DeadLetterFilter) -> int:
    """Delete matching entries; their tracks will not be retried automatically."""
    delete = sa.delete(DeadLetterRow).where(*where.clauses()).returning(DeadLetterRow.track_id)
    track_ids = list((await conn.execute(delete)).scalars())
    # Otherwise the scheduler would see "retry due, no dead letter" and retry anyway.
    await _set_next_attempt(conn, track_ids, None)
    return len(track_ids)


async def _set_next_attempt(
    conn: AsyncConnection, track_ids: list[str], when: datetime | None
) -> None:
    """Keep ``enrichment_status.next_attempt_at`` in step with the queue."""
    if track_ids:
        status = EnrichmentStatusRow
        update = sa.update(status).where(status.track_id.in_(track_ids))
        await conn.execute(update.values(next_attempt_at=when))


async def stats(conn: AsyncConnection) -> StoreStats:
    """Coverage of key fields over all tracks, tracks per status, DLQ depth."""
    counts = [sa.func.count(column) for column in COVERAGE_COLUMNS.values()]
    total, *present = (
        await conn.execute(sa.select(sa.func.count(), *counts).select_from(Track))
    ).one()
    coverage = {
        name: (100.0 * count / total if total else 0.0)
        for name, count in zip(COVERAGE_COLUMNS, present, strict=True)
    }
    status = EnrichmentStatusRow
    by_status = sa.select(status.status, sa.func.count()).group_by(status.status)
    statuses = {name: int(n) for name, n in (await conn.execute(by_status)).all()}
    unrecorded = total - sum(statuses.values())
    if unrecorded:
        statuses["pending"] = statuses.get("pending", 0) + unrecorded
    by_state = sa.select(DeadLetterRow.state, sa.func.count()).group_by(DeadLetterRow.state)
    states = {name: int(n) for name, n in (await conn.execute(by_state)).all()}
    return StoreStats(
        total_tracks=int(total),
        coverage=coverage,
        statuses=statuses,
        dead_letters_due=states.get("due", 0),
        dead_letters_parked=states.get("parked", 0),
    )
