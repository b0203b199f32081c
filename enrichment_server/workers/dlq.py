"""The dead-letter worker: retries due entries in the background, never inside an RPC.

Each pass leases a batch (``Store.claim_due``), enriches every entry concurrently under
its own deadline, and records each outcome with ``Store.record``, which counts the
attempt, backs the entry off or parks it, or deletes it on success. One entry that
raises (or hangs past its deadline) is recorded as a retriable failure and logged; the
rest of the batch carries on. A worker killed mid-batch loses nothing: its leases run
out and another replica claims the entries again.

``ClaimingWorker`` holds the loop shared with ``scheduler.Scheduler``.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog

from enrichment_server.deadline import Deadline
from enrichment_server.domain import EnrichmentRequest, EnrichmentResult
from enrichment_server.store.repository import BackoffFn, Store

__all__ = ["ClaimingWorker", "DeadLetterWorker", "Enrich", "utcnow"]

log = structlog.get_logger(__name__)

Enrich = Callable[[EnrichmentRequest, Deadline], Awaitable[EnrichmentResult]]
Now = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

#: Slack past the per-item deadline before an enrich that ignores it is abandoned.
HANG_GRACE_S = 1.0


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

    @abc.abstractmethod
    async def claim(self) -> list[EnrichmentRequest]:
        """Lease the next batch of work to this worker."""

    async def run_once(self) -> int:
        """Process one batch; return how many items were claimed."""
        requests = await self.claim()
        await asyncio.gather(*(self.process(request) for request in requests))
        return len(requests)

    async def process(self, request: EnrichmentRequest) -> None:
        """Enrich and record one item; failures are recorded and logged, never raised."""
        bound = log.bind(worker=self.worker_id, track_id=request.track_id)
        try:
            async with asyncio.timeout(self.per_item_deadline_s + self.hang_grace_s):
                result = await self.enrich(request, Deadline.after(self.per_item_deadline_s))
        except Exception as exc:  # one item's bug must not stop the batch
            bound.exception("background enrichment raised")
            await self._record_crash(request, f"{type(exc).__name__}: {exc}")
            return
        try:
            await self.store.record(
                request,
                result,
                now=self.now(),
                max_attempts=self.max_attempts,
                backoff=self.backoff,
            )
        except Exception:  # database trouble: the lease expires and the item comes back
            bound.exception("recording a background enrichment failed")

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
        """Run batches until ``stop`` is set; a full batch goes again at once."""
        while not stop.is_set():
            try:
                claimed = await self.run_once()
            except Exception:  # e.g. the database is down: try again next interval
                log.exception("claiming background work failed", worker=self.worker_id)
                claimed = 0
            if claimed < self.batch_size:
                await self._pause(interval_s, stop)

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

    async def claim(self) -> list[EnrichmentRequest]:
        """Lease due dead letters and return the requests to replay."""
        entries = await self.store.claim_due(
            self.worker_id, self.batch_size, self.now(), self.lease_s
        )
        return [entry.request for entry in entries]
