"""The tables the service owns, as SQLAlchemy 2 declarative models.

Every type here is portable between SQLite (the embedded default) and Postgres: JSON
rather than JSONB, ``String`` plus a CHECK constraint rather than a native ENUM, and
timestamps through ``UtcDateTime`` so both engines store and return UTC instants.
``versions/0001_initial.py`` mirrors this file by hand; a test runs Alembic's
``compare_metadata`` against a migrated database so the two cannot drift.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "DEAD_LETTER_STATES",
    "STATUSES",
    "ApiCredential",
    "Base",
    "CredentialRefusal",
    "DeadLetterRow",
    "EnrichmentStatusRow",
    "Track",
    "UtcDateTime",
]

#: Values of ``enrichment_status.status``: the domain ``Status`` plus "saved unenriched".
STATUSES = ("completed", "partial", "not_found", "failed", "pending")
#: ``due``: the worker retries it when ``next_attempt_at`` passes; ``parked``: out of
#: attempts (or not retriable), waits for an operator's replay or purge.
DEAD_LETTER_STATES = ("due", "parked")

#: Explicit constraint names: SQLite and Postgres would otherwise invent different ones,
#: and Alembic could not compare or drop them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TRACK_ID_LENGTH = 256


class UtcDateTime(sa.TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that insists on aware values and returns UTC.

    SQLite has no time zone type and drops the offset, so a value written in another
    zone would compare wrongly as text; converting to UTC on the way in keeps SQL
    comparisons (``next_attempt_at <= :now``) right on both engines.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Reject naive datetimes (their zone is a guess) and normalise to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """SQLite returns naive values: they were written in UTC, so mark them so."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _json() -> sa.JSON:
    """JSON where Python ``None`` is SQL NULL (not the JSON literal ``null``)."""
    return sa.JSON(none_as_null=True)


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and its naming convention."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


class Track(Base):
    """One track as the scrapers saved it, plus every enriched field as a real column."""

    __tablename__ = "tracks"

    # The caller's opaque id (scrapers send a deterministic hash): never a UUID column.
    track_id: Mapped[str] = mapped_column(sa.String(TRACK_ID_LENGTH), primary_key=True)
    artist_name: Mapped[str] = mapped_column(sa.Text)
    track_title: Mapped[str] = mapped_column(sa.Text)
    spotify_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    isrc: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    musicbrainz_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    title: Mapped[str | None] = mapped_column(sa.Text)
    artist: Mapped[str | None] = mapped_column(sa.Text)
    artists: Mapped[list[str] | None] = mapped_column(_json())
    album: Mapped[str | None] = mapped_column(sa.Text)
    label: Mapped[str | None] = mapped_column(sa.Text)
    release_date: Mapped[str | None] = mapped_column(sa.String(32))
    duration_ms: Mapped[int | None] = mapped_column(sa.Integer)
    bpm: Mapped[float | None] = mapped_column(sa.Float)
    pitch_class: Mapped[int | None] = mapped_column(sa.SmallInteger)
    major: Mapped[bool | None] = mapped_column(sa.Boolean)
    musical_key: Mapped[str | None] = mapped_column(sa.String(32))
    # The seed's name for the same value (its SQL reads ``key``): generated, never written.
    seed_key: Mapped[str | None] = mapped_column(
        "key", sa.String(32), sa.Computed("musical_key", persisted=True)
    )
    camelot_key: Mapped[str | None] = mapped_column(sa.String(8))
    open_key: Mapped[str | None] = mapped_column(sa.String(8))
    energy: Mapped[float | None] = mapped_column(sa.Float)
    danceability: Mapped[float | None] = mapped_column(sa.Float)
    valence: Mapped[float | None] = mapped_column(sa.Float)
    genres: Mapped[list[str] | None] = mapped_column(_json())
    lastfm_listeners: Mapped[int | None] = mapped_column(sa.BigInteger)
    lastfm_playcount: Mapped[int | None] = mapped_column(sa.BigInteger)
    match_confidence: Mapped[float | None] = mapped_column(sa.Float)
    # Per-field provenance, {"bpm": "deezer", ...}, merged across attempts.
    sources: Mapped[dict[str, str] | None] = mapped_column(_json())
    enriched_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EnrichmentStatusRow(Base):
    """Where each track stands: the seed's troubleshooting table, one row per track."""

    __tablename__ = "enrichment_status"
    __table_args__ = (
        sa.CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        sa.Index(None, "status"),
        sa.Index(None, "next_attempt_at"),
    )

    track_id: Mapped[str] = mapped_column(
        sa.String(TRACK_ID_LENGTH),
        sa.ForeignKey("tracks.track_id", ondelete="CASCADE"),
        primary_key=True,
    )
    status: Mapped[str] = mapped_column(sa.String(16))
    attempts: Mapped[int] = mapped_column(sa.Integer)
    last_attempt_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    is_retriable: Mapped[bool] = mapped_column(sa.Boolean)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    sources: Mapped[list[str] | None] = mapped_column(_json())
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(_json())
    # The scheduler's lease: set by claim_unenriched, cleared by record.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(128))
    claimed_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class DeadLetterRow(Base):
    """A retriable failure waiting for its next attempt (or parked for an operator)."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        sa.CheckConstraint(f"state IN {DEAD_LETTER_STATES!r}", name="state"),
        # The claim query scans exactly this: due entries in next_attempt_at order.
        sa.Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    track_id: Mapped[str] = mapped_column(
        sa.String(TRACK_ID_LENGTH),
        sa.ForeignKey("tracks.track_id", ondelete="CASCADE"),
        unique=True,
    )
    # The request to replay, as real columns so operators can read and filter them.
    artist_name: Mapped[str] = mapped_column(sa.Text)
    track_title: Mapped[str] = mapped_column(sa.Text)
    existing_spotify_id: Mapped[str | None] = mapped_column(sa.String(64))
    existing_isrc: Mapped[str | None] = mapped_column(sa.String(16))
    existing_musicbrainz_id: Mapped[str | None] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(8))
    attempts: Mapped[int] = mapped_column(sa.Integer)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(_json())
    failed_sources: Mapped[list[str] | None] = mapped_column(_json())
    error_kinds: Mapped[list[str] | None] = mapped_column(_json())
    claimed_by: Mapped[str | None] = mapped_column(sa.String(128))
    claimed_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ApiCredential(Base):
    """An upstream credential, encrypted at rest (AES-GCM bound to source and name).

    ``last4`` is the one thing kept in clear: it is exactly what the masked listing
    shows, so listing needs no master key. It is empty for values shorter than
    ``credentials.MIN_LENGTH_FOR_LAST4``, where four characters would give too much away.
    """

    __tablename__ = "api_credentials"
    __table_args__ = (sa.UniqueConstraint("source", "name"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(64))
    ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary)
    last4: Mapped[str] = mapped_column(sa.String(4))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CredentialRefusal(Base):
    """A source that refused its credential while enriching a track (401/403, bad key).

    ``credential`` is the fingerprint of the refused credential
    (``crypto.credential_fingerprint``): once the credential in force differs, exactly
    these tracks are re-enriched in the background. Each recorded attempt replaces the
    track's rows, so a track enriched with a working credential has none.
    """

    __tablename__ = "credential_refusals"

    track_id: Mapped[str] = mapped_column(
        sa.String(TRACK_ID_LENGTH),
        sa.ForeignKey("tracks.track_id", ondelete="CASCADE"),
        primary_key=True,
    )
    source: Mapped[str] = mapped_column(sa.String(32), primary_key=True, index=True)
    credential: Mapped[str] = mapped_column(sa.String(64))
    refused_at: Mapped[datetime]
