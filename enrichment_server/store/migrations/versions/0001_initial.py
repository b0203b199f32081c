"""Initial schema: tracks, enrichment_status, dead_letters, api_credentials.

Written by hand to match ``enrichment_server.store.models`` at this revision (a test
compares a migrated database with the models). Revision files never import the models:
a later model change must not rewrite history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

TRACK_ID = sa.String(256)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """A timezone-aware timestamp column."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _json(name: str) -> sa.Column[object]:
    """A nullable JSON column."""
    return sa.Column(name, sa.JSON(), nullable=True)


def _track_fk() -> sa.ForeignKeyConstraint:
    """``track_id`` references ``tracks``; deleting a track deletes its rows."""
    return sa.ForeignKeyConstraint(["track_id"], ["tracks.track_id"], ondelete="CASCADE")


def _create_tracks() -> None:
    """The tracks table and its identifier indexes (one column per line: a long list)."""
    op.create_table(
        "tracks",
        sa.Column("track_id", TRACK_ID, nullable=False),
        sa.Column("artist_name", sa.Text(), nullable=False),
        sa.Column("track_title", sa.Text(), nullable=False),
        sa.Column("spotify_id", sa.String(64)),
        sa.Column("isrc", sa.String(16)),
        sa.Column("musicbrainz_id", sa.String(64)),
        sa.Column("title", sa.Text()),
        sa.Column("artist", sa.Text()),
        _json("artists"),
        sa.Column("album", sa.Text()),
        sa.Column("label", sa.Text()),
        sa.Column("release_date", sa.String(32)),
        sa.Column("duration_ms", sa.Integer()),
        sa.Column("bpm", sa.Float()),
        sa.Column("pitch_class", sa.SmallInteger()),
        sa.Column("major", sa.Boolean()),
        sa.Column("musical_key", sa.String(32)),
        sa.Column("camelot_key", sa.String(8)),
        sa.Column("open_key", sa.String(8)),
        sa.Column("energy", sa.Float()),
        sa.Column("danceability", sa.Float()),
        sa.Column("valence", sa.Float()),
        _json("genres"),
        sa.Column("lastfm_listeners", sa.BigInteger()),
        sa.Column("lastfm_playcount", sa.BigInteger()),
        sa.Column("match_confidence", sa.Float()),
        _json("sources"),
        _ts("enriched_at", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("track_id", name="pk_tracks"),
    )
    for column in ("spotify_id", "isrc", "musicbrainz_id"):
        op.create_index(f"ix_tracks_{column}", "tracks", [column])


def _create_enrichment_status() -> None:
    """Per-track status, with the scheduler's claim columns."""
    statuses = "'completed', 'partial', 'not_found', 'failed', 'pending'"
    op.create_table(
        "enrichment_status",
        sa.Column("track_id", TRACK_ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("last_attempt_at", nullable=True),
        _ts("next_attempt_at", nullable=True),
        sa.Column("is_retriable", sa.Boolean(), nullable=False),
        sa.Column("error_message", sa.Text()),
        _json("sources"),
        _json("errors"),
        sa.Column("claimed_by", sa.String(128)),
        _ts("claimed_until", nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("track_id", name="pk_enrichment_status"),
        sa.CheckConstraint(f"status IN ({statuses})", name="ck_enrichment_status_status"),
        _track_fk(),
    )
    op.create_index("ix_enrichment_status_status", "enrichment_status", ["status"])
    op.create_index(
        "ix_enrichment_status_next_attempt_at", "enrichment_status", ["next_attempt_at"]
    )


def _create_dead_letters() -> None:
    """The durable retry queue."""
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("track_id", TRACK_ID, nullable=False),
        sa.Column("artist_name", sa.Text(), nullable=False),
        sa.Column("track_title", sa.Text(), nullable=False),
        sa.Column("existing_spotify_id", sa.String(64)),
        sa.Column("existing_isrc", sa.String(16)),
        sa.Column("existing_musicbrainz_id", sa.String(64)),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("next_attempt_at"),
        sa.Column("last_error", sa.Text()),
        _json("errors"),
        _json("failed_sources"),
        _json("error_kinds"),
        sa.Column("claimed_by", sa.String(128)),
        _ts("claimed_until", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
        sa.UniqueConstraint("track_id", name="uq_dead_letters_track_id"),
        sa.CheckConstraint("state IN ('due', 'parked')", name="ck_dead_letters_state"),
        _track_fk(),
    )
    op.create_index(
        "ix_dead_letters_state_next_attempt_at", "dead_letters", ["state", "next_attempt_at"]
    )


def _create_api_credentials() -> None:
    """Encrypted upstream credentials."""
    op.create_table(
        "api_credentials",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_api_credentials"),
        sa.UniqueConstraint("source", "name", name="uq_api_credentials_source_name"),
    )


def upgrade() -> None:
    """Create the four tables."""
    _create_tracks()
    _create_enrichment_status()
    _create_dead_letters()
    _create_api_credentials()


def downgrade() -> None:
    """Drop the four tables (children first)."""
    for table in ("api_credentials", "dead_letters", "enrichment_status", "tracks"):
        op.drop_table(table)
