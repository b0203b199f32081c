"""Priority lanes of SpacingLimiter, driven by a hand-moved clock (no real sleeps)."""

from __future__ import annotations

import asyncio

import pytest

from enrichment_server.deadline import Deadline
from enrichment_server.domain import Priority
from enrichment_server.resilience.ratelimit import SpacingLimiter, starvation_limit

INTERACTIVE, BULK, BACKGROUND = Priority.INTERACTIVE, Priority.BULK, Priority.BACKGROUND


class ManualTime:
    """A clock plus a sleep that only returns when the test moves time past its wake-up."""

    def __init__(self) -> None:
        self.now = 100.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def clock(self) -> float:
        """The current fake time."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Wait until ``advance`` passes now + seconds."""
        future = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, future))
        await future

    def wake_due(self) -> None:
        """Resolve the sleeps that are due (their tasks run at the next loop turns)."""
        for wake, future in list(self._sleepers):
            if wake <= self.now + 1e-9:
                self._sleepers.remove((wake, future))
                future.set_result(None)

    async def advance(self, seconds: float) -> None:
        """Move time forward, wake the sleepers that are due, let everyone run."""
        self.now += seconds
        self.wake_due()
        for _ in range(5):
            await asyncio.sleep(0)


@pytest.fixture
def time_() -> ManualTime:
    """A fresh hand-moved clock."""
    return ManualTime()


def _limiter(time_: ManualTime, rate: float = 1.0, min_share: float = 0.1) -> SpacingLimiter:
    return SpacingLimiter(rate, time_.clock, time_.sleep, min_share=min_share)


async def _granted_order(
    time_: ManualTime, limiter: SpacingLimiter, lanes: list[Priority], slots: int
) -> list[tuple[int, float]]:
    """Queue one waiter per lane (in that order), run ``slots`` slots; (index, grant time)."""
    order: list[tuple[int, float]] = []

    async def wait(index: int, lane: Priority) -> None:
        if await limiter.acquire(Deadline(time_.now + 1000, time_.clock), lane):
            order.append((index, time_.now))

    tasks = [asyncio.create_task(wait(i, lane)) for i, lane in enumerate(lanes)]
    await time_.advance(0)
    for _ in range(slots):
        await time_.advance(1.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return order


async def test_interactive_arriving_last_gets_the_next_slot(time_: ManualTime) -> None:
    """Five background waiters queued first; an interactive caller still goes next."""
    limiter = _limiter(time_)
    assert await limiter.acquire(Deadline(time_.now + 10, time_.clock), BACKGROUND)
    order = await _granted_order(time_, limiter, [BACKGROUND] * 5 + [INTERACTIVE], slots=2)
    assert order == [(5, 101.0), (0, 102.0)]


async def test_bulk_goes_before_background_and_fifo_within_a_lane(time_: ManualTime) -> None:
    """Interactive, then bulk, then background; arrival order inside each lane."""
    limiter = _limiter(time_)
    assert await limiter.acquire(Deadline(time_.now + 10, time_.clock))
    lanes = [BACKGROUND, BULK, BACKGROUND, INTERACTIVE, BULK]
    order = await _granted_order(time_, limiter, lanes, slots=5)
    assert [index for index, _ in order] == [3, 1, 4, 0, 2]
    assert [at for _, at in order] == [101.0, 102.0, 103.0, 104.0, 105.0]


async def test_a_starved_lane_gets_its_minimum_share(time_: ManualTime) -> None:
    """With interactive wanting every slot, background still gets one slot in ten."""
    limiter = _limiter(time_, min_share=0.1)
    assert await limiter.acquire(Deadline(time_.now + 10, time_.clock))
    order = await _granted_order(time_, limiter, [BACKGROUND] + [INTERACTIVE] * 30, slots=20)
    position = [index for index, _ in order].index(0)
    assert position == starvation_limit(0.1) == 9
    assert len(order) == 20


async def test_background_never_holds_a_slot_past_its_deadline(time_: ManualTime) -> None:
    """A background waiter that cannot be served in time is refused before its deadline
    and the slot goes to the next waiter instead of going unused."""
    limiter = _limiter(time_)
    assert await limiter.acquire(Deadline(time_.now + 10, time_.clock))
    results: dict[str, bool] = {}

    async def wait(name: str, lane: Priority, seconds: float) -> None:
        results[name] = await limiter.acquire(Deadline(time_.now + seconds, time_.clock), lane)

    tasks = [
        asyncio.create_task(wait("interactive", INTERACTIVE, 10)),
        asyncio.create_task(wait("background", BACKGROUND, 1.5)),
        asyncio.create_task(wait("bulk", BULK, 10)),
    ]
    await time_.advance(0)
    await time_.advance(1.0)  # slot 101: interactive; background cannot make 102: refused
    assert results == {"interactive": True, "background": False}
    await time_.advance(1.0)
    await asyncio.gather(*tasks)
    assert results["bulk"] is True
    assert limiter.counts.refused[BACKGROUND] == 1
    assert limiter.waiting == 0


async def test_interactive_past_its_deadline_in_the_queue_is_refused_at_once(
    time_: ManualTime,
) -> None:
    """Three interactive callers ahead and 2 s left at 1/s: refused on arrival."""
    limiter = _limiter(time_)
    assert await limiter.acquire(Deadline(time_.now + 10, time_.clock))
    tasks = [
        asyncio.create_task(limiter.acquire(Deadline(time_.now + 10, time_.clock)))
        for _ in range(3)
    ]
    await time_.advance(0)
    assert not await limiter.acquire(Deadline(time_.now + 2, time_.clock))
    assert await limiter.acquire(Deadline(time_.now + 2, time_.clock), BACKGROUND) is False
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert limiter.waiting == 0


async def test_a_cancelled_waiter_leaves_the_queue(time_: ManualTime) -> None:
    """A caller that hangs up does not keep a place (or get a slot) in its lane."""
    limiter = _limiter(time_)
    assert await limiter.acquire(Deadline(time_.now + 10, time_.clock))
    gone = asyncio.create_task(limiter.acquire(Deadline(time_.now + 10, time_.clock), BULK))
    await time_.advance(0)
    assert limiter.waiting == 1
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    assert limiter.waiting == 0
    stays = asyncio.create_task(limiter.acquire(Deadline(time_.now + 10, time_.clock), BULK))
    await time_.advance(1.0)
    assert await stays
    assert limiter.counts.granted[BULK] == 1


def test_min_share_must_be_a_share() -> None:
    """A minimum share outside (0, 1] is a configuration error."""
    with pytest.raises(ValueError, match="min_share"):
        starvation_limit(0.0)
    assert starvation_limit(1.0) == 0
    assert starvation_limit(0.25) == 3


async def test_a_waiter_cancelled_just_before_its_slot_does_not_break_the_dispatcher(
    time_: ManualTime,
) -> None:
    """Cancelled after the dispatcher's wake-up is queued, before either runs: the slot
    goes to the next waiter and the dispatcher keeps handing out slots."""
    limiter = _limiter(time_)
    assert await limiter.acquire(Deadline(time_.now + 10, time_.clock))
    first = asyncio.create_task(limiter.acquire(Deadline(time_.now + 10, time_.clock)))
    second = asyncio.create_task(limiter.acquire(Deadline(time_.now + 10, time_.clock)))
    third = asyncio.create_task(limiter.acquire(Deadline(time_.now + 10, time_.clock)))
    await time_.advance(0)
    time_.now += 1.0
    time_.wake_due()  # the dispatcher's wake-up is queued first...
    first.cancel()  # ...then the first waiter's cancellation
    await time_.advance(0)
    assert second.done()
    assert second.result() is True
    await time_.advance(1.0)
    assert third.done()
    assert third.result() is True
    assert first.cancelled()
