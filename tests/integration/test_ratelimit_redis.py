"""The Redis limiter shared by replicas: spacing, refusals, fallback and priority lanes.

Two ``RedisRateLimiter`` clients on one key stand for two replicas. Order is what these
tests pin; the only time bound is a lower one (slots cannot come faster than the rate),
which a busy machine cannot break.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aredis
from structlog.testing import capture_logs

from enrichment_server.deadline import Deadline
from enrichment_server.domain import Priority
from enrichment_server.redis_conn import redis_client
from enrichment_server.resilience.ratelimit_redis import RedisRateLimiter
from tests.integration import test_redis_backends as backends
from tests.redis_server import RedisServer

pytestmark = pytest.mark.integration

# The Redis fixtures of the backends' tests, under the names these tests ask for.
client, prefix = backends.client, backends.prefix
server, private_client = backends.server, backends.private_client


async def quick_poll(seconds: float) -> None:
    """A real sleep capped at 20 ms, so waiters notice a slot the test frees by hand."""
    await asyncio.sleep(min(seconds, 0.02))


async def test_two_replicas_share_evenly_spaced_slots(redis_url: str, prefix: str) -> None:
    """Ten acquires through two clients on one key take at least nine intervals."""
    replicas = [redis_client(redis_url), redis_client(redis_url)]
    limiters = [RedisRateLimiter(redis, f"{prefix}mb", 20.0) for redis in replicas]
    try:
        started = time.monotonic()
        deadline = Deadline.after(30)
        granted = await asyncio.gather(*(limiters[i % 2].acquire(deadline) for i in range(10)))
        span = time.monotonic() - started
    finally:
        for redis in replicas:
            await redis.aclose()
    assert all(granted)
    assert span >= 9 * 0.05 * 0.98  # a lower bound: a burst would finish in milliseconds


async def test_refusal_past_deadline_consumes_no_slot(client: aredis.Redis, prefix: str) -> None:
    """A caller whose deadline comes before the next slot is refused and leaves no trace:
    no queue entry, and the next free slot is where the grant before it put it."""
    # One slot per 100 s: the refused caller's 5 s deadline is 95 s short of the next slot
    # however slow the machine; a grant read late is not lost (that is another test's).
    limiter = RedisRateLimiter(client, f"{prefix}mb", 0.01, late_tolerance_s=60.0)
    assert await limiter.acquire(Deadline.after(5))
    next_slot = await client.get(f"{prefix}mb")
    assert not await limiter.acquire(Deadline.after(5), Priority.BACKGROUND)
    assert not await limiter.acquire(Deadline.after(0))
    assert await client.zcard(f"{prefix}mb:q2") == 0
    assert await client.get(f"{prefix}mb") == next_slot
    assert 0 < await client.pttl(f"{prefix}mb") <= 101_000  # idle keys vanish (interval + 1 s)


class FakeTime:
    """A monotonic clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        """Start at 1000 s."""
        self.now = 1000.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Move the clock by ``seconds``, then let other tasks run."""
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


async def test_limiter_falls_back_to_local_lanes_when_redis_is_down(
    server: RedisServer, private_client: aredis.Redis
) -> None:
    """With Redis killed, the in-process limiter grants, refuses and spaces; one warning.
    On the limiter's injected clock, so no real delay decides which call is refused."""
    time_ = FakeTime()
    limiter = RedisRateLimiter(private_client, "mb", 20.0, clock=time_, sleep=time_.sleep)
    server.kill()
    with capture_logs() as logs:
        first = await limiter.acquire(Deadline.after(10, time_))
        refused = await limiter.acquire(Deadline.after(0.01, time_), Priority.BACKGROUND)
        started = time_.now
        later = await limiter.acquire(Deadline.after(10, time_), Priority.BULK)
    assert (first, refused, later) == (True, False, True)
    assert time_.now - started == pytest.approx(0.05)  # the next slot, one interval on
    assert len(backends._warnings(logs)) == 1


async def _order_across_replicas(
    redis_url: str, key: str, waiters: list[tuple[int, Priority]], rate: float
) -> list[int]:
    """Hold the slot, queue ``(replica, lane)`` waiters in order, free it; grant order.

    Nothing here may depend on the machine's speed: the slot is held until the test frees
    it (not for a few seconds), and a waiter's entry outlives a process stalled for
    seconds (by default it is forgotten after 1 s without a poll, as a dead replica's)."""
    replicas = [redis_client(redis_url), redis_client(redis_url)]
    limiters = [
        RedisRateLimiter(r, key, rate, sleep=quick_poll, heartbeat_s=120.0) for r in replicas
    ]
    order: list[int] = []
    admin = replicas[0]
    now_s, now_us = await admin.time()
    # Taken for 100 s: less than the waiters' 120-s deadline (else they would be refused).
    await admin.set(key, str((now_s + 100) * 1_000_000 + now_us), px=600_000)

    async def wait(index: int, replica: int, lane: Priority) -> None:
        if await limiters[replica].acquire(Deadline.after(120), lane):
            order.append(index)

    tasks = []
    try:
        for index, (replica, lane) in enumerate(waiters):
            tasks.append(asyncio.create_task(wait(index, replica, lane)))
            queued = sum(waiters[i][1] == lane for i in range(index + 1))
            while await admin.zcard(f"{key}:q{int(lane)}") < queued:  # noqa: ASYNC110 - Redis
                await asyncio.sleep(0.005)
        await admin.delete(key)  # the slot is free: the lanes decide who goes
        await asyncio.gather(*tasks)
    finally:
        for connection in replicas:
            await connection.aclose()
    return order


async def test_interactive_waiters_go_first_across_two_replicas(
    redis_url: str, prefix: str
) -> None:
    """Background waiters on replica A queued first; interactive ones on B still go first,
    then bulk, then background, each lane in arrival order."""
    background, bulk, interactive = Priority.BACKGROUND, Priority.BULK, Priority.INTERACTIVE
    waiters = [(0, background), (0, background), (0, bulk), (1, background), (1, interactive)]
    waiters += [(0, interactive)]
    order = await _order_across_replicas(redis_url, f"{prefix}mb", waiters, rate=50.0)
    assert order == [4, 5, 2, 0, 1, 3]


async def test_a_starved_lane_gets_its_share_across_replicas(redis_url: str, prefix: str) -> None:
    """One background waiter behind 15 interactive ones (on the other replica) gets one of
    the first ten slots: the minimum share is counted in Redis, for every replica."""
    waiters = [(0, Priority.BACKGROUND)] + [(1, Priority.INTERACTIVE)] * 15
    order = await _order_across_replicas(redis_url, f"{prefix}mb", waiters, rate=50.0)
    # One of the first ten, as the share promises; exactly which depends on when the
    # waiters' scripts ran, which a busy machine shifts by a slot or two.
    assert order.index(0) <= 9
    assert sorted(order) == list(range(16))
