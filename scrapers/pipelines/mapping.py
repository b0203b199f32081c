"""Explicit mapping of an ``EnrichResponse`` onto ``TrackItem`` fields.

Only the fields named here are copied; a field the service adds later is ignored
until someone maps it (copying every key onto a Scrapy item raises on the first
undeclared one, and silently renaming nothing is how ``key`` got lost before).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC
from typing import Any

from enrichment_client import pb

__all__ = ["FULL_METADATA", "REPEATED", "SCALARS", "apply_response", "has_full_metadata"]

#: ``TrackMetadata`` optional scalar -> ``TrackItem`` field.
SCALARS = {
    "spotify_id": "spotify_id",
    "isrc": "isrc",
    "musicbrainz_id": "musicbrainz_id",
    "title": "canonical_title",
    "artist": "canonical_artist",
    "album": "album",
    "label": "label",
    "release_date": "release_date",
    "duration_ms": "duration_ms",
    "bpm": "bpm",
    "pitch_class": "pitch_class",
    "musical_key": "musical_key",  # the seed's "key"
    "camelot_key": "camelot_key",
    "open_key": "open_key",
    "energy": "energy",
    "danceability": "danceability",
    "valence": "valence",
    "lastfm_listeners": "lastfm_listeners",
    "lastfm_playcount": "lastfm_playcount",
    "match_confidence": "match_confidence",
}
#: ``TrackMetadata`` repeated field -> ``TrackItem`` field (copied when non-empty).
REPEATED = {"artists": "canonical_artists", "genres": "genres"}
#: An item carrying all of these needs no enrichment call.
FULL_METADATA = ("spotify_id", "isrc", "bpm", "musical_key", "camelot_key")

STATUS_NAMES = {
    pb.ENRICHMENT_STATUS_COMPLETED: "completed",
    pb.ENRICHMENT_STATUS_PARTIAL: "partial",
    pb.ENRICHMENT_STATUS_NOT_FOUND: "not_found",
    pb.ENRICHMENT_STATUS_FAILED: "failed",
}


def has_full_metadata(item: MutableMapping[str, Any]) -> bool:
    """True when the item already carries every ``FULL_METADATA`` field."""
    return all(item.get(name) not in (None, "") for name in FULL_METADATA)


def status_name(response: pb.EnrichResponse) -> str:
    """ "completed", "partial", "not_found" or "failed" ("failed" for anything unknown)."""
    return STATUS_NAMES.get(response.status, "failed")


def apply_response(item: MutableMapping[str, Any], response: pb.EnrichResponse) -> list[str]:
    """Copy the mapped fields the response has onto ``item``; the names set, in order."""
    metadata = response.metadata
    written: list[str] = []
    for source_name, item_name in SCALARS.items():
        if metadata.HasField(source_name):  # type: ignore[arg-type]
            item[item_name] = getattr(metadata, source_name)
            written.append(item_name)
    for source_name, item_name in REPEATED.items():
        values = list(getattr(metadata, source_name))
        if values:
            item[item_name] = values
            written.append(item_name)
    if metadata.HasField("mode") and metadata.mode != pb.KEY_MODE_UNSPECIFIED:
        item["major"] = metadata.mode == pb.KEY_MODE_MAJOR
        written.append("major")
    item["enrichment_status"] = status_name(response)
    item["enrichment_sources"] = {
        field: pb.Source.Name(source).removeprefix("SOURCE_").lower()
        for field, source in sorted(response.provenance.items())
    }
    item["enrichment_cached"] = response.cached
    if response.HasField("enriched_at"):
        item["enriched_at"] = response.enriched_at.ToDatetime(tzinfo=UTC).isoformat()
    return written
