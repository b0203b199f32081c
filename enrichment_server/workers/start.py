"""Building the two background workers, sized to the quota and aware of open breakers."""

from __future__ import annotations

from enrichment_server.config import Settings
from enrichment_server.store import Backoff, Store
from enrichment_server.wiring import Shared
from enrichment_server.workers.dlq import DeadLetterWorker, Enrich, WriteResult
from enrichment_server.workers.pace import QuotaPace, tracks_per_s
from enrichment_server.workers.scheduler import Scheduler

__all__ = ["build_workers", "quota_pace"]


def quota_pace(settings: Settings, shared: Shared, limit: int) -> QuotaPace:
    """What the enabled sources' quotas serve within one default deadline, up to ``limit``
    tracks in flight."""
    rates = {source: settings.source(source).rate_per_s for source in shared.callers}
    return QuotaPace(tracks_per_s(rates), settings.default_deadline_s, limit)


def build_workers(
    settings: Settings,
    store: Store,
    enrich: Enrich,
    shared: Shared,
    worker_id: str,
    backoff: Backoff,
    write: WriteResult | None = None,
) -> tuple[DeadLetterWorker, Scheduler]:
    """The DLQ replayer and the scheduler, sharing one quota pace (``pace.QuotaPace``)."""
    deadline_s = settings.default_deadline_s
    pace = quota_pace(settings, shared, max(settings.dlq_batch_size, settings.scheduler_batch_size))
    lease_s = deadline_s * 3 + 5  # outlives the item it covers (deadline + hang grace)
    dlq = DeadLetterWorker(
        store,
        enrich,
        worker_id=worker_id,
        batch_size=settings.dlq_batch_size,
        lease_s=lease_s,
        per_item_deadline_s=deadline_s,
        max_attempts=settings.dlq_max_attempts,
        backoff=backoff,
        pace=pace,
        blocked=shared.registry.background_blocked,
        probes=shared.registry.background_probes,
        write=write,
    )
    scheduler = Scheduler(
        store,
        enrich,
        worker_id=worker_id,
        batch_size=settings.scheduler_batch_size,
        lease_s=lease_s,
        per_item_deadline_s=deadline_s,
        max_attempts=settings.dlq_max_attempts,
        backoff=backoff,
        pace=pace,
        blocked=shared.registry.background_blocked,
        probes=shared.registry.background_probes,
        write=write,
    )
    return dlq, scheduler
