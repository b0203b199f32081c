"""Per-source request pacing (MusicBrainz allows 1 request per second per IP).

``SpacingLimiter`` hands out evenly spaced start times: concurrent callers queue behind
each other instead of bursting, and a caller whose slot would come after its deadline is
refused at once rather than left to time out. A caller that wakes up more than
``LATE_TOLERANCE_S`` after its slot (a busy event loop) has lost it and takes a new one:
otherwise it would go out right next to the following slot, and the upstream, which
counts arrivals, would see a burst. Cache hits never reach a limiter (the
caller checks the cache first). A Redis-backed limiter for several replicas implements
the same protocol.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from enrichment_server.deadline import Clock, Deadline

#: How late after its slot a request may still go out. Wiring also keeps 5 % slack on
#: the rate (50 ms per second): a tolerance well under that keeps every 1-s window at or
#: under the limit as the upstream counts it.
LATE_TOLERANCE_S = 0.015


class RateLimiter(Protocol):
    """Grants permission to send one request."""

    async def acquire(self, deadline: Deadline) -> bool:
        """Wait for a slot; False (without waiting) if it would come after the deadline."""
        ...


class SpacingLimiter:
    """At most ``rate_per_s`` request starts per second, evenly spaced, in-process."""

    def __init__(
        self,
        rate_per_s: float,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        late_tolerance_s: float = LATE_TOLERANCE_S,
    ) -> None:
        self._interval = 1.0 / rate_per_s
        self._late_tolerance_s = late_tolerance_s
        self._clock = clock
        self._sleep = sleep
        self._next_free = 0.0

    async def acquire(self, deadline: Deadline) -> bool:
        """Reserve the next free slot and sleep until it (again if woken up too late)."""
        while True:
            now = self._clock()
            slot = max(now, self._next_free)
            wait = slot - now
            if wait >= deadline.remaining():
                return False
            self._next_free = slot + self._interval
            if wait > 0:
                await self._sleep(wait)
            if self._clock() - slot <= self._late_tolerance_s:
                return True
