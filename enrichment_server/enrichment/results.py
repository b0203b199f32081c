"""Final outcomes remembered by normalised request, so a hot track skips the waterfall.

Upstream answers are cached per lookup (``sources/caller.py``); a repeated track still
paid for decoding every cached answer, re-scoring candidates and merging (about a third
of a hot request, measured by ``make bench``). This cache keeps the merged result of a
final outcome: COMPLETED or NOT_FOUND with no error at all. A PARTIAL or FAILED result is
never kept (a retry must really retry), and ``force_refresh`` bypasses it. Keys are the
normalised artists, title and version plus any given ids, so spelling variants of one
recording ("Royksopp" / "Röyksopp", "(Original Mix)") share an entry. In-process only:
across replicas the shared upstream cache does the work.
"""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict

from enrichment_server.deadline import Clock
from enrichment_server.domain import EnrichmentRequest, EnrichmentResult, Status
from enrichment_server.enrichment.matching import MATCHER_VERSION, NormalisedTrack

FINAL = frozenset({Status.COMPLETED, Status.NOT_FOUND})


def result_key(request: EnrichmentRequest, query: NormalisedTrack) -> str:
    """The cache key of a request: the matcher's version, normalised names plus the
    identifiers it carries (a newer matcher never serves an older matcher's result)."""
    return "\x1f".join(
        (
            f"m{MATCHER_VERSION}",
            "|".join(query.artists),
            query.base_title,
            query.version,
            request.spotify_id or "",
            request.isrc or "",
            request.musicbrainz_id or "",
        )
    )


class ResultCache:
    """LRU of final results with a time to live; ``max_entries`` 0 turns it off."""

    def __init__(self, max_entries: int, ttl_s: float, clock: Clock = time.monotonic) -> None:
        self._max = max_entries
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, EnrichmentResult]] = OrderedDict()

    def get(self, key: str, track_id: str) -> EnrichmentResult | None:
        """The live result for ``key``, re-addressed to ``track_id`` and marked cached."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires_at, result = entry
        if expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return dataclasses.replace(result, track_id=track_id, cached=True, duration_s=0.0)

    def clear(self) -> None:
        """Forget every result (the sources they were computed with changed)."""
        self._entries.clear()

    def put(self, key: str, result: EnrichmentResult) -> None:
        """Keep ``result`` if it is final and error-free."""
        if self._max <= 0 or result.status not in FINAL or result.errors:
            return
        self._entries[key] = (self._clock() + self._ttl_s, result)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
