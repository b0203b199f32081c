"""What makes a ``tracks`` row describe one track (issue 12 item 1).

A row is keyed by the caller's ``track_id``. When a caller sends the same id with another
artist/title, the latest name becomes the row's identity and every field found for the
old one is cleared (``recording.py``); "the same name" ignores case, accents and spacing.
Rows mixed before that rule existed hold a match their own name does not support: the
rematch pass (``python -m enrichment_server.rematch --apply``) finds, clears and re-queues
them.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from enrichment_server.store.rematch import ENRICHED_COLUMNS

__all__ = ["cleared_fields", "same_name"]


def _key(text: str) -> str:
    """Case, accents and spacing removed."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def same_name(artist_a: str, title_a: str, artist_b: str, title_b: str) -> bool:
    """True when both names are the same artist and title after normalisation."""
    return (_key(artist_a), _key(title_a)) == (_key(artist_b), _key(title_b))


def cleared_fields() -> dict[str, Any]:
    """Every enriched column (identifiers, provenance, time included) emptied."""
    return dict.fromkeys(ENRICHED_COLUMNS)
