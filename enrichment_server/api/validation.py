"""Checking and normalising caller input; every bad field is reported at once."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from enrichment_server.domain import EnrichmentRequest, Priority
from enrichment_server.errors import FieldViolation, InvalidRequest

MAX_NAME_CHARS = 512
MAX_TRACK_ID_CHARS = 256
# ASCII only (issue 12 item 6): ``\d`` and ``str.upper`` would let other scripts' digits
# through and fold "ß" into "SS"; identifiers are checked before any case change.
_ISRC = re.compile(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}", re.ASCII)
_SPOTIFY_ID = re.compile(r"[0-9A-Za-z]{22}", re.ASCII)
_SPOTIFY_FORMS = re.compile(
    r"^(?:spotify:track:|https?://open\.spotify\.com/(?:intl-[a-z-]+/)?track/)([^?#/]+)"
)
_MBID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.IGNORECASE
)
#: Unicode categories refused in every string field: control characters (NUL included)
#: and lone surrogates (not encodable: a database driver would fail on them later).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


@dataclass(frozen=True, slots=True)
class RawRequest:
    """The request's fields exactly as the caller sent them (None = not sent)."""

    track_id: str
    artist_name: str
    track_title: str
    existing_spotify_id: str | None = None
    existing_isrc: str | None = None
    existing_musicbrainz_id: str | None = None
    force_refresh: bool = False
    #: The proto enum's number: 0 (unset) and 1 are interactive, 2 bulk, 3 background.
    priority: int = 0


#: The proto's Priority numbers -> the lane they mean (0, unset, is interactive).
_PRIORITIES = {
    0: Priority.INTERACTIVE,
    1: Priority.INTERACTIVE,
    2: Priority.BULK,
    3: Priority.BACKGROUND,
}


def _has_refused_characters(value: str) -> bool:
    """Control characters, NUL or lone surrogates anywhere in ``value``."""
    return any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in value)


def _name(field: str, value: str, bad: list[FieldViolation]) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        bad.append(FieldViolation(field, "must not be empty or blank"))
    elif len(cleaned) > MAX_NAME_CHARS:
        bad.append(FieldViolation(field, f"must be at most {MAX_NAME_CHARS} characters"))
    elif _has_refused_characters(cleaned):
        bad.append(FieldViolation(field, "must not contain control characters"))
    return cleaned


def _track_id(value: str, bad: list[FieldViolation]) -> str:
    """The caller's id, surrounding spaces removed; checked like the names (issue 12 item 2)."""
    track_id = value.strip()
    if len(track_id) > MAX_TRACK_ID_CHARS:
        bad.append(FieldViolation("track_id", f"must be at most {MAX_TRACK_ID_CHARS} characters"))
    elif _has_refused_characters(track_id):
        bad.append(FieldViolation("track_id", "must not contain control characters"))
    return track_id


def _isrc(value: str) -> str | None:
    compact = value.replace("-", "").replace(" ", "")
    if not compact.isascii():
        return None
    upper = compact.upper()
    return upper if _ISRC.fullmatch(upper) else None


def _spotify_id(value: str) -> str | None:
    form = _SPOTIFY_FORMS.match(value)
    candidate = form.group(1) if form else value
    return candidate if _SPOTIFY_ID.fullmatch(candidate) else None


def _mbid(value: str) -> str | None:
    return value.lower() if _MBID.fullmatch(value) else None


#: Optional identifier field -> (normaliser returning None when malformed, what is expected).
_IDENTIFIERS: dict[str, tuple[Callable[[str], str | None], str]] = {
    "existing_spotify_id": (
        _spotify_id,
        "must be a Spotify track id (22 base62 characters), URI or open.spotify.com link",
    ),
    "existing_isrc": (
        _isrc,
        "must be an ISRC: 2 letters, 3 letters or digits, 7 digits (e.g. GBTDG0900141)",
    ),
    "existing_musicbrainz_id": (
        _mbid,
        "must be a MusicBrainz id (a UUID like 4a00ec9d-c635-463a-8cd4-eb61725f0c60)",
    ),
}


def _identifier(field: str, value: str | None, bad: list[FieldViolation]) -> str | None:
    if value is None or not value.strip():
        return None
    normalise, expected = _IDENTIFIERS[field]
    result = normalise(value.strip())
    if result is None:
        bad.append(FieldViolation(field, expected))
    return result


def derive_track_id(artist: str, title: str) -> str:
    """A stable id for callers that send none: a hash of the case-folded artist and title."""
    digest = hashlib.sha256(f"{artist.casefold()}\x1f{title.casefold()}".encode()).hexdigest()
    return f"auto-{digest[:24]}"


def validate(raw: RawRequest) -> EnrichmentRequest:
    """The normalised request, or ``InvalidRequest`` listing every bad field."""
    bad: list[FieldViolation] = []
    artist = _name("artist_name", raw.artist_name, bad)
    title = _name("track_title", raw.track_title, bad)
    track_id = _track_id(raw.track_id, bad)
    spotify_id = _identifier("existing_spotify_id", raw.existing_spotify_id, bad)
    isrc = _identifier("existing_isrc", raw.existing_isrc, bad)
    mbid = _identifier("existing_musicbrainz_id", raw.existing_musicbrainz_id, bad)
    priority = _PRIORITIES.get(raw.priority)
    if priority is None:
        bad.append(FieldViolation("priority", "must be one of the Priority enum's values"))
    if bad:
        raise InvalidRequest(bad)
    return EnrichmentRequest(
        track_id=track_id or derive_track_id(artist, title),
        artist=artist,
        title=title,
        spotify_id=spotify_id,
        isrc=isrc,
        musicbrainz_id=mbid,
        force_refresh=raw.force_refresh,
        priority=priority or Priority.INTERACTIVE,
    )
