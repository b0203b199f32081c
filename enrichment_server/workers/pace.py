"""Background work sized to the upstream quota, shared by the DLQ worker and the scheduler.

Cold enrichment is bound by upstream quotas, not CPU: MusicBrainz allows 1 request/s, and
a track needs about ``CALLS_PER_TRACK`` calls of it, so about 0.8 new tracks per second
is all one IP can serve. Starting 50 background tracks at once only makes 49 of them
wait in the limiter's background lane until their deadlines pass.

``QuotaPace`` therefore caps the background tracks in flight (both workers together) at
what keeps the slowest rate-limited source busy: its tracks per second times the upstream
round trips of one track (``TRACK_S``, Little's law), at least ``MIN_IN_FLIGHT``, and
never more than it can serve within ``UTILISATION`` of one item's deadline. More in
flight would not drain faster (the quota is the limit), only wait in the limiter and
crowd the event loop that live callers share (bench, 300-track backlog at 20/s: 50 in
flight and 8 drained equally fast; a live caller's p95 was 6.0x and 1.7x its idle
value). A worker claims only as many tracks as there are free places and claims again
as they finish: the claim rate follows the quota.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping

from enrichment_server.domain import Source

__all__ = ["CALLS_PER_TRACK", "TRACK_S", "UTILISATION", "QuotaPace", "tracks_per_s"]

#: Upstream calls one cold track needs from each source (bench: cold workload).
CALLS_PER_TRACK: Mapping[Source, float] = {
    Source.MUSICBRAINZ: 1.2,
    Source.SPOTIFY: 2.0,
    Source.LASTFM: 2.0,
    Source.DEEZER: 3.0,
    Source.GETSONGBPM: 1.0,
}
#: Share of the quota background work plans to use within one item's deadline.
UTILISATION = 0.5
#: Seconds of upstream round trips one cold track takes when nothing waits (Spotify, then
#: MusicBrainz, with Deezer and Last.fm beside them).
TRACK_S = 0.75
#: Tracks in flight even for a slow quota: one track's round trips overlap the next's.
MIN_IN_FLIGHT = 2


def tracks_per_s(rates: Mapping[Source, float]) -> float | None:
    """Cold tracks per second the slowest rate-limited source can serve (None: no limit)."""
    paces = [rate / CALLS_PER_TRACK[source] for source, rate in rates.items() if rate > 0]
    return min(paces) if paces else None


class QuotaPace:
    """How many background tracks may be in flight; shared by every background worker."""

    def __init__(
        self, tracks_per_s: float | None, per_item_deadline_s: float, max_in_flight: int
    ) -> None:
        """The capacity is what ``tracks_per_s`` serves in ``UTILISATION`` of a deadline."""
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        planned = math.inf
        if tracks_per_s is not None:
            busy = max(MIN_IN_FLIGHT, math.ceil(tracks_per_s * TRACK_S))
            planned = min(busy, math.floor(tracks_per_s * per_item_deadline_s * UTILISATION))
        self.capacity = int(max(1, min(max_in_flight, planned)))
        self.in_flight = 0
        self._freed = asyncio.Event()

    def free(self) -> int:
        """Places free right now."""
        return max(0, self.capacity - self.in_flight)

    def take(self) -> None:
        """One background track starts."""
        self.in_flight += 1

    def release(self) -> None:
        """One background track finished; wake a worker waiting for a place."""
        self.in_flight -= 1
        self._freed.set()

    @property
    def chunk(self) -> int:
        """Places a worker waits for before claiming again: a quarter of the capacity.
        Claiming one track per finished track would make a database write per track
        beside the results' own (on SQLite, a second writer fighting for the one lock)."""
        return max(1, self.capacity // 4)

    async def wait_free(self, stop: asyncio.Event, places: int = 1) -> None:
        """Return once ``places`` are free (at once if they are) or ``stop`` is set."""
        places = min(places, self.capacity)
        while self.free() < places and not stop.is_set():
            self._freed.clear()
            stopped = asyncio.ensure_future(stop.wait())
            freed = asyncio.ensure_future(self._freed.wait())
            try:
                await asyncio.wait([stopped, freed], return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
                freed.cancel()
