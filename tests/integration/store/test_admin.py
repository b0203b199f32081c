"""Operator actions on the dead-letter queue, and the coverage numbers of GetStats."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from enrichment_server.domain import ErrorKind, Source, Status, TrackMetadata
from enrichment_server.store import DeadLetter, Store
from enrichment_server.store.models import EnrichmentStatusRow
from tests.integration.store.support import T0, backoff, failed, failure, later, request, result

SPOTIFY_429 = failure(Source.SPOTIFY, ErrorKind.RATE_LIMITED)
LASTFM_503 = failure(Source.LASTFM, ErrorKind.UNAVAILABLE)
MB_TIMEOUT = failure(Source.MUSICBRAINZ, ErrorKind.DEADLINE_EXCEEDED)


async def _queue(store: Store) -> None:
    """Five dead letters: t0/t1 Spotify 429, t2 Last.fm 503, t3 both, t4 MusicBrainz timeout."""
    plan = {
        "t0": (SPOTIFY_429,),
        "t1": (SPOTIFY_429,),
        "t2": (LASTFM_503,),
        "t3": (SPOTIFY_429, LASTFM_503),
        "t4": (MB_TIMEOUT,),
    }
    for track_id, errors in plan.items():
        await store.record(
            request(track_id), failed(track_id, *errors), now=T0, max_attempts=3, backoff=backoff()
        )


async def _park(store: Store, track_id: str, max_attempts: int = 2) -> None:
    """Fail ``track_id`` until its entry is parked."""
    for n in range(max_attempts):
        await store.record(
            request(track_id),
            failed(track_id),
            now=later(n * 100),
            max_attempts=max_attempts,
            backoff=backoff(),
        )


async def _ids(store: Store, **filters: str) -> list[str]:
    """Track ids of every dead letter matching ``filters`` (one big page)."""
    items, token = await store.list_dead_letters(page_size=100, **filters)
    assert token is None
    return [item.track_id for item in items]


async def test_list_filters_by_source_kind_and_state(store: Store) -> None:
    """Source and kind match any of an entry's errors; state matches exactly."""
    await _queue(store)
    await _park(store, "p0")
    assert await _ids(store, source="spotify") == ["t0", "t1", "t3", "p0"]
    assert await _ids(store, source="lastfm") == ["t2", "t3"]
    assert await _ids(store, kind="deadline_exceeded") == ["t4"]
    assert await _ids(store, source="lastfm", kind="rate_limited") == ["t3"]
    assert await _ids(store, state="parked") == ["p0"]


async def test_list_pages_through_everything_once(store: Store) -> None:
    """Pages of 2 over 5 entries: 2, 2, 1, then no token."""
    await _queue(store)
    pages, token = [], None
    while True:
        items, token = await store.list_dead_letters(page_size=2, page_token=token)
        pages.append([item.track_id for item in items])
        if token is None:
            break
    assert pages == [["t0", "t1"], ["t2", "t3"], ["t4"]]


async def test_list_refuses_unknown_filters(store: Store) -> None:
    """A misspelt source or a forged page token is an error, not an empty page."""
    with pytest.raises(ValueError, match="spotfy"):
        await store.list_dead_letters(source="spotfy")
    with pytest.raises(ValueError, match="page token"):
        await store.list_dead_letters(page_token="1; DROP TABLE tracks")


async def test_replay_requeues_parked_entries_with_a_fresh_budget(store: Store) -> None:
    """A replayed parked entry is due now with attempts 0, so it gets max_attempts again."""
    await _park(store, "p0")
    await store.record(
        request("due"), failed("due"), now=later(2000), max_attempts=2, backoff=backoff()
    )
    assert await store.replay(parked_only=True, now=later(1000)) == 1
    [entry] = await store.claim_due("w", 10, later(1000), lease_s=30)
    assert (entry.track_id, entry.state, entry.attempts) == ("p0", "due", 0)
    await store.record(
        entry.request, failed("p0"), now=later(1001), max_attempts=2, backoff=backoff()
    )
    [after] = await _entries(store, "p0")
    assert (after.state, after.attempts) == ("due", 1)


async def _entries(store: Store, track_id: str) -> list[DeadLetter]:
    """Dead letters of ``track_id``."""
    items, _ = await store.list_dead_letters(page_size=100)
    return [item for item in items if item.track_id == track_id]


async def test_replay_by_ids_and_source(store: Store) -> None:
    """Replay touches only the entries the ids or the filter select."""
    await _queue(store)
    items, _ = await store.list_dead_letters(page_size=100)
    by_track = {item.track_id: item.id for item in items}
    assert await store.replay([by_track["t4"]], now=T0) == 1
    assert await store.replay(source="lastfm", now=T0) == 2
    assert await store.replay([], now=T0) == 0
    due_now = await store.claim_due("w", 10, T0, lease_s=30)
    assert sorted(entry.track_id for entry in due_now) == ["t2", "t3", "t4"]


async def test_purge_deletes_and_stops_retries(store: Store) -> None:
    """Purged entries are gone and their status no longer promises a next attempt."""
    await _queue(store)
    assert await store.purge(source="spotify") == 3
    assert await _ids(store) == ["t2", "t4"]
    items, _ = await store.list_dead_letters(page_size=100)
    assert await store.purge([items[0].id]) == 1
    assert await _ids(store) == ["t4"]
    query = sa.select(EnrichmentStatusRow.track_id).where(
        EnrichmentStatusRow.next_attempt_at.is_not(None)
    )
    async with store.engine.connect() as conn:
        assert list((await conn.execute(query)).scalars()) == ["t4"]
    assert await store.claim_unenriched("s", 10, later(10**6), lease_s=30) == []


async def test_stats_coverage_counts_and_queue_depth(store: Store) -> None:
    """Coverage is the share of all tracks with each field; statuses and DLQ are counted."""
    full = TrackMetadata(
        spotify_id="x", isrc="GBARL1800368", musicbrainz_id="m", bpm=120.0, musical_key="A minor"
    )
    await store.record(
        request("c1"), result("c1", metadata=full), now=T0, max_attempts=3, backoff=backoff()
    )
    await store.record(
        request("c2"),
        result("c2", metadata=TrackMetadata(spotify_id="y")),
        now=T0,
        max_attempts=3,
        backoff=backoff(),
    )
    await store.record(
        request("n1"), result("n1", Status.NOT_FOUND), now=T0, max_attempts=3, backoff=backoff()
    )
    await store.record(request("f1"), failed("f1"), now=T0, max_attempts=3, backoff=backoff())
    await _park(store, "p0")
    await store.save_pending(request("s1"), now=T0)
    stats = await store.stats()
    assert stats.total_tracks == 6
    assert stats.coverage == pytest.approx(
        {
            "spotify_id": 200 / 6,
            "isrc": 100 / 6,
            "musicbrainz_id": 100 / 6,
            "bpm": 100 / 6,
            "key": 100 / 6,
        }
    )
    assert stats.statuses == {"completed": 2, "not_found": 1, "failed": 2, "pending": 1}
    assert (stats.dead_letters_due, stats.dead_letters_parked) == (1, 1)


async def test_stats_of_an_empty_store(store: Store) -> None:
    """No tracks: zero coverage rather than a division by zero."""
    stats = await store.stats()
    assert stats.total_tracks == 0
    assert set(stats.coverage.values()) == {0.0}
    assert stats.statuses == {}
