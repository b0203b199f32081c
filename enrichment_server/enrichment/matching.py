"""Normalisation of "Artist - Title" rows and scoring of upstream candidates against them.

Precision beats recall here: attaching the wrong Spotify id to a track poisons the graph
built from it, so a candidate only matches when the primary artist, the base title *and*
the version (remix, edit, ...) all agree. ``normalise`` turns raw artist/title strings into
a ``NormalisedTrack``; ``score`` compares two of them; ``Matcher`` picks the best candidate
at or above a threshold.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from rapidfuzz.distance import Indel

__all__ = [
    "DEFAULT_THRESHOLD",
    "Match",
    "Matcher",
    "NormalisedTrack",
    "normalise",
    "score",
]

T = TypeVar("T")

DEFAULT_THRESHOLD = 0.82
"""Minimum score for a candidate to be accepted by ``Matcher``."""

_ARTIST_WEIGHT = 0.5
_TITLE_WEIGHT = 0.5
_PRIMARY_WEIGHT = 0.7  # within the artist score; the rest is coverage of all query artists
_WEAK_COMPONENT_MARGIN = 0.05  # the score is capped at the weaker of artist/title + this
_VERSION_MISMATCH_FACTOR = 0.5
_NUMBER_MISMATCH_FACTOR = 0.5
_DURATION_TOLERANCE = 0.15
_DURATION_PENALTY_FACTOR = 0.75
_REMIXER_MIN_SIMILARITY = 0.85

_FOLD_TABLE = str.maketrans(
    {"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "œ": "oe", "þ": "th", "$": "s"}
)
# A dot between a word and a Roman numeral separates them ("Pt.III" is "Pt III"), so the
# numeral stays its own word for the number check; other dots vanish ("Fred again..").
_DOTTED_NUMERAL = re.compile(r"\.(?=[ivx]+\b)")
_VANISHING_PUNCTUATION = re.compile(r"['’‘`´.]")
_OTHER_PUNCTUATION = re.compile(r"[^\w\s]|_")

_FEAT_WORDS = r"(?:feat\.?|ft\.?|featuring)"
_FEAT_SPLIT = re.compile(rf"\s+{_FEAT_WORDS}\s+", re.IGNORECASE)
# "/\\" is how Axwell /\\ Ingrosso write their "&".
_ARTIST_SPLIT = re.compile(r"\s*(?:&|,|;|\s/\s|/\\)\s*|\s+(?:and|x|vs\.?|with)\s+", re.IGNORECASE)
_TITLE_FEAT = re.compile(r"\s(?:feat\.?|ft\.|featuring)\s+(.+)$", re.IGNORECASE)
_FEAT_ANNOTATION = re.compile(rf"(?:{_FEAT_WORDS}|with)\s+(.+)", re.IGNORECASE)
_GROUP = re.compile(r"\(([^()\[\]]*)\)|\[([^()\[\]]*)\]")
_DASHES = re.compile(r"\s+[-–—]\s+")

_ORIGINAL = re.compile(
    r"(?:(?:extended|original|album) )*(?:extended|original|album)(?: mix| version)?"
    r"|(?:\d{4} )?(?:digital(?:ly)? )?remaster(?:ed)?(?: \d{4})?(?: version)?"
)
_VERSION_LAST_WORDS = frozenset(
    {"remix", "rmx", "edit", "dub", "rework", "bootleg", "vip", "mix", "version", "refix"}
    | {"flip", "reprise", "instrumental", "acapella", "acoustic", "live", "mixed", "remake"}
)
_VERSION_FIRST_WORDS = frozenset({"live", "vip"})
_VERSION_CANONICAL = {"rmx": "remix", "vip mix": "vip"}


@dataclass(frozen=True, slots=True)
class NormalisedTrack:
    """A track reduced to comparable parts, plus display strings for upstream search queries."""

    artists: tuple[str, ...]
    """Normalised individual artist names in credit order (main artists, then featured)."""
    base_title: str
    """Normalised title without version, featured-artist or label annotations."""
    version: str
    """Normalised version annotation ("four tet remix", "radio edit"); "" for the original."""
    search_artist: str
    """Display-case main credit for upstream queries (accents kept, featured artists removed)."""
    search_title: str
    """Display-case title without original/label/feat. noise; remix/edit annotations kept."""


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    """A candidate accepted by ``Matcher.best`` together with its score."""

    candidate: T
    score: float


@dataclass(slots=True)
class _TitleParts:
    """Intermediate result of splitting a raw title into base, versions and featured artists."""

    display: str
    versions: list[str]
    version_displays: list[str]
    featured: list[str]


def _fold(text: str) -> str:
    """Case-fold, strip accents and punctuation, collapse whitespace."""
    text = text.casefold().translate(_FOLD_TABLE)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _DOTTED_NUMERAL.sub(" ", text)
    text = _VANISHING_PUNCTUATION.sub("", text)
    text = _OTHER_PUNCTUATION.sub(" ", text)
    return " ".join(text.split())


def _split_artists(credit: str) -> list[str]:
    """Split an artist credit into individual display names, main artists first."""
    credit = re.sub(r"[()\[\]]", " ", credit)
    names: list[str] = []
    for part in _FEAT_SPLIT.split(f" {credit} "):
        names.extend(name.strip() for name in _ARTIST_SPLIT.split(part))
    return [name for name in names if name]


def _primary_artist(credit: str) -> str:
    """The main credit without featured artists, display case and accents kept.

    "Above & Beyond feat. Zoë Johnston" gives "Above & Beyond": splitting on "&" here
    would send "Above" to the upstream searches (scoring splits both sides alike).
    """
    unbracketed = re.sub(r"[()\[\]]", " ", credit)
    main = _FEAT_SPLIT.split(f" {unbracketed} ")[0]
    return " ".join(main.split())


def _classify(annotation: str) -> tuple[str, str] | None:
    """Classify an annotation as ("original"|"version"|"feat", value) or None if unknown."""
    feat = _FEAT_ANNOTATION.fullmatch(annotation.strip())
    if feat is not None:
        return "feat", feat.group(1)
    folded = _fold(annotation)
    if not folded or _ORIGINAL.fullmatch(folded):
        return "original", ""
    words = folded.split()
    if words[-1] in _VERSION_LAST_WORDS or words[0] in _VERSION_FIRST_WORDS:
        version = " ".join(_VERSION_CANONICAL.get(word, word) for word in words)
        return "version", _VERSION_CANONICAL.get(version, version)
    return None


def _apply(parts: _TitleParts, kind: str, value: str, raw: str) -> None:
    """Record a classified annotation on ``parts``."""
    if kind == "feat":
        parts.featured.extend(_split_artists(value))
    elif kind == "version":
        parts.versions.append(value)
        parts.version_displays.append(" ".join(raw.split()))


def _strip_groups(title: str, parts: _TitleParts) -> str:
    """Remove bracketed annotations that are versions, feat., originals or labels."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        classified = _classify(inner)
        if classified is not None:
            _apply(parts, *classified, raw=inner)
            return " "
        return " " if match.group(2) is not None else match.group(0)

    return _GROUP.sub(replace, title)


def _strip_dash_suffixes(title: str, parts: _TitleParts) -> str:
    """Remove Spotify-style " - Radio Edit" suffixes; unknown dash segments stay in the title."""
    head, *tail = _DASHES.split(title)
    kept = [head]
    for segment in tail:
        classified = _classify(segment)
        if classified is None:
            kept.append(segment)
        else:
            _apply(parts, *classified, raw=segment)
    return " - ".join(kept)


def _parse_title(title: str) -> _TitleParts:
    """Split a raw title into display base, version annotations and featured artists."""
    parts = _TitleParts(display="", versions=[], version_displays=[], featured=[])
    text = _strip_dash_suffixes(_strip_groups(title, parts), parts)
    feat = _TITLE_FEAT.search(text)
    if feat is not None:
        parts.featured.extend(_split_artists(feat.group(1)))
        text = text[: feat.start()]
    parts.display = " ".join(text.split()).strip(" -–—")
    return parts


def _fold_title(display: str) -> str:
    """Normalise a display title: "&" reads as "and", "pt" as "part"."""
    words = _fold(display.replace("&", " and ")).split()
    return " ".join("part" if word == "pt" else word for word in words)


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    """Drop empty and repeated names, keeping first occurrences in order."""
    return tuple(dict.fromkeys(name for name in names if name))


# Memoised (a pure function of two strings): DJ sets repeat popular rows, and the regex
# work was a visible share of a hot request. Bounded, so memory stays flat.
@functools.lru_cache(maxsize=65_536)
def normalise(artist: str, title: str) -> NormalisedTrack:
    """Normalise a raw artist credit and title into a comparable ``NormalisedTrack``."""
    parts = _parse_title(title)
    artists = _dedupe(_fold(name) for name in [*_split_artists(artist), *parts.featured])
    search_title = parts.display + "".join(f" ({shown})" for shown in parts.version_displays)
    return NormalisedTrack(
        artists=artists,
        base_title=_fold_title(parts.display),
        version=" ".join(parts.versions),
        search_artist=_primary_artist(artist),
        search_title=search_title,
    )


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


def _best_artist(name: str, candidates: tuple[str, ...]) -> float:
    """Similarity of ``name`` to the closest of ``candidates``."""
    return max((_similarity(name, other) for other in candidates), default=0.0)


def _artist_score(query: tuple[str, ...], candidate: tuple[str, ...]) -> float:
    """How well the candidate's artists cover the query's primary artist and all its artists."""
    if not query or not candidate:
        return 0.0
    primary = _best_artist(query[0], candidate)
    coverage = sum(_best_artist(name, candidate) for name in query) / len(query)
    return _PRIMARY_WEIGHT * primary + (1 - _PRIMARY_WEIGHT) * coverage


def _title_score(query: str, candidate: str) -> float:
    """Fuzzy base-title similarity; titles with different numbers ("Part 1"/"Part 2") clash."""
    similarity = _similarity(query, candidate)
    if _numbers(query) != _numbers(candidate):
        similarity *= _NUMBER_MISMATCH_FACTOR
    return similarity


#: Roman numerals as parts and volumes use them ("Pt. III"); a lone "i", "v" or "x" is
#: too often a word ("I Feel Love") to count unless a part word precedes it.
_ROMAN = frozenset({"ii", "iii", "iv", "vi", "vii", "viii", "ix", "xi", "xii"})
_PART_WORDS = frozenset({"pt", "part", "vol", "volume", "chapter", "episode", "no"})


def _numbers(text: str) -> frozenset[str]:
    """The number words of ``text``: digit-bearing words and Roman numerals."""
    words = text.split()
    previous = ["", *words]
    return frozenset(
        word
        for word, before in zip(words, previous, strict=False)
        if any(char.isdigit() for char in word)
        or word in _ROMAN
        or (before in _PART_WORDS and word in {"i", "v", "x"})
    )


def _version_parts(version: str) -> tuple[str, str]:
    """Split a version into (kind, credit): "four tet remix" -> ("remix", "four tet")."""
    words = version.split()
    if words[-1] in _VERSION_LAST_WORDS:
        return words[-1], " ".join(words[:-1])
    return words[0], " ".join(words[1:])


#: Kinds DJs write interchangeably: "Boris Dlugosch Mix" is his remix.
_KIND_ALIASES = {"mix": "remix"}


def _versions_agree(query: str, candidate: str) -> bool:
    """Same version: both original, or same kind ("remix") by (nearly) the same remixer."""
    if not query or not candidate:
        return query == candidate
    query_kind, query_by = _version_parts(query)
    candidate_kind, candidate_by = _version_parts(candidate)
    if _KIND_ALIASES.get(query_kind, query_kind) != _KIND_ALIASES.get(
        candidate_kind, candidate_kind
    ):
        return False
    if not query_by or not candidate_by:
        return query_by == candidate_by
    return _similarity(query_by, candidate_by) >= _REMIXER_MIN_SIMILARITY


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
    artist = _artist_score(query.artists, candidate.artists)
    title = _title_score(query.base_title, candidate.base_title)
    combined = _ARTIST_WEIGHT * artist + _TITLE_WEIGHT * title
    result = min(combined, min(artist, title) + _WEAK_COMPONENT_MARGIN)
    if not _versions_agree(query.version, candidate.version):
        result *= _VERSION_MISMATCH_FACTOR
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
