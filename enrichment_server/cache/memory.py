"""Byte caches for upstream answers: an in-process TTL LRU now, Redis later.

Values are opaque bytes (the source layer encodes them), so every implementation is a
plain byte store and the Redis one is a drop-in. A cache error is a miss, never a failure.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

from enrichment_server.deadline import Clock


class Cache(Protocol):
    """What the upstream caller needs from a cache."""

    async def get(self, key: str) -> bytes | None:
        """The value, or None when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store ``value`` for ``ttl_s`` seconds."""
        ...


class MemoryCache:
    """In-process LRU with per-entry expiry; ``max_entries`` bounds memory."""

    def __init__(self, max_entries: int, clock: Clock = time.monotonic) -> None:
        self._max = max_entries
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    async def get(self, key: str) -> bytes | None:
        """The live value for ``key`` (refreshing its LRU position), else None."""
        entry = self._data.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if expires_at <= self._clock():
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        """Store ``value``; evicts the least recently used entries beyond the bound."""
        if self._max <= 0 or ttl_s <= 0:
            return
        self._data[key] = (self._clock() + ttl_s, value)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)
