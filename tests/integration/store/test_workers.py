"""The DLQ worker and the scheduler: background retries with backoff, crash isolation."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from enrichment_server.deadline import Deadline
from enrichment_server.domain import (
    EnrichmentRequest,
    EnrichmentResult,
    ErrorKind,
    Priority,
    Source,
    Status,
    TrackMetadata,
)
from enrichment_server.store import Store
from enrichment_server.store.models import EnrichmentStatusRow
from enrichment_server.workers.dlq import PROBE_WAIT_S, DeadLetterWorker
from enrichment_server.workers.pace import QuotaPace
from enrichment_server.workers.scheduler import Scheduler
from tests.integration.store.support import T0, backoff, failed, failure, later, request, result


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        """Start at ``now``."""
        self.now = now

    def __call__(self) -> datetime:
        """The current fake time."""
        return self.now


class ScriptedEnrich:
    """An enrich callable answering from a per-track script of results or exceptions."""

    def __init__(self, script: dict[str, list[EnrichmentResult | Exception]]) -> None:
        """Answers per track id, consumed in order."""
        self.script = script
        self.calls: list[tuple[str, float]] = []
        self.priorities: list[Priority] = []

    async def __call__(self, req: EnrichmentRequest, deadline: Deadline) -> EnrichmentResult:
        """The next scripted answer for ``req``."""
        self.calls.append((req.track_id, deadline.remaining()))
        self.priorities.append(req.priority)
        answer = self.script[req.track_id].pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _worker(
    store: Store, enrich: ScriptedEnrich, clock: Clock, **overrides: object
) -> DeadLetterWorker:
    """A DLQ worker with test settings (3 attempts, 10 s doubling backoff)."""
    settings: dict[str, object] = {
        "worker_id": "w1",
        "batch_size": 10,
        "lease_s": 60.0,
        "per_item_deadline_s": 5.0,
        "max_attempts": 3,
        "backoff": backoff(),
        "now": clock,
    }
    return DeadLetterWorker(store, enrich, **{**settings, **overrides})  # type: ignore[arg-type]


async def _attempts(store: Store) -> dict[str, int]:
    """Dead-letter attempts per track."""
    items, _ = await store.list_dead_letters(page_size=100)
    return {item.track_id: item.attempts for item in items}


async def test_entry_backs_off_then_is_removed_on_success(store: Store) -> None:
    """Fail, wait out the backoff, succeed: the entry is counted, delayed, then deleted."""
    await store.record(request(), failed(), now=T0, max_attempts=3, backoff=backoff())
    enrich = ScriptedEnrich({"t1": [failed(), result(metadata=TrackMetadata(bpm=120.0))]})
    clock = Clock(later(11))
    worker = _worker(store, enrich, clock)
    assert await worker.run_once() == 1
    assert await _attempts(store) == {"t1": 2}
    assert await worker.run_once() == 0  # backing off: 15-20 s after the second failure
    clock.now = later(11 + 20)
    assert await worker.run_once() == 1
    assert await _attempts(store) == {}
    assert [track for track, _ in enrich.calls] == ["t1", "t1"]
    assert all(0 < remaining <= 5.0 for _, remaining in enrich.calls)
    stats = await store.stats()
    assert stats.statuses == {"completed": 1}
    assert stats.coverage["bpm"] == 100.0


async def test_one_crash_does_not_stop_the_batch(store: Store) -> None:
    """An exception for one entry is logged and recorded; the other entries complete."""
    for track_id in ("a", "b", "c"):
        await store.record(
            request(track_id), failed(track_id), now=T0, max_attempts=3, backoff=backoff()
        )
    enrich = ScriptedEnrich(
        {
            "a": [result("a")],
            "b": [RuntimeError("parser blew up")],
            "c": [result("c")],
        }
    )
    with capture_logs() as logs:
        assert await _worker(store, enrich, Clock(later(60))).run_once() == 3
    assert await _attempts(store) == {"b": 2}
    items, _ = await store.list_dead_letters()
    assert items[0].last_error == "enrichment: internal (retriable): RuntimeError: parser blew up"
    assert [(log["event"], log["track_id"]) for log in logs if log["log_level"] == "error"] == [
        ("background enrichment raised", "b")
    ]


async def test_crashes_park_after_max_attempts(store: Store) -> None:
    """An entry that always crashes is parked like any other failure, not retried forever."""
    await store.record(request(), failed(), now=T0, max_attempts=2, backoff=backoff())
    enrich = ScriptedEnrich({"t1": [KeyError("x")]})
    with capture_logs():
        await _worker(store, enrich, Clock(later(60)), max_attempts=2).run_once()
    [entry], _ = await store.list_dead_letters()
    assert (entry.state, entry.attempts) == ("parked", 2)


async def test_hanging_enrich_is_abandoned(store: Store) -> None:
    """An enrich that ignores its deadline is cut off and recorded, not left holding the lease."""
    await store.record(request(), failed(), now=T0, max_attempts=3, backoff=backoff())

    async def hang(req: EnrichmentRequest, deadline: Deadline) -> EnrichmentResult:
        """Never returns."""
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    worker = DeadLetterWorker(
        store,
        hang,
        worker_id="w",
        batch_size=5,
        lease_s=2.0,
        per_item_deadline_s=0.01,
        hang_grace_s=0.01,
        max_attempts=3,
        backoff=backoff(),
        now=Clock(later(60)),
    )
    with capture_logs():
        assert await worker.run_once() == 1
    [entry], _ = await store.list_dead_letters()
    assert entry.attempts == 2
    assert "TimeoutError" in (entry.last_error or "")


async def test_run_forever_stops_when_asked(store: Store) -> None:
    """run_forever drains due work, then waits with the injected sleep until stopped."""
    await store.record(request(), failed(), now=T0, max_attempts=3, backoff=backoff())
    enrich = ScriptedEnrich({"t1": [result()]})
    stop = asyncio.Event()
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        """Record the pause and stop the loop."""
        pauses.append(seconds)
        stop.set()

    worker = _worker(store, enrich, Clock(later(60)), sleep=sleep)
    await asyncio.wait_for(worker.run_forever(30.0, stop), timeout=10)
    assert pauses == [30.0]
    assert await _attempts(store) == {}


def test_lease_must_outlive_the_item_deadline(store: Store) -> None:
    """A lease shorter than an item's deadline would let two replicas run the same item."""
    with pytest.raises(ValueError, match="lease_s"):
        _worker(store, ScriptedEnrich({}), Clock(), lease_s=5.0, per_item_deadline_s=5.0)


async def test_scheduler_enriches_pending_tracks(store: Store) -> None:
    """Tracks saved unenriched are enriched once; a failure moves into the DLQ."""
    await store.save_pending(request("p1"), now=T0)
    await store.save_pending(request("p2"), now=T0)
    enrich = ScriptedEnrich(
        {"p1": [result("p1", metadata=TrackMetadata(isrc="GBARL1800368"))], "p2": [failed("p2")]}
    )
    scheduler = Scheduler(
        store,
        enrich,
        worker_id="s1",
        batch_size=10,
        lease_s=60.0,
        per_item_deadline_s=5.0,
        max_attempts=3,
        backoff=backoff(),
        now=Clock(later(5)),
    )
    assert await scheduler.run_once() == 2
    assert await scheduler.run_once() == 0
    query = sa.select(EnrichmentStatusRow.track_id, EnrichmentStatusRow.status).order_by(
        EnrichmentStatusRow.track_id
    )
    async with store.engine.connect() as conn:
        assert [tuple(r) for r in (await conn.execute(query)).all()] == [
            ("p1", Status.COMPLETED.value),
            ("p2", Status.FAILED.value),
        ]
    assert await _attempts(store) == {"p2": 1}


async def test_work_runs_in_the_background_lane_and_within_the_pace(store: Store) -> None:
    """Replays ask for BACKGROUND slots; a pace with 2 free places claims only 2 of 3."""
    for track_id in ("a", "b", "c"):
        await store.record(
            request(track_id), failed(track_id), now=T0, max_attempts=3, backoff=backoff()
        )
    enrich = ScriptedEnrich({t: [result(t)] for t in ("a", "b", "c")})
    pace = QuotaPace(None, 5.0, 3)
    pace.take()  # the scheduler holds one place
    worker = _worker(store, enrich, Clock(later(60)), pace=pace)
    assert await worker.run_once() == 2
    assert set(enrich.priorities) == {Priority.BACKGROUND}
    assert pace.in_flight == 1


async def test_entries_needing_an_open_breaker_are_postponed_without_an_attempt(
    store: Store,
) -> None:
    """Spotify's breaker is open for 90 s: its dead letter is not started but due again
    in 90 s with its attempt count unchanged; another source's entry is replayed."""
    spotify = failure(Source.SPOTIFY, ErrorKind.UNAVAILABLE)
    lastfm = failure(Source.LASTFM, ErrorKind.UNAVAILABLE)
    await store.record(
        request("s"), failed("s", spotify), now=T0, max_attempts=3, backoff=backoff()
    )
    await store.record(request("l"), failed("l", lastfm), now=T0, max_attempts=3, backoff=backoff())
    enrich = ScriptedEnrich({"l": [result("l")]})
    clock = Clock(later(60))
    worker = _worker(store, enrich, clock, blocked=lambda: {"spotify": 90.0})
    assert await worker.run_once() == 1
    assert [track for track, _ in enrich.calls] == ["l"]
    [entry], _ = await store.list_dead_letters()
    assert (entry.track_id, entry.attempts, entry.claimed_by) == ("s", 1, None)
    assert entry.next_attempt_at == later(150)


async def test_one_entry_per_claim_probes_a_half_open_breaker(store: Store) -> None:
    """Deezer is half-open with a free probe slot and no live caller: one of its two dead
    letters is started (its calls are the probes), the other waits PROBE_WAIT_S with its
    attempt count unchanged; an entry needing another source is not held back."""
    deezer = failure(Source.DEEZER, ErrorKind.UNAVAILABLE)
    lastfm = failure(Source.LASTFM, ErrorKind.UNAVAILABLE)
    for track_id, error in (("d1", deezer), ("d2", deezer), ("l", lastfm)):
        await store.record(
            request(track_id), failed(track_id, error), now=T0, max_attempts=3, backoff=backoff()
        )
    enrich = ScriptedEnrich({t: [result(t)] for t in ("d1", "d2", "l")})
    worker = _worker(store, enrich, Clock(later(60)), probes=lambda: {"deezer"})
    assert await worker.run_once() == 2
    started = {track for track, _ in enrich.calls}
    assert "l" in started
    assert len(started & {"d1", "d2"}) == 1
    [entry], _ = await store.list_dead_letters()
    assert entry.track_id in {"d1", "d2"} - started
    assert (entry.attempts, entry.claimed_by) == (1, None)
    assert entry.next_attempt_at == later(60 + PROBE_WAIT_S)
