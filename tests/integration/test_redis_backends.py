"""Tests for the Redis backends (cache, breaker hints) against real Redis servers.

The shared limiter's tests are in ``test_ratelimit_redis.py`` (they reuse these fixtures).

The machine's Redis (db 15, a unique key prefix per test, deleted afterwards) covers the
happy paths; a private ``redis-server`` that the test kills, freezes or restarts covers
outages. Sleeps are faked; only Redis round trips take real time.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aredis
from structlog.testing import capture_logs
from structlog.typing import EventDict

from enrichment_server.cache.redis import RedisCache
from enrichment_server.redis_conn import redis_client
from enrichment_server.resilience.hints import SharedBreakerHints
from tests.redis_server import REDIS_SERVER, RedisServer

pytestmark = pytest.mark.integration


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RecordingSleep:
    """Records requested delays and returns at once (after yielding to the loop)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aredis.Redis]:
    """A client for the machine's Redis, built like app.py builds it."""
    redis = redis_client(redis_url)
    yield redis
    await redis.aclose()


@pytest.fixture
async def prefix(client: aredis.Redis) -> AsyncIterator[str]:
    """A key prefix private to this test; its keys are deleted afterwards."""
    test_prefix = f"test:redis_store:{uuid.uuid4().hex}:"
    yield test_prefix
    keys = [key async for key in client.scan_iter(match=f"{test_prefix}*")]
    if keys:
        await client.delete(*keys)


@pytest.fixture
def server() -> Iterator[RedisServer]:
    """A private redis-server on a free port, for tests that break it."""
    if not Path(REDIS_SERVER).exists():
        reason = f"{REDIS_SERVER} not installed"
        if os.environ.get("CI") == "true":  # the same rule as conftest's redis_url
            pytest.fail(f"{reason} (required when CI=true)")
        pytest.skip(reason)
    with RedisServer() as private:
        yield private


@pytest.fixture
async def private_client(server: RedisServer) -> AsyncIterator[aredis.Redis]:
    """A client for the private server."""
    redis = redis_client(server.url)
    yield redis
    await redis.aclose()


def _warnings(logs: list[EventDict]) -> list[EventDict]:
    """The throttled Redis warnings among captured log events."""
    return [e for e in logs if e["event"] == "redis_unavailable" and e["log_level"] == "warning"]


async def test_cache_round_trip_keeps_the_ttl(client: aredis.Redis, prefix: str) -> None:
    """A set value reads back as a hit and expires after the TTL it was set with."""
    cache = RedisCache(client, timeout_s=5)  # about TTLs, not timeouts: no flake under load
    await cache.set(f"{prefix}k", b"\x00value\xff", 60)
    assert await cache.get(f"{prefix}k") == b"\x00value\xff"
    assert 59_000 < await client.pttl(f"{prefix}k") <= 60_000
    assert (cache.hits, cache.misses, cache.errors) == (1, 0, 0)


async def test_cache_absent_key_is_a_miss(client: aredis.Redis, prefix: str) -> None:
    """An absent key reads as None and counts as a miss, not an error."""
    cache = RedisCache(client)
    await cache.set(f"{prefix}zero", b"v", 0)
    assert await cache.get(f"{prefix}absent") is None
    assert await cache.get(f"{prefix}zero") is None
    assert (cache.hits, cache.misses, cache.errors) == (0, 2, 0)


async def test_cache_with_dead_redis_is_a_quick_throttled_miss(
    server: RedisServer, private_client: aredis.Redis
) -> None:
    """With Redis killed, get/set fail at once (refused, not timed out) and silently, warning
    once per 30 s per kind."""
    clock = FakeClock()
    # A timeout longer than the test's own: had a call waited for it, the test would fail.
    cache = RedisCache(private_client, clock=clock, timeout_s=120)
    await cache.set("k", b"v", 60)
    server.kill()
    with capture_logs() as logs:
        for _ in range(5):
            assert await cache.get("k") is None
            await cache.set("k", b"v", 60)
        clock.now += 31
        assert await cache.get("k") is None
    warnings = _warnings(logs)
    assert len(warnings) == 2
    assert warnings[1]["suppressed"] == 9
    assert "Timeout" not in warnings[0]["error"]  # refused at once, not a timeout
    assert (cache.hits, cache.misses, cache.errors) == (0, 0, 11)


async def test_cache_recovers_after_restart_without_a_new_client(
    server: RedisServer, private_client: aredis.Redis
) -> None:
    """After Redis comes back on the same port, the same cache object caches again."""
    cache = RedisCache(private_client)
    await cache.set("k", b"before", 60)
    server.kill()
    with capture_logs():
        assert await cache.get("k") is None
    server.start()
    assert await cache.get("k") is None  # the restarted server is empty: a miss, no error
    await cache.set("k", b"after", 60)
    assert await cache.get("k") == b"after"
    assert (cache.hits, cache.misses, cache.errors) == (1, 1, 1)


async def test_cache_with_hung_redis_times_out(
    server: RedisServer, private_client: aredis.Redis
) -> None:
    """A frozen Redis costs one timeout per call, then works again once it resumes."""
    # 1 s: long enough for a live Redis on a busy machine, short for a test that waits it out.
    cache = RedisCache(private_client, timeout_s=1.0)
    await cache.set("k", b"v", 60)
    server.pause()
    try:
        with capture_logs() as logs:
            assert await cache.get("k") is None
    finally:
        server.resume()
    assert [w["error"] for w in _warnings(logs)] == ["TimeoutError"]
    assert await cache.get("k") == b"v"


async def test_hints_round_trip_between_replicas(client: aredis.Redis, prefix: str) -> None:
    """A published open hint is seen by another replica and gone after clear."""
    clock = FakeClock()
    publisher = SharedBreakerHints(client, prefix, clock=clock)
    reader = SharedBreakerHints(client, prefix, clock=clock)
    assert await reader.open_for("musicbrainz") is None
    await publisher.publish_open("musicbrainz", 30)
    assert await publisher.open_for("musicbrainz") == 30
    clock.now += 1.0
    remaining = await reader.open_for("musicbrainz")
    assert remaining is not None
    assert 29 < remaining <= 30
    assert await reader.open_for("spotify") is None
    await publisher.clear("musicbrainz")
    assert await publisher.open_for("musicbrainz") is None
    clock.now += 1.0
    assert await reader.open_for("musicbrainz") is None


async def test_hints_are_cached_for_refresh_s(client: aredis.Redis, prefix: str) -> None:
    """Within refresh_s a hint is answered locally; after it, Redis is asked again."""
    clock = FakeClock()
    hints = SharedBreakerHints(client, prefix, refresh_s=1.0, clock=clock)
    await client.set(f"{prefix}lastfm", b"1", px=20_000)
    first = await hints.open_for("lastfm")
    assert first is not None
    await client.delete(f"{prefix}lastfm")  # behind the cache's back
    clock.now += 0.5
    assert await hints.open_for("lastfm") == pytest.approx(first - 0.5)
    clock.now += 0.5
    assert await hints.open_for("lastfm") is None


async def test_hints_are_none_when_redis_is_down(
    server: RedisServer, private_client: aredis.Redis
) -> None:
    """With Redis killed, hints read as None and publishing does not raise."""
    clock = FakeClock()
    hints = SharedBreakerHints(private_client, "hint:", clock=clock)
    await hints.publish_open("spotify", 30)
    other = SharedBreakerHints(private_client, "hint:", clock=clock)
    server.kill()
    with capture_logs() as logs:
        assert await other.open_for("spotify") is None
        await hints.publish_open("spotify", 30)
        await hints.clear("spotify")
        assert await hints.open_for("spotify") is None
    # one warning per object and failure kind, however many calls failed
    assert [w["op"] for w in _warnings(logs)] == ["open_for", "publish"]
