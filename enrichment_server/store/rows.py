"""Conversions between domain values and table rows, and the dialect-specific upsert.

Kept apart from the queries so the mapping rules (what counts as "found", how errors
are summarised for operators) are in one small place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from enrichment_server.domain import EnrichmentRequest, SourceFailure, TrackMetadata
from enrichment_server.store.models import Track
from enrichment_server.store.types import DeadLetter

__all__ = [
    "METADATA_COLUMNS",
    "dead_letter_from_row",
    "error_summary",
    "failure_dict",
    "found_metadata",
    "insert_for",
    "insert_track_if_new",
]

#: Every ``TrackMetadata`` field has a ``tracks`` column of the same name.
METADATA_COLUMNS = tuple(f.name for f in fields(TrackMetadata))
#: The readable summary in ``error_message`` is for humans reading SQL output.
SUMMARY_MAX_CHARS = 2000

Insert = postgresql.Insert | sqlite.Insert


def insert_for(connection: AsyncConnection, table: Any) -> Insert:
    """An INSERT supporting ON CONFLICT for the connection's dialect.

    Both dialects spell the upsert the same way in SQLAlchemy; only the construct's
    class differs, so callers stay dialect-free.
    """
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def insert_track_if_new(
    conn: AsyncConnection, request: EnrichmentRequest, now: datetime
) -> bool:
    """Insert the track's identity row unless it exists; True if it was new.

    An existing row is left alone: its enriched fields and timestamps stay as they are.
    """
    skeleton = {
        "track_id": request.track_id,
        "artist_name": request.artist,
        "track_title": request.title,
        "spotify_id": request.spotify_id,
        "isrc": request.isrc,
        "musicbrainz_id": request.musicbrainz_id,
        "created_at": now,
        "updated_at": now,
    }
    insert = insert_for(conn, Track).values(skeleton)
    result = await conn.execute(insert.on_conflict_do_nothing(index_elements=["track_id"]))
    return result.rowcount == 1


def found_metadata(metadata: TrackMetadata) -> dict[str, Any]:
    """The fields this result found: ``None`` and empty tuples mean "not found".

    Only these are written, so a retry that found less never erases what an earlier
    attempt stored.
    """
    found: dict[str, Any] = {}
    for name in METADATA_COLUMNS:
        value = getattr(metadata, name)
        if value is None or value == ():
            continue
        found[name] = list(value) if isinstance(value, tuple) else value
    return found


def failure_dict(failure: SourceFailure) -> dict[str, Any]:
    """A source failure with its full context, as stored in the ``errors`` columns."""
    return {
        "source": failure.source.value if failure.source is not None else None,
        "kind": failure.kind.value,
        "message": failure.message,
        "retriable": failure.retriable,
        "retry_after": failure.retry_after,
    }


def error_summary(errors: Iterable[Mapping[str, Any]]) -> str | None:
    """``"spotify: rate_limited (retriable): 429 ...; lastfm: ..."`` or None."""
    parts = []
    for error in errors:
        retriable = " (retriable)" if error.get("retriable") else ""
        source = error.get("source") or "enrichment"
        parts.append(f"{source}: {error.get('kind')}{retriable}: {error.get('message')}")
    if not parts:
        return None
    text = "; ".join(parts)
    return text if len(text) <= SUMMARY_MAX_CHARS else text[: SUMMARY_MAX_CHARS - 3] + "..."


def dead_letter_from_row(row: RowMapping) -> DeadLetter:
    """A ``DeadLetter`` from a ``dead_letters`` row mapping."""
    request = EnrichmentRequest(
        track_id=row["track_id"],
        artist=row["artist_name"],
        title=row["track_title"],
        spotify_id=row["existing_spotify_id"],
        isrc=row["existing_isrc"],
        musicbrainz_id=row["existing_musicbrainz_id"],
    )
    return DeadLetter(
        id=row["id"],
        request=request,
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_error=row["last_error"],
        errors=list(row["errors"] or []),
        failed_sources=list(row["failed_sources"] or []),
        error_kinds=list(row["error_kinds"] or []),
        claimed_by=row["claimed_by"],
        claimed_until=row["claimed_until"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
