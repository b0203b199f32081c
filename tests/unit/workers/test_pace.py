"""QuotaPace: background tracks in flight sized to the slowest rate-limited source."""

from __future__ import annotations

import asyncio
import math

import pytest

from enrichment_server.domain import Source
from enrichment_server.workers.pace import (
    CALLS_PER_TRACK,
    TRACK_S,
    UTILISATION,
    QuotaPace,
    tracks_per_s,
)


def test_the_slowest_source_sets_the_pace() -> None:
    """MusicBrainz at 1/s (1.2 calls a track) is slower than Deezer at 8/s (3 a track)."""
    rates = {Source.MUSICBRAINZ: 1.0, Source.DEEZER: 8.0, Source.SPOTIFY: 0.0}
    assert tracks_per_s(rates) == pytest.approx(1.0 / CALLS_PER_TRACK[Source.MUSICBRAINZ])
    assert tracks_per_s({Source.SPOTIFY: 0.0}) is None


def test_capacity_keeps_the_quota_busy_within_part_of_a_deadline() -> None:
    """At 15.8 tracks/s, 12 in flight keep the quota busy (0.75 s of round trips each);
    at MusicBrainz's production 0.83 tracks/s, 2; never more than half a deadline serves,
    never more than a batch, always at least one."""
    assert QuotaPace(19.0 / 1.2, 10.0, 50).capacity == math.ceil(19.0 / 1.2 * TRACK_S) == 12
    assert QuotaPace(1.0 / 1.2, 10.0, 50).capacity == 2
    assert QuotaPace(1.0 / 1.2, 4.0, 50).capacity == int(1.0 / 1.2 * 4.0 * UTILISATION) == 1
    assert QuotaPace(19.0 / 1.2, 10.0, 5).capacity == 5
    assert QuotaPace(0.01, 10.0, 50).capacity == 1
    assert QuotaPace(None, 10.0, 20).capacity == 20


async def test_wait_free_returns_when_a_place_frees_or_on_stop() -> None:
    """A full pace blocks a worker until release (or stop), with no clock involved."""
    pace = QuotaPace(None, 10.0, 1)
    stop = asyncio.Event()
    pace.take()
    assert pace.free() == 0
    waiter = asyncio.create_task(pace.wait_free(stop))
    await asyncio.sleep(0)
    assert not waiter.done()
    pace.release()
    await waiter
    assert pace.free() == 1
    pace.take()
    stopped = asyncio.create_task(pace.wait_free(stop))
    await asyncio.sleep(0)
    stop.set()
    await stopped
    assert pace.free() == 0


async def test_a_worker_can_wait_for_a_chunk_of_places() -> None:
    """Waiting for 3 places returns only after the third release (claims come in chunks)."""
    pace = QuotaPace(None, 10.0, 12)
    assert pace.chunk == 3
    stop = asyncio.Event()
    for _ in range(12):
        pace.take()
    waiter = asyncio.create_task(pace.wait_free(stop, pace.chunk))
    for released in range(1, 4):
        await asyncio.sleep(0)
        assert waiter.done() is (released > 3)
        pace.release()
    await waiter
    assert pace.free() == 3
