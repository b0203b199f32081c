"""Writing each enrichment result to the database, and deciding when an answer may leave.

The status row, the track's fields and (for a retriable PARTIAL/FAILED) its dead letter
go in one transaction (``Store.record``). ``ThreadedRecorder.settle`` is the policy the
servicer follows before it answers (issue 12 item 2):

* PARTIAL/FAILED: answered only once the transaction holding its dead letter committed.
  If the database fails, ``settle`` raises ``StoreUnavailable`` and the caller gets
  UNAVAILABLE; if it cannot commit before the caller's deadline, ``RecordTimedOut`` and
  DEADLINE_EXCEEDED. Either way the caller retries: no answer promises a retry that is
  not durable.
* COMPLETED/NOT_FOUND: the write is awaited while the deadline allows, then finishes in
  the background; the answer carries every field, so a failed write is logged at error
  level and counted, never raised. ``drain`` waits for background writes at shutdown.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import OrderedDict
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import structlog

from enrichment_server.domain import EnrichmentRequest, EnrichmentResult, Status
from enrichment_server.store import Backoff, Store

log = structlog.get_logger("enrichment.store")
T = TypeVar("T")
#: Time kept back from the caller's deadline to send the answer after the write.
SEND_MARGIN_S = 0.02
#: Weight of the newest write in the moving average of write durations.
WRITE_EWMA_WEIGHT = 0.2
#: The time kept back for a write is this many average writes, at most MAX_ALLOWANCE_S.
ALLOWANCE_WRITES = 3.0
MAX_ALLOWANCE_S = 0.25


class StoreUnavailable(Exception):
    """A retriable result could not be made durable: the caller must retry (UNAVAILABLE)."""


class RecordTimedOut(StoreUnavailable):
    """The deadline ran out before a retriable result was durable (DEADLINE_EXCEEDED)."""


class Recorder(Protocol):
    """Where results go, and when the answer for one may leave."""

    async def settle(
        self, request: EnrichmentRequest, result: EnrichmentResult, time_left_s: float | None
    ) -> None:
        """Return once ``result`` may be answered; ``StoreUnavailable`` when it must not."""
        ...

    async def drain(self, timeout_s: float) -> None:
        """Wait (up to ``timeout_s``) for writes still running in the background."""
        ...

    def allowance_s(self) -> float:
        """Time to keep back from the caller's deadline for the write (0 when none)."""
        ...


class StoreRecorder:
    """``Recorder`` over the SQL store."""

    def __init__(self, store: Store, *, max_attempts: int, backoff: Backoff) -> None:
        self._store = store
        self._max_attempts = max_attempts
        self._backoff = backoff
        # SQLite takes one writer at a time; writers queued on its lock wait in its busy
        # handler, which sleeps in growing steps (measured: p99 0.5 s under the chaos run).
        # Queued here instead, FIFO, each write starts the moment the last one commits.
        self._one_writer = asyncio.Lock() if store.engine.dialect.name == "sqlite" else None
        self.failures = 0

    def already_written(self, request: EnrichmentRequest, result: EnrichmentResult) -> bool:
        """Every result is written."""
        return False

    async def _write(self, request: EnrichmentRequest, result: EnrichmentResult) -> None:
        await self._store.record(
            request,
            result,
            now=datetime.now(UTC),
            max_attempts=self._max_attempts,
            backoff=self._backoff,
            rename=True,  # a caller's result: its name is the row's identity
        )

    async def record(self, request: EnrichmentRequest, result: EnrichmentResult) -> None:
        """Write the result in one transaction; a database failure is logged, counted and
        raised."""
        try:
            if self._one_writer is None:
                await self._write(request, result)
            else:
                async with self._one_writer:
                    await self._write(request, result)
        except Exception:  # any driver error: counted and logged here, decided by settle
            self.failures += 1
            log.exception(
                "store_write_failed", track_id=request.track_id, status=str(result.status)
            )
            raise


#: Tracks whose last written final outcome is remembered (to skip identical rewrites).
WRITTEN_MEMORY = 100_000


def _fingerprint(request: EnrichmentRequest, result: EnrichmentResult) -> int | None:
    """A hash of what a write would store, for final outcomes only (a PARTIAL/FAILED is
    always written: each one counts an attempt and moves the retry schedule)."""
    if result.status not in (Status.COMPLETED, Status.NOT_FOUND) or result.errors:
        return None
    return hash((request, result.status, result.metadata, tuple(sorted(result.provenance.items()))))


class ThreadedRecorder:
    """``StoreRecorder`` on a thread of its own, with its own event loop and engine.

    A result write is several SQL statements whose compilation and row handling is CPU
    work; on the RPC loop, a burst of writes stalled it by ~100 ms (measured under the
    chaos load), enough to push answers past their deadlines. Here the RPC loop only
    awaits a future; the GIL switches threads every few ms, so the loop keeps running.
    """

    def __init__(self, database_url: str, *, max_attempts: int, backoff: Backoff) -> None:
        self._url = database_url
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="result-writer", daemon=True
        )
        self._inner: StoreRecorder | None = None
        self._store: Store | None = None
        self._written: OrderedDict[str, int] = OrderedDict()
        self._writes: set[asyncio.Future[None]] = set()
        self._average_write_s = 0.0
        self.skipped = 0

    async def start(self) -> None:
        """Start the thread and open the store on its loop (schema already migrated)."""
        self._thread.start()
        self._store = await self._on_thread(Store.open(self._url, migrate_schema=False))
        self._inner = StoreRecorder(
            self._store, max_attempts=self._max_attempts, backoff=self._backoff
        )

    @property
    def failures(self) -> int:
        """Writes that failed."""
        return self._inner.failures if self._inner is not None else 0

    def already_written(self, request: EnrichmentRequest, result: EnrichmentResult) -> bool:
        """True when this final outcome is exactly the last one written for the track (a
        hot track would otherwise rewrite the same row on every request: half the hot
        path, measured); the caller then skips the write without scheduling anything."""
        fingerprint = _fingerprint(request, result)
        if fingerprint is None or self._written.get(request.track_id) != fingerprint:
            return False
        self._written.move_to_end(request.track_id)
        self.skipped += 1
        return True

    async def settle(
        self, request: EnrichmentRequest, result: EnrichmentResult, time_left_s: float | None
    ) -> None:
        """Write ``result``; return when the answer may leave (see the module docstring)."""
        if self.already_written(request, result):
            return
        write = asyncio.ensure_future(self._timed(self.record(request, result)))
        self._writes.add(write)
        write.add_done_callback(self._write_done)
        wait = None if time_left_s is None else max(0.0, time_left_s - SEND_MARGIN_S)
        try:
            await asyncio.wait_for(asyncio.shield(write), wait)
        except TimeoutError:
            if result.status.needs_retry:
                raise RecordTimedOut(
                    "the deadline ran out before this result's retry was recorded; retry"
                ) from None
            log.info("record_deferred", track_id=request.track_id)
        except Exception as exc:  # logged by StoreRecorder.record
            if result.status.needs_retry:
                raise StoreUnavailable(
                    "the database could not record this result for retry; retry"
                ) from exc

    async def _timed(self, write: Coroutine[Any, Any, None]) -> None:
        """Run ``write``, folding its duration into the moving average."""
        started = time.monotonic()
        try:
            await write
        finally:
            took = time.monotonic() - started
            self._average_write_s += WRITE_EWMA_WEIGHT * (took - self._average_write_s)

    def allowance_s(self) -> float:
        """Time the servicer keeps back from the deadline so that a PARTIAL/FAILED can be
        made durable before its answer: a few recent writes' worth, bounded."""
        return min(MAX_ALLOWANCE_S, ALLOWANCE_WRITES * self._average_write_s + SEND_MARGIN_S)

    def _write_done(self, write: asyncio.Future[None]) -> None:
        """Forget a finished write; its failure was logged where it happened."""
        self._writes.discard(write)
        if not write.cancelled():
            write.exception()  # retrieved: a deferred write's failure is not "never retrieved"

    async def drain(self, timeout_s: float) -> None:
        """Wait (up to ``timeout_s``) for result writes still running in the background."""
        if self._writes:
            await asyncio.wait(set(self._writes), timeout=timeout_s)

    async def record(self, request: EnrichmentRequest, result: EnrichmentResult) -> None:
        """Write on the writer thread (raises what the database raised); identical final
        outcomes once only."""
        if self._inner is None:
            raise RuntimeError("ThreadedRecorder.start() was not awaited")
        if self.already_written(request, result):
            return
        fingerprint = _fingerprint(request, result)
        # Any write changes the row (a retry's fields, or another name for the id: issue 12
        # item 1), so what was remembered no longer describes it.
        self._written.pop(request.track_id, None)
        await self._on_thread(self._inner.record(request, result))
        if fingerprint is not None:
            self._written[request.track_id] = fingerprint
            self._written.move_to_end(request.track_id)
            while len(self._written) > WRITTEN_MEMORY:
                self._written.popitem(last=False)

    async def close(self) -> None:
        """Close the store and stop the thread."""
        if self._store is not None:
            await self._on_thread(self._store.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.to_thread(self._thread.join, 5)
        self._loop.close()

    async def _on_thread(self, work: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))
