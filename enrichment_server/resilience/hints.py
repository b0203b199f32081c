"""Optional breaker state shared in Redis, so every replica's breaker agrees.

Two keys per source: ``<prefix><source>`` says "open until" (a self-expiring key, set by
the replica whose breaker opened) and ``<prefix>reset:<source>`` counts operator resets.
A replica that sees the reset count move resets its own breaker, so ``ResetBreaker``
handled by one replica reaches every replica within ``refresh_s``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aredis

from enrichment_server.deadline import Clock
from enrichment_server.redis_conn import DEFAULT_TIMEOUT_S, FAILED, WARN_EVERY_S, GuardedRedis

__all__ = ["Hint", "SharedBreakerHints"]


@dataclass(frozen=True, slots=True)
class Hint:
    """What the replicas share about one source.

    ``open_for``: seconds the breaker is still published as open (None: no hint);
    ``resets``: how many operator resets so far (None: unknown, Redis unreachable).
    """

    open_for: float | None
    resets: int | None


@dataclass(frozen=True, slots=True)
class _Fetched:
    at: float
    open_until: float | None
    resets: int | None


class SharedBreakerHints:
    """Breaker state shared by replicas: "open until" hints and an operator-reset count.

    ``read`` answers from a local copy for ``refresh_s`` seconds so a hot path costs at
    most one Redis round trip per source per ``refresh_s``. Failures read as "no hint".
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
        self.refresh_s = refresh_s
        self._clock = clock
        self._guard = GuardedRedis("breaker_hints", timeout_s, clock, warn_every_s)
        self._local: dict[str, _Fetched] = {}

    async def publish_open(self, source: str, seconds: float) -> None:
        """Tell every replica that ``source``'s breaker is open for ``seconds``."""
        if seconds <= 0:
            return
        px = math.ceil(seconds * 1000)
        await self._guard.call("publish", lambda: self._redis.set(self._key(source), b"1", px=px))
        # Our own publish is visible at once, whether or not Redis took it.
        now = self._clock()
        known = self._local.get(source)
        self._local[source] = _Fetched(now, now + seconds, known.resets if known else None)

    async def read(self, source: str, *, fresh: bool = False) -> Hint:
        """The shared state of ``source`` (from the local copy within ``refresh_s``, unless
        ``fresh``: the periodic sync always asks Redis, so it bounds a replica's delay)."""
        now = self._clock()
        fetched = self._local.get(source)
        if fresh or fetched is None or now - fetched.at >= self.refresh_s:
            fetched = await self._fetch(source, now)
            self._local[source] = fetched
        until = fetched.open_until
        open_for = until - now if until is not None and until > now else None
        return Hint(open_for, fetched.resets)

    async def open_for(self, source: str) -> float | None:
        """Seconds ``source`` is still published as open, or None (no hint, or Redis down)."""
        return (await self.read(source)).open_for

    async def clear(self, source: str) -> None:
        """Operator reset: withdraw the hint and count a reset every replica will apply."""

        async def reset() -> list[Any]:
            pipe = self._redis.pipeline(transaction=True)
            pipe.delete(self._key(source))
            pipe.incr(self._reset_key(source))
            return list(await pipe.execute())

        result = await self._guard.call("clear", reset)
        resets = None if result is FAILED else int(result[1])
        self._local[source] = _Fetched(self._clock(), None, resets)

    async def _fetch(self, source: str, now: float) -> _Fetched:
        # A failure is cached like an answer: while Redis is down the hot path should
        # not pay a timeout on every call.
        async def both() -> list[Any]:
            pipe = self._redis.pipeline(transaction=False)
            pipe.pttl(self._key(source))
            pipe.get(self._reset_key(source))
            return list(await pipe.execute())

        result = await self._guard.call("open_for", both)
        if result is FAILED:
            return _Fetched(now, None, None)
        pttl, resets = result
        # pttl -2: absent, -1: no expiry (not written by us)
        until = now + int(pttl) / 1000 if int(pttl) > 0 else None
        return _Fetched(now, until, int(resets) if resets is not None else 0)

    def _key(self, source: str) -> str:
        return f"{self._prefix}{source}"

    def _reset_key(self, source: str) -> str:
        return f"{self._prefix}reset:{source}"
