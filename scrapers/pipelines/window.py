"""How many ``Enrich`` calls a crawl keeps in flight: an AIMD window fitted to the quota.

A crawl's calls are BULK work. At the production quota (MusicBrainz 1 request/s) the
service serves about one cold track a second; a crawl that sends 100 items at once
makes the service queue them in its BULK lane, and every item whose place in the queue
comes after its deadline is refused at once ("our own quota", saved pending and
enriched later by the service's scheduler). Correct, but most items of a page would
leave the crawl unenriched.

So the pipeline keeps at most ``limit`` calls in flight and holds the others (Scrapy's
backpressure slows the crawl meanwhile; the wait does not count against the call's
timeout). The limit follows what the service can serve, as TCP's congestion window
does. It starts at ``START`` calls and, until the first refusal, every answer adds one
(slow start: it doubles each round). An answer refused by the service's own quota
halves it, at most once per window (the refusals of one burst are one signal), and from
then on every answer adds ``1 / limit`` (about one more call per window of answers). It
never falls under 1 nor grows over ``max_in_flight``. Nothing needs to know the
service's quota, its replicas or the other crawls sharing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

__all__ = ["START", "InFlightWindow", "Slot"]

#: Calls in flight before the first answer.
START = 2


@dataclass(slots=True)
class Slot:
    """One call's place in the window; the caller reports how the call ended."""

    epoch: int
    refused: bool = False
    answered: bool = False


class InFlightWindow:
    """At most ``limit`` calls at once; the limit grows with answers and halves on refusals."""

    def __init__(self, max_in_flight: int) -> None:
        """Start small (``START``) and grow fast until the service first refuses."""
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self.limit = float(min(START, max_in_flight))
        self.slow_start = True
        self.in_flight = 0
        self.decreases = 0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Wait for a place, hold it for one call, then apply the call's outcome."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < int(self.limit))
            self.in_flight += 1
        slot = Slot(self.decreases)
        try:
            yield slot
        finally:
            async with self._changed:
                self.in_flight -= 1
                self._apply(slot)
                self._changed.notify_all()

    def _apply(self, slot: Slot) -> None:
        if slot.refused:
            if slot.epoch == self.decreases:  # the first refusal since this call started
                self.limit = max(1.0, self.limit / 2)
                self.decreases += 1
                self.slow_start = False
        elif slot.answered:
            step = 1.0 if self.slow_start else 1 / self.limit
            self.limit = min(float(self.max_in_flight), self.limit + step)
