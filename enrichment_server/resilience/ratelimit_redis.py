"""The ``RateLimiter`` protocol shared by every replica through one Redis key per source."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aredis

from enrichment_server.deadline import Clock, Deadline
from enrichment_server.redis_conn import (
    DEFAULT_TIMEOUT_S,
    FAILED,
    WARN_EVERY_S,
    GuardedRedis,
    RedisFailure,
)
from enrichment_server.resilience.ratelimit import LATE_TOLERANCE_S, RateLimiter, SpacingLimiter

__all__ = ["RedisRateLimiter"]

Sleep = Callable[[float], Awaitable[None]]

# One clock for every replica: Redis's TIME, in microseconds. Lua numbers are doubles
# (exact up to 2**53, ~285 years of microseconds); tostring() renders them with 14
# significant digits ("1.7954906051447e+15"), so the slot is stored via
# string.format('%d') rather than relying on how this Redis version formats numbers.
_SLOT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local stored = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local slot = math.max(now, stored)
local wait = slot - now
if wait >= tonumber(ARGV[2]) then
  return -1
end
local after = slot + tonumber(ARGV[1])
local px = math.ceil((after - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', px)
return wait
"""


class RedisRateLimiter:
    """The ``RateLimiter`` protocol for one source, shared by every replica via one key.

    Slots are evenly spaced ``1 / rate_per_s`` apart and handed out atomically by a Lua
    script on Redis's own clock. If Redis fails, the in-process ``fallback`` (by default a
    ``SpacingLimiter`` at the same rate) decides, so an outage neither fails an RPC nor
    lets this process burst; replicas may then briefly exceed the shared rate together.
    """

    def __init__(
        self,
        redis: aredis.Redis,
        key: str,
        rate_per_s: float,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sleep: Sleep = asyncio.sleep,
        fallback: RateLimiter | None = None,
        clock: Clock = time.monotonic,
        warn_every_s: float = WARN_EVERY_S,
        late_tolerance_s: float = LATE_TOLERANCE_S,
    ) -> None:
        self._key = key
        self._late_tolerance_s = late_tolerance_s
        self._interval_us = max(1, round(1_000_000 / rate_per_s))
        self._sleep = sleep
        self._clock = clock
        self._fallback = fallback or SpacingLimiter(rate_per_s, sleep=sleep)
        self._guard = GuardedRedis(f"ratelimit:{key}", timeout_s, clock, warn_every_s)
        # register_script does no I/O; the Script object sends EVALSHA and falls back
        # to EVAL after NOSCRIPT, which is what a restarted (empty) Redis answers.
        self._script = redis.register_script(_SLOT_SCRIPT)

    async def acquire(self, deadline: Deadline) -> bool:
        """Reserve the next shared slot and sleep until it; False if past the deadline.

        The slot is placed on the local clock from the moment the script was sent (the
        reply may be read late by a busy loop); waking more than ``LATE_TOLERANCE_S``
        past it means the slot is lost and a new one is taken, as in ``SpacingLimiter``.
        """
        while True:
            max_wait_us = math.floor(deadline.remaining() * 1_000_000)
            if max_wait_us <= 0:
                return False
            sent = self._clock()
            reply = await self._reserve(max_wait_us)
            if reply is FAILED:
                return await self._fallback.acquire(deadline)
            if reply < 0:
                return False
            slot = sent + reply / 1_000_000
            if slot > self._clock():
                await self._sleep(slot - self._clock())
            if self._clock() - slot <= self._late_tolerance_s:
                return True

    async def _reserve(self, max_wait_us: int) -> int | RedisFailure:
        """The script's answer: microseconds to the reserved slot, or -1 (refused)."""
        reply = await self._guard.call(
            "acquire",
            lambda: self._script(keys=[self._key], args=[self._interval_us, max_wait_us]),
        )
        return reply if reply is FAILED else int(reply)
