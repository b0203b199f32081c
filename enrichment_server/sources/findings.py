"""Turning each source's wire models into ``Findings`` (TrackMetadata field -> value).

Every number an upstream sends is checked here before it can reach an answer, a row or
a metric: NaN, infinities and values outside the field's physical range (a 10^30 ms
track, a tempo of -5, an energy of 7) are treated as absent, so they can neither
overflow a protobuf or SQL integer nor pass for data.
"""

from __future__ import annotations

import math
from typing import Any

from enrichment_server.enrichment.merge import Findings
from enrichment_server.sources.deezer import DeezerAlbum, DeezerTrack
from enrichment_server.sources.getsongbpm import GsbSong
from enrichment_server.sources.lastfm import LastfmTag, LastfmTrack
from enrichment_server.sources.musicbrainz import MbRecording, MbRelease
from enrichment_server.sources.spotify import SpotifyFeatures, SpotifyTrack

#: Crowd tags lighter than this (0..100) are noise.
MIN_TAG_WEIGHT = 10
MAX_GENRES = 5
#: Tags that say nothing about the music (beets' lastgenre filters the same).
JUNK_TAGS = frozenset({"seen live", "favorites", "favourites", "awesome", "love", "my music"})
_INT64_MAX = 2**63 - 1
#: Inclusive ranges of the numeric fields; anything else is "absent".
NUMBER_RANGES: dict[str, tuple[float, float]] = {
    "duration_ms": (1, 24 * 3600 * 1000),  # the tracks table stores a 32-bit integer
    "bpm": (1.0, 999.0),
    "pitch_class": (0, 11),
    "energy": (0.0, 1.0),
    "danceability": (0.0, 1.0),
    "valence": (0.0, 1.0),
    "lastfm_listeners": (0, _INT64_MAX),
    "lastfm_playcount": (0, _INT64_MAX),
    "match_confidence": (0.0, 1.0),
}


def bounded(findings: Findings) -> Findings:
    """``findings`` with every out-of-range or non-finite number replaced by None."""
    return {name: _in_range(name, value) for name, value in findings.items()}


def _in_range(name: str, value: Any) -> Any:
    limits = NUMBER_RANGES.get(name)
    if limits is None or value is None or isinstance(value, bool):
        return value
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    low, high = limits
    return value if low <= value <= high else None


def spotify_findings(track: SpotifyTrack, confidence: float) -> Findings:
    """Identifiers and descriptive fields of a matched Spotify track."""
    return bounded(
        {
            "spotify_id": track.id,
            "isrc": (track.external_ids.isrc or "").upper() or None,
            "title": track.name,
            "artist": track.artist_credit,
            "artists": [a.name for a in track.artists],
            "album": track.album.name,
            "label": track.album.label,
            "release_date": track.album.release_date or None,  # "2009", "2009-09" or a day
            "duration_ms": track.duration_ms,
            "match_confidence": round(confidence, 4),
        }
    )


def spotify_features_findings(features: SpotifyFeatures) -> Findings:
    """Tempo, key and mood from audio features (key -1 means none detected)."""
    has_key = features.key is not None and features.key >= 0 and features.mode in (0, 1)
    return bounded(
        {
            "bpm": round(features.tempo, 2) if features.tempo else None,
            "pitch_class": features.key if has_key else None,
            "major": (features.mode == 1) if has_key else None,
            "energy": features.energy,
            "danceability": features.danceability,
            "valence": features.valence,
        }
    )


def pick_release(recording: MbRecording) -> MbRelease | None:
    """The release that first carried the recording: official, earliest date first."""
    if not recording.releases:
        return None

    def rank(release: MbRelease) -> tuple[int, str]:
        return (0 if release.status == "Official" else 1, release.date or "9999")

    return min(recording.releases, key=rank)


def musicbrainz_findings(recording: MbRecording, confidence: float, isrc: str | None) -> Findings:
    """Identifiers, dates and genres of a matched MusicBrainz recording."""
    release = pick_release(recording)
    isrcs = [i.upper() for i in recording.isrcs]
    chosen_isrc = isrc.upper() if isrc and isrc.upper() in isrcs else (isrcs[0] if isrcs else None)
    weighted = sorted([*recording.genres, *recording.tags], key=lambda t: -t.count)
    genres = list(dict.fromkeys(t.name for t in weighted))[:MAX_GENRES]
    return bounded(
        {
            "musicbrainz_id": recording.id,
            "isrc": chosen_isrc,
            "title": recording.title,
            "artist": recording.artist_credit_text or None,
            "artists": [c.artist.name for c in recording.artist_credit],
            "album": release.title if release else None,
            "release_date": recording.first_release_date or (release.date if release else None),
            "duration_ms": recording.length,
            "genres": genres,
            "match_confidence": round(confidence, 4),
        }
    )


def lastfm_findings(track: LastfmTrack, tags: list[LastfmTag], confidence: float) -> Findings:
    """Listeners, playcount and the weighted crowd tags of a verified Last.fm track."""
    artist = track.artist.name.casefold()
    genres = [
        t.name.lower()
        for t in sorted(tags, key=lambda t: -(t.count or 0))
        if (t.count or 0) >= MIN_TAG_WEIGHT
        and t.name.casefold() not in JUNK_TAGS
        and t.name.casefold() != artist
    ][:MAX_GENRES]
    return bounded(
        {
            "lastfm_listeners": track.listeners,
            "lastfm_playcount": track.playcount,
            "genres": genres,
            "duration_ms": track.duration or None,
            "title": track.name,
            "artist": track.artist.name,
            "match_confidence": round(confidence, 4),
        }
    )


def deezer_findings(track: DeezerTrack, album: DeezerAlbum | None, confidence: float) -> Findings:
    """ISRC, BPM (0 on Deezer means unknown), label and genres of a matched Deezer track."""
    return bounded(
        {
            "isrc": (track.isrc or "").upper() or None,
            "title": track.title,
            "artist": track.artist_credit,
            "artists": track.artist_names,
            "album": track.album.title if track.album else None,
            "label": album.label if album else None,
            "release_date": track.release_date,
            "duration_ms": track.duration_ms,
            "bpm": track.bpm,
            "genres": [g.lower() for g in album.genre_names] if album else [],
            "match_confidence": round(confidence, 4),
        }
    )


def getsongbpm_findings(song: GsbSong, confidence: float) -> Findings:
    """Tempo, key and danceability of a matched GetSongBPM song."""
    key = song.key
    return bounded(
        {
            "bpm": song.tempo,
            "pitch_class": key.pitch_class if key else None,
            "major": key.major if key else None,
            "danceability": song.danceability,
            "match_confidence": round(confidence, 4),
        }
    )
