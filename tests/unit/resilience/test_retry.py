"""Unit tests for enrichment_server.resilience.retry.RetryPolicy with fake sleep and clock."""

from __future__ import annotations

import asyncio
import random

import pytest

from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.errors import (
    DeadlineExceeded,
    MalformedResponse,
    QuotaExceeded,
    RateLimited,
    Unauthenticated,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from enrichment_server.resilience.retry import MIN_ATTEMPT_S, RetryPolicy

SRC = Source.MUSICBRAINZ


class FakeClock:
    """A monotonic clock the test (and the fake sleep) moves by hand."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RecordingSleep:
    """Records each requested delay and advances the fake clock by it."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        self.clock.now += seconds


class Script:
    """An attempt that raises the given errors in order, then returns ``value``."""

    def __init__(self, errors: list[BaseException], value: str = "ok") -> None:
        self.errors = list(errors)
        self.value = value
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.value


def policy(
    sleep: RecordingSleep,
    seed: int = 7,
    *,
    max_attempts: int = 3,
    base_s: float = 0.1,
    cap_s: float = 2.0,
    retry_after_cap_s: float = 5.0,
) -> RetryPolicy:
    """A policy with a seeded rng and the recording sleep."""
    return RetryPolicy(
        max_attempts=max_attempts,
        base_s=base_s,
        cap_s=cap_s,
        retry_after_cap_s=retry_after_cap_s,
        rng=random.Random(seed),
        sleep=sleep,
    )


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at t=100."""
    return FakeClock()


@pytest.fixture
def sleep(clock: FakeClock) -> RecordingSleep:
    """A sleep that records and advances the fake clock."""
    return RecordingSleep(clock)


@pytest.mark.parametrize("retry_number", [0, 1, 2, 3, 4, 5, 8])
def test_backoff_within_full_jitter_bounds(retry_number: int) -> None:
    """backoff(n) is uniform in [0, min(cap, base*2**n)]: never outside, spread over it."""
    retry = RetryPolicy(base_s=0.1, cap_s=2.0, rng=random.Random(retry_number))
    bound = min(2.0, 0.1 * 2**retry_number)
    draws = [retry.backoff(retry_number) for _ in range(500)]
    assert all(0.0 <= d <= bound for d in draws)
    assert max(draws) > 0.8 * bound  # jitter covers the range, not a fixed fraction
    assert min(draws) < 0.2 * bound


def test_backoff_is_reproducible_with_seeded_rng() -> None:
    """Two policies with the same seed produce the same delays."""
    first = RetryPolicy(rng=random.Random(42))
    second = RetryPolicy(rng=random.Random(42))
    assert [first.backoff(n) for n in range(5)] == [second.backoff(n) for n in range(5)]


async def test_run_sleeps_jittered_delays_within_bounds(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    """run() sleeps the same-seeded full-jitter delays between attempts, each within bound."""
    retry = policy(sleep, seed=3, max_attempts=4, base_s=0.5, cap_s=0.8)
    attempt = Script([UpstreamUnavailable(SRC, "503")] * 3)
    assert await retry.run(attempt, Deadline.after(60, clock)) == "ok"
    expected_rng = random.Random(3)
    expected = [expected_rng.uniform(0.0, min(0.8, 0.5 * 2**n)) for n in range(3)]
    assert sleep.delays == expected
    assert all(0.0 <= d <= min(0.8, 0.5 * 2**n) for n, d in enumerate(sleep.delays))


async def test_success_after_failures_returns_value(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    """Two retriable failures then success returns the value after 3 attempts."""
    retry = policy(sleep, max_attempts=3)
    attempt = Script(
        [UpstreamUnavailable(SRC, "503"), MalformedResponse(SRC, "bad json")], value="found"
    )
    assert await retry.run(attempt, Deadline.after(60, clock)) == "found"
    assert attempt.calls == 3
    assert len(sleep.delays) == 2


async def test_first_success_does_not_sleep(clock: FakeClock, sleep: RecordingSleep) -> None:
    """An attempt that succeeds at once is called once and never sleeps."""
    attempt = Script([])
    assert await policy(sleep).run(attempt, Deadline.after(60, clock)) == "ok"
    assert attempt.calls == 1
    assert sleep.delays == []


async def test_stops_after_max_attempts_and_reraises_last(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    """After max_attempts failures the last error is re-raised and no more sleeps happen."""
    errors: list[BaseException] = [UpstreamUnavailable(SRC, f"fail {i}") for i in range(5)]
    last = errors[2]
    attempt = Script(errors)
    with pytest.raises(UpstreamUnavailable) as info:
        await policy(sleep, max_attempts=3).run(attempt, Deadline.after(60, clock))
    assert info.value is last
    assert attempt.calls == 3
    assert len(sleep.delays) == 2


async def test_retry_after_is_used_as_delay(clock: FakeClock, sleep: RecordingSleep) -> None:
    """A RateLimited with retry_after sleeps exactly that long instead of the backoff."""
    attempt = Script([RateLimited(SRC, "429", retry_after=1.5)])
    retry = policy(sleep, retry_after_cap_s=5.0)
    assert await retry.run(attempt, Deadline.after(60, clock)) == "ok"
    assert sleep.delays == [1.5]


async def test_retry_after_at_cap_is_waited(clock: FakeClock, sleep: RecordingSleep) -> None:
    """A Retry-After equal to the cap is still waited for."""
    attempt = Script([RateLimited(SRC, "429", retry_after=5.0)])
    assert await policy(sleep, retry_after_cap_s=5.0).run(attempt, Deadline.after(60, clock))
    assert sleep.delays == [5.0]


async def test_over_cap_retry_after_gives_up_immediately(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    """A Retry-After over the cap is re-raised at once: one attempt, no sleep."""
    error = RateLimited(SRC, "429", retry_after=30.0)
    attempt = Script([error])
    with pytest.raises(RateLimited) as info:
        await policy(sleep, retry_after_cap_s=5.0).run(attempt, Deadline.after(600, clock))
    assert info.value is error
    assert attempt.calls == 1
    assert sleep.delays == []


def test_delay_for_over_cap_is_none() -> None:
    """delay_for returns None for an over-cap Retry-After and the value otherwise."""
    retry = RetryPolicy(retry_after_cap_s=5.0, rng=random.Random(1))
    assert retry.delay_for(RateLimited(SRC, "429", retry_after=5.01), 0) is None
    assert retry.delay_for(RateLimited(SRC, "429", retry_after=2.0), 0) == 2.0


@pytest.mark.parametrize(
    "error",
    [
        QuotaExceeded(SRC, "quota"),
        Unauthenticated(SRC, "401"),
        UpstreamRejected(SRC, "400"),
        DeadlineExceeded(SRC, "no time"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_retry_now_false_is_not_retried(
    clock: FakeClock, sleep: RecordingSleep, error: UpstreamError
) -> None:
    """Errors with retry_now=False are raised after one attempt without sleeping."""
    assert error.retry_now is False
    attempt = Script([error])
    with pytest.raises(type(error)) as info:
        await policy(sleep, max_attempts=5).run(attempt, Deadline.after(60, clock))
    assert info.value is error
    assert attempt.calls == 1
    assert sleep.delays == []


async def test_quota_with_retry_after_still_not_retried(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    """A QuotaExceeded carrying a short Retry-After is still not retried within the call."""
    attempt = Script([QuotaExceeded(SRC, "quota", retry_after=0.1)])
    with pytest.raises(QuotaExceeded):
        await policy(sleep).run(attempt, Deadline.after(60, clock))
    assert attempt.calls == 1


async def test_no_retry_when_delay_would_pass_deadline(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    """A retry whose delay leaves under MIN_ATTEMPT_S before the deadline is not started."""
    error = RateLimited(SRC, "429", retry_after=1.0)
    attempt = Script([error])
    deadline = Deadline.after(1.0 + MIN_ATTEMPT_S / 2, clock)
    with pytest.raises(RateLimited) as info:
        await policy(sleep).run(attempt, deadline)
    assert info.value is error
    assert attempt.calls == 1
    assert sleep.delays == []


async def test_retry_started_when_delay_fits_deadline(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    """A retry whose delay plus MIN_ATTEMPT_S fits in the time left is made."""
    attempt = Script([RateLimited(SRC, "429", retry_after=1.0)])
    deadline = Deadline.after(1.0 + 2 * MIN_ATTEMPT_S, clock)
    assert await policy(sleep).run(attempt, deadline) == "ok"
    assert attempt.calls == 2


async def test_deadline_consumed_by_sleeps_stops_retries(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    """Time spent sleeping counts: once the deadline is used up no further retry starts."""
    errors: list[BaseException] = [RateLimited(SRC, "429", retry_after=1.0) for _ in range(5)]
    attempt = Script(errors)
    with pytest.raises(RateLimited):
        await policy(sleep, max_attempts=5).run(attempt, Deadline.after(2.5, clock))
    assert sleep.delays == [1.0, 1.0]
    assert attempt.calls == 3


async def test_cancelled_error_propagates_without_retry(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    """asyncio.CancelledError from an attempt propagates at once and is not retried."""
    attempt = Script([asyncio.CancelledError()])
    with pytest.raises(asyncio.CancelledError):
        await policy(sleep, max_attempts=5).run(attempt, Deadline.after(60, clock))
    assert attempt.calls == 1
    assert sleep.delays == []


async def test_cancellation_during_backoff_stops_retrying(clock: FakeClock) -> None:
    """Cancelling the task while it waits between attempts ends run() without another try."""
    entered = asyncio.Event()
    never = asyncio.Event()

    async def blocking_sleep(seconds: float) -> None:
        entered.set()
        await never.wait()

    attempt = Script([UpstreamUnavailable(SRC, "503")] * 3)
    retry = RetryPolicy(rng=random.Random(1), sleep=blocking_sleep, max_attempts=3)
    task = asyncio.create_task(retry.run(attempt, Deadline.after(60, clock)))
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert attempt.calls == 1


async def test_non_upstream_exception_is_not_retried(
    clock: FakeClock, sleep: RecordingSleep
) -> None:
    """An exception outside the UpstreamError tree (a bug) propagates after one attempt."""
    attempt = Script([ValueError("bug")])
    with pytest.raises(ValueError, match="bug"):
        await policy(sleep).run(attempt, Deadline.after(60, clock))
    assert attempt.calls == 1
