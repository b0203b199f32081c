"""Store.record: track, status and dead letter written together, data never erased."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from enrichment_server.domain import ErrorKind, Source, Status, TrackMetadata
from enrichment_server.store import Backoff, Store, create_engine
from enrichment_server.store.models import DeadLetterRow, EnrichmentStatusRow, Track
from tests.integration.store.support import T0, backoff, failed, failure, later, request, result

FIRST = TrackMetadata(spotify_id="4uLU6hMCjMI75M1A2tKUQC", bpm=124.0, genres=("house",))
FIRST_FROM = {"spotify_id": Source.SPOTIFY, "bpm": Source.DEEZER, "genres": Source.LASTFM}


async def _one(store: Store, query: sa.Select[Any]) -> sa.RowMapping | None:
    """The single row ``query`` selects, as a mapping (None if there is none)."""
    async with store.engine.connect() as conn:
        row: sa.RowMapping | None = (await conn.execute(query)).mappings().one_or_none()
    return row


async def _track(store: Store, track_id: str = "t1") -> sa.RowMapping | None:
    """The ``tracks`` row of ``track_id``."""
    return await _one(store, sa.select(Track).where(Track.track_id == track_id))


async def _status(store: Store, track_id: str = "t1") -> sa.RowMapping | None:
    """The ``enrichment_status`` row of ``track_id``."""
    row = sa.select(EnrichmentStatusRow).where(EnrichmentStatusRow.track_id == track_id)
    return await _one(store, row)


async def _dead_letter(store: Store, track_id: str = "t1") -> sa.RowMapping | None:
    """The ``dead_letters`` row of ``track_id``."""
    return await _one(store, sa.select(DeadLetterRow).where(DeadLetterRow.track_id == track_id))


async def test_completed_writes_every_found_field(store: Store) -> None:
    """A COMPLETED result fills the track columns, provenance and a clean status row."""
    found = TrackMetadata(isrc="GBARL1800368", artists=("Bicep",), major=False, pitch_class=9)
    provenance = {"isrc": Source.SPOTIFY, "artists": Source.SPOTIFY}
    await store.record(
        request(),
        result(metadata=found, provenance=provenance),
        now=T0,
        max_attempts=3,
        backoff=backoff(),
    )
    track = await _track(store)
    assert track is not None
    assert (track["isrc"], track["artists"], track["major"], track["pitch_class"]) == (
        "GBARL1800368",
        ["Bicep"],
        False,
        9,
    )
    assert track["sources"] == {"isrc": "spotify", "artists": "spotify"}
    assert track["enriched_at"] == T0
    status = await _status(store)
    assert status is not None
    assert (status["status"], status["attempts"], status["is_retriable"]) == ("completed", 1, False)
    assert status["error_message"] is None
    assert status["next_attempt_at"] is None
    assert await _dead_letter(store) is None


async def test_partial_retry_keeps_fields_found_earlier(store: Store) -> None:
    """A later PARTIAL that found less never erases stored fields or their provenance."""
    errors = (failure(Source.MUSICBRAINZ, ErrorKind.UNAVAILABLE),)
    first = result(status=Status.PARTIAL, metadata=FIRST, provenance=FIRST_FROM, errors=errors)
    await store.record(request(), first, now=T0, max_attempts=5, backoff=backoff())
    second = result(
        status=Status.PARTIAL,
        metadata=TrackMetadata(isrc="GBARL1800368", bpm=125.0),
        provenance={"isrc": Source.SPOTIFY, "bpm": Source.GETSONGBPM},
        errors=errors,
        at=later(60),
    )
    await store.record(request(), second, now=later(60), max_attempts=5, backoff=backoff())
    track = await _track(store)
    assert track is not None
    assert track["spotify_id"] == "4uLU6hMCjMI75M1A2tKUQC"
    assert track["genres"] == ["house"]
    assert (track["isrc"], track["bpm"]) == ("GBARL1800368", 125.0)
    assert track["sources"] == {
        "spotify_id": "spotify",
        "bpm": "getsongbpm",
        "genres": "lastfm",
        "isrc": "spotify",
    }
    dead = await _dead_letter(store)
    assert dead is not None
    assert (dead["attempts"], dead["state"]) == (2, "due")


async def test_failed_result_is_queued_with_full_error_context(store: Store) -> None:
    """A retriable FAILED gets a dead letter with every error's source/kind/message/retry_after."""
    errors = (failure(), failure(Source.LASTFM, ErrorKind.UNAVAILABLE, message="503 from upstream"))
    await store.record(
        request(isrc="GBARL1800368"),
        failed("t1", *errors),
        now=T0,
        max_attempts=3,
        backoff=backoff(),
    )
    dead = await _dead_letter(store)
    assert dead is not None
    assert dead["errors"] == [
        {
            "source": "spotify",
            "kind": "rate_limited",
            "message": "429 Too Many Requests",
            "retriable": True,
            "retry_after": 3.0,
        },
        {
            "source": "lastfm",
            "kind": "unavailable",
            "message": "503 from upstream",
            "retriable": True,
            "retry_after": 3.0,
        },
    ]
    assert dead["failed_sources"] == ["lastfm", "spotify"]
    assert dead["error_kinds"] == ["rate_limited", "unavailable"]
    assert (dead["artist_name"], dead["track_title"], dead["existing_isrc"]) == (
        "Bicep",
        "Glue",
        "GBARL1800368",
    )
    status = await _status(store)
    assert status is not None
    assert status["next_attempt_at"] == dead["next_attempt_at"] > T0


async def test_seed_troubleshooting_query_reads_failures(store: Store) -> None:
    """The seed's query shows a failed track with a readable summary of its errors."""
    await store.record(request(), failed(), now=T0, max_attempts=3, backoff=backoff())
    query = sa.text(
        "SELECT status, is_retriable, error_message FROM enrichment_status "
        "WHERE status = 'failed' LIMIT 10"
    )
    async with store.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    assert [tuple(row) for row in rows] == [
        ("failed", True, "spotify: rate_limited (retriable): 429 Too Many Requests")
    ]


async def test_completed_removes_the_dead_letter(store: Store) -> None:
    """A COMPLETED after a FAILED deletes the dead letter and counts both attempts."""
    await store.record(request(), failed(), now=T0, max_attempts=3, backoff=backoff())
    assert await _dead_letter(store) is not None
    await store.record(
        request(),
        result(metadata=FIRST, provenance=FIRST_FROM),
        now=later(30),
        max_attempts=3,
        backoff=backoff(),
    )
    assert await _dead_letter(store) is None
    status = await _status(store)
    assert status is not None
    assert (status["status"], status["attempts"], status["error_message"]) == ("completed", 2, None)


async def test_not_found_removes_the_dead_letter(store: Store) -> None:
    """NOT_FOUND is an answer: the retry entry goes away."""
    await store.record(request(), failed(), now=T0, max_attempts=3, backoff=backoff())
    await store.record(
        request(), result(status=Status.NOT_FOUND), now=later(30), max_attempts=3, backoff=backoff()
    )
    assert await _dead_letter(store) is None


async def test_concurrent_records_of_a_new_track_all_count(store: Store, db_url: str) -> None:
    """Replicas recording the same new track at once neither collide nor lose an attempt."""
    other = Store(create_engine(db_url))
    try:
        await asyncio.gather(
            *(
                replica.record(request(), failed(), now=T0, max_attempts=50, backoff=backoff())
                for replica in (store, other, store, other, store, other)
            )
        )
    finally:
        await other.close()
    dead, status = await _dead_letter(store), await _status(store)
    assert dead is not None
    assert status is not None
    assert (dead["attempts"], status["attempts"]) == (6, 6)


async def test_record_is_one_transaction(store: Store) -> None:
    """When a late step fails, the track and dead letter written before it roll back."""

    def broken_backoff(attempts: int) -> timedelta:
        """Fails after the track and dead-letter upserts ran."""
        raise RuntimeError("backoff exploded")

    with pytest.raises(RuntimeError, match="backoff exploded"):
        await store.record(request(), failed(), now=T0, max_attempts=3, backoff=broken_backoff)
    assert await _track(store) is None
    assert await _dead_letter(store) is None
    assert await _status(store) is None


async def test_backoff_grows_then_parks(store: Store) -> None:
    """Each failure pushes the next attempt further out; attempt N parks the entry."""
    delays = []
    now = T0
    for _ in range(3):
        await store.record(request(), failed(), now=now, max_attempts=4, backoff=backoff())
        dead = await _dead_letter(store)
        assert dead is not None
        assert dead["state"] == "due"
        delays.append((dead["next_attempt_at"] - now).total_seconds())
        now = dead["next_attempt_at"]
    assert 7.5 <= delays[0] <= 10 < 15 <= delays[1] <= 20 < 30 <= delays[2] <= 40
    await store.record(request(), failed(), now=now, max_attempts=4, backoff=backoff())
    dead = await _dead_letter(store)
    assert dead is not None
    assert (dead["state"], dead["attempts"]) == ("parked", 4)
    status = await _status(store)
    assert status is not None
    assert status["next_attempt_at"] is None
    assert await store.claim_due("w", 10, now + timedelta(days=30), 60) == []


async def test_non_retriable_failure_parks_at_once(store: Store) -> None:
    """A PARTIAL whose only error is not retriable waits for an operator, not a timer."""
    refused = failure(Source.SPOTIFY, ErrorKind.UNAUTHENTICATED, retriable=False, message="401")
    partial = result(
        status=Status.PARTIAL, metadata=FIRST, provenance=FIRST_FROM, errors=(refused,)
    )
    await store.record(request(), partial, now=T0, max_attempts=5, backoff=backoff())
    dead = await _dead_letter(store)
    assert dead is not None
    assert dead["state"] == "parked"
    status = await _status(store)
    assert status is not None
    assert status["is_retriable"] is False


async def test_naive_datetimes_are_refused(store: Store) -> None:
    """A naive ``now`` would be stored in an unknown zone: the store refuses it."""
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        await store.record(
            request(), failed(), now=T0.replace(tzinfo=None), max_attempts=3, backoff=backoff()
        )


async def test_mismatched_result_is_refused(store: Store) -> None:
    """A result for another track is a bug in the caller, not something to store."""
    with pytest.raises(ValueError, match="given for 't1'"):
        await store.record(request("t1"), failed("t2"), now=T0, max_attempts=3, backoff=backoff())


def test_backoff_is_capped_and_jittered_downwards() -> None:
    """Delays double from base, never exceed the cap, and jitter only shortens them."""
    policy = Backoff(base_s=10, cap_s=100, jitter=0.25, rng=random.Random(3))
    for attempts, ceiling in [
        (1, 10),
        (2, 20),
        (3, 40),
        (4, 80),
        (5, 100),
        (50, 100),
        (10**6, 100),
    ]:
        delay = policy(attempts).total_seconds()
        assert 0.75 * ceiling <= delay <= ceiling


@pytest.mark.parametrize(
    ("base_s", "cap_s", "jitter"), [(10.0, 100.0, 0.5), (0.0, 100.0, 0.1), (10.0, 5.0, 0.1)]
)
def test_backoff_refuses_settings_that_would_not_grow(
    base_s: float, cap_s: float, jitter: float
) -> None:
    """Jitter of half or more, a zero base or a cap below the base are rejected."""
    with pytest.raises(ValueError, match="backoff"):
        Backoff(base_s=base_s, cap_s=cap_s, jitter=jitter)
