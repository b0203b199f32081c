"""Spotify's ``q`` syntax and a fuzzy relevance ranking over the catalogue.

``q`` mixes free text with field filters (``track:``, ``artist:``, ``album:``, ``year:``,
``isrc:``, ``genre:``). A filter value is either quoted (``artist:"Four Tet"``) or runs
unquoted until the next ``field:`` token. ``isrc:`` is an exact filter; everything else
scores by token overlap, and every track with a positive total is a hit, so a query for
a track missing from the catalogue still returns near misses, as the real service does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from enrichment_sandbox.catalogue import Catalogue, CatalogueTrack
from enrichment_sandbox.text import overlap, token_set, tokens

FILTER_FIELDS = ("track", "artist", "album", "year", "isrc", "genre")
_FIELD = re.compile(r'(?<![^\s"])(' + "|".join(FILTER_FIELDS) + r"):", re.IGNORECASE)
_YEAR = re.compile(r"^\s*(\d{4})(?:\s*-\s*(\d{4}))?\s*$")


@dataclass(frozen=True, slots=True)
class SpotifyQuery:
    """A parsed ``q``: field filters (lower-case names) and the remaining free text."""

    filters: dict[str, str] = field(default_factory=dict)
    free_text: str = ""


def parse_query(q: str) -> SpotifyQuery:
    """Split ``q`` into field filters and free text (repeated fields are joined)."""
    filters: dict[str, list[str]] = {}
    free: list[str] = []
    pos = 0
    while (match := _FIELD.search(q, pos)) is not None:
        free.append(q[pos : match.start()])
        value, pos = _filter_value(q, match.end())
        filters.setdefault(match.group(1).lower(), []).append(value.strip())
    free.append(q[pos:])
    return SpotifyQuery(
        filters={name: " ".join(v for v in values if v) for name, values in filters.items()},
        free_text=" ".join(" ".join(free).split()),
    )


def _filter_value(q: str, start: int) -> tuple[str, int]:
    """The value starting at ``start`` and the position after it."""
    if q.startswith('"', start):
        close = q.find('"', start + 1)
        if close == -1:
            return q[start + 1 :], len(q)
        return q[start + 1 : close], close + 1
    following = _FIELD.search(q, start)
    end = following.start() if following is not None else len(q)
    return q[start:end], end


def _year_score(value: str, track: CatalogueTrack) -> float:
    match = _YEAR.match(value)
    if match is None or not track.release_date[:4].isdigit():
        return 0.0
    low = int(match.group(1))
    high = int(match.group(2) or low)
    return 1.0 if low <= int(track.release_date[:4]) <= high else 0.0


def _field_score(name: str, value: str, track: CatalogueTrack) -> float:
    wanted = tokens(value)
    if name == "track":
        return overlap(wanted, token_set([track.title]))
    if name == "artist":
        return overlap(wanted, token_set([track.artist, *track.artists]))
    if name == "album":
        return overlap(wanted, token_set([track.album]))
    if name == "genre":
        return overlap(wanted, token_set(tag for tag, _ in track.tags))
    if name == "year":
        return _year_score(value, track)
    return 1.0  # isrc: already an exact filter on the candidates


def relevance(query: SpotifyQuery, track: CatalogueTrack) -> float:
    """Sum of the filter scores plus the free-text score (0 means not a hit)."""
    score = sum(_field_score(name, value, track) for name, value in query.filters.items())
    if query.free_text:
        everything = token_set([track.title, track.artist, *track.artists, track.album])
        score += overlap(tokens(query.free_text), everything)
    return score


def search_tracks(catalogue: Catalogue, query: SpotifyQuery) -> list[CatalogueTrack]:
    """Every Spotify-listed hit for ``query``, best first (ties keep catalogue order)."""
    candidates = [t for t in catalogue.tracks if t.on_spotify]
    isrc = query.filters.get("isrc")
    if isrc is not None:
        candidates = [t for t in candidates if t.isrc.upper() == isrc.strip().upper()]
    scored = [(relevance(query, t), i, t) for i, t in enumerate(candidates)]
    return [t for score, _, t in sorted(scored, key=lambda s: (-s[0], s[1])) if score > 0]
