"""The ``Cache`` protocol over Redis, shared by every replica; any Redis trouble is a miss."""

from __future__ import annotations

import math
import time

import redis.asyncio as aredis

from enrichment_server.deadline import Clock
from enrichment_server.redis_conn import DEFAULT_TIMEOUT_S, FAILED, WARN_EVERY_S, GuardedRedis

__all__ = ["RedisCache"]


class RedisCache:
    """The ``Cache`` protocol over Redis; any Redis trouble reads as a miss.

    Counters: ``hits`` and ``misses`` count answers from Redis, ``errors`` counts calls
    (get or set) that failed or timed out; a failed get is returned as a miss but only
    counted under ``errors`` so the hit ratio is not skewed by an outage.
    """

    def __init__(
        self,
        redis: aredis.Redis,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        clock: Clock = time.monotonic,
        warn_every_s: float = WARN_EVERY_S,
    ) -> None:
        self._redis = redis
        self._guard = GuardedRedis("cache", timeout_s, clock, warn_every_s)
        self.hits = 0
        self.misses = 0
        self.errors = 0

    async def get(self, key: str) -> bytes | None:
        """The stored bytes, or None when absent, expired or Redis is unavailable."""
        value = await self._guard.call("get", lambda: self._redis.get(key))
        if value is FAILED:
            self.errors += 1
            return None
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        # A client built with decode_responses=True would hand back str; values are bytes.
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        """``SET key value PX ttl``; silently does nothing if Redis is unavailable."""
        if ttl_s <= 0:
            return  # Redis rejects PX 0, and a zero TTL means "do not keep" anyway
        ttl_ms = math.ceil(ttl_s * 1000)
        done = await self._guard.call("set", lambda: self._redis.set(key, value, px=ttl_ms))
        if done is FAILED:
            self.errors += 1
