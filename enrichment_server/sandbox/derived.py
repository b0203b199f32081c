"""Stable details the catalogue does not record but the wire formats need.

Track numbers, album sizes, image hashes, MusicBrainz track ids and the like are derived
deterministically from a record's identifiers, so every imitation (and every run) agrees
about them: the Spotify ``track_number`` equals the MusicBrainz medium track ``number``
and the Last.fm album ``@attr.position``.
"""

from __future__ import annotations

import hashlib
import uuid

from enrichment_server.sandbox.catalogue import CatalogueTrack
from enrichment_server.sandbox.text import fold

_NAMESPACE = uuid.UUID("6f1c5a52-4d7e-4f0e-9a43-2b8c1d0e7f35")

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


def digest(*parts: str) -> int:
    """A stable non-negative integer derived from ``parts``."""
    raw = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(raw[:8], "big")


def hex_digest(*parts: str, length: int = 32) -> str:
    """A stable lowercase hex string of ``length`` characters derived from ``parts``."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def stable_uuid(*parts: str) -> str:
    """A stable UUID (v5) string derived from ``parts``."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def is_single(track: CatalogueTrack) -> bool:
    """Whether the record's release is a single (its title is the track's title)."""
    return fold(track.album) == fold(track.title)


def total_tracks(track: CatalogueTrack) -> int:
    """Number of tracks on the record's release."""
    if is_single(track):
        return 1 + digest(track.release_mbid, "size") % 3
    return 6 + digest(track.release_mbid, "size") % 9


def track_number(track: CatalogueTrack) -> int:
    """The record's 1-based position on its release."""
    if is_single(track):
        return 1
    return 1 + digest(track.mbid, "position") % total_tracks(track)


def mb_length(track: CatalogueTrack) -> int:
    """The MusicBrainz recording length (ms): a little off Spotify's, as in real data."""
    return track.duration_ms - digest(track.mbid, "length") % 900


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
    return f"{digest(track.release_mbid, 'upc') % 10**12:012d}"
