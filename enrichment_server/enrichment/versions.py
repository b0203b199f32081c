"""Version annotations ("Radio Edit", "Four Tet Remix", "Extended Mix"): what they are, and
when two of them name the same recording.

"Original Mix", "Album Version" and remaster notes name the plain recording. Everything
else DJs append is a version, a separate recording with its own ISRC and duration:
"Extended Mix", "Club Mix", "Radio Edit", "Dub", "Instrumental", "VIP", "Acapella",
a remix by someone. Spellings of one version are made equal here ("Extended Version" =
"Extended Mix" = "extended"; "Rmx" = "Remix"; "VIP Mix" = "VIP"); ``agree`` compares two.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Indel

__all__ = ["EXTENDED", "agree", "classify", "remixer", "unextended"]

EXTENDED = "extended"
"""The canonical version of "Extended Mix" / "Extended Version" / "Extended"."""

_FEAT_ANNOTATION = re.compile(r"(?:feat\.?|ft\.?|featuring|with)\s+(.+)", re.IGNORECASE)
_ORIGINAL = re.compile(
    r"(?:original|album|main)(?: mix| version)?"
    r"|(?:\d{4} )?(?:digital(?:ly)? )?remaster(?:ed)?(?: \d{4})?(?: version)?"
)
_LAST_WORDS = frozenset(
    {"remix", "rmx", "edit", "dub", "rework", "bootleg", "vip", "mix", "version", "refix"}
    | {"flip", "reprise", "instrumental", "acapella", "acoustic", "live", "mixed", "remake"}
    | {"mashup", "cut", "extended", "cappella", "acappella", "unplugged", "session", "demo"}
)
_FIRST_WORDS = frozenset({"live", "vip", "extended"})
_WHOLE = {
    "extended mix": EXTENDED,
    "extended version": EXTENDED,
    "extended edit": EXTENDED,
    "extended original mix": EXTENDED,
    "original extended mix": EXTENDED,
    "radio mix": "radio edit",
    "radio version": "radio edit",
    "single edit": "radio edit",
    "single version": "radio edit",
    "vip mix": "vip",
    "dub mix": "dub",
    "instrumental mix": "instrumental",
    "instrumental version": "instrumental",
    "a cappella": "acapella",
    "acappella": "acapella",
    "acapella version": "acapella",
}
_WORDS = {"rmx": "remix", "mash": "mashup"}
#: Descriptor words DJs misspell ("Orginal Mix", "Extnded Mix"): a word of 5+ letters this
#: close to one of them is that word. Names are rarely this close to them.
_DESCRIPTORS = ("original", "extended", "radio", "remix", "instrumental", "acapella")
_DESCRIPTOR_MIN_SIMILARITY = 0.8
#: Kinds DJs write interchangeably: "Boris Dlugosch Mix" is his remix.
_KIND_ALIASES = {"mix": "remix"}
_REMIXER_MIN_SIMILARITY = 0.85


def _canonical(folded: str) -> str:
    """One spelling per version: "Extended Version" -> "extended", "Rmx" -> "remix"."""
    folded = folded.replace("mash up", "mashup")
    words = " ".join(_WORDS.get(word, word) for word in folded.split())
    return _WHOLE.get(words, words)


def _descriptor(word: str) -> str:
    """``word``, or the descriptor it misspells."""
    if len(word) < 5 or word in _DESCRIPTORS:
        return word
    best = max(_DESCRIPTORS, key=lambda known: Indel.normalized_similarity(word, known))
    close = Indel.normalized_similarity(word, best) >= _DESCRIPTOR_MIN_SIMILARITY
    return best if close else word


def classify(annotation: str, folded: str) -> tuple[str, str] | None:
    """Classify an annotation as ("original"|"version"|"feat", value) or None if unknown.

    ``folded`` is the annotation folded for comparison (case, accents, punctuation).
    """
    feat = _FEAT_ANNOTATION.fullmatch(annotation.strip())
    if feat is not None:
        return "feat", feat.group(1)
    joined = folded.replace("a cappella", "acapella").replace("mash up", "mashup")
    folded = " ".join(_descriptor(word) for word in joined.split())
    if not folded or _ORIGINAL.fullmatch(folded):
        return "original", ""
    words = folded.replace("mash up", "mashup").split()
    if words[-1] in _LAST_WORDS or words[0] in _FIRST_WORDS or words[-1] == "rmx":
        return "version", _canonical(folded)
    return None


def _parts(version: str) -> tuple[str, str]:
    """Split a version into (kind, credit): "four tet remix" -> ("remix", "four tet")."""
    words = version.split()
    if words[-1] in _LAST_WORDS:
        return words[-1], " ".join(words[:-1])
    return words[0], " ".join(words[1:])


def remixer(version: str) -> str:
    """Who made a version ("four tet remix" -> "four tet"; "tiestos in search of sunrise
    remix" -> "tiestos in search of sunrise"); "" for plain kinds ("radio edit")."""
    if not version:
        return ""
    kind, credit = _parts(unextended(version) or version)
    if _KIND_ALIASES.get(kind, kind) not in ("remix", "edit", "rework", "bootleg", "refix"):
        return ""
    return "" if credit in ("radio", "club", "extended", "original", "") else credit


def unextended(version: str) -> str | None:
    """The version an "extended" one lengthens ("lane 8 extended remix" -> "lane 8 remix",
    "extended" -> ""); None when ``version`` is not an extended one."""
    words = version.split()
    if EXTENDED not in words:
        return None
    return " ".join(word for word in words if word != EXTENDED)


def _similar(left: str, right: str) -> bool:
    return Indel.normalized_similarity(left, right) >= _REMIXER_MIN_SIMILARITY


def agree(query: str, candidate: str) -> bool:
    """Same version: both original, or same kind ("remix") by (nearly) the same remixer."""
    if not query or not candidate:
        return query == candidate
    if query == candidate:
        return True
    query_kind, query_by = _parts(query)
    candidate_kind, candidate_by = _parts(candidate)
    if _KIND_ALIASES.get(query_kind, query_kind) != _KIND_ALIASES.get(
        candidate_kind, candidate_kind
    ):
        return False
    if not query_by or not candidate_by:
        return query_by == candidate_by
    return _similar(query_by, candidate_by) or _similar(
        query_by.replace(" ", ""), candidate_by.replace(" ", "")
    )
