"""Placeholder rows are not tracks: answered NOT_FOUND without asking anybody (issue 12 item 16).

Tracklists write an unidentified track as "ID - ID", "Artist - ID" or "Unknown - ?". Our
scrapers drop them, but any other caller may send them, and each would spend MusicBrainz's
one request per second (and every other quota) on nothing. An artist or title that is
only a placeholder word makes the whole row a placeholder.
"""

from __future__ import annotations

from datetime import UTC, datetime

from enrichment_server.domain import (
    EnrichmentRequest,
    EnrichmentResult,
    ErrorKind,
    SourceFailure,
    Status,
    TrackMetadata,
)

__all__ = ["PLACEHOLDERS", "placeholder_answer", "placeholder_field"]

#: Whole names (case and spacing aside) that stand for "not identified". Kept to words no
#: released track or artist is known by alone; "Untitled" is a real title, so it is not here.
PLACEHOLDERS = frozenset(
    {
        "id",
        "ids",
        "id?",
        "id id",
        "track id",
        "unknown",
        "unknown artist",
        "unknown track",
        "unknown title",
        "?",
        "??",
        "???",
        "-",
    }
)


def placeholder_field(request: EnrichmentRequest) -> str | None:
    """``artist_name`` or ``track_title`` when that field is only a placeholder, else None."""
    for field, value in (("artist_name", request.artist), ("track_title", request.title)):
        if " ".join(value.casefold().split()) in PLACEHOLDERS:
            return field
    return None


def placeholder_answer(request: EnrichmentRequest, field: str) -> EnrichmentResult:
    """NOT_FOUND with one non-retriable NOT_A_TRACK entry saying why nobody was asked."""
    value = request.artist if field == "artist_name" else request.title
    failure = SourceFailure(
        source=None,
        kind=ErrorKind.NOT_A_TRACK,
        message=f"{field} {value!r} is a placeholder for an unidentified track: no source "
        "was asked",
        retriable=False,
    )
    return EnrichmentResult(
        track_id=request.track_id,
        status=Status.NOT_FOUND,
        metadata=TrackMetadata(),
        provenance={},
        sources_used=(),
        errors=(failure,),
        duration_s=0.0,
        cached=False,
        enriched_at=datetime.now(UTC),
    )
