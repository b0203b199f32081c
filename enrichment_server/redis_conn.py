"""The shared Redis client and the guarded call every Redis user goes through.

Redis is an optimisation here, never a dependency of an answer: every call is bounded by
a short timeout, and a Redis that is down, slow or erroring degrades to a cache miss, an
in-process limiter or "no hint", with at most one warning per failure kind every ~30 s so
an outage does not flood the log. The ``redis.asyncio.Redis`` client is built once (see
``redis_client``) in ``app.py`` and passed in; keys are chosen by the caller
(``enrichment:v1:...``) so tests can use a private prefix. Users: ``cache/redis.py``,
``resilience/ratelimit_redis.py``, ``resilience/hints.py``.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aredis
import structlog
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from enrichment_server.deadline import Clock

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "FAILED",
    "WARN_EVERY_S",
    "GuardedRedis",
    "RedisFailure",
    "redis_client",
]

log = structlog.get_logger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 0.25
WARN_EVERY_S = 30.0


class RedisFailure(enum.Enum):
    """Sentinel for "the Redis call failed" (None is a legitimate Redis answer)."""

    FAILED = enum.auto()


FAILED = RedisFailure.FAILED


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


class GuardedRedis:
    """Runs Redis calls under a timeout; a failure becomes ``FAILED`` and a throttled warning."""

    def __init__(self, component: str, timeout_s: float, clock: Clock, warn_every_s: float) -> None:
        self._component = component
        self._timeout_s = timeout_s
        self._clock = clock
        self._warn_every_s = warn_every_s
        self._last_warned: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    async def call(self, op: str, make: Callable[[], Awaitable[T]]) -> T | RedisFailure:
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
