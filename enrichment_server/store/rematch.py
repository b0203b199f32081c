"""Matches stored under an older matcher that the current one would not make.

A wrong match stays wrong once written: the Spotify id, ISRC and every field described
from them sit in ``tracks``. The row keeps what is needed to judge it again: the row as
the scraper saved it (``artist_name``, ``track_title``) and the identified recording's
canonical ``artist``, ``title`` and ``duration_ms``. ``stored_matches`` pages through
identified rows; ``forget_matches`` clears the enriched columns of the ones the caller
judged wrong and marks them ``pending``, so the scheduler enriches them again with the
current matcher. The table does not record whether an id came from the caller, so a row
enriched from a caller's Spotify id under unrelated text is offered too: the pass
(``python -m enrichment_server.rematch``) reports before it forgets anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enrichment_server.store.models import DeadLetterRow, EnrichmentStatusRow, Track
from enrichment_server.store.rows import insert_for

__all__ = ["ENRICHED_COLUMNS", "StoredMatch", "forget_matches", "stored_matches"]

_SAVED_COLUMNS = frozenset({"track_id", "artist_name", "track_title", "created_at", "updated_at"})
ENRICHED_COLUMNS = tuple(
    column.name
    for column in Track.__table__.columns
    if column.name not in _SAVED_COLUMNS and column.computed is None
)
"""Every column an enrichment writes (generated columns follow them); a forgotten match
has them all cleared."""


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """One stored identification: the row as saved and the recording it was matched to."""

    track_id: str
    row_artist: str
    row_title: str
    artist: str
    title: str
    duration_ms: int | None


async def stored_matches(
    conn: AsyncConnection, *, after: str = "", limit: int = 500
) -> list[StoredMatch]:
    """Up to ``limit`` identified tracks whose id sorts after ``after``, in id order.

    Identified: a Spotify or MusicBrainz id and a canonical artist and title.
    """
    query = (
        sa.select(
            Track.track_id,
            Track.artist_name,
            Track.track_title,
            Track.artist,
            Track.title,
            Track.duration_ms,
        )
        .where(
            Track.track_id > after,
            sa.or_(Track.spotify_id.is_not(None), Track.musicbrainz_id.is_not(None)),
            Track.artist.is_not(None),
            Track.title.is_not(None),
        )
        .order_by(Track.track_id)
        .limit(limit)
    )
    return [
        StoredMatch(
            r.track_id, r.artist_name, r.track_title, r.artist or "", r.title or "", r.duration_ms
        )
        for r in (await conn.execute(query)).all()
    ]


async def forget_matches(conn: AsyncConnection, track_ids: Iterable[str], now: datetime) -> int:
    """Clear the enriched columns of ``track_ids`` and queue them for re-enrichment.

    Their status becomes ``pending`` with no attempts (the scheduler claims pending
    tracks); a dead letter for them is dropped (the re-enrichment supersedes it).
    Returns how many tracks were cleared.
    """
    ids = sorted(set(track_ids))
    if not ids:
        return 0
    cleared: dict[str, Any] = dict.fromkeys(ENRICHED_COLUMNS) | {"updated_at": now}
    update = sa.update(Track).where(Track.track_id.in_(ids)).values(cleared)
    count = (await conn.execute(update)).rowcount or 0
    await conn.execute(sa.delete(DeadLetterRow).where(DeadLetterRow.track_id.in_(ids)))
    pending: dict[str, Any] = {
        "status": "pending",
        "attempts": 0,
        "is_retriable": True,
        "last_attempt_at": None,
        "next_attempt_at": None,
        "error_message": None,
        "sources": None,
        "errors": None,
        "claimed_by": None,
        "claimed_until": None,
        "updated_at": now,
    }
    rows = [{"track_id": track_id, **pending} for track_id in ids]
    upsert = insert_for(conn, EnrichmentStatusRow).values(rows)
    await conn.execute(
        upsert.on_conflict_do_update(
            index_elements=["track_id"], set_={k: upsert.excluded[k] for k in pending}
        )
    )
    return count
