"""Refused credentials on tracks, and re-enriching exactly those tracks once they change.

A source refusing its credential (401/403, a bad or suspended key) is a configuration
error: retrying cannot help, so no dead-letter attempt is spent on it. Instead the track
records the refusal with the credential's fingerprint. When the credential in force for
that source has another fingerprint (set at run time, or fixed and restarted), the
track is made due for the scheduler (or its dead letter due, attempts unchanged), so it
is re-enriched in the background; other tracks are not touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enrichment_server.store.models import CredentialRefusal, DeadLetterRow, EnrichmentStatusRow
from enrichment_server.store.rows import insert_for

__all__ = ["record_refusals", "reschedule_refused"]


async def record_refusals(
    conn: AsyncConnection, track_id: str, refused: Mapping[str, str], now: datetime
) -> None:
    """Replace the track's refusals with this attempt's (source -> credential fingerprint)."""
    await conn.execute(sa.delete(CredentialRefusal).where(CredentialRefusal.track_id == track_id))
    if refused:
        rows = [
            {"track_id": track_id, "source": source, "credential": fp, "refused_at": now}
            for source, fp in sorted(refused.items())
        ]
        await conn.execute(insert_for(conn, CredentialRefusal).values(rows))


def _refused_with_another(current: Mapping[str, str]) -> sa.Select[str]:
    """Tracks whose refused credential is not the one in force now."""
    r = CredentialRefusal
    stale = sa.or_(
        *(sa.and_(r.source == source, r.credential != fp) for source, fp in current.items())
    )
    return sa.select(r.track_id).where(stale).distinct()


async def reschedule_refused(
    conn: AsyncConnection, current: Mapping[str, str], now: datetime
) -> int:
    """Make due every track refused by a credential that has changed since; how many.

    ``current`` maps each enabled source to its credential's fingerprint. Idempotent:
    a track already due is left as it is, and one re-enriched is no longer refused by an
    old credential.
    """
    if not current:
        return 0
    tracks = _refused_with_another(current)
    status = EnrichmentStatusRow
    not_due = sa.or_(status.next_attempt_at.is_(None), status.next_attempt_at > now)
    made_due = await conn.execute(
        sa.update(status)
        .where(status.track_id.in_(tracks), not_due)
        .values(next_attempt_at=now, updated_at=now)
    )
    dl = DeadLetterRow
    await conn.execute(
        sa.update(dl)
        .where(dl.track_id.in_(tracks), sa.or_(dl.state == "parked", dl.next_attempt_at > now))
        .values(state="due", next_attempt_at=now, updated_at=now)
    )
    return int(made_due.rowcount or 0)
