"""Optional "breaker open until T" hints in Redis, so every replica's breaker agrees."""

from __future__ import annotations

import math
import time

import redis.asyncio as aredis

from enrichment_server.deadline import Clock
from enrichment_server.redis_conn import DEFAULT_TIMEOUT_S, FAILED, WARN_EVERY_S, GuardedRedis

__all__ = ["SharedBreakerHints"]


class SharedBreakerHints:
    """Optional "breaker open until T" hints shared by replicas, one self-expiring key each.

    ``open_for`` answers from a local copy for ``refresh_s`` seconds so a hot path costs
    at most one Redis round trip per source per second. Failures read as "no hint".
    """

    def __init__(
        self,
        redis: aredis.Redis,
        prefix: str,
        *,
        refresh_s: float = 1.0,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        clock: Clock = time.monotonic,
        warn_every_s: float = WARN_EVERY_S,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._refresh_s = refresh_s
        self._clock = clock
        self._guard = GuardedRedis("breaker_hints", timeout_s, clock, warn_every_s)
        # source -> (fetched at, open until) on the local clock; None = no hint
        self._local: dict[str, tuple[float, float | None]] = {}

    async def publish_open(self, source: str, seconds: float) -> None:
        """Tell every replica that ``source``'s breaker is open for ``seconds``."""
        if seconds <= 0:
            return
        px = math.ceil(seconds * 1000)
        await self._guard.call("publish", lambda: self._redis.set(self._key(source), b"1", px=px))
        # Our own publish is visible at once, whether or not Redis took it.
        now = self._clock()
        self._local[source] = (now, now + seconds)

    async def open_for(self, source: str) -> float | None:
        """Seconds ``source`` is still published as open, or None (no hint, or Redis down)."""
        now = self._clock()
        cached = self._local.get(source)
        if cached is None or now - cached[0] >= self._refresh_s:
            cached = (now, await self._fetch(source, now))
            self._local[source] = cached
        until = cached[1]
        if until is None or until <= now:
            return None
        return until - now

    async def clear(self, source: str) -> None:
        """Withdraw the hint (the breaker closed again)."""
        self._local.pop(source, None)
        await self._guard.call("clear", lambda: self._redis.delete(self._key(source)))

    async def _fetch(self, source: str, now: float) -> float | None:
        # A failure is cached like an answer: while Redis is down the hot path should
        # not pay a timeout on every call.
        pttl = await self._guard.call("open_for", lambda: self._redis.pttl(self._key(source)))
        if pttl is FAILED or int(pttl) <= 0:
            return None  # -2 absent, -1 no expiry (not written by us)
        return now + int(pttl) / 1000

    def _key(self, source: str) -> str:
        return f"{self._prefix}{source}"
