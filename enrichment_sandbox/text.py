"""Text folding and token-overlap relevance shared by the imitations' search endpoints.

The real services rank fuzzily: a query for a track that is not in the catalogue still
returns near misses (the same title by someone else). The imitations reproduce that by
scoring token overlap, so a client has to check candidate similarity itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_NON_WORD = re.compile(r"[^0-9a-z]+")
_FEAT = re.compile(r"\s*[\(\[]?\b(?:feat\.?|ft\.?|featuring)\s.*$", re.IGNORECASE)


def fold(text: str) -> str:
    """Case-, accent- and punctuation-folded form of ``text`` (tokens joined by spaces)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NON_WORD.sub(" ", stripped.casefold()).split())


def tokens(text: str) -> list[str]:
    """The folded tokens of ``text``."""
    return fold(text).split()


def token_set(parts: Iterable[str]) -> frozenset[str]:
    """The union of the folded tokens of every string in ``parts``."""
    return frozenset(tok for part in parts for tok in tokens(part))


def overlap(query: Iterable[str], field: frozenset[str]) -> float:
    """Share of the query tokens found in ``field``, nudged down by extra field tokens.

    The main term is the fraction of query tokens present (0..1). A field holding many
    tokens the query lacks scores slightly lower (at most 10 %), so ``Opus`` ranks the
    plain title above ``Opus (Four Tet Remix)`` while both stay positive.
    """
    wanted = frozenset(query)
    if not wanted or not field:
        return 0.0
    found = len(wanted & field) / len(wanted)
    if found == 0.0:
        return 0.0
    precision = len(wanted & field) / len(field)
    return found * (0.9 + 0.1 * precision)


def strip_featuring(text: str) -> str:
    """``text`` without a trailing "feat. X" / "ft. X" / "(featuring X)" part."""
    return _FEAT.sub("", text).strip()
