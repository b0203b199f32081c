"""Plain values the store hands out and takes in: no SQLAlchemy rows leave the package."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from enrichment_server.domain import EnrichmentRequest

__all__ = ["Backoff", "DeadLetter", "MaskedCredential", "StoreStats"]


@dataclass(frozen=True)
class Backoff:
    """Delay before a dead letter's next attempt: exponential, capped, jittered.

    Attempt ``n`` (1 = after the first failure) waits ``min(cap, base * 2**(n-1))``
    shortened by up to ``jitter`` of itself. Unlike the full jitter of in-request retries,
    this keeps delays growing from one attempt to the next (with ``jitter < 0.5``) while
    still spreading a burst of failures (an upstream outage) over time, so the replays
    do not all hit the upstream in the same second when it comes back.
    """

    base_s: float = 60.0
    cap_s: float = 6 * 3600.0
    jitter: float = 0.25
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        """Refuse settings that would not grow or would go negative."""
        if self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError("backoff needs 0 < base_s <= cap_s")
        if not 0.0 <= self.jitter < 0.5:
            raise ValueError("backoff jitter must be in [0, 0.5) so delays keep growing")

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th failed attempt."""
        exponent = min(max(attempts, 1) - 1, 60)  # 2**60 s is past any cap: no overflow
        ceiling = min(self.cap_s, self.base_s * 2.0**exponent)
        return timedelta(seconds=ceiling * (1.0 - self.jitter * self.rng.random()))

    def __call__(self, attempts: int) -> timedelta:
        """Alias of ``delay`` so a ``Backoff`` reads like a function."""
        return self.delay(attempts)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-letter entry with its full error context."""

    id: int
    request: EnrichmentRequest
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    errors: list[dict[str, object]]
    failed_sources: list[str]
    error_kinds: list[str]
    claimed_by: str | None
    claimed_until: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def track_id(self) -> str:
        """The caller's track id."""
        return self.request.track_id


@dataclass(frozen=True, slots=True)
class StoreStats:
    """What ``GetStats`` (the seed's ``/stats``) reports about stored tracks.

    ``coverage`` maps a field (spotify_id, isrc, musicbrainz_id, bpm, key) to the
    percentage (0-100) of all tracks that have it; ``statuses`` counts tracks per status,
    a track with no status row counting as ``pending``.
    """

    total_tracks: int
    coverage: dict[str, float]
    statuses: dict[str, int]
    dead_letters_due: int
    dead_letters_parked: int


@dataclass(frozen=True, slots=True)
class MaskedCredential:
    """A credential as listings show it: never the value, only its last 4 characters."""

    source: str
    name: str
    masked: str
    updated_at: datetime
