"""Our own refusals (limiter, open breaker) are not attempts; real upstream failures are."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from enrichment_server.domain import ErrorKind, Source, SourceFailure, Status
from enrichment_server.store import Store
from enrichment_server.store.models import EnrichmentStatusRow
from enrichment_server.store.types import DeadLetter
from tests.integration.store.support import T0, backoff, failed, failure, later, request, result

OUR_LIMITER = SourceFailure(
    Source.MUSICBRAINZ, ErrorKind.LOCAL_RATE_LIMIT, "our own rate limit", retriable=True
)
OPEN_BREAKER = SourceFailure(
    Source.MUSICBRAINZ, ErrorKind.CIRCUIT_OPEN, "circuit open", retriable=True, retry_after=30.0
)
UPSTREAM_503 = failure(Source.MUSICBRAINZ, ErrorKind.UNAVAILABLE, message="503")


async def _entry(store: Store) -> DeadLetter:
    [entry], _ = await store.list_dead_letters()
    return entry


async def _status_attempts(store: Store) -> int:
    async with store.engine.connect() as conn:
        query = sa.select(EnrichmentStatusRow.attempts)
        return int((await conn.execute(query)).scalar_one())


async def _record(store: Store, *errors: SourceFailure, seconds: float = 0) -> None:
    partial = result(status=Status.PARTIAL, errors=errors)
    await store.record(request(), partial, now=later(seconds), max_attempts=3, backoff=backoff())


async def test_our_limiter_refusal_keeps_the_attempt_count_and_reschedules(store: Store) -> None:
    """A track refused by our own limiter gets a due dead letter with 0 attempts, soon."""
    await _record(store, OUR_LIMITER)
    entry = await _entry(store)
    assert (entry.state, entry.attempts) == ("due", 0)
    assert entry.next_attempt_at == T0 + timedelta(seconds=5)
    assert await _status_attempts(store) == 0


async def test_an_open_breaker_reschedules_for_when_it_can_take_calls(store: Store) -> None:
    """After one real failure, an open-breaker refusal leaves the count at 1 and waits
    for the breaker's own "retry after" (30 s), not the attempt backoff."""
    await _record(store, UPSTREAM_503)
    await _record(store, OPEN_BREAKER, seconds=100)
    entry = await _entry(store)
    assert (entry.state, entry.attempts) == ("due", 1)
    assert entry.next_attempt_at == later(130)
    assert await _status_attempts(store) == 1


async def test_real_failures_count_and_park_while_refusals_never_do(store: Store) -> None:
    """Refusals between real 503s change nothing; the third real failure parks."""
    for step, errors in enumerate(
        [(UPSTREAM_503,), (OUR_LIMITER,), (OPEN_BREAKER,), (UPSTREAM_503,), (OUR_LIMITER,)]
    ):
        await _record(store, *errors, seconds=step * 10_000)
    entry = await _entry(store)
    assert (entry.state, entry.attempts) == ("due", 2)
    await _record(store, UPSTREAM_503, seconds=60_000)
    entry = await _entry(store)
    assert (entry.state, entry.attempts) == ("parked", 3)


async def test_a_refusal_beside_an_upstream_failure_is_charged(store: Store) -> None:
    """Our refusal on one source does not excuse a real failure of another."""
    await _record(store, OUR_LIMITER, failure(Source.SPOTIFY, ErrorKind.UNAVAILABLE))
    assert (await _entry(store)).attempts == 1


async def test_completing_after_refusals_counts_one_attempt(store: Store) -> None:
    """Refused twice, then completed: the status shows exactly one attempt."""
    await _record(store, OUR_LIMITER)
    await _record(store, OPEN_BREAKER, seconds=10)
    await store.record(request(), result(), now=later(60), max_attempts=3, backoff=backoff())
    assert await _status_attempts(store) == 1
    assert await store.list_dead_letters() == ([], None)


async def test_a_failed_result_made_only_of_refusals_is_not_charged(store: Store) -> None:
    """FAILED (nothing found) only because of our refusals spends no attempt either."""
    await store.record(
        request(), failed("t1", OUR_LIMITER), now=T0, max_attempts=1, backoff=backoff()
    )
    entry = await _entry(store)
    assert (entry.state, entry.attempts) == ("due", 0)
