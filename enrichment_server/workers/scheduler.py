"""Scheduled enrichment of tracks that were saved unenriched.

When the service was down, scrapers still save their rows (the seed: "can be enriched
later via the service's scheduled task"). This worker leases such tracks
(``Store.claim_unenriched``: no status or 'pending', or a retry due with no dead letter)
and enriches them in the BACKGROUND lane with the same loop, leases, quota pacing and
crash handling as the dead-letter worker; a failure then enters the dead-letter queue
through ``Store.record``. A source whose breaker is open does not stop it: the track is
answered without that source and its dead letter (no attempt spent: an open breaker is
our own refusal) waits for the breaker.
"""

from __future__ import annotations

from enrichment_server.domain import EnrichmentRequest
from enrichment_server.workers.dlq import ClaimingWorker

__all__ = ["Scheduler"]


class Scheduler(ClaimingWorker):
    """Enriches unenriched tracks in the background, never inside an RPC."""

    async def claim(self, limit: int) -> list[EnrichmentRequest]:
        """Lease up to ``limit`` unenriched tracks."""
        return await self.store.claim_unenriched(self.worker_id, limit, self.now(), self.lease_s)
