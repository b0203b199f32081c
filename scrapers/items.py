"""The items spiders yield. Every field is declared: an undeclared key raises ``KeyError``.

A tracklist becomes one ``SetlistItem``, one ``TrackItem`` per identifiable track and
one ``SetlistTrackItem`` per (setlist, position) link. ``TrackItem`` carries both what
the spider scraped and what the enrichment service returned (mapped field by field in
``scrapers.pipelines.mapping``); ``enrichment_status`` says which of the two it has.
"""

from __future__ import annotations

import scrapy

__all__ = ["ENRICHED_FIELDS", "SetlistItem", "SetlistTrackItem", "TrackItem"]


class TrackItem(scrapy.Item):
    """One track: scraped credit and ids, then the service's metadata."""

    # Identity and what the tracklist said.
    track_id = scrapy.Field()  # deterministic "trk-..." id (scrapers.trackid), not a UUID
    artist_name = scrapy.Field()  # credit as scraped, feat. included
    track_title = scrapy.Field()  # title as scraped, version included, label removed
    artists = scrapy.Field()  # main artists as scraped
    featured_artists = scrapy.Field()
    version = scrapy.Field()  # "Four Tet Remix"
    remixer = scrapy.Field()  # "Four Tet"
    source = scrapy.Field()  # spider name
    source_url = scrapy.Field()
    # Identifiers: scraped when the page links them, else from the service.
    spotify_id = scrapy.Field()
    isrc = scrapy.Field()
    musicbrainz_id = scrapy.Field()
    # From the service (the scraped label stays when the service has none).
    canonical_title = scrapy.Field()
    canonical_artist = scrapy.Field()
    canonical_artists = scrapy.Field()
    album = scrapy.Field()
    label = scrapy.Field()
    release_date = scrapy.Field()
    duration_ms = scrapy.Field()
    bpm = scrapy.Field()
    pitch_class = scrapy.Field()
    major = scrapy.Field()  # True major, False minor
    musical_key = scrapy.Field()  # the seed's "key", e.g. "A Minor"
    camelot_key = scrapy.Field()
    open_key = scrapy.Field()
    energy = scrapy.Field()
    danceability = scrapy.Field()
    valence = scrapy.Field()
    genres = scrapy.Field()
    lastfm_listeners = scrapy.Field()
    lastfm_playcount = scrapy.Field()
    match_confidence = scrapy.Field()
    # Outcome of the enrichment pipeline.
    enrichment_status = scrapy.Field()  # completed|partial|not_found|failed|pending|skipped
    enrichment_sources = scrapy.Field()  # {"bpm": "deezer", ...}
    enrichment_cached = scrapy.Field()
    enriched_at = scrapy.Field()  # ISO 8601 UTC


class SetlistItem(scrapy.Item):
    """One DJ set, radio show, concert or playlist."""

    setlist_id = scrapy.Field()  # "<source>:<source_id>"
    source = scrapy.Field()
    source_id = scrapy.Field()
    url = scrapy.Field()
    name = scrapy.Field()
    dj_name = scrapy.Field()
    event_name = scrapy.Field()
    venue = scrapy.Field()
    date = scrapy.Field()  # ISO date "2019-08-24" when known
    track_count = scrapy.Field()


class SetlistTrackItem(scrapy.Item):
    """A track at its place in a setlist."""

    setlist_id = scrapy.Field()
    track_id = scrapy.Field()
    position = scrapy.Field()  # 1-based, unique in the setlist
    number = scrapy.Field()  # the number the page printed, if any
    cue_seconds = scrapy.Field()
    cue_time = scrapy.Field()  # "H:MM:SS"
    mashup = scrapy.Field()  # played together with another track ("w/", "vs.")
    source = scrapy.Field()


#: The TrackItem fields the enrichment service can fill.
ENRICHED_FIELDS = (
    "spotify_id",
    "isrc",
    "musicbrainz_id",
    "canonical_title",
    "canonical_artist",
    "canonical_artists",
    "album",
    "label",
    "release_date",
    "duration_ms",
    "bpm",
    "pitch_class",
    "major",
    "musical_key",
    "camelot_key",
    "open_key",
    "energy",
    "danceability",
    "valence",
    "genres",
    "lastfm_listeners",
    "lastfm_playcount",
    "match_confidence",
)
