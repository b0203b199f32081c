"""Stable details the catalogue does not record but the wire formats need.

Track numbers, album sizes, image hashes, MusicBrainz track ids and the like are derived
deterministically from a record's identifiers (and, for release layouts, from the other
records on the same release) with ``enrichment_sandbox.ids``, the derivation the catalogue's
own ids come from, so every imitation and every run agrees about them: the
Spotify ``track_number`` equals the MusicBrainz medium track ``number`` and the Last.fm
album ``@attr.position``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from enrichment_sandbox.catalogue import CatalogueTrack
from enrichment_sandbox.ids import base62_id, number, stable_uuid
from enrichment_sandbox.text import fold

_VERSION = re.compile(r"\s*(?:[\(\[][^\)\]]*[\)\]]|\s-\s[^-]*)\s*$")

AREA_NAMES = {
    "US": "United States",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "BE": "Belgium",
    "CA": "Canada",
    "AU": "Australia",
    "SE": "Sweden",
    "IT": "Italy",
    "ES": "Spain",
    "JP": "Japan",
    "NO": "Norway",
    "DK": "Denmark",
    "IE": "Ireland",
}
"""Countries the sandbox names; any other ISRC country renders as ``XW`` (Worldwide)."""

_KNOWN_AREA_IDS = {
    "US": "489ce91b-6658-3307-9877-795b68554c98",
    "GB": "8a754a16-0027-3a29-b6d7-2b40ea0481ed",
    "XW": "525d4e18-3d00-31b9-a58b-a146a916de8f",
}


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a record sits on its release, and what kind of release that is."""

    position: int
    total_tracks: int
    single: bool


def _base_title(title: str) -> str:
    """The title without a trailing version tag ("(Radio Edit)", "- Original Mix")."""
    return fold(_VERSION.sub("", title))


class ReleaseLayout:
    """Track positions and release sizes, consistent across every record on a release.

    A release is a single when its title is one of its tracks' titles (version tags
    ignored); singles hold 1-3 tracks with the title track first, albums 6-14 tracks,
    always at least as many as the catalogue places on them, at distinct positions.
    """

    def __init__(self, tracks: Iterable[CatalogueTrack]) -> None:
        """Lay out every release the records are on."""
        by_release: dict[str, list[CatalogueTrack]] = {}
        for track in tracks:
            by_release.setdefault(track.release_mbid, []).append(track)
        self._places: dict[tuple[str, str], Placement] = {}
        for release, members in by_release.items():
            self._places.update(_lay_out(release, members))

    def of(self, track: CatalogueTrack) -> Placement:
        """The record's placement (a record outside the layout is laid out alone)."""
        place = self._places.get((track.release_mbid, track.mbid))
        return place or _lay_out(track.release_mbid, [track])[(track.release_mbid, track.mbid)]


def _lay_out(release: str, members: list[CatalogueTrack]) -> dict[tuple[str, str], Placement]:
    album = fold(members[0].album)
    single = any(_base_title(m.title) == album for m in members)
    size = number(release, "size")
    total = max(len(members), 1 + size % 3 if single else 6 + size % 9)
    ordered = sorted(members, key=lambda m: (fold(m.title) != album, number(m.mbid, "position")))
    if single:
        positions = list(range(1, len(members) + 1))
    else:
        positions = sorted(random.Random(size).sample(range(1, total + 1), len(members)))
    return {
        (release, m.mbid): Placement(position, total, single)
        for m, position in zip(ordered, positions, strict=True)
    }


def mb_length(track: CatalogueTrack) -> int:
    """The MusicBrainz recording length (ms): a little off Spotify's, as in real data."""
    return track.duration_ms - number(track.mbid, "length") % 900


def lastfm_duration(track: CatalogueTrack) -> int:
    """The Last.fm duration (ms), rounded to whole seconds as Last.fm reports it."""
    return round(track.duration_ms / 1000) * 1000


def country(track: CatalogueTrack) -> str:
    """Release country, taken from the ISRC's registrant country when the sandbox knows it."""
    code = track.isrc[:2].upper()
    return code if code in AREA_NAMES else "XW"


def area(code: str) -> dict[str, object]:
    """A MusicBrainz area object for a country code (``XW`` is Worldwide)."""
    name = AREA_NAMES.get(code, "[Worldwide]")
    return {
        "id": _KNOWN_AREA_IDS.get(code) or stable_uuid("area", code),
        "name": name,
        "sort-name": name,
        "iso-3166-1-codes": [code],
    }


def sort_name(name: str) -> str:
    """MusicBrainz-style sort name: a leading "The " moves to the end."""
    if name.casefold().startswith("the ") and len(name) > 4:
        return f"{name[4:]}, {name[:3]}"
    return name


def barcode(track: CatalogueTrack) -> str:
    """A 12-digit UPC for the record's release."""
    return f"{number(track.release_mbid, 'upc') % 10**12:012d}"


# --- Deezer -------------------------------------------------------------------------------

DEEZER_GENRE_RULES: tuple[tuple[tuple[str, ...], int, str], ...] = (
    (("techno", "minimal"), 110, "Techno"),
    (("house",), 111, "House"),
    (("trance", "dance", "rave", "big room", "garage", "disco"), 113, "Dance"),
    (("trip-hop",), 106, "Electro"),  # before the rule below: it contains "hip-hop"
    (("hip-hop", "rap"), 116, "Rap/Hip Hop"),
    (("new wave", "indie", "punk"), 85, "Alternative"),
)
"""Tag keywords -> Deezer genre (id, name), first rule wins; anything else is Electro (106).

The ids are illustrative (Deezer's top-level genres are real: Dance 113, Electro 106,
Rap/Hip Hop 116, Alternative 85; House and Techno stand in for its sub-genres).
"""
_DEEZER_ELECTRO = (106, "Electro")


def deezer_track_id(track: CatalogueTrack) -> int:
    """The Deezer track id (an int, like the real ones: 7-10 digits)."""
    return 1_000_000 + number(track.mbid, "deezer-track") % 2_000_000_000


def deezer_album_id(track: CatalogueTrack) -> int:
    """The Deezer album id, shared by every record on the same release."""
    return 100_000 + number(track.release_mbid, "deezer-album") % 900_000_000


def deezer_artist_id(name: str) -> int:
    """The Deezer artist id of a credited name (the same name is one artist everywhere)."""
    return 1_000 + number(fold(name), "deezer-artist") % 20_000_000


def deezer_bpm(track: CatalogueTrack) -> float:
    """Deezer's ``bpm``: ``0`` (unknown) for about a quarter of tracks, as on the real service."""
    if number(track.mbid, "deezer-bpm") % 4 == 0:
        return 0.0
    return round(track.tempo, 1)


def deezer_genre(tag: str) -> tuple[int, str]:
    """The Deezer genre (id, name) a Last.fm-style tag files under."""
    folded = tag.casefold()
    for keywords, genre_id, name in DEEZER_GENRE_RULES:
        if any(keyword in folded for keyword in keywords):
            return genre_id, name
    return _DEEZER_ELECTRO


def deezer_genres(track: CatalogueTrack) -> list[tuple[int, str]]:
    """The album genres: the first one or two tags mapped, duplicates dropped ([] untagged)."""
    return list(dict.fromkeys(deezer_genre(tag) for tag, _ in track.tags[:2]))


# --- GetSongBPM ---------------------------------------------------------------------------


def gsb_song_id(track: CatalogueTrack) -> str:
    """The GetSongBPM song id."""
    return base62_id(track.mbid, "gsb-song", length=6)


def gsb_artist_id(name: str) -> str:
    """The GetSongBPM artist id of a credited name."""
    return base62_id(fold(name), "gsb-artist", length=4)


# --- How each service writes a version --------------------------------------------------

#: Words MusicBrainz's style guideline writes in lower case inside extra title information.
_MB_LOWER = frozenset(
    {"remix", "mix", "edit", "extended", "radio", "club", "dub", "instrumental", "acapella"}
    | {"version", "original", "vocal", "rework", "album", "single"}
)


def spotify_name(track: CatalogueTrack) -> str:
    """Spotify's ``name``: the version after ``" - "`` ("Strobe - Radio Edit"); on some
    labels' releases the featured artists also in the name ("Saku (feat. Clara La San)")."""
    _, feat, featured = track.artist.partition(" feat. ")
    base = track.base_title
    if feat and number(track.label, "feat-in-name") % 3 == 0:
        base = f"{base} (feat. {featured})"
    return f"{base} - {track.version}" if track.version else base


def musicbrainz_title(track: CatalogueTrack) -> str:
    """MusicBrainz's title: the version in parentheses, its kind words in lower case, names
    as credited ("Opus (Four Tet remix)", "Strobe (radio edit)")."""
    if not track.version:
        return track.title
    words = [w.lower() if w.lower() in _MB_LOWER else w for w in track.version.split()]
    return f"{track.base_title} ({' '.join(words)})"


def spotify_credits_remixer(track: CatalogueTrack) -> bool:
    """Whether Spotify lists the remixer in ``artists[]``: some labels do, others do not."""
    return bool(track.remixer) and number(track.label, "credits-remixer") % 2 == 0
