"""Builders for requests and results, shared by the store tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from enrichment_server.domain import (
    EnrichmentRequest,
    EnrichmentResult,
    ErrorKind,
    Source,
    SourceFailure,
    Status,
    TrackMetadata,
)
from enrichment_server.store import Backoff

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def request(track_id: str = "t1", *, isrc: str | None = None) -> EnrichmentRequest:
    """A request for a fixed track, optionally with an existing ISRC."""
    return EnrichmentRequest(track_id=track_id, artist="Bicep", title="Glue", isrc=isrc)


def failure(
    source: Source = Source.SPOTIFY,
    kind: ErrorKind = ErrorKind.RATE_LIMITED,
    *,
    retriable: bool = True,
    message: str = "429 Too Many Requests",
) -> SourceFailure:
    """One source failure."""
    return SourceFailure(source, kind, message, retriable, retry_after=3.0 if retriable else None)


def result(
    track_id: str = "t1",
    status: Status = Status.COMPLETED,
    metadata: TrackMetadata | None = None,
    *,
    errors: tuple[SourceFailure, ...] = (),
    provenance: dict[str, Source] | None = None,
    at: datetime = T0,
) -> EnrichmentResult:
    """A waterfall result."""
    return EnrichmentResult(
        track_id=track_id,
        status=status,
        metadata=metadata or TrackMetadata(),
        provenance=provenance or {},
        sources_used=tuple(sorted(set((provenance or {}).values()))),
        errors=errors,
        duration_s=0.5,
        cached=False,
        enriched_at=at,
    )


def failed(track_id: str = "t1", *errors: SourceFailure) -> EnrichmentResult:
    """A FAILED result (by default Spotify rate limited)."""
    return result(track_id, Status.FAILED, errors=errors or (failure(),))


def backoff(seed: int = 7) -> Backoff:
    """A deterministic backoff: 10 s doubling to 1000 s, jitter up to 25 %."""
    return Backoff(base_s=10.0, cap_s=1000.0, jitter=0.25, rng=random.Random(seed))


def later(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)
