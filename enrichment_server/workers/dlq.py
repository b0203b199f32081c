"""The dead-letter worker: retries due entries in the background, never inside an RPC.

The worker leases due entries (``Store.claim_due``), enriches each under its own
deadline in the BACKGROUND lane, and records each outcome with ``Store.record``, which
counts the attempt (only a real upstream failure counts), backs the entry off or parks
it, or deletes it on success. One entry that raises (or hangs past its deadline) is
recorded as a retriable failure and logged; the others carry on. A worker killed
mid-way loses nothing: its leases run out and another replica claims the entries again.

It claims only what the quota can serve (``pace.QuotaPace``, shared with the scheduler)
and claims again as each track finishes. An entry that needs a source whose breaker is
open is not started: it is rescheduled for when the breaker may let calls through, its
attempt count unchanged. A half-open breaker admits a few probes: while one is free,
one entry needing it starts per claim (a track makes several calls of a source; the
others wait ``PROBE_WAIT_S``), so with no live callers the worker's own calls are the
probes that close it again.

``ClaimingWorker`` holds the loop shared with ``scheduler.Scheduler``.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta

import structlog

from enrichment_server.deadline import Deadline
from enrichment_server.domain import EnrichmentRequest, EnrichmentResult, Priority
from enrichment_server.store.repository import BackoffFn, Store
from enrichment_server.workers.pace import QuotaPace

__all__ = [
    "PROBE_WAIT_S",
    "Blocked",
    "ClaimingWorker",
    "DeadLetterWorker",
    "Enrich",
    "Probes",
    "WriteResult",
    "utcnow",
]

log = structlog.get_logger(__name__)

Enrich = Callable[[EnrichmentRequest, Deadline], Awaitable[EnrichmentResult]]
Now = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
#: Sources background work must not call now -> seconds until it may (open breakers).
Blocked = Callable[[], Mapping[str, float]]
#: Half-open sources with a free probe slot (background work may start one track each).
Probes = Callable[[], Collection[str]]
#: Writes one result (the service's result writer: its own thread and connection).
WriteResult = Callable[[EnrichmentRequest, EnrichmentResult], Awaitable[None]]

#: Slack past the per-item deadline before an enrich that ignores it is abandoned.
HANG_GRACE_S = 1.0
#: Wait of an entry needing a half-open source whose free probe slots are taken.
PROBE_WAIT_S = 5.0


def utcnow() -> datetime:
    """The wall clock as an aware UTC datetime (what the store expects)."""
    return datetime.now(UTC)


class ClaimingWorker(abc.ABC):
    """Claim a batch, enrich each item, record each outcome; repeat until stopped."""

    def __init__(
        self,
        store: Store,
        enrich: Enrich,
        *,
        worker_id: str,
        batch_size: int,
        lease_s: float,
        per_item_deadline_s: float,
        max_attempts: int,
        backoff: BackoffFn,
        now: Now = utcnow,
        sleep: Sleep = asyncio.sleep,
        hang_grace_s: float = HANG_GRACE_S,
        pace: QuotaPace | None = None,
        blocked: Blocked | None = None,
        probes: Probes | None = None,
        write: WriteResult | None = None,
    ) -> None:
        """Check that a lease outlives the items it covers, then keep the settings."""
        if batch_size < 1 or max_attempts < 1:
            raise ValueError("batch_size and max_attempts must be at least 1")
        # Items run concurrently, so a batch takes about one item's deadline; a lease
        # shorter than that would let another replica claim entries still in flight.
        if lease_s <= per_item_deadline_s + hang_grace_s:
            raise ValueError("lease_s must exceed per_item_deadline_s plus hang_grace_s")
        self.store, self.enrich = store, enrich
        self.worker_id, self.batch_size = worker_id, batch_size
        self.lease_s, self.per_item_deadline_s = lease_s, per_item_deadline_s
        self.max_attempts, self.backoff = max_attempts, backoff
        self.now, self.sleep, self.hang_grace_s = now, sleep, hang_grace_s
        self.pace = pace or QuotaPace(None, per_item_deadline_s, batch_size)
        self.blocked: Blocked = blocked or dict
        self.probes: Probes = probes or set
        # Through the service's result writer, background writes queue behind (not fight
        # over SQLite's lock with) the live callers' writes, off the RPC event loop.
        self.write: WriteResult = write or self._record

    @abc.abstractmethod
    async def claim(self, limit: int) -> list[EnrichmentRequest]:
        """Lease up to ``limit`` items of work to this worker."""

    def _room(self) -> int:
        """How many items to claim now: a batch, or fewer when the quota is busy."""
        return min(self.batch_size, self.pace.free())

    async def run_once(self) -> int:
        """Claim what the quota has room for, process it all; return how many."""
        room = self._room()
        requests = await self.claim(room) if room else []
        await asyncio.gather(*(self._paced(request) for request in requests))
        return len(requests)

    async def _paced(self, request: EnrichmentRequest) -> None:
        """Process one item holding a place of the shared quota pace."""
        self.pace.take()
        try:
            await self.process(request)
        finally:
            self.pace.release()

    async def process(self, request: EnrichmentRequest) -> None:
        """Enrich and record one item; failures are recorded and logged, never raised."""
        request = dataclasses.replace(request, priority=Priority.BACKGROUND)
        bound = log.bind(worker=self.worker_id, track_id=request.track_id)
        try:
            async with asyncio.timeout(self.per_item_deadline_s + self.hang_grace_s):
                result = await self.enrich(request, Deadline.after(self.per_item_deadline_s))
        except Exception as exc:  # one item's bug must not stop the batch
            bound.exception("background enrichment raised")
            await self._record_crash(request, f"{type(exc).__name__}: {exc}")
            return
        try:
            await self.write(request, result)
        except Exception:  # database trouble: the lease expires and the item comes back
            bound.exception("recording a background enrichment failed")

    async def _record(self, request: EnrichmentRequest, result: EnrichmentResult) -> None:
        """Write one result through the worker's own store (no result writer given)."""
        await self.store.record(
            request, result, now=self.now(), max_attempts=self.max_attempts, backoff=self.backoff
        )

    async def _record_crash(self, request: EnrichmentRequest, message: str) -> None:
        """Count a crashed attempt so it backs off (and parks) like any failure."""
        try:
            await self.store.record_crash(
                request,
                message,
                now=self.now(),
                max_attempts=self.max_attempts,
                backoff=self.backoff,
            )
        except Exception:
            log.exception("recording a crashed enrichment failed", track_id=request.track_id)

    async def run_forever(self, interval_s: float, stop: asyncio.Event) -> None:
        """Claim as places free up until ``stop`` is set, then let the items in flight
        finish (each has its deadline); pause ``interval_s`` whenever nothing is due."""
        running: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                await self.pace.wait_free(stop, min(self.batch_size, self.pace.chunk))
                room = self._room()
                if stop.is_set() or not room:
                    continue
                requests = await self._claim_logged(room)
                for request in requests:
                    task = asyncio.ensure_future(self._paced(request))
                    running.add(task)
                    task.add_done_callback(running.discard)
                if len(requests) < room:  # nothing more is due now
                    await self._pause(interval_s, stop)
            await asyncio.gather(*running)
        finally:
            for task in list(running):
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    async def _claim_logged(self, room: int) -> list[EnrichmentRequest]:
        """``claim``, with a failure (e.g. the database is down) logged as nothing due."""
        try:
            return await self.claim(room)
        except Exception:
            log.exception("claiming background work failed", worker=self.worker_id)
            return []

    async def _pause(self, interval_s: float, stop: asyncio.Event) -> None:
        """Wait ``interval_s`` (with the injected sleep) or until ``stop``, whichever first."""
        waits = [asyncio.ensure_future(self.sleep(interval_s)), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
            for task in waits:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


class DeadLetterWorker(ClaimingWorker):
    """Retries due dead letters (``Store.claim_due``)."""

    async def claim(self, limit: int) -> list[EnrichmentRequest]:
        """Lease due dead letters; those needing a blocked source, or a half-open one an
        earlier entry of this claim probes, are rescheduled instead."""
        now = self.now()
        entries = await self.store.claim_due(self.worker_id, limit, now, self.lease_s)
        blocked, half_open = self.blocked(), frozenset(self.probes())
        unprobed = set(half_open)
        ready = []
        for entry in entries:
            waits = [blocked[s] for s in entry.failed_sources if s in blocked]
            probing = half_open.intersection(entry.failed_sources)
            if not waits and not probing <= unprobed:
                waits = [PROBE_WAIT_S]
            if not waits:
                unprobed -= probing
                ready.append(entry.request)
                continue
            log.info("dead_letter_postponed", track_id=entry.track_id, wait_s=max(waits))
            await self.store.postpone(entry.id, now + timedelta(seconds=max(waits)))
        return ready
