"""``tracks.key``: the seed's column name for the musical key, so its SQL runs as written.

The seed's troubleshooting query is ``SELECT title, artist, spotify_id, bpm, key FROM
tracks ...``; our column is ``musical_key`` (one meaning per word). ``key`` is a generated
column computed from it (STORED on Postgres, VIRTUAL on SQLite), so it can never disagree
and nothing writes it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the generated ``key`` column (SQLite can add only VIRTUAL ones to a table)."""
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    computed = sa.Computed("musical_key", persisted=stored)
    op.add_column("tracks", sa.Column("key", sa.String(32), computed, nullable=True))


def downgrade() -> None:
    """Drop it again."""
    op.drop_column("tracks", "key")
