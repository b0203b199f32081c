"""A source's circuit breaker, as the upstream caller uses it around each attempt.

What counts against the upstream (DESIGN section 5): 5xx, timeouts, malformed bodies
and throttling (429 / MusicBrainz 503) are failures. Not-found and other 4xx answers,
refused credentials, our own deadline or rate limiter, and cancellation are ignored:
they say nothing about the upstream's health. An exhausted quota opens the breaker
until the quota window resets, so no call is wasted on it.

With Redis, replicas share an "open until" hint: a breaker that opens publishes it, and
a replica whose own breaker is closed honours it (the hint is read from a 1 s local
cache, so the hot path does not pay a Redis round trip per call). An operator reset is
shared too: each replica resets its own breaker when it sees the shared reset count move
(on its next call, or the registry's periodic ``sync``). The hint is advisory: without
Redis each replica's breaker still protects the upstream on its own.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from enrichment_server.deadline import Clock
from enrichment_server.errors import (
    ClientThrottled,
    DeadlineExceeded,
    QuotaExceeded,
    Unauthenticated,
    UpstreamError,
    UpstreamRejected,
)
from enrichment_server.resilience.breaker import BreakerState, CircuitBreaker, Permit
from enrichment_server.resilience.hints import Hint

#: Errors that are answers or our own doing, not a sign of upstream trouble.
_NEUTRAL = (UpstreamRejected, Unauthenticated, DeadlineExceeded, ClientThrottled)


class BreakerHints(Protocol):
    """The shared breaker state (``resilience.hints.SharedBreakerHints``)."""

    async def read(self, source: str, *, fresh: bool = False) -> Hint:
        """Seconds the source is known to be open elsewhere, and the operator-reset count
        (``fresh``: asked of the shared store now, not from a local copy)."""
        ...

    async def publish_open(self, source: str, seconds: float) -> None:
        """Tell the other replicas the source is open for ``seconds``."""
        ...

    async def clear(self, source: str) -> None:
        """Operator reset: withdraw the hint and count a reset for every replica."""
        ...


class Guard:
    """Admits attempts through a breaker and records their outcomes."""

    def __init__(
        self,
        breaker: CircuitBreaker,
        *,
        hints: BreakerHints | None = None,
        quota_block_s: float = 3600.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.breaker = breaker
        self._hints = hints
        self._quota_block_s = quota_block_s
        self._clock = clock
        self._background: set[asyncio.Task[None]] = set()
        self._resets: int | None = None  # the shared reset count last applied here

    async def admit(self) -> Permit:
        """A permit for one attempt; ``CircuitOpen`` when the source must be left alone."""
        await self.sync()
        return self.breaker.acquire()

    async def sync(self, *, fresh: bool = False) -> None:
        """Apply the shared state: a reset an operator made on any replica, then an opening
        published by another replica (honoured only while this breaker is closed)."""
        if self._hints is None:
            return
        hint = await self._hints.read(self.breaker.name, fresh=fresh)
        if hint.resets is not None:
            if self._resets is not None and hint.resets != self._resets:
                self.breaker.reset()
            self._resets = hint.resets
        if hint.open_for and self.breaker.state is BreakerState.CLOSED:
            self.breaker.force_open(self._clock() + hint.open_for, "shared")

    async def reset(self) -> tuple[BreakerState, BreakerState]:
        """Operator reset here, shared with every replica; (previous, current) state."""
        previous, current = self.breaker.reset()
        if self._hints is not None:
            await self._hints.clear(self.breaker.name)
            self._resets = (await self._hints.read(self.breaker.name)).resets
        return previous, current

    def succeeded(self, permit: Permit, duration_s: float) -> None:
        """The attempt got an answer (including "not found")."""
        permit.success(duration_s)

    def failed(self, permit: Permit, error: BaseException, duration_s: float) -> None:
        """Record why the attempt failed (or ignore it when it says nothing about health)."""
        if isinstance(error, QuotaExceeded):
            permit.failure(duration_s)
            block = error.retry_after or self._quota_block_s
            self.breaker.force_open(self._clock() + block, "quota_exceeded")
            self.publish(block)
        elif isinstance(error, UpstreamError) and not isinstance(error, _NEUTRAL):
            permit.failure(duration_s)
        else:
            permit.ignore()

    def publish(self, seconds: float) -> None:
        """Share "open for ``seconds``" with the other replicas (fire and forget)."""
        if self._hints is None or seconds <= 0:
            return
        task = asyncio.get_running_loop().create_task(
            self._hints.publish_open(self.breaker.name, seconds)
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)
