"""Per-source request pacing with priority lanes (MusicBrainz allows 1 request/s per IP).

Slots are evenly spaced ``1 / rate`` apart. A free slot with nobody waiting is taken at
once; otherwise the caller waits in its lane (``Priority``: interactive, bulk,
background) and a dispatcher hands each slot, when it comes, to the head of the highest
waiting lane. So a live caller that arrives behind fifty background waiters gets the next
slot, not the fifty-first.

Starvation: when higher lanes want every slot, a waiting lower lane still gets one slot
in ``ceil(1 / min_share)`` (10 % by default), so background work always moves a little.

Nobody holds a slot it cannot use: a slot is granted only at its time, only to a waiter
whose deadline has not passed; a waiter whose deadline comes before the next slot is
refused at once (``False``), whatever its lane, and leaves the queue. An interactive
caller whose place in the queue is already past its deadline is refused on arrival.

A waiter that resumes more than ``LATE_TOLERANCE_S`` after its grant (a busy event loop)
has lost the slot and queues again at the head of its lane: otherwise its request would
go out right next to the following one, and the upstream, which counts arrivals, would
see a burst. Cache hits never reach a limiter (the caller checks the cache first).
``ratelimit_redis.RedisRateLimiter`` implements the same protocol across replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from enrichment_server.deadline import Clock, Deadline
from enrichment_server.domain import Priority

#: How late after its slot a request may still go out. Wiring also keeps 5 % slack on
#: the rate (50 ms per second): a tolerance well under that keeps every 1-s window at or
#: under the limit as the upstream counts it.
LATE_TOLERANCE_S = 0.015
#: Share of the slots a waiting lower lane gets when the higher lanes want them all.
MIN_SHARE = 0.1

Sleep = Callable[[float], Awaitable[None]]


class RateLimiter(Protocol):
    """Grants permission to send one request."""

    async def acquire(self, deadline: Deadline, lane: Priority = Priority.INTERACTIVE) -> bool:
        """Wait in ``lane`` for a slot; False when none can come before the deadline."""
        ...


def starvation_limit(min_share: float) -> int:
    """Higher-lane grants a waiting lower lane lets pass before it takes a slot."""
    if not 0 < min_share <= 1:
        raise ValueError("min_share must be in (0, 1]")
    return max(0, math.ceil(1 / min_share) - 1)


@dataclass(eq=False, slots=True)
class _Waiter:
    deadline: Deadline
    lane: Priority
    granted_at: float = 0.0
    granted: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(slots=True)
class LaneCounts:
    """Grants and refusals per lane (for tests and stats)."""

    granted: list[int] = field(default_factory=lambda: [0] * len(Priority))
    refused: list[int] = field(default_factory=lambda: [0] * len(Priority))


class SpacingLimiter:
    """At most ``rate_per_s`` request starts per second, evenly spaced, in-process."""

    def __init__(
        self,
        rate_per_s: float,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        late_tolerance_s: float = LATE_TOLERANCE_S,
        min_share: float = MIN_SHARE,
    ) -> None:
        self._interval = 1.0 / rate_per_s
        self._late_tolerance_s = late_tolerance_s
        self._clock = clock
        self._sleep = sleep
        self._next_free = -math.inf
        self._lanes: tuple[deque[_Waiter], ...] = tuple(deque() for _ in Priority)
        self._passed = [0] * len(Priority)  # higher-lane grants while this lane waited
        self._starvation_limit = starvation_limit(min_share)
        self._dispatcher: asyncio.Task[None] | None = None
        self.counts = LaneCounts()

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot, every lane."""
        return sum(len(lane) for lane in self._lanes)

    async def acquire(self, deadline: Deadline, lane: Priority = Priority.INTERACTIVE) -> bool:
        """A slot now if one is free and nobody waits, else wait in ``lane`` (see module)."""
        now = self._clock()
        if deadline.expired():
            self.counts.refused[lane] += 1
            return False
        if not self.waiting and now >= self._next_free:
            self._next_free = now + self._interval
            self.counts.granted[lane] += 1
            return True
        ahead = sum(len(q) for q in self._lanes[: lane + 1])
        first_possible = max(now, self._next_free) + ahead * self._interval
        if first_possible - now >= deadline.remaining():
            self.counts.refused[lane] += 1
            return False
        waiter = _Waiter(deadline, lane)
        self._lanes[lane].append(waiter)
        while True:
            self._ensure_dispatcher()
            try:
                granted = await waiter.granted
            except asyncio.CancelledError:
                with contextlib.suppress(ValueError):  # the dispatcher may have dropped it
                    self._lanes[lane].remove(waiter)
                raise
            if not granted:
                return False
            if self._clock() - waiter.granted_at <= self._late_tolerance_s:
                self.counts.granted[lane] += 1
                return True
            waiter = _Waiter(deadline, lane)  # woke too late: the slot is lost, queue first
            self._lanes[lane].appendleft(waiter)

    def _ensure_dispatcher(self) -> None:
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())

    async def _dispatch(self) -> None:
        """Hand out slots, one per interval, while anyone waits."""
        while self.waiting:
            now = self._clock()
            if now < self._next_free:
                await self._sleep(self._next_free - now)
                continue
            self._forget_cancelled()
            self._refuse_hopeless(now)
            waiter = self._pick()
            if waiter is not None:
                self._next_free = waiter.granted_at = now
                self._next_free += self._interval
                waiter.granted.set_result(True)
                self._refuse_hopeless(self._next_free)

    def _forget_cancelled(self) -> None:
        """Drop waiters whose caller was cancelled but has not run its cleanup yet (its
        future is cancelled at once; the task removes itself only when it next runs)."""
        for queue in self._lanes:
            for waiter in [w for w in queue if w.granted.done()]:
                queue.remove(waiter)

    def _pick(self) -> _Waiter | None:
        """The head of the highest waiting lane, unless a lower lane is owed its share."""
        waiting = [lane for lane in Priority if self._lanes[lane]]
        if not waiting:
            return None
        chosen = waiting[0]
        for lane in waiting[1:]:
            if self._passed[lane] >= self._starvation_limit:
                chosen = lane
                break
        for lane in Priority:
            owed = lane in waiting and lane > chosen
            self._passed[lane] = self._passed[lane] + 1 if owed else 0
        return self._lanes[chosen].popleft()

    def _refuse_hopeless(self, slot: float) -> None:
        """Refuse every waiter whose deadline comes before ``slot`` (the next possible one)."""
        for lane in Priority:
            queue = self._lanes[lane]
            hopeless = [w for w in queue if w.deadline.expires_at < slot]
            for waiter in hopeless:
                queue.remove(waiter)
                self.counts.refused[lane] += 1
                if not waiter.granted.done():
                    waiter.granted.set_result(False)
