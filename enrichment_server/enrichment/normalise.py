"""Raw "Artist - Title" rows reduced to comparable parts, the way DJ tracklists write them.

``normalise(artist, title)`` gives a ``NormalisedTrack``: the individual artists (every
separator DJs use: ``&``, ``and``, ``x``, ``vs.``, ``with``, ``feat.``, ``ft.``, ``/``,
``Λ``, ``/\\``, commas), the base title (accents, case, punctuation, part numbers and
digits glued to letters folded: "Pt. II" = "Part 2" = "II"), the version ("radio edit",
"four tet remix", "extended"; "" for the original) and whether the row is a mashup
("A vs. B - X vs. Y"). Scoring lives in ``matching.py``.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from enrichment_server.enrichment.versions import classify

__all__ = ["NormalisedTrack", "fold", "normalise"]

_FOLD_TABLE = str.maketrans(
    {"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "œ": "oe", "þ": "th", "$": "s"}
)
# A dot between a word and a Roman numeral separates them ("Pt.III" is "Pt III"), so the
# numeral stays its own word for the number check; other dots vanish ("Fred again..").
_DOTTED_NUMERAL = re.compile(r"\.(?=[ivx]+\b)")
_VANISHING_PUNCTUATION = re.compile(r"['’‘`´.]")
_OTHER_PUNCTUATION = re.compile(r"[^\w\s]|_")
# "9PM" is "9 PM": a digit glued to a letter is two words (either way round).
_GLUED_DIGIT = re.compile(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)")

_FEAT_WORDS = r"(?:feat\.?|ft\.?|featuring)"
_FEAT_SPLIT = re.compile(rf"\s+{_FEAT_WORDS}\s+", re.IGNORECASE)
# "/\\" and "Λ" are how Axwell /\\ Ingrosso write their "&"; "/" joins back-to-back DJs.
_ARTIST_SPLIT = re.compile(
    r"\s*(?:&|,|;|\+|/\\|/|Λ)\s*|\s+(?:and|x|vs\.?|versus|with|meets)\s+", re.IGNORECASE
)
_TITLE_FEAT = re.compile(r"\s(?:feat\.?|ft\.|featuring)\s+(.+)$", re.IGNORECASE)
_GROUP = re.compile(r"\(([^()\[\]]*)\)|\[([^()\[\]]*)\]")
_DASHES = re.compile(r"\s+[-–—]\s+")
_MASHUP = re.compile(r"\s+(?:vs\.?|versus)\s+", re.IGNORECASE)
_SUBTITLE = re.compile(r"\([^()]*\)")

_PART_WORDS = frozenset({"part", "pt", "pts", "no", "nr", "number"})
_NUMBER_WORDS = {
    word: str(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve".split()  # noqa: SIM905
    )
}
_ROMAN = {
    roman: str(value)
    for value, roman in enumerate(
        "- i ii iii iv v vi vii viii ix x xi xii xiii xiv xv xvi xvii xviii xix xx".split()  # noqa: SIM905
    )
    if value
}
#: A lone "i", "v" or "x" is too often a word ("I Feel Love") to count as a number
#: unless a part word precedes it.
_LONE_ROMAN = frozenset({"i", "v", "x"})


@dataclass(frozen=True, slots=True)
class NormalisedTrack:
    """A track reduced to comparable parts, plus display strings for upstream search queries."""

    artists: tuple[str, ...]
    """Normalised individual artist names in credit order (main artists, then featured)."""
    base_title: str
    """Normalised title without version, featured-artist or label annotations."""
    version: str
    """Canonical version ("four tet remix", "radio edit", "extended"); "" for the original."""
    search_artist: str
    """Display-case main credit for upstream queries (accents kept, featured artists removed)."""
    search_title: str
    """Display-case title without original/label/feat. noise; remix/edit annotations kept."""
    mashup: bool = False
    """The title joins two titles with "vs." ("Adagio for Strings vs. Strobe")."""
    aliases: tuple[str, ...] = ()
    """Other names an artist of the credit goes by here: "Paul & Fritz Kalkbrenner" credits
    "paul kalkbrenner" (a shared surname written once)."""
    short_title: str = ""
    """The base title without a parenthesised subtitle ("groovejet" for "Groovejet (If This
    Ain't Love)"), which tracklists often drop; "" when the title has none."""


@dataclass(slots=True)
class _TitleParts:
    """Intermediate result of splitting a raw title into base, versions and featured artists."""

    display: str
    versions: list[str]
    version_displays: list[str]
    featured: list[str]


def fold(text: str) -> str:
    """Case-fold, strip accents and punctuation, collapse whitespace."""
    text = text.casefold().translate(_FOLD_TABLE)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _DOTTED_NUMERAL.sub(" ", text)
    text = _VANISHING_PUNCTUATION.sub("", text)
    text = _OTHER_PUNCTUATION.sub(" ", text)
    return " ".join(text.split())


def split_artists(credit: str) -> list[str]:
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


def _apply(parts: _TitleParts, kind: str, value: str, raw: str) -> None:
    """Record a classified annotation on ``parts``."""
    if kind == "feat":
        parts.featured.extend(split_artists(value))
    elif kind == "version":
        parts.versions.append(value)
        parts.version_displays.append(" ".join(raw.split()))


def _strip_groups(title: str, parts: _TitleParts) -> str:
    """Remove bracketed annotations that are versions, feat., originals or labels."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        classified = classify(inner, fold(inner))
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
        classified = classify(segment, fold(segment))
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
        parts.featured.extend(split_artists(feat.group(1)))
        text = text[: feat.start()]
    parts.display = " ".join(text.split()).strip(" -–—")
    return parts


def _number(word: str, after_part_word: bool) -> str | None:
    """The digits ``word`` stands for as a part number, or None when it is a plain word."""
    if word.isdigit():
        return str(int(word))
    if word in _ROMAN and (after_part_word or word not in _LONE_ROMAN):
        return _ROMAN[word]
    if after_part_word and word in _NUMBER_WORDS:
        return _NUMBER_WORDS[word]
    return None


def fold_title(display: str) -> str:
    """Normalise a display title: "&" reads as "and", "9PM" as "9 PM"; "Pt. II", "Part 2"
    and "II" all read "2"."""
    words = _GLUED_DIGIT.sub(" ", fold(display.replace("&", " and "))).split()
    out: list[str] = []
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if word in _PART_WORDS and _number(following, after_part_word=True) is not None:
            continue  # the number after it says it all ("Caldera Part 2" = "Caldera 2")
        before = words[i - 1] if i else ""
        # A lone "I"/"V"/"X" closing a title is a part number too ("Caldera I").
        last = i == len(words) - 1 and i > 0
        number = _number(word, after_part_word=before in _PART_WORDS or last)
        out.append(number if number is not None else word)
    return " ".join(out)


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    """Drop empty and repeated names, keeping first occurrences in order."""
    return tuple(dict.fromkeys(name for name in names if name))


def _shared_surnames(names: list[str]) -> tuple[str, ...]:
    """ "Paul & Fritz Kalkbrenner": a one-word name before a longer one may share its surname."""
    return tuple(
        f"{name} {following.split()[-1]}"
        for name, following in itertools.pairwise(names)
        if len(name.split()) == 1 and len(following.split()) == 2
    )


def _is_mashup(display: str) -> bool:
    """Whether a title joins two titles with "vs." ("Adagio for Strings vs. Strobe")."""
    sides = _MASHUP.split(display)
    return len(sides) == 2 and all(fold(side) for side in sides)


# Memoised (a pure function of two strings): DJ sets repeat popular rows, and the regex
# work was a visible share of a hot request. Bounded, so memory stays flat.
@functools.lru_cache(maxsize=65_536)
def normalise(artist: str, title: str) -> NormalisedTrack:
    """Normalise a raw artist credit and title into a comparable ``NormalisedTrack``."""
    parts = _parse_title(title)
    credited = [fold(name) for name in split_artists(artist)]
    artists = _dedupe([*credited, *(fold(name) for name in parts.featured)])
    search_title = parts.display + "".join(f" ({shown})" for shown in parts.version_displays)
    return NormalisedTrack(
        artists=artists,
        base_title=fold_title(parts.display),
        version=" ".join(parts.versions),
        search_artist=_primary_artist(artist),
        search_title=search_title,
        mashup=_is_mashup(parts.display),
        aliases=_shared_surnames([name for name in credited if name]),
        short_title=_short_title(parts.display),
    )


def _short_title(display: str) -> str:
    """The folded title without parenthesised subtitles, or "" when it has none."""
    short = _SUBTITLE.sub(" ", display)
    return fold_title(short) if short != display else ""
