"""Integer counters over a sliding time window, in buckets (breaker and retry budget)."""

from __future__ import annotations

import math
from collections import deque


class SlidingCounts:
    """Integer counters summed over the last ``window_s`` in ``bucket_s`` buckets.

    Totals are kept by subtract-on-evict (resilience4j's time-based window), so reading
    them is O(1) however many calls the window holds. The window covers the current
    bucket and the ``size - 1`` before it; a bucket leaves when it is ``size`` old.
    """

    def __init__(self, fields: int, window_s: float, bucket_s: float = 1.0) -> None:
        if not 0 < bucket_s <= window_s:
            raise ValueError("need 0 < bucket_s <= window_s")
        self._bucket_s = bucket_s
        # round() first so 3.0 / 0.1 = 30.000000000000004 does not become 31 buckets.
        self._size = max(1, math.ceil(round(window_s / bucket_s, 9)))
        self._buckets: deque[tuple[int, list[int]]] = deque()
        self._totals = [0] * fields

    def totals(self, now: float) -> tuple[int, ...]:
        """The sums of every counter over the window ending at ``now``."""
        self._evict(math.floor(now / self._bucket_s))
        return tuple(self._totals)

    def add(self, now: float, *amounts: int) -> None:
        """Add ``amounts`` (one per counter) to the bucket holding ``now``."""
        index = math.floor(now / self._bucket_s)
        self._evict(index)
        if not self._buckets or self._buckets[-1][0] != index:
            self._buckets.append((index, [0] * len(self._totals)))
        counts = self._buckets[-1][1]
        for field, amount in enumerate(amounts):
            counts[field] += amount
            self._totals[field] += amount

    def clear(self) -> None:
        """Forget everything."""
        self._buckets.clear()
        self._totals = [0] * len(self._totals)

    def _evict(self, index: int) -> None:
        """Drop the buckets that are ``size`` or more buckets older than ``index``."""
        while self._buckets and self._buckets[0][0] <= index - self._size:
            _, counts = self._buckets.popleft()
            for field, amount in enumerate(counts):
                self._totals[field] -= amount
