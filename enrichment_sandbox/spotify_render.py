"""Catalogue records rendered as Spotify Web API objects (TrackObject, audio features).

The default is the February-2026 Development Mode shape: no ``popularity`` and no
``available_markets``. The ``extended`` profile adds both, as an extended-quota app sees.
``href`` fields point at the imitation itself so a client can follow them. As on the real
service (upstream-apis.md 5.9), a version follows the title after ``" - "`` ("Strobe -
Radio Edit"), and some labels list a remix's remixer in ``artists[]``, others do not.
"""

from __future__ import annotations

import math

from enrichment_sandbox import derived, ids
from enrichment_sandbox.catalogue import CatalogueTrack

OPEN_URL = "https://open.spotify.com"
IMAGE_URL = "https://i.scdn.co/image/"
_IMAGE_PREFIXES = ((640, "ab67616d0000b273"), (300, "ab67616d00001e02"), (64, "ab67616d00004851"))
MARKETS = ("CA", "DE", "GB", "NL", "US")


def artist_object(base: str, name: str, artist_id: str) -> dict[str, object]:
    """A SimplifiedArtist."""
    return {
        "external_urls": {"spotify": f"{OPEN_URL}/artist/{artist_id}"},
        "href": f"{base}/artists/{artist_id}",
        "id": artist_id,
        "name": name,
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }


def _artists(base: str, track: CatalogueTrack) -> list[dict[str, object]]:
    """The credited artists; on a remix, the remixer too when the label credits remixers."""
    artists = [
        artist_object(base, name, artist_id)
        for name, artist_id in zip(track.artists, track.spotify_artist_ids, strict=False)
    ]
    if derived.spotify_credits_remixer(track) and track.remixer not in track.artists:
        remixer_id = ids.base62_id("spotify:artist", track.remixer)
        artists.append(artist_object(base, track.remixer, remixer_id))
    return artists


def _date_precision(date: str) -> str:
    return {4: "year", 7: "month"}.get(len(date), "day")


def album_object(
    base: str, track: CatalogueTrack, place: derived.Placement, *, extended: bool
) -> dict[str, object]:
    """The SimplifiedAlbum embedded in a track (the first credited artist is the album's)."""
    album_id = track.spotify_album_id
    image_hash = ids.hex_digest("cover", album_id, length=24)
    album: dict[str, object] = {
        "album_type": "single" if place.single else "album",
        "total_tracks": place.total_tracks,
        "external_urls": {"spotify": f"{OPEN_URL}/album/{album_id}"},
        "href": f"{base}/albums/{album_id}",
        "id": album_id,
        "images": [
            {"url": f"{IMAGE_URL}{prefix}{image_hash}", "height": size, "width": size}
            for size, prefix in _IMAGE_PREFIXES
        ],
        "name": track.album,
        "release_date": track.release_date,
        "release_date_precision": _date_precision(track.release_date),
        "type": "album",
        "uri": f"spotify:album:{album_id}",
        "artists": _artists(base, track)[:1],
    }
    if extended:
        album["available_markets"] = list(MARKETS)
    return album


def popularity(track: CatalogueTrack) -> int:
    """0..100, growing with the Last.fm listener count (extended profile only)."""
    return min(100, int(12 * math.log10(track.listeners + 1)))


def track_object(
    base: str,
    track: CatalogueTrack,
    place: derived.Placement,
    *,
    extended: bool = False,
    market: str | None = None,
) -> dict[str, object]:
    """A full TrackObject, as ``/v1/tracks/{id}`` and search items return it."""
    track_id = track.spotify_id
    obj: dict[str, object] = {
        "album": album_object(base, track, place, extended=extended),
        "artists": _artists(base, track),
        "disc_number": 1,
        "duration_ms": track.duration_ms,
        "explicit": False,
        "external_ids": {"isrc": track.isrc},
        "external_urls": {"spotify": f"{OPEN_URL}/track/{track_id}"},
        "href": f"{base}/tracks/{track_id}",
        "id": track_id,
        "is_local": False,
        "name": derived.spotify_name(track),
        "preview_url": None,
        "track_number": place.position,
        "type": "track",
        "uri": f"spotify:track:{track_id}",
    }
    if market is not None:
        obj["is_playable"] = True
    if extended:
        obj["available_markets"] = list(MARKETS)
        obj["popularity"] = popularity(track)
    return obj


def _unit(track: CatalogueTrack, name: str, scale: float = 1.0) -> float:
    """A stable pseudo-measurement in 0..scale for features the catalogue lacks."""
    return round(ids.number(track.spotify_id, name) % 10_000 / 10_000 * scale, 4)


def audio_features_object(base: str, track: CatalogueTrack) -> dict[str, object]:
    """The audio-features object an extended-quota app receives."""
    track_id = track.spotify_id
    return {
        "acousticness": _unit(track, "acousticness", 0.2),
        "analysis_url": f"{base}/audio-analysis/{track_id}",
        "danceability": track.danceability,
        "duration_ms": track.duration_ms,
        "energy": track.energy,
        "id": track_id,
        "instrumentalness": _unit(track, "instrumentalness"),
        "key": track.pitch_class,
        "liveness": _unit(track, "liveness", 0.3),
        "loudness": round(-3 - _unit(track, "loudness", 9.0), 3),
        "mode": track.mode,
        "speechiness": _unit(track, "speechiness", 0.1),
        "tempo": track.tempo,
        "time_signature": 4,
        "track_href": f"{base}/tracks/{track_id}",
        "type": "audio_features",
        "uri": f"spotify:track:{track_id}",
        "valence": track.valence,
    }
