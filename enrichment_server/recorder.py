"""Writing each enrichment result to the database, durably, before the caller is answered.

The status row, the track's fields and (for a retriable PARTIAL/FAILED) its dead letter
go in one transaction (``Store.record``). A database outage must not turn an answer into
an RPC error: the failure is logged and counted, the caller still gets its result, and
the track is picked up again by the scheduler (it has no status row, or a stale one).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import structlog

from enrichment_server.domain import EnrichmentRequest, EnrichmentResult, Status
from enrichment_server.store import Backoff, Store

log = structlog.get_logger("enrichment.store")
T = TypeVar("T")


class Recorder(Protocol):
    """Where results go."""

    def already_written(self, request: EnrichmentRequest, result: EnrichmentResult) -> bool:
        """True when recording this result would change nothing (skip it)."""
        ...

    async def record(self, request: EnrichmentRequest, result: EnrichmentResult) -> None:
        """Persist one result; never raises."""
        ...


class StoreRecorder:
    """``Recorder`` over the SQL store."""

    def __init__(self, store: Store, *, max_attempts: int, backoff: Backoff) -> None:
        self._store = store
        self._max_attempts = max_attempts
        self._backoff = backoff
        self.failures = 0

    def already_written(self, request: EnrichmentRequest, result: EnrichmentResult) -> bool:
        """Every result is written."""
        return False

    async def record(self, request: EnrichmentRequest, result: EnrichmentResult) -> None:
        """Write the result; log (never raise) when the database fails."""
        try:
            await self._store.record(
                request,
                result,
                now=datetime.now(UTC),
                max_attempts=self._max_attempts,
                backoff=self._backoff,
            )
        except Exception:  # any driver error: the answer must still reach the caller
            self.failures += 1
            log.exception("store_write_failed", track_id=request.track_id)


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
        """Writes that failed (logged, not raised)."""
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

    async def record(self, request: EnrichmentRequest, result: EnrichmentResult) -> None:
        """Write on the writer thread; never raises; identical final outcomes once only."""
        if self._inner is None:
            raise RuntimeError("ThreadedRecorder.start() was not awaited")
        if self.already_written(request, result):
            return
        fingerprint = _fingerprint(request, result)
        failures = self._inner.failures
        await self._on_thread(self._inner.record(request, result))
        if fingerprint is not None and self._inner.failures == failures:
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
