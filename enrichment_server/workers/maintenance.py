"""The maintenance loop every replica runs: DLQ depth gauges and credentials set elsewhere.

It runs whether or not the background workers are enabled (the gauges and the credential
refresh are cheap and every replica needs them); a database blip never ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

import structlog

from enrichment_server.store import Store

__all__ = ["MAINTENANCE_INTERVAL_S", "Maintenance"]

log = structlog.get_logger(__name__)
#: How often a replica refreshes DLQ gauges and credentials set on another replica.
MAINTENANCE_INTERVAL_S = 15.0


class DlqGauges(Protocol):
    """Where the DLQ depth is reported (``telemetry.metrics.Metrics``)."""

    def dlq(self, due: int, parked: int) -> None:
        """Set the due and parked gauges."""
        ...


class Refreshable(Protocol):
    """Something re-read from the store each round (``credentials.CredentialService``)."""

    async def refresh(self) -> None:
        """Re-read and apply."""
        ...


class Maintenance:
    """Every ``interval_s``: DLQ depth gauges, then ``refresh`` the credentials."""

    def __init__(
        self,
        store: Store,
        gauges: DlqGauges,
        credentials: Refreshable,
        interval_s: float = MAINTENANCE_INTERVAL_S,
    ) -> None:
        self._store = store
        self._gauges = gauges
        self._credentials = credentials
        self._interval_s = interval_s

    async def run_once(self) -> None:
        """One round; raises what the store raises."""
        stats = await self._store.stats()
        self._gauges.dlq(stats.dead_letters_due, stats.dead_letters_parked)
        await self._credentials.refresh()

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Rounds until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # a database blip must not end the loop
                log.exception("maintenance_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval_s)
