"""The shared tracklist-line parser every spider uses.

It reads the line formats tracklist sites print::

    01. Eric Prydz - Opus (Four Tet Remix) [Pryda]
    [01:02:03] Bicep feat. Clara La San - Saku
    12:34 Lane 8 - Road
    [045] deadmau5 - Strobe                      (MixesDB: a cue in minutes)
    w/ Skrillex - Bangarang                      (played together with the previous line)
    Eric Prydz - Opus vs. deadmau5 - Strobe      (a mashup: two tracks)
    ID - ID                                      (an unknown: skipped)

``parse_line`` turns one line into a ``ParsedLine`` (or None when there is nothing to
enrich); ``parse_tracklist`` numbers the tracks of a whole list in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from scrapers.trackid import FEAT, fold, is_version, track_id

__all__ = [
    "MAX_FIELD_LENGTH",
    "ParsedLine",
    "ParsedTrack",
    "TracklistEntry",
    "format_cue",
    "parse_cue",
    "parse_line",
    "parse_tracklist",
]

#: Longer artist or title strings are not track credits (the service refuses them too).
MAX_FIELD_LENGTH = 500
#: Artist or title values that mean "not identified".
UNKNOWN = frozenset({"id", "unknown", "unknown artist", "unknown track", "?", "??", "???"})

_NUMBER = re.compile(r"^(?:#\s*)?(\d{1,3})\s*[.)]\s+")
_CUE = re.compile(r"^\[?((?:\d{1,2}:)?\d{1,3}:\d{2})\]?(?:\s+|$)")
_MINUTES_CUE = re.compile(r"^\[(\d{1,3})\](?:\s+|$)")
_WITH = re.compile(r"^w/\s*", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s+[-–—]\s+")
_MASHUP = re.compile(r"\s+(?:vs\.?|w/)\s+", re.IGNORECASE)
_LABEL = re.compile(r"\s*\[([^\[\]]+)\]\s*$")
_FEAT_CREDIT = re.compile(rf"\s+\(?{FEAT}\s+([^()]+?)\)?\s*$", re.IGNORECASE)
_FEAT_TITLE = re.compile(rf"\s*\(?\s*{FEAT}\s+([^()\[\]]+?)\)?(?=\s*(?:\(|\[|$))", re.IGNORECASE)
_ARTISTS = re.compile(r"\s*,\s*|\s+(?:vs\.?|x)\s+", re.IGNORECASE)
_GROUPS = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
_REMIXER = re.compile(
    r"^(.*?)\s*\b(?:remix|rmx|edit|dub|rework|bootleg|vip|refix|flip|mashup)\s*$", re.I
)


@dataclass(frozen=True, slots=True)
class ParsedTrack:
    """One track credit: the strings sent to the service plus what the line told us."""

    artist: str
    """Artist credit as written, featured artists included ("Bicep feat. Clara La San")."""
    title: str
    """Title as written with its version, without the label ("Opus (Four Tet Remix)")."""
    track_id: str
    artists: tuple[str, ...]
    featured: tuple[str, ...] = ()
    version: str | None = None
    remixer: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """One tracklist line: its number, cue, tracks (two for a mashup) and "w/" flag."""

    tracks: tuple[ParsedTrack, ...]
    number: int | None = None
    cue_seconds: int | None = None
    played_with_previous: bool = False


@dataclass(frozen=True, slots=True)
class TracklistEntry:
    """A track at its place in a tracklist (``position`` is 1-based and unique)."""

    track: ParsedTrack
    position: int
    number: int | None = None
    cue_seconds: int | None = None
    mashup: bool = False


def parse_cue(text: str) -> int | None:
    """Seconds of "H:MM:SS" or "MM:SS" (brackets allowed); None if it is not a cue."""
    match = _CUE.match(text.strip() + " ")
    if match is None:
        return None
    seconds = 0
    for part in match.group(1).split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def format_cue(seconds: int | None) -> str | None:
    """ "H:MM:SS" of a cue in seconds (None stays None)."""
    if seconds is None:
        return None
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _prefixes(line: str) -> tuple[str, int | None, int | None, bool]:
    """Strip numbering, cue and "w/" prefixes in any order: (rest, number, cue, w/)."""
    number: int | None = None
    cue: int | None = None
    together = False
    while True:
        if number is None and (match := _NUMBER.match(line)):
            number = int(match.group(1))
        elif cue is None and (match := _CUE.match(line)):
            cue = parse_cue(match.group(1))
        elif cue is None and (match := _MINUTES_CUE.match(line)):
            cue = int(match.group(1)) * 60
        elif not together and (match := _WITH.match(line)):
            together = True
        else:
            return line.strip(), number, cue, together
        line = line[match.end() :]


def _featured(artist: str, title: str) -> tuple[str, str, tuple[str, ...]]:
    """Separate "feat." credits from artist and title: (main credit, title, featured)."""
    featured: list[str] = []
    if match := _FEAT_CREDIT.search(artist):
        featured.append(match.group(1).strip())
        artist = artist[: match.start()]
    for match in _FEAT_TITLE.finditer(title):
        featured.append(match.group(1).strip())
    title = " ".join(_FEAT_TITLE.sub(" ", title).split())
    return artist.strip(), title, tuple(featured)


def _version(title: str) -> tuple[str | None, str | None]:
    """(version annotation, remixer) of a title, e.g. ("Four Tet Remix", "Four Tet")."""
    for match in _GROUPS.finditer(title):
        inner = (match.group(1) or match.group(2) or "").strip()
        if is_version(inner):
            remixer = _REMIXER.match(inner)
            name = remixer.group(1).strip() if remixer else ""
            return inner, name or None
    return None, None


def _is_unknown(text: str) -> bool:
    """True for "ID", "Unknown", "?" and friends."""
    return fold(text) in UNKNOWN or text.strip() in UNKNOWN


def parse_track(text: str) -> ParsedTrack | None:
    """One "Artist - Title (Version) [Label]" credit; None if unknown or malformed."""
    label_match = _LABEL.search(text)
    label = None
    if label_match and not is_version(label_match.group(1)):
        label, text = label_match.group(1).strip(), text[: label_match.start()]
    parts = _SEPARATOR.split(text.strip(), maxsplit=1)
    if len(parts) != 2:
        return None
    artist, title, featured = _featured(*parts)
    if not artist or not title or _is_unknown(artist) or _is_unknown(title):
        return None
    if max(len(artist), len(title)) > MAX_FIELD_LENGTH or not fold(artist) or not fold(title):
        return None
    credit = artist + "".join(f" feat. {name}" for name in featured)
    version, remixer = _version(title)
    artists = tuple(name.strip() for name in _ARTISTS.split(artist) if name.strip())
    return ParsedTrack(
        credit, title, track_id(artist, title), artists, featured, version, remixer, label
    )


def _mashup_parts(text: str) -> list[str]:
    """Split "A - T1 vs. B - T2" into credits when every side has its own " - "."""
    parts = _MASHUP.split(text)
    if len(parts) > 1 and all(_SEPARATOR.search(part) for part in parts):
        return parts
    return [text]


def parse_line(line: str) -> ParsedLine | None:
    """Parse one tracklist line; None when no track on it can be identified."""
    rest, number, cue, together = _prefixes(" ".join(line.split()))
    tracks = [parse_track(part) for part in _mashup_parts(rest)]
    known = tuple(track for track in tracks if track is not None)
    if not known:
        return None
    return ParsedLine(known, number, cue, together)


def parse_tracklist(lines: Iterable[str]) -> list[TracklistEntry]:
    """Every identifiable track of a tracklist, positioned 1, 2, 3... in order.

    Mashup parts and "w/" lines are flagged ``mashup``; "ID - ID" lines leave no entry.
    """
    entries: list[TracklistEntry] = []
    for line in lines:
        parsed = parse_line(line)
        if parsed is None:
            continue
        mashup = parsed.played_with_previous or len(parsed.tracks) > 1
        for track in parsed.tracks:
            position = len(entries) + 1
            entries.append(
                TracklistEntry(track, position, parsed.number, parsed.cue_seconds, mashup)
            )
    return entries
