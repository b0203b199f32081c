"""Read-only queries for the operator console: find tracks, show one with its status."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enrichment_server.store.models import EnrichmentStatusRow, Track

__all__ = ["search_tracks", "track_detail"]

MAX_RESULTS = 100
_SHOWN = (
    Track.track_id,
    Track.artist_name,
    Track.track_title,
    Track.spotify_id,
    Track.bpm,
    Track.musical_key,
    Track.match_confidence,
    Track.updated_at,
    EnrichmentStatusRow.status,
)


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_tracks(conn: AsyncConnection, text: str, limit: int) -> list[dict[str, Any]]:
    """Tracks whose id, artist or title (as saved or as matched) contains ``text``
    (case-insensitive), most recently updated first."""
    pattern = _like(text.strip())
    columns = (
        Track.track_id,
        Track.artist_name,
        Track.track_title,
        Track.artist,
        Track.title,
    )
    query = (
        sa.select(*_SHOWN)
        .outerjoin(EnrichmentStatusRow, EnrichmentStatusRow.track_id == Track.track_id)
        .where(sa.or_(*(c.ilike(pattern, escape="\\") for c in columns)))
        .order_by(Track.updated_at.desc())
        .limit(max(1, min(limit, MAX_RESULTS)))
    )
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def track_detail(conn: AsyncConnection, track_id: str) -> dict[str, Any] | None:
    """Every column of one track plus its enrichment status row (None: no such track)."""
    tracks, statuses = Track.__table__, EnrichmentStatusRow.__table__
    query = sa.select(tracks).where(tracks.c.track_id == track_id)
    track = (await conn.execute(query)).mappings().first()
    if track is None:
        return None
    query = sa.select(statuses).where(statuses.c.track_id == track_id)
    status = (await conn.execute(query)).mappings().first()
    fields = dict(track)
    fields.pop("key", None)  # the same value as musical_key (the seed's name)
    detail: dict[str, Any] = {"track": fields, "status": None}
    if status is not None:
        names = ("status", "attempts", "last_attempt_at", "next_attempt_at", "is_retriable")
        detail["status"] = {name: status[name] for name in names} | {
            "error_message": status["error_message"],
            "errors": status["errors"] or [],
        }
    return detail
