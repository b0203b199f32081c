"""Catalogue records rendered as GetSongBPM song objects.

Shapes follow upstream-apis.md section 5.2: ``id`` is a short base62 string (``"voKlYL"``),
``tempo`` a **string** of whole beats (``"128"``), ``time_sig`` ``"4/4"``, ``key_of`` a key
name with **Unicode** accidentals (``"F♯m"``, ``"E♭"``, ``"A"``) and ``open_key`` its Open
Key code (``"4m"``); both are absent when no key was detected (pitch class -1).
``danceability``/``acousticness`` are 0..100 ints, missing for some songs. The key
spelling and Open Key numbers are computed here from the section 4 table, independently
of the service's own ``keys`` module, so the sandbox can catch a mistake there.
"""

from __future__ import annotations

import urllib.parse

from enrichment_sandbox import derived, ids
from enrichment_sandbox.catalogue import CatalogueTrack
from enrichment_sandbox.text import fold, strip_featuring

SITE = "https://getsongbpm.com"
MAJOR_NAMES = ("C", "D♭", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B")
MINOR_NAMES = ("C", "C♯", "D", "E♭", "E", "F", "F♯", "G", "G♯", "A", "B♭", "B")
_COUNTRIES = {"US": "United States", "GB": "United Kingdom", "CA": "Canada", "DE": "Germany"}


def key_of(pitch_class: int, major: bool) -> str:
    """GetSongBPM's key name: ``"E♭"`` for E-flat major, ``"F♯m"`` for F-sharp minor."""
    return MAJOR_NAMES[pitch_class] if major else f"{MINOR_NAMES[pitch_class]}m"


def open_key(pitch_class: int, major: bool) -> str:
    """Open Key code (``"1d"`` = C major, ``"1m"`` = A minor) by the section 4 formulas."""
    camelot = ((pitch_class * 7) % 12 + (7 if major else 4)) % 12 + 1
    return f"{(camelot + 4) % 12 + 1}{'d' if major else 'm'}"


def _slug(text: str) -> str:
    return urllib.parse.quote(fold(text).replace(" ", "-")) or "-"


def artist_name(track: CatalogueTrack) -> str:
    """The artist a song is filed under: the credit without its "feat." part."""
    return strip_featuring(track.artist) or track.artist


def _artist(track: CatalogueTrack) -> dict[str, object]:
    name = artist_name(track)
    artist_id = derived.gsb_artist_id(name)
    artist: dict[str, object] = {
        "id": artist_id,
        "name": name,
        "uri": f"{SITE}/artist/{_slug(name)}/{artist_id}",
        "genres": [tag for tag, _ in track.tags[:2]],
        "from": _COUNTRIES.get(track.isrc[:2].upper(), "Unknown"),
    }
    if track.artist_mbids:
        artist["mbid"] = track.artist_mbids[0]
    return artist


def _percent(track: CatalogueTrack, value: float, name: str) -> dict[str, object]:
    """``{name: 0..100}``, or nothing for the one song in seven GetSongBPM has no value for."""
    if ids.number(track.mbid, "gsb", name) % 7 == 0:
        return {}
    return {name: max(0, min(100, round(value * 100)))}


def song_object(track: CatalogueTrack) -> dict[str, object]:
    """One song, as ``/song/`` and every ``/search/`` hit carry it."""
    song_id = derived.gsb_song_id(track)
    song: dict[str, object] = {
        "id": song_id,
        "title": track.title,
        "uri": f"{SITE}/song/{_slug(track.title)}/{song_id}",
        "tempo": str(round(track.tempo)),
        "time_sig": "4/4",
    }
    if 0 <= track.pitch_class <= 11:
        major = track.mode == 1
        song["key_of"] = key_of(track.pitch_class, major)
        song["open_key"] = open_key(track.pitch_class, major)
    song |= _percent(track, track.danceability, "danceability")
    acoustic = ids.number(track.mbid, "gsb-acoustic") % 30 / 100
    song |= _percent(track, acoustic, "acousticness")
    song["artist"] = _artist(track)
    song["album"] = {
        "title": track.album,
        "uri": f"{SITE}/album/{_slug(track.album)}/{ids.base62_id(track.release_mbid, length=6)}",
        "year": track.release_date[:4],
    }
    return song
