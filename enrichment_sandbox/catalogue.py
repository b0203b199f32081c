"""The sandbox's bundled catalogue of DJ tracks, shared by every upstream imitation.

One record per recording, with the identifiers and metadata each upstream would know.
The imitations render these records in their own wire formats, so Spotify, MusicBrainz
and Last.fm agree about the same track exactly as the real services (mostly) do. A
record can be absent from one upstream (``on_spotify`` etc.) to exercise partial results.

The data lives in ``catalogue.json`` beside this module; the ids are fabricated but
well-formed (22-character base62 Spotify ids, valid ISRCs, UUID MBIDs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class CatalogueTrack:
    """One recording as the upstream services know it."""

    artist: str
    """Full artist credit as displayed, e.g. ``"Bicep feat. Clara La San"``."""
    artists: tuple[str, ...]
    """Individual credited artists in credit order, e.g. ``("Bicep", "Clara La San")``."""
    title: str
    """Canonical title incl. version, e.g. ``"Opus (Four Tet Remix)"`` or ``"Strobe"``."""
    spotify_id: str
    spotify_artist_ids: tuple[str, ...]
    spotify_album_id: str
    isrc: str
    mbid: str
    """MusicBrainz recording MBID."""
    artist_mbids: tuple[str, ...]
    release_mbid: str
    release_group_mbid: str
    album: str
    label: str
    catalog_number: str
    release_date: str
    """``YYYY-MM-DD``."""
    duration_ms: int
    tempo: float
    pitch_class: int
    """-1 (no key detected) or 0..11."""
    mode: int
    """1 major, 0 minor."""
    energy: float
    danceability: float
    valence: float
    tags: tuple[tuple[str, int], ...]
    """Last.fm top tags as (name, weight 0..100), best first."""
    listeners: int
    playcount: int
    lastfm_mbid: str = ""
    """The MBID Last.fm reports (often empty or stale, as on the real service)."""
    on_spotify: bool = True
    on_musicbrainz: bool = True
    on_lastfm: bool = True
    audio_features: bool = True
    """Whether Spotify has an audio analysis for the track."""
    mb_tags: tuple[tuple[str, int], ...] = field(default=())
    """MusicBrainz recording tags as (name, count)."""
    version: str = ""
    """The version the title ends with, as displayed (``"Radio Edit"``, ``"Four Tet Remix"``,
    ``"Extended Mix"``); "" for the plain recording."""
    remixer: str = ""
    """Who made a remix (``"Four Tet"``); "" when the record is not someone's remix."""

    @property
    def base_title(self) -> str:
        """The title without its version tag: ``"Opus"`` for ``"Opus (Four Tet Remix)"``."""
        if not self.version:
            return self.title
        return self.title.removesuffix(f"({self.version})").rstrip()


@dataclass(frozen=True, slots=True)
class Catalogue:
    """All catalogue records plus the indexes the imitations look them up by."""

    tracks: tuple[CatalogueTrack, ...]

    def by_spotify_id(self, spotify_id: str) -> CatalogueTrack | None:
        """The Spotify-listed track with this id, if any."""
        return _index(self, "spotify_id").get(spotify_id)

    def by_mbid(self, mbid: str) -> CatalogueTrack | None:
        """The MusicBrainz-listed recording with this MBID, if any."""
        return _index(self, "mbid").get(mbid)

    def by_isrc(self, isrc: str) -> list[CatalogueTrack]:
        """Every record with this ISRC (one ISRC may map to several recordings)."""
        return [t for t in self.tracks if t.isrc == isrc]

    def by_release_mbid(self, release_mbid: str) -> CatalogueTrack | None:
        """A MusicBrainz-listed record on this release, if any."""
        return _index(self, "release_mbid").get(release_mbid)


def _index(catalogue: Catalogue, attr: str) -> dict[str, CatalogueTrack]:
    return _build_index(catalogue.tracks, attr)


@cache
def _build_index(tracks: tuple[CatalogueTrack, ...], attr: str) -> dict[str, CatalogueTrack]:
    return {getattr(t, attr): t for t in tracks}


def _track_from_json(raw: dict[str, Any]) -> CatalogueTrack:
    data = dict(raw)
    for key in ("artists", "spotify_artist_ids", "artist_mbids"):
        data[key] = tuple(data[key])
    for key in ("tags", "mb_tags"):
        if key in data:
            data[key] = tuple((str(n), int(w)) for n, w in data[key])
    return CatalogueTrack(**data)


@cache
def load_catalogue() -> Catalogue:
    """Load the bundled ``catalogue.json`` (parsed once per process)."""
    text = resources.files(__package__).joinpath("catalogue.json").read_text("utf-8")
    return Catalogue(tuple(_track_from_json(t) for t in json.loads(text)["tracks"]))
