"""Deterministic track ids: the same song gets the same id from every spider and every run.

``track_id(artist, title)`` hashes the normalised main artists, base title and version
(remix, edit, dub...). It deliberately ignores what tracklists disagree on: case,
accents, punctuation, ``feat.`` credits, "(Original Mix)" / "(Extended Mix)" and
``[Label]`` suffixes, and the order of ``&``-joined artists. The id is an opaque
``trk-<24 hex>`` string (96 bits of BLAKE2b), never a UUID; it is the primary key of
``tracks`` and the ``track_id`` sent to the enrichment service.

This is a small reimplementation of the rules in ``enrichment_server.enrichment.matching``: the
scrapers are installed without the server package, so they cannot import it. The two
need not agree exactly: the server matches candidates itself, this only dedupes rows.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["TRACK_ID_PATTERN", "NormalisedKey", "fold", "normalised_key", "track_id"]

#: Every id this module makes matches this.
TRACK_ID_PATTERN = re.compile(r"^trk-[0-9a-f]{24}$")

_FOLD_TABLE = str.maketrans(
    {"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "œ": "oe", "þ": "th"}
)
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_VANISHING = re.compile(r"['’‘`´.]")
#: A "featuring" keyword as a whole word ("Shift", "Swift Edit", "Defeat" hold none).
FEAT = r"(?<!\w)(?:feat\.?|ft\.?|featuring)(?![\w.])"
_FEAT_SPLIT = re.compile(rf"\s+\(?{FEAT}\s+", re.IGNORECASE)
_ARTIST_SPLIT = re.compile(r"\s*(?:&|,|;|\s/\s)\s*|\s+(?:and|x|vs\.?|with)\s+", re.IGNORECASE)
_GROUP = re.compile(r"\(([^()\[\]]*)\)|\[([^()\[\]]*)\]")
_ORIGINAL = re.compile(r"(?:original|extended|album|club|radio)?\s*(?:mix|version)|original")
_FEAT_ANNOTATION = re.compile(rf"{FEAT}\s+.+", re.IGNORECASE)
_TITLE_FEAT = re.compile(rf"\s{FEAT}\s+.+$", re.IGNORECASE)
#: Last words that make an annotation a version of the track.
VERSION_WORDS = frozenset(
    {"remix", "rmx", "edit", "dub", "rework", "bootleg", "vip", "refix", "flip", "mashup"}
)


@dataclass(frozen=True, slots=True)
class NormalisedKey:
    """The parts a track id is made of."""

    artists: tuple[str, ...]
    title: str
    version: str


def fold(text: str) -> str:
    """Case-fold, strip accents and punctuation, collapse whitespace."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD_TABLE))
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = _PUNCTUATION.sub(" ", _VANISHING.sub("", text))
    return " ".join(text.split())


def main_artists(credit: str) -> list[str]:
    """The main artists of a credit (featured artists dropped), folded, in credit order."""
    main = _FEAT_SPLIT.split(f" {credit} ")[0]
    names = (fold(name) for name in _ARTIST_SPLIT.split(main.strip(" ()")))
    return [name for name in names if name]


def is_version(annotation: str) -> bool:
    """True for remix/edit-like annotations ("Four Tet Remix", "VIP", "Dub")."""
    words = fold(annotation).split()
    return bool(words) and (words[-1] in VERSION_WORDS or words[0] == "vip")


def _title_parts(title: str) -> tuple[str, str]:
    """(base title, version) of a raw title; feat., originals and labels dropped."""
    versions: list[str] = []

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1) if match.group(1) is not None else match.group(2)
        if is_version(inner):
            versions.append(fold(inner).replace("rmx", "remix"))
            return " "
        plain = fold(inner)
        if match.group(2) is not None or _FEAT_ANNOTATION.fullmatch(inner.strip()):
            return " "
        return " " if not plain or _ORIGINAL.fullmatch(plain) else match.group(0)

    base = _TITLE_FEAT.sub("", _GROUP.sub(replace, title))
    return fold(base.replace("&", " and ")), " ".join(versions)


def normalised_key(artist: str, title: str) -> NormalisedKey:
    """The normalised (artists, title, version) of a raw credit and title."""
    base, version = _title_parts(title)
    return NormalisedKey(tuple(sorted(set(main_artists(artist)))), base, version)


def track_id(artist: str, title: str) -> str:
    """The deterministic id of "artist - title" (``trk-`` + 24 hex digits)."""
    key = normalised_key(artist, title)
    text = "\x1f".join(["|".join(key.artists), key.title, key.version])
    return "trk-" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()
