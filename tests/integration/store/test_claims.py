"""Claims: every due entry goes to exactly one worker; leases expire; pending tracks."""

from __future__ import annotations

import asyncio
from collections import Counter

import sqlalchemy as sa

from enrichment_server.domain import EnrichmentRequest
from enrichment_server.store import Store, create_engine
from enrichment_server.store.models import DeadLetterRow, EnrichmentStatusRow, Track
from tests.integration.store.support import T0, backoff, failed, later, request, result

QUEUE = 200


async def _seed_queue(store: Store, size: int) -> None:
    """``size`` due dead letters (bulk inserted: the claim, not the seeding, is tested)."""
    tracks = [
        {
            "track_id": f"track-{n:04d}",
            "artist_name": "A",
            "track_title": f"T{n}",
            "created_at": T0,
            "updated_at": T0,
        }
        for n in range(size)
    ]
    letters = [
        {
            "track_id": row["track_id"],
            "artist_name": "A",
            "track_title": row["track_title"],
            "state": "due",
            "attempts": 1,
            "next_attempt_at": T0,
            "created_at": T0,
            "updated_at": T0,
        }
        for row in tracks
    ]
    async with store.engine.begin() as conn:
        await conn.execute(sa.insert(Track), tracks)
        await conn.execute(sa.insert(DeadLetterRow), letters)


async def _drain(store: Store, worker: str, start: asyncio.Barrier) -> list[str]:
    """Claim (batches of 3) until nothing is left; the track ids this worker got."""
    got: list[str] = []
    await start.wait()
    while entries := await store.claim_due(worker, 3, later(1), lease_s=300):
        got.extend(entry.track_id for entry in entries)
        await asyncio.sleep(0)
    return got


async def _warm(store: Store, connections: int) -> None:
    """Open ``connections`` pooled connections, so no worker starts late on a connect."""

    async def ping() -> None:
        """Hold a connection briefly."""
        async with store.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
            await asyncio.sleep(0.01)

    await asyncio.gather(*(ping() for _ in range(connections)))


async def test_two_engines_claim_every_entry_exactly_once(store: Store, db_url: str) -> None:
    """Workers on separate engines (replicas) racing over 200 entries never share one."""
    await _seed_queue(store, QUEUE)
    other = Store(create_engine(db_url))
    start = asyncio.Barrier(6)
    try:
        await asyncio.gather(_warm(store, 3), _warm(other, 3))
        loops = [
            _drain(replica, f"{name}-{n}", start)
            for replica, name in ((store, "a"), (other, "b"))
            for n in range(3)
        ]
        claimed = await asyncio.gather(*loops)
    finally:
        await other.close()
    counts = Counter(track_id for got in claimed for track_id in got)
    assert len(counts) == QUEUE
    assert set(counts.values()) == {1}
    # Every loop started together on a full queue, so on Postgres each must win some
    # claims: a claim that came back empty while work remained would show up here.
    # (SQLite's busy handler is not fair: one engine's writers may lose every round, so
    # there only exactly-once is asserted.)
    if store.engine.dialect.name == "postgresql":
        assert all(got for got in claimed), [len(got) for got in claimed]


async def test_claim_records_the_lease(store: Store) -> None:
    """A claim names the worker and a lease end of now + lease_s, oldest due first."""
    await store.record(request("b"), failed("b"), now=T0, max_attempts=5, backoff=backoff())
    await store.record(request("a"), failed("a"), now=later(5), max_attempts=5, backoff=backoff())
    entries = await store.claim_due("w1", 10, later(3600), lease_s=30)
    assert [entry.track_id for entry in entries] == ["b", "a"]
    assert {entry.claimed_by for entry in entries} == {"w1"}
    assert {entry.claimed_until for entry in entries} == {later(3630)}
    assert entries[0].request.artist == "Bicep"


async def test_entries_not_yet_due_are_not_claimed(store: Store) -> None:
    """An entry is claimable only once its backoff has passed."""
    await store.record(request(), failed(), now=T0, max_attempts=5, backoff=backoff())
    assert await store.claim_due("w", 10, later(7), lease_s=30) == []
    assert len(await store.claim_due("w", 10, later(10), lease_s=30)) == 1


async def test_expired_lease_is_claimable_again(store: Store) -> None:
    """A worker killed mid-batch never releases its lease: another takes over after it."""
    await store.record(request(), failed(), now=T0, max_attempts=5, backoff=backoff())
    assert len(await store.claim_due("crashed", 10, later(60), lease_s=30)) == 1
    assert await store.claim_due("w2", 10, later(89), lease_s=30) == []
    retaken = await store.claim_due("w2", 10, later(90), lease_s=30)
    assert [(entry.track_id, entry.claimed_by) for entry in retaken] == [("t1", "w2")]


async def test_record_ends_the_claim(store: Store) -> None:
    """Recording the retry's outcome clears the lease, so the backoff alone decides."""
    await store.record(request(), failed(), now=T0, max_attempts=5, backoff=backoff())
    [entry] = await store.claim_due("w", 10, later(60), lease_s=3600)
    await store.record(entry.request, failed(), now=later(61), max_attempts=5, backoff=backoff())
    [again] = await store.claim_due("w2", 10, later(200), lease_s=30)
    assert (again.claimed_by, again.attempts) == ("w2", 2)


async def test_pending_and_orphan_tracks_go_to_the_scheduler(store: Store) -> None:
    """Tracks saved unenriched, or written with no status row, are claimed once each."""
    assert await store.save_pending(request("p1", isrc="GBARL1800368"), now=T0) is True
    assert await store.save_pending(request("p1"), now=T0) is False
    async with store.engine.begin() as conn:
        await conn.execute(
            sa.insert(Track).values(
                track_id="orphan", artist_name="X", track_title="Y", created_at=T0, updated_at=T0
            )
        )
    await store.record(request("done"), result("done"), now=T0, max_attempts=3, backoff=backoff())
    claimed = await store.claim_unenriched("s1", 10, later(1), lease_s=60)
    assert claimed == [
        EnrichmentRequest(track_id="orphan", artist="X", title="Y"),
        EnrichmentRequest(track_id="p1", artist="Bicep", title="Glue", isrc="GBARL1800368"),
    ]
    assert await store.claim_unenriched("s2", 10, later(2), lease_s=60) == []
    retaken = await store.claim_unenriched("s2", 10, later(61), lease_s=60)
    assert sorted(r.track_id for r in retaken) == ["orphan", "p1"]


async def test_due_retry_without_dead_letter_goes_to_the_scheduler(store: Store) -> None:
    """A status whose retry is due but whose dead letter vanished is not forgotten."""
    await store.record(request(), failed(), now=T0, max_attempts=5, backoff=backoff())
    assert await store.claim_unenriched("s", 10, later(3600), lease_s=60) == []
    async with store.engine.begin() as conn:
        await conn.execute(sa.delete(DeadLetterRow))
    assert [r.track_id for r in await store.claim_unenriched("s", 10, later(3600), 60)] == ["t1"]
    row = sa.select(EnrichmentStatusRow.claimed_by)
    async with store.engine.connect() as conn:
        assert (await conn.execute(row)).scalar_one() == "s"
