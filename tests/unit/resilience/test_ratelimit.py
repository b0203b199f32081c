"""Unit tests for enrichment_server.resilience.ratelimit.SpacingLimiter with a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from enrichment_server.deadline import Deadline
from enrichment_server.resilience.ratelimit import SpacingLimiter


class FakeClock:
    """A monotonic clock the test (and the fake sleep) moves by hand."""

    def __init__(self, now: float = 50.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class AdvancingSleep:
    """Records delays; yields to the loop, then moves the clock to the wake-up time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        wake = self.clock.now + seconds
        await asyncio.sleep(0)  # let the other acquirers run (and reserve) first
        self.clock.now = max(self.clock.now, wake)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at t=50."""
    return FakeClock()


@pytest.fixture
def sleep(clock: FakeClock) -> AdvancingSleep:
    """A sleep that advances the fake clock."""
    return AdvancingSleep(clock)


async def _start_time(limiter: SpacingLimiter, clock: FakeClock, deadline: Deadline) -> float:
    assert await limiter.acquire(deadline)
    return clock.now


@pytest.mark.parametrize("rate", [1.0, 4.0])
async def test_concurrent_acquires_are_evenly_spaced(
    clock: FakeClock, sleep: AdvancingSleep, rate: float
) -> None:
    """N concurrent acquires start at t0, t0+1/rate, t0+2/rate... with no burst."""
    limiter = SpacingLimiter(rate, clock, sleep)
    deadline = Deadline.after(100, clock)
    starts = await asyncio.gather(*(_start_time(limiter, clock, deadline) for _ in range(5)))
    assert sorted(starts) == pytest.approx([50.0 + i / rate for i in range(5)])
    assert sleep.delays == pytest.approx([1 / rate] * 4)  # one dispatcher, one wait per slot


async def test_first_acquire_does_not_sleep(clock: FakeClock, sleep: AdvancingSleep) -> None:
    """With no earlier request the first acquire proceeds at once."""
    limiter = SpacingLimiter(1.0, clock, sleep)
    assert await limiter.acquire(Deadline.after(10, clock))
    assert sleep.delays == []


async def test_acquire_after_idle_gap_does_not_sleep(
    clock: FakeClock, sleep: AdvancingSleep
) -> None:
    """An acquire long after the last slot passed is granted without waiting."""
    limiter = SpacingLimiter(1.0, clock, sleep)
    assert await limiter.acquire(Deadline.after(10, clock))
    clock.now += 5.0
    assert await limiter.acquire(Deadline.after(10, clock))
    assert sleep.delays == []


async def test_slot_after_deadline_is_refused_without_sleep(
    clock: FakeClock, sleep: AdvancingSleep
) -> None:
    """An acquire whose slot falls after its deadline returns False and does not sleep."""
    limiter = SpacingLimiter(1.0, clock, sleep)
    assert await limiter.acquire(Deadline.after(10, clock))
    assert await limiter.acquire(Deadline.after(0.5, clock)) is False
    assert sleep.delays == []


async def test_refused_acquire_does_not_reserve_its_slot(
    clock: FakeClock, sleep: AdvancingSleep
) -> None:
    """After a refusal the next caller gets the slot the refused one would have had."""
    limiter = SpacingLimiter(1.0, clock, sleep)
    assert await limiter.acquire(Deadline.after(10, clock))
    assert not await limiter.acquire(Deadline.after(0.5, clock))
    assert not await limiter.acquire(Deadline.after(0.9, clock))
    assert await limiter.acquire(Deadline.after(10, clock))
    assert sleep.delays == [1.0]
    assert clock.now == 51.0


async def test_slot_exactly_at_deadline_is_refused(clock: FakeClock, sleep: AdvancingSleep) -> None:
    """A wait equal to the whole time left is refused (the request could not start in time)."""
    limiter = SpacingLimiter(1.0, clock, sleep)
    assert await limiter.acquire(Deadline.after(10, clock))
    assert not await limiter.acquire(Deadline.after(1.0, clock))


async def test_expired_deadline_is_refused_even_when_free(
    clock: FakeClock, sleep: AdvancingSleep
) -> None:
    """With no time left even an immediately free slot is refused."""
    limiter = SpacingLimiter(1.0, clock, sleep)
    assert not await limiter.acquire(Deadline.after(0.0, clock))
    assert await limiter.acquire(Deadline.after(1.0, clock))
    assert sleep.delays == []


async def test_late_dispatch_keeps_the_spacing() -> None:
    """A slot handed out 50 ms late (busy loop) moves the next one too: never a burst."""
    now = [0.0]
    sleeps: list[float] = []

    async def oversleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds + (0.05 if len(sleeps) == 1 else 0.0)

    limiter = SpacingLimiter(10.0, clock=lambda: now[0], sleep=oversleep)
    deadline = Deadline(100.0, lambda: now[0])
    starts = []
    for _ in range(3):
        assert await limiter.acquire(deadline)
        starts.append(now[0])
    assert starts == [0.0, pytest.approx(0.15), pytest.approx(0.25)]
