"""Writing one enrichment attempt: track, status and dead letter in ONE transaction.

A retriable PARTIAL/FAILED must never be recorded without its dead letter (or the retry
would be lost), and a COMPLETED must never leave one behind (or it would be retried
forever), so the three writes commit or fail together.

Only a real upstream failure spends one of the track's attempts. When every retriable
error is one of our own refusals (our rate limiter, an open breaker or a taken probe
slot: the upstream was never called), the dead letter is rescheduled for when the source
can take it, with its attempt count unchanged, and never moves toward "parked".
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from enrichment_server.domain import EnrichmentRequest, EnrichmentResult, ErrorKind, Status
from enrichment_server.store.identity import cleared_fields, same_name
from enrichment_server.store.models import DeadLetterRow, EnrichmentStatusRow, Track
from enrichment_server.store.refusals import record_refusals
from enrichment_server.store.rows import (
    error_summary,
    failure_dict,
    found_metadata,
    insert_for,
    insert_track_if_new,
)

__all__ = ["Attempt", "write_attempt"]

#: ``attempts so far -> wait before the next`` (``types.Backoff`` is the standard one).
BackoffFn = Callable[[int], timedelta]
#: Error kinds that are our own refusals, not upstream failures.
OWN_REFUSALS = frozenset(kind.value for kind in ErrorKind if kind.ours)
#: When an own refusal carries no "retry after": try again this much later.
REFUSAL_RETRY_S = 5.0
#: The longest an own refusal postpones a retry (an open breaker's hint is capped here).
REFUSAL_RETRY_MAX_S = 3600.0


@dataclass(frozen=True)
class Attempt:
    """One enrichment attempt reduced to what the tables need."""

    request: EnrichmentRequest
    status: str
    retriable: bool
    errors: list[dict[str, Any]]
    found: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    sources_used: list[str] = field(default_factory=list)
    enriched_at: datetime | None = None
    refused: dict[str, str] = field(default_factory=dict)
    """Sources that refused their credential -> that credential's fingerprint."""

    @classmethod
    def from_result(cls, request: EnrichmentRequest, result: EnrichmentResult) -> Attempt:
        """The attempt a waterfall result describes."""
        if result.track_id != request.track_id:
            raise ValueError(f"result for {result.track_id!r} given for {request.track_id!r}")
        errors = [failure_dict(failure) for failure in result.errors]
        return cls(
            request=request,
            status=result.status.value,
            retriable=result.status.needs_retry and any(e["retriable"] for e in errors),
            errors=errors,
            found=found_metadata(result.metadata),
            provenance={name: source.value for name, source in result.provenance.items()},
            sources_used=[source.value for source in result.sources_used],
            enriched_at=result.enriched_at,
            refused={
                failure.source.value: failure.credential
                for failure in result.errors
                if failure.kind is ErrorKind.UNAUTHENTICATED
                and failure.credential
                and failure.source is not None
            },
        )

    @classmethod
    def crashed(cls, request: EnrichmentRequest, message: str) -> Attempt:
        """An attempt that raised instead of returning a result: retried like FAILED."""
        error = {
            "source": None,
            "kind": "internal",
            "message": message,
            "retriable": True,
            "retry_after": None,
        }
        return cls(request=request, status=Status.FAILED.value, retriable=True, errors=[error])

    @property
    def needs_retry(self) -> bool:
        """PARTIAL and FAILED keep (or create) a dead letter; the others remove it."""
        return Status(self.status).needs_retry

    @property
    def charged(self) -> bool:
        """Whether this attempt spends one of the track's attempts: not when every
        retriable error is our own refusal (the upstream was not even called)."""
        retriable = [error for error in self.errors if error["retriable"]]
        return not retriable or any(error["kind"] not in OWN_REFUSALS for error in retriable)

    def refusal_delay(self) -> timedelta:
        """How long our own refusals say to wait: their longest "retry after", capped."""
        waits = [e["retry_after"] for e in self.errors if e["kind"] in OWN_REFUSALS]
        known = [float(wait) for wait in waits if wait]
        seconds = max(known) if known else REFUSAL_RETRY_S
        return timedelta(seconds=min(REFUSAL_RETRY_MAX_S, max(seconds, 0.0)))


class Identity(enum.Enum):
    """How an attempt's artist/title relate to the stored row's."""

    SAME = "same"
    RENAMED = "renamed"  # a caller reused the id for another track: the row was reset
    STALE = "stale"  # a background attempt for a name the row no longer has: skipped


async def _upsert_track(
    conn: AsyncConnection, attempt: Attempt, now: datetime, *, rename: bool
) -> Identity:
    """Create the track if new, then overwrite only the fields this attempt found.

    A row describes one track (issue 12 item 1): when the attempt's name is another
    track's (case, accents and spacing aside), a caller's attempt (``rename``) makes its
    name the row's identity and clears every field found for the old one; a background
    attempt for the old name is stale and changes nothing.
    """
    request = attempt.request
    await insert_track_if_new(conn, request, now)
    # The row exists now, so FOR UPDATE (Postgres) holds it until commit: a concurrent
    # record of the same track cannot interleave its name or provenance with ours.
    select = sa.select(Track.artist_name, Track.track_title, Track.sources).where(
        Track.track_id == request.track_id
    )
    artist, title, stored = (await conn.execute(select.with_for_update())).one()
    identity = Identity.SAME
    values: dict[str, Any] = {"updated_at": now}
    if not same_name(artist, title, request.artist, request.title):
        if not rename:
            return Identity.STALE
        identity, stored = Identity.RENAMED, None
        values |= cleared_fields() | _identity_values(request)
    values |= attempt.found
    if attempt.provenance:
        values["sources"] = {**(stored or {}), **attempt.provenance}
    if attempt.enriched_at is not None:
        values["enriched_at"] = attempt.enriched_at
    update = sa.update(Track).where(Track.track_id == request.track_id).values(values)
    await conn.execute(update)
    return identity


def _identity_values(request: EnrichmentRequest) -> dict[str, Any]:
    """The row's name and the identifiers its caller gave."""
    return {
        "artist_name": request.artist,
        "track_title": request.title,
        "spotify_id": request.spotify_id,
        "isrc": request.isrc,
        "musicbrainz_id": request.musicbrainz_id,
    }


def _dead_letter_values(attempt: Attempt, now: datetime) -> dict[str, Any]:
    """Columns a new attempt (re)writes on the track's dead letter."""
    request = attempt.request
    return {
        "artist_name": request.artist,
        "track_title": request.title,
        "existing_spotify_id": request.spotify_id,
        "existing_isrc": request.isrc,
        "existing_musicbrainz_id": request.musicbrainz_id,
        "last_error": error_summary(attempt.errors),
        "errors": attempt.errors,
        "failed_sources": sorted({e["source"] for e in attempt.errors if e["source"]}),
        "error_kinds": sorted({e["kind"] for e in attempt.errors}),
        "claimed_by": None,
        "claimed_until": None,
        "updated_at": now,
    }


async def _upsert_dead_letter(
    conn: AsyncConnection, attempt: Attempt, now: datetime, max_attempts: int, backoff: BackoffFn
) -> datetime | None:
    """Count the attempt on the dead letter; return when it is due, None once parked."""
    values = _dead_letter_values(attempt, now)
    charge = 1 if attempt.charged else 0
    first = {"track_id": attempt.request.track_id, "state": "due", "attempts": charge}
    insert = insert_for(conn, DeadLetterRow).values(
        {**values, **first, "next_attempt_at": now, "created_at": now}
    )
    upsert = insert.on_conflict_do_update(
        index_elements=["track_id"], set_={**values, "attempts": DeadLetterRow.attempts + charge}
    ).returning(DeadLetterRow.id, DeadLetterRow.attempts, DeadLetterRow.state)
    entry_id, attempts, state = (await conn.execute(upsert)).one()
    # A non-retriable failure parks at once: waiting would not change the answer, but an
    # operator may fix the cause (a credential) and replay it. Our own refusal never parks.
    if attempt.charged:
        parked = state == "parked" or attempts >= max_attempts or not attempt.retriable
        due_at = now + backoff(attempts)
    else:
        parked = state == "parked"
        due_at = now + attempt.refusal_delay()
    schedule = {"state": "parked" if parked else "due", "next_attempt_at": due_at}
    await conn.execute(
        sa.update(DeadLetterRow).where(DeadLetterRow.id == entry_id).values(schedule)
    )
    return None if parked else due_at


async def _upsert_status(
    conn: AsyncConnection,
    attempt: Attempt,
    now: datetime,
    next_attempt_at: datetime | None,
    *,
    first: bool,
) -> None:
    """Write the seed's troubleshooting row for the track; clears any scheduler claim."""
    values = {
        "status": attempt.status,
        "last_attempt_at": now,
        "next_attempt_at": next_attempt_at,
        "is_retriable": attempt.retriable,
        "error_message": error_summary(attempt.errors),
        "sources": attempt.sources_used,
        "errors": attempt.errors,
        "claimed_by": None,
        "claimed_until": None,
        "updated_at": now,
    }
    charge = 1 if attempt.charged else 0
    insert = insert_for(conn, EnrichmentStatusRow).values(
        {**values, "track_id": attempt.request.track_id, "attempts": charge}
    )
    await conn.execute(
        insert.on_conflict_do_update(
            index_elements=["track_id"],
            set_={**values, "attempts": charge if first else EnrichmentStatusRow.attempts + charge},
        )
    )


async def write_attempt(
    conn: AsyncConnection,
    attempt: Attempt,
    *,
    now: datetime,
    max_attempts: int,
    backoff: BackoffFn,
    rename: bool = False,
) -> None:
    """Record ``attempt`` on an open transaction (the caller commits).

    ``rename``: the attempt comes from a caller, whose name wins over the row's; a
    background attempt (``False``) for a name the row no longer has writes nothing.
    """
    identity = await _upsert_track(conn, attempt, now, rename=rename)
    if identity is Identity.STALE:
        return
    track_id = attempt.request.track_id
    if identity is Identity.RENAMED:  # the old track's retry and attempt count go with it
        await conn.execute(sa.delete(DeadLetterRow).where(DeadLetterRow.track_id == track_id))
    next_attempt_at = None
    if attempt.needs_retry:
        next_attempt_at = await _upsert_dead_letter(conn, attempt, now, max_attempts, backoff)
    else:
        await conn.execute(sa.delete(DeadLetterRow).where(DeadLetterRow.track_id == track_id))
    await _upsert_status(conn, attempt, now, next_attempt_at, first=identity is Identity.RENAMED)
    if not any(error["source"] is None for error in attempt.errors):
        # A crashed attempt asked nobody: it says nothing about credentials.
        await record_refusals(conn, attempt.request.track_id, attempt.refused, now)
