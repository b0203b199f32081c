"""Unit tests for enrichment_server.cache.memory.MemoryCache: TTL expiry and LRU eviction."""

from __future__ import annotations

import pytest

from enrichment_server.cache.memory import MemoryCache


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting at t=1000."""
    return FakeClock()


async def test_get_returns_what_set_stored(clock: FakeClock) -> None:
    """A stored value is returned by get for the same key."""
    cache = MemoryCache(10, clock)
    await cache.set("k", b"value", 60)
    assert await cache.get("k") == b"value"
    assert len(cache) == 1


async def test_get_of_unknown_key_is_none(clock: FakeClock) -> None:
    """A key never stored reads as None."""
    cache = MemoryCache(10, clock)
    await cache.set("k", b"value", 60)
    assert await cache.get("other") is None


async def test_set_overwrites_existing_value(clock: FakeClock) -> None:
    """Setting a key again replaces its value and does not add an entry."""
    cache = MemoryCache(10, clock)
    await cache.set("k", b"old", 60)
    await cache.set("k", b"new", 60)
    assert await cache.get("k") == b"new"
    assert len(cache) == 1


async def test_entry_is_live_just_before_ttl(clock: FakeClock) -> None:
    """An entry is still returned a moment before its TTL runs out."""
    cache = MemoryCache(10, clock)
    await cache.set("k", b"v", 60)
    clock.now += 59.999
    assert await cache.get("k") == b"v"


async def test_entry_expires_at_ttl_and_is_dropped(clock: FakeClock) -> None:
    """At its TTL an entry reads as None and is removed from the store."""
    cache = MemoryCache(10, clock)
    await cache.set("k", b"v", 60)
    clock.now += 60
    assert await cache.get("k") is None
    assert len(cache) == 0


async def test_overwrite_restarts_ttl(clock: FakeClock) -> None:
    """Re-setting a key gives it a fresh TTL measured from the new set."""
    cache = MemoryCache(10, clock)
    await cache.set("k", b"v1", 10)
    clock.now += 8
    await cache.set("k", b"v2", 10)
    clock.now += 8
    assert await cache.get("k") == b"v2"


async def test_lru_evicts_least_recently_set(clock: FakeClock) -> None:
    """Beyond max_entries the oldest entry is evicted first."""
    cache = MemoryCache(2, clock)
    await cache.set("a", b"1", 60)
    await cache.set("b", b"2", 60)
    await cache.set("c", b"3", 60)
    assert len(cache) == 2
    assert await cache.get("a") is None
    assert await cache.get("b") == b"2"
    assert await cache.get("c") == b"3"


async def test_get_refreshes_recency(clock: FakeClock) -> None:
    """A get moves the entry to most-recent, so the other entry is evicted instead."""
    cache = MemoryCache(2, clock)
    await cache.set("a", b"1", 60)
    await cache.set("b", b"2", 60)
    assert await cache.get("a") == b"1"
    await cache.set("c", b"3", 60)
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1"
    assert await cache.get("c") == b"3"


async def test_overwrite_refreshes_recency(clock: FakeClock) -> None:
    """Re-setting an existing key makes it most recent."""
    cache = MemoryCache(2, clock)
    await cache.set("a", b"1", 60)
    await cache.set("b", b"2", 60)
    await cache.set("a", b"1b", 60)
    await cache.set("c", b"3", 60)
    assert await cache.get("b") is None
    assert await cache.get("a") == b"1b"


async def test_max_entries_zero_stores_nothing(clock: FakeClock) -> None:
    """A cache bounded to 0 entries never stores anything."""
    cache = MemoryCache(0, clock)
    await cache.set("k", b"v", 60)
    assert len(cache) == 0
    assert await cache.get("k") is None


@pytest.mark.parametrize("ttl", [0, -1, -0.5])
async def test_non_positive_ttl_stores_nothing(clock: FakeClock, ttl: float) -> None:
    """A TTL of zero or less stores nothing."""
    cache = MemoryCache(10, clock)
    await cache.set("k", b"v", ttl)
    assert len(cache) == 0
    assert await cache.get("k") is None


async def test_non_positive_ttl_leaves_existing_value(clock: FakeClock) -> None:
    """A set with ttl<=0 does not disturb a value already stored under the key."""
    cache = MemoryCache(10, clock)
    await cache.set("k", b"v", 60)
    await cache.set("k", b"w", 0)
    assert await cache.get("k") == b"v"
