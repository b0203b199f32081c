"""The service's own vocabulary: requests, metadata, results. No grpc, no aiohttp here."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Source(enum.StrEnum):
    """An upstream metadata provider."""

    SPOTIFY = "spotify"
    MUSICBRAINZ = "musicbrainz"
    LASTFM = "lastfm"
    DEEZER = "deezer"
    GETSONGBPM = "getsongbpm"


class Status(enum.StrEnum):
    """Overall outcome of one enrichment (DESIGN section 3)."""

    COMPLETED = "completed"
    PARTIAL = "partial"
    NOT_FOUND = "not_found"
    FAILED = "failed"

    @property
    def needs_retry(self) -> bool:
        """PARTIAL and FAILED go to the retry queue."""
        return self in (Status.PARTIAL, Status.FAILED)


class Priority(enum.IntEnum):
    """Who waits for a piece of work; also its rate-limiter lane (lower value served first)."""

    INTERACTIVE = 0
    BULK = 1
    BACKGROUND = 2


class ErrorKind(enum.StrEnum):
    """Why a source could not contribute (mirrors the proto's ErrorCode)."""

    UNAVAILABLE = "unavailable"
    RATE_LIMITED = "rate_limited"
    QUOTA_EXCEEDED = "quota_exceeded"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    MALFORMED_RESPONSE = "malformed_response"
    UNAUTHENTICATED = "unauthenticated"
    CIRCUIT_OPEN = "circuit_open"
    REJECTED = "rejected"
    LOCAL_RATE_LIMIT = "local_rate_limit"
    #: The artist or title is a placeholder ("ID", "Unknown", "?"): nobody was asked.
    NOT_A_TRACK = "not_a_track"

    @property
    def ours(self) -> bool:
        """A refusal by this service (its limiter or breaker), not an upstream failure:
        the upstream was not called, so a retry queue must not count it as an attempt."""
        return self in (ErrorKind.LOCAL_RATE_LIMIT, ErrorKind.CIRCUIT_OPEN)


@dataclass(frozen=True, slots=True)
class EnrichmentRequest:
    """One track to enrich, already validated and normalised."""

    track_id: str
    artist: str
    title: str
    spotify_id: str | None = None
    isrc: str | None = None
    musicbrainz_id: str | None = None
    force_refresh: bool = False
    priority: Priority = Priority.INTERACTIVE


@dataclass(frozen=True, slots=True)
class TrackMetadata:
    """Merged metadata; ``None`` (or an empty tuple) means "not found"."""

    spotify_id: str | None = None
    isrc: str | None = None
    musicbrainz_id: str | None = None
    title: str | None = None
    artist: str | None = None
    artists: tuple[str, ...] = ()
    album: str | None = None
    label: str | None = None
    release_date: str | None = None
    duration_ms: int | None = None
    bpm: float | None = None
    pitch_class: int | None = None
    major: bool | None = None
    musical_key: str | None = None
    camelot_key: str | None = None
    open_key: str | None = None
    energy: float | None = None
    danceability: float | None = None
    valence: float | None = None
    genres: tuple[str, ...] = ()
    lastfm_listeners: int | None = None
    lastfm_playcount: int | None = None
    match_confidence: float | None = None


@dataclass(frozen=True, slots=True)
class SourceFailure:
    """One source's failure as reported to the caller (``source`` None: the request
    itself, before any source was asked)."""

    source: Source | None
    kind: ErrorKind
    message: str
    retriable: bool
    retry_after: float | None = None
    credential: str | None = None
    """For a refused credential: its fingerprint (``crypto.credential_fingerprint``)."""


@dataclass(frozen=True, slots=True)
class EnrichmentResult:
    """The answer for one track."""

    track_id: str
    status: Status
    metadata: TrackMetadata
    provenance: dict[str, Source]
    sources_used: tuple[Source, ...]
    errors: tuple[SourceFailure, ...]
    duration_s: float
    cached: bool
    enriched_at: datetime
