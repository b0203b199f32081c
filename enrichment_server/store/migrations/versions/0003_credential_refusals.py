"""``credential_refusals``: which sources refused their credential for which track.

Mirrors ``models.CredentialRefusal`` (issue 12 item 14): a refused credential is recorded
on the track instead of spending dead-letter attempts, and the tracks are re-enriched
once the credential in force changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the table and its source index."""
    op.create_table(
        "credential_refusals",
        sa.Column("track_id", sa.String(256), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("credential", sa.String(64), nullable=False),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.track_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("track_id", "source"),
    )
    op.create_index(
        "ix_credential_refusals_source", "credential_refusals", ["source"], unique=False
    )


def downgrade() -> None:
    """Drop it again."""
    op.drop_index("ix_credential_refusals_source", table_name="credential_refusals")
    op.drop_table("credential_refusals")
