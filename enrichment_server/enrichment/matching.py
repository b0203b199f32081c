"""Scoring of upstream candidates against a normalised "Artist - Title" row.

Precision beats recall here: attaching the wrong Spotify id to a track poisons the graph
built from it, so a candidate only matches when the artists, the base title, the part
number *and* the version (remix, edit, extended...) all agree, and a mashup row never
matches one of its parts. ``normalise`` (``normalise.py``) turns raw artist/title strings
into a ``NormalisedTrack``; ``score`` compares two of them; ``Matcher`` picks the best
candidate at or above a threshold.

Two documented decisions:

* An "(Extended Mix)" row matches the extended recording when the upstream has one. When
  only the plain title comes back, it falls back to it with a lower score
  (``VERSION_FALLBACK_FACTOR``) if the plain recording is at least ``EXTENDED_MIN_MS``
  long (on many dance labels the plain title *is* the full-length mix; a ~3 minute plain
  title is the radio edit, a different recording). Symmetrically, a "(Radio Edit)" row
  falls back to a plain recording known to be shorter than that (the single cut), and an
  extended remix ("Lane 8 Extended Remix") to that remix when it is long enough. A listed
  extended mix or radio edit always outscores its fallback.
* "Lane 8 - Innerbloom (Lane 8 Remix)": when the row's artists are the remixer named in
  its version, the artist credit is not compared (Spotify often credits only the
  original artist on a remix); title and remix credit must still agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz.distance import Indel

from enrichment_server.enrichment import versions
from enrichment_server.enrichment.normalise import NormalisedTrack, normalise

__all__ = [
    "DEFAULT_THRESHOLD",
    "MATCHER_VERSION",
    "Match",
    "Matcher",
    "NormalisedTrack",
    "credits_remixer",
    "normalise",
    "score",
]

T = TypeVar("T")

MATCHER_VERSION = 2
"""Bumped whenever the matcher would decide differently: it is part of every result key,
so results remembered under an older matcher are not served again."""

DEFAULT_THRESHOLD = 0.82
"""Minimum score for a candidate to be accepted by ``Matcher``."""

VERSION_FALLBACK_FACTOR = 0.92
"""Score factor of a plain recording offered for an "(Extended Mix)" or "(Radio Edit)" row."""
EXTENDED_MIN_MS = 270_000
"""A plain recording shorter than 4:30 is a radio/single cut, not the extended mix."""
_RADIO_EDIT = "radio edit"

_ARTIST_WEIGHT = 0.5
_TITLE_WEIGHT = 0.5
_PRIMARY_WEIGHT = 0.7  # within the artist score; the rest is coverage of all query artists
_WEAK_COMPONENT_MARGIN = 0.05  # the score is capped at the weaker of artist/title + this
_VERSION_MISMATCH_FACTOR = 0.5
_NUMBER_MISMATCH_FACTOR = 0.5
_DURATION_TOLERANCE = 0.15
_DURATION_PENALTY_FACTOR = 0.75
_REMIXER_MIN_SIMILARITY = 0.85
_WHOLE_CREDIT_MIN_SIMILARITY = 0.9
_SUBTITLE_DROPPED_FACTOR = 0.95


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """A candidate accepted by ``Matcher.best`` together with its score."""

    candidate: T
    score: float


def _similarity(left: str, right: str) -> float:
    """Fuzzy similarity in [0, 1], tolerant of spacing and a leading "the "."""
    if not left or not right:
        return 0.0
    variants = (
        (left, right),
        (left.replace(" ", ""), right.replace(" ", "")),
        (left.removeprefix("the "), right.removeprefix("the ")),
    )
    return max(Indel.normalized_similarity(a, b) for a, b in variants)


def _best_artist(forms: tuple[str, ...], candidates: tuple[str, ...]) -> float:
    """Similarity of the closest pair between a name's ``forms`` and ``candidates``."""
    return max((_similarity(name, other) for name in forms for other in candidates), default=0.0)


def _artist_score(query: NormalisedTrack, candidate: NormalisedTrack) -> float:
    """How well the candidate's artists cover the query's primary artist and all its artists.

    A name may stand for a longer one ("Paul" in "Paul & Fritz Kalkbrenner"), and a credit
    written without separators ("Axwell Ingrosso") is compared whole as well.
    """
    if not query.artists or not candidate.artists:
        return 0.0
    names = (*candidate.artists, *candidate.aliases)

    def forms(name: str) -> tuple[str, ...]:
        return (name, *(alias for alias in query.aliases if alias.startswith(f"{name} ")))

    primary = _best_artist(forms(query.artists[0]), names)
    coverage = sum(_best_artist(forms(name), names) for name in query.artists) / len(query.artists)
    split = _PRIMARY_WEIGHT * primary + (1 - _PRIMARY_WEIGHT) * coverage
    whole = _similarity(" ".join(query.artists), " ".join(candidate.artists))
    # Only a near-identical whole credit counts: "Bicep Clara La San" vs "Clara La San"
    # is a missing main artist, not a spelling of the same credit.
    return max(split, whole) if whole >= _WHOLE_CREDIT_MIN_SIMILARITY else split


def credits_remixer(query: NormalisedTrack) -> bool:
    """The row's artists are its version's remixer ("Lane 8 - Innerbloom (Lane 8 Remix)",
    "Tiësto - Silence (Tiësto's In Search of Sunrise Remix)")."""
    by = versions.remixer(query.version)
    if not by or not query.artists:
        return False
    artist = " ".join(query.artists)
    possessive = by.startswith((f"{artist} ", f"{artist}s ")) and len(artist) >= 4
    return possessive or _similarity(artist, by) >= _REMIXER_MIN_SIMILARITY


def _same_remix(query: NormalisedTrack, candidate: NormalisedTrack) -> bool:
    """The candidate is the row's remix, or the remix its extended version lengthens."""
    lengthens = versions.unextended(query.version)
    return versions.agree(query.version, candidate.version) or (
        lengthens is not None and versions.agree(lengthens, candidate.version)
    )


def _title_score(query: NormalisedTrack, candidate: NormalisedTrack) -> float:
    """Fuzzy base-title similarity; titles with different numbers ("Part 1"/"Part 2",
    "(100%)"/"(99%)") clash.

    A row may drop the candidate's parenthesised subtitle ("Groovejet" for "Groovejet (If
    This Ain't Love)") at a small cost; not the other way round: a subtitle only the row
    has may be a version nobody lists ("(Romanthony's Unplugged)").
    """
    similarity = _similarity(query.base_title, candidate.base_title)
    if candidate.short_title and not query.short_title:
        shorter = _similarity(query.base_title, candidate.short_title)
        similarity = max(similarity, _SUBTITLE_DROPPED_FACTOR * shorter)
    if _numbers(query.base_title) != _numbers(candidate.base_title):
        similarity *= _NUMBER_MISMATCH_FACTOR
    return similarity


def _numbers(text: str) -> frozenset[str]:
    """The numbers of a folded title (``fold_title`` already wrote numerals as digits)."""
    return frozenset(word for word in text.split() if word.isdigit())


def _version_factor(
    query: NormalisedTrack, candidate: NormalisedTrack, candidate_ms: int | None
) -> float:
    """1 when the versions agree; the fallback factor when a plain recording of the right
    length stands for an extended mix or a radio edit; else the mismatch factor."""
    if versions.agree(query.version, candidate.version):
        return 1.0
    length = candidate_ms if candidate_ms is not None and candidate_ms > 0 else None
    full_length = length is None or length >= EXTENDED_MIN_MS
    lengthens = versions.unextended(query.version)
    if lengthens is not None and versions.agree(lengthens, candidate.version) and full_length:
        return VERSION_FALLBACK_FACTOR  # "Extended Mix" for a long plain title, and so on
    single_length = length is not None and length < EXTENDED_MIN_MS
    if query.version == _RADIO_EDIT and not candidate.version and single_length:
        return VERSION_FALLBACK_FACTOR
    return _VERSION_MISMATCH_FACTOR


def _durations_clash(query_ms: int | None, candidate_ms: int | None) -> bool:
    """True when both durations are known and differ by more than the tolerance."""
    if query_ms is None or candidate_ms is None or query_ms <= 0 or candidate_ms <= 0:
        return False
    return abs(query_ms - candidate_ms) > _DURATION_TOLERANCE * max(query_ms, candidate_ms)


def score(
    query: NormalisedTrack,
    candidate: NormalisedTrack,
    *,
    query_duration_ms: int | None = None,
    candidate_duration_ms: int | None = None,
) -> float:
    """Score in [0, 1] of how likely ``candidate`` is the same recording as ``query``."""
    if query.mashup != candidate.mashup:
        return 0.0  # a mashup is neither of its parts (nor is a part the mashup)
    artist = _artist_score(query, candidate)
    if credits_remixer(query) and _same_remix(query, candidate):
        artist = max(artist, 1.0)
    title = _title_score(query, candidate)
    combined = _ARTIST_WEIGHT * artist + _TITLE_WEIGHT * title
    result = min(combined, min(artist, title) + _WEAK_COMPONENT_MARGIN)
    result *= _version_factor(query, candidate, candidate_duration_ms)
    if _durations_clash(query_duration_ms, candidate_duration_ms):
        result *= _DURATION_PENALTY_FACTOR
    return max(0.0, min(1.0, result))


class Matcher:
    """Picks the best-scoring candidate for a query, if any reaches the threshold."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        """Create a matcher accepting scores at or above ``threshold`` (0..1)."""
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {threshold}")
        self.threshold = threshold

    def best(
        self,
        query: NormalisedTrack,
        candidates: Iterable[T],
        describe: Callable[[T], tuple[str, str, int | None]],
        *,
        query_duration_ms: int | None = None,
    ) -> Match[T] | None:
        """Highest-scoring candidate at or above the threshold (first wins ties), else None.

        ``describe(candidate)`` returns the candidate's (artist credit, title, duration_ms).
        """
        best: Match[T] | None = None
        for candidate in candidates:
            artist, title, duration_ms = describe(candidate)
            value = score(
                query,
                normalise(artist, title),
                query_duration_ms=query_duration_ms,
                candidate_duration_ms=duration_ms,
            )
            if best is None or value > best.score:
                best = Match(candidate, value)
        return best if best is not None and best.score >= self.threshold else None


@dataclass(frozen=True, slots=True)
class ScoreParts:
    """``score``'s components, for explanations (``ExplainMatch``, the console)."""

    total: float
    artist: float
    title: float
    version_factor: float
    duration_clash: bool


def score_parts(
    query: NormalisedTrack,
    candidate: NormalisedTrack,
    *,
    query_duration_ms: int | None = None,
    candidate_duration_ms: int | None = None,
) -> ScoreParts:
    """The total ``score`` and what it is made of (artist and title similarity before the
    remixer rule, the version factor, whether the lengths clash)."""
    return ScoreParts(
        total=score(
            query,
            candidate,
            query_duration_ms=query_duration_ms,
            candidate_duration_ms=candidate_duration_ms,
        ),
        artist=_artist_score(query, candidate),
        title=_title_score(query, candidate),
        version_factor=_version_factor(query, candidate, candidate_duration_ms),
        duration_clash=_durations_clash(query_duration_ms, candidate_duration_ms),
    )
