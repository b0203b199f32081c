"""Redis-backed pieces shared by every replica: byte cache, rate limiter, breaker hints.

Redis is an optimisation here, never a dependency of an answer: every call is bounded by
a short timeout, and a Redis that is down, slow or erroring degrades to a cache miss, an
in-process limiter or "no hint", with at most one warning per failure kind every ~30 s so
an outage does not flood the log. The ``redis.asyncio.Redis`` client is built once (see
``redis_client``) in ``app.py`` and passed in; keys are chosen by the caller
(``enrichment:v1:...``) so tests can use a private prefix.
"""

from __future__ import annotations

import asyncio
import enum
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from enrichment_server.deadline import Clock, Deadline
from enrichment_server.resilience.ratelimit import LATE_TOLERANCE_S, RateLimiter, SpacingLimiter

__all__ = ["RedisCache", "RedisRateLimiter", "SharedBreakerHints", "redis_client"]

log = structlog.get_logger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_TIMEOUT_S = 0.25
WARN_EVERY_S = 30.0


class _Failed(enum.Enum):
    """Sentinel for "the Redis call failed" (None is a legitimate Redis answer)."""

    FAILED = enum.auto()


FAILED = _Failed.FAILED


def redis_client(url: str) -> aredis.Redis:
    """A client with short socket timeouts, for ``app.py`` to build once and share.

    Callers wrap each call in their own ~0.1 s timeout, so the socket timeouts only stop
    a dead connection from lingering. Recovery after a Redis restart: the pool drops a
    pooled connection the server closed when it is checked out, ``health_check_interval``
    PINGs one idle for 5 s (a half-open socket after a host reboot sends no FIN), and one
    immediate retry covers a connection that breaks mid-command. The library default
    (3 retries with seconds of backoff) would only be cut off by our timeout.
    """
    return aredis.Redis.from_url(
        url,
        socket_connect_timeout=0.2,
        socket_timeout=0.2,
        health_check_interval=5,
        retry=Retry(NoBackoff(), 1),
        retry_on_timeout=False,
    )


class _Guard:
    """Runs Redis calls under a timeout; a failure becomes ``FAILED`` and a throttled warning."""

    def __init__(self, component: str, timeout_s: float, clock: Clock, warn_every_s: float) -> None:
        self._component = component
        self._timeout_s = timeout_s
        self._clock = clock
        self._warn_every_s = warn_every_s
        self._last_warned: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    async def call(self, op: str, make: Callable[[], Awaitable[T]]) -> T | _Failed:
        """``await make()`` within the timeout, or ``FAILED`` if Redis errs or is too slow."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return await make()
        # TimeoutError is ours (asyncio.timeout); OSError covers socket errors that
        # redis-py does not wrap. CancelledError is deliberately not caught.
        except (RedisError, TimeoutError, OSError) as exc:
            self._warn(op, exc)
            return FAILED

    def _warn(self, op: str, exc: BaseException) -> None:
        kind = type(exc).__name__
        now = self._clock()
        last = self._last_warned.get(kind)
        if last is not None and now - last < self._warn_every_s:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return
        self._last_warned[kind] = now
        log.warning(
            "redis_unavailable",
            component=self._component,
            op=op,
            error=kind,
            detail=str(exc)[:200],
            suppressed=self._suppressed.pop(kind, 0),
        )


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
        self._guard = _Guard("cache", timeout_s, clock, warn_every_s)
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
        self._guard = _Guard(f"ratelimit:{key}", timeout_s, clock, warn_every_s)
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

    async def _reserve(self, max_wait_us: int) -> int | _Failed:
        """The script's answer: microseconds to the reserved slot, or -1 (refused)."""
        reply = await self._guard.call(
            "acquire",
            lambda: self._script(keys=[self._key], args=[self._interval_us, max_wait_us]),
        )
        return reply if reply is FAILED else int(reply)


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
        self._guard = _Guard("breaker_hints", timeout_s, clock, warn_every_s)
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
