"""The database as the scrapers see it: the service's ``tracks`` / ``enrichment_status``
(a view of the columns written here; the service's Alembic migrations own them) plus
the scrapers' own ``setlists`` and ``setlist_tracks``.

Writes are upserts, so re-crawling a page is harmless. A track upsert never replaces a
stored value with NULL (``COALESCE(new, old)``): the service may have enriched the row
already. An item that passed unenriched ("pending") also gets a 'pending' status row,
which is what the service's scheduler picks up; existing status rows are never touched.

The links have no foreign keys on purpose: items pass the pipelines concurrently and in
any order, and a link must not be refused because its track is still being enriched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from scrapers.dbpool import create_engine

__all__ = [
    "SERVICE_TABLES",
    "SchemaMismatch",
    "create_engine",
    "create_scraper_tables",
    "schema_problems",
    "upsert_link",
    "upsert_setlist",
    "upsert_track",
]

ID = sa.String(256)


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    """A timezone-aware timestamp column (stored in UTC)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str) -> sa.Column[Any]:
    """A nullable JSON column (None is SQL NULL)."""
    return sa.Column(name, sa.JSON(none_as_null=True), nullable=True)


#: The service's tables, as far as the scrapers write them (checked against the migrations).
service_metadata = sa.MetaData()
tracks = sa.Table(
    "tracks",
    service_metadata,
    sa.Column("track_id", ID, primary_key=True),
    sa.Column("artist_name", sa.Text, nullable=False),
    sa.Column("track_title", sa.Text, nullable=False),
    *(sa.Column(name, sa.String(64)) for name in ("spotify_id", "musicbrainz_id")),
    sa.Column("isrc", sa.String(16)),
    *(sa.Column(name, sa.Text) for name in ("title", "artist", "album", "label")),
    _json("artists"),
    sa.Column("release_date", sa.String(32)),
    sa.Column("duration_ms", sa.Integer),
    sa.Column("bpm", sa.Float),
    sa.Column("pitch_class", sa.SmallInteger),
    sa.Column("major", sa.Boolean),
    sa.Column("musical_key", sa.String(32)),
    *(sa.Column(name, sa.String(8)) for name in ("camelot_key", "open_key")),
    *(sa.Column(name, sa.Float) for name in ("energy", "danceability", "valence")),
    _json("genres"),
    *(sa.Column(name, sa.BigInteger) for name in ("lastfm_listeners", "lastfm_playcount")),
    sa.Column("match_confidence", sa.Float),
    _json("sources"),
    _ts("enriched_at", nullable=True),
    _ts("created_at"),
    _ts("updated_at"),
)
enrichment_status = sa.Table(
    "enrichment_status",
    service_metadata,
    sa.Column("track_id", ID, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("is_retriable", sa.Boolean, nullable=False),
    _ts("updated_at"),
)
SERVICE_TABLES = (tracks, enrichment_status)

#: The scrapers' own tables (created if missing).
scraper_metadata = sa.MetaData()
setlists = sa.Table(
    "setlists",
    scraper_metadata,
    sa.Column("setlist_id", ID, primary_key=True),
    sa.Column("source", sa.String(64), nullable=False),
    *(sa.Column(name, sa.Text) for name in ("source_id", "url", "name", "dj_name")),
    *(sa.Column(name, sa.Text) for name in ("event_name", "venue")),
    sa.Column("date", sa.String(32)),
    sa.Column("track_count", sa.Integer),
    _ts("created_at"),
    _ts("updated_at"),
)
setlist_tracks = sa.Table(
    "setlist_tracks",
    scraper_metadata,
    sa.Column("setlist_id", ID, primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("track_id", ID, nullable=False, index=True),
    sa.Column("number", sa.Integer),
    sa.Column("cue_seconds", sa.Integer),
    sa.Column("cue_time", sa.String(16)),
    sa.Column("mashup", sa.Boolean, nullable=False),
    sa.Column("source", sa.String(64)),
    _ts("created_at"),
    _ts("updated_at"),
)

#: Columns every write sets itself.
_STAMPS = ("created_at", "updated_at")
#: ``tracks`` column -> ``TrackItem`` field, for every column an item may fill.
TRACK_COLUMNS = {
    **{name: name for name in ("spotify_id", "isrc", "musicbrainz_id", "album", "label")},
    **{name: name for name in ("release_date", "duration_ms", "bpm", "pitch_class", "major")},
    **{name: name for name in ("musical_key", "camelot_key", "open_key", "energy")},
    **{name: name for name in ("danceability", "valence", "genres", "lastfm_listeners")},
    **{name: name for name in ("lastfm_playcount", "match_confidence")},
    "title": "canonical_title",
    "artist": "canonical_artist",
    "artists": "canonical_artists",
    "sources": "enrichment_sources",
}


class SchemaMismatch(RuntimeError):
    """The database lacks the service's schema (run the service's migrations first)."""


def schema_problems(connection: Connection) -> list[str]:
    """What the database lacks of the service's tables as this module writes them."""
    inspector = sa.inspect(connection)
    problems: list[str] = []
    for table in SERVICE_TABLES:
        if not inspector.has_table(table.name):
            problems.append(f"table {table.name} is missing")
            continue
        found = {info["name"]: info for info in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in found:
                problems.append(f"column {table.name}.{column.name} is missing")
        for name, info in found.items():
            required = not info["nullable"] and info.get("default") is None
            if required and name not in table.columns:
                problems.append(f"column {table.name}.{name} is required but not written")
    return problems


async def create_scraper_tables(engine: AsyncEngine, attempts: int = 3) -> None:
    """Create ``setlists`` / ``setlist_tracks`` if missing.

    Spiders starting together race on CREATE TABLE; the loser's next try sees the tables.
    """
    for attempt in range(1, attempts + 1):
        try:
            async with engine.begin() as conn:
                await conn.run_sync(scraper_metadata.create_all)
            return
        except sa.exc.DBAPIError:
            if attempt == attempts:
                raise
            await asyncio.sleep(0.1 * attempt)


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    """The dialect's INSERT (both support ON CONFLICT)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _now() -> datetime:
    """The current UTC instant."""
    return datetime.now(UTC)


def _track_values(item: Mapping[str, Any]) -> dict[str, Any]:
    """The ``tracks`` columns an item has values for."""
    values = {column: item.get(field) for column, field in TRACK_COLUMNS.items()}
    if item.get("enriched_at"):
        values["enriched_at"] = datetime.fromisoformat(item["enriched_at"])
    return {column: value for column, value in values.items() if value is not None}


async def upsert_track(conn: AsyncConnection, item: Mapping[str, Any]) -> None:
    """Insert or complete a track; a 'pending' item also gets a 'pending' status row."""
    now = _now()
    values = _track_values(item)
    identity = {"artist_name": item["artist_name"], "track_title": item["track_title"]}
    insert = _insert(conn, tracks).values(
        track_id=item["track_id"], **identity, **values, created_at=now, updated_at=now
    )
    merged = {name: sa.func.coalesce(insert.excluded[name], tracks.c[name]) for name in values}
    await conn.execute(
        insert.on_conflict_do_update(index_elements=["track_id"], set_=merged | {"updated_at": now})
    )
    if item.get("enrichment_status") == "pending":
        status = _insert(conn, enrichment_status).values(
            track_id=item["track_id"],
            status="pending",
            attempts=0,
            is_retriable=True,
            updated_at=now,
        )
        await conn.execute(status.on_conflict_do_nothing(index_elements=["track_id"]))


async def _upsert(conn: AsyncConnection, table: sa.Table, values: dict[str, Any]) -> None:
    """Insert a row, or overwrite the non-key columns of the existing one."""
    now = _now()
    insert = _insert(conn, table).values(**values, created_at=now, updated_at=now)
    keys = [column.name for column in table.primary_key.columns]
    update = {name: insert.excluded[name] for name in values if name not in keys}
    await conn.execute(
        insert.on_conflict_do_update(index_elements=keys, set_=update | {"updated_at": now})
    )


async def upsert_setlist(conn: AsyncConnection, item: Mapping[str, Any]) -> None:
    """Insert or update a setlist."""
    names = [column.name for column in setlists.columns if column.name not in _STAMPS]
    await _upsert(conn, setlists, {name: item.get(name) for name in names})


async def upsert_link(conn: AsyncConnection, item: Mapping[str, Any]) -> None:
    """Insert or update a (setlist, position) -> track link."""
    names = [column.name for column in setlist_tracks.columns if column.name not in _STAMPS]
    values = {name: item.get(name) for name in names}
    values["mashup"] = bool(values["mashup"])
    await _upsert(conn, setlist_tracks, values)
