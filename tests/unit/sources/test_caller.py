"""Unit tests for enrichment_server.resilience.pipeline.UpstreamCaller.

The fetch functions here are the tests' stand-ins for HTTP; the cache, coalescer and retry
policy are the real ones, with fake clocks and a recording sleep.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from pydantic import TypeAdapter

from enrichment_server.cache.memory import MemoryCache
from enrichment_server.deadline import Deadline
from enrichment_server.domain import Priority, Source
from enrichment_server.errors import (
    ClientThrottled,
    DeadlineExceeded,
    RateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from enrichment_server.resilience.pipeline import (
    CACHE_PREFIX,
    CallContext,
    Lookup,
    TtlKind,
    TtlPolicy,
    UpstreamCaller,
)
from enrichment_server.resilience.retry import RetryPolicy

SRC = Source.MUSICBRAINZ
ADAPTER: TypeAdapter[list[str]] = TypeAdapter(list[str])
LOOKUP = Lookup("recording:daft punk|one more time", TtlKind.SEARCH)
TTL = TtlPolicy(search_s=1000.0, by_id_s=2000.0, isrc_s=3000.0, not_found_s=10.0)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RecordingSleep:
    """Records retry delays without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class CountingLimiter:
    """A limiter that counts acquires and grants or refuses every one."""

    def __init__(self, grant: bool = True) -> None:
        self.grant = grant
        self.acquires = 0
        self.lanes: list[Priority] = []

    async def acquire(self, deadline: Deadline, lane: Priority = Priority.INTERACTIVE) -> bool:
        self.acquires += 1
        self.lanes.append(lane)
        return self.grant


class Fetch:
    """A fetch stand-in: returns the queued answers (or raises queued errors) in order."""

    def __init__(self, *answers: list[str] | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.release: asyncio.Event | None = None
        self.deadlines: list[Deadline] = []

    async def __call__(self, deadline: Deadline) -> list[str]:
        self.calls += 1
        self.deadlines.append(deadline)
        if self.release is not None:
            await self.release.wait()
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def is_empty(value: list[str]) -> bool:
    """Empty list means "not found"."""
    return len(value) == 0


class Rig:
    """A caller over a MemoryCache with its own clock, plus the deadline clock."""

    def __init__(self, limiter: CountingLimiter | None = None, max_attempts: int = 3) -> None:
        self.cache_clock = FakeClock(1000.0)
        self.clock = FakeClock(0.0)
        self.cache = MemoryCache(100, self.cache_clock)
        self.sleep = RecordingSleep()
        self.limiter = limiter
        retry = RetryPolicy(max_attempts=max_attempts, rng=random.Random(0), sleep=self.sleep)
        self.caller = UpstreamCaller(SRC, self.cache, TTL, retry, limiter)

    def ctx(self, *, force_refresh: bool = False, budget_s: float = 30.0) -> CallContext:
        """A fresh per-track context with a fake-clock deadline."""
        return CallContext(Deadline.after(budget_s, self.clock), force_refresh=force_refresh)

    async def lookup(self, ctx: CallContext, fetch: Fetch) -> list[str]:
        """One lookup of LOOKUP through the caller."""
        return await self.caller.lookup(ctx, LOOKUP, ADAPTER, fetch, is_empty)


@pytest.fixture
def rig() -> Rig:
    """A caller without a limiter."""
    return Rig()


async def test_miss_fetches_and_caches(rig: Rig) -> None:
    """A cache miss calls fetch once, counts a network call, and stores the answer."""
    fetch = Fetch(["mbid-1"])
    ctx = rig.ctx()
    assert await rig.lookup(ctx, fetch) == ["mbid-1"]
    assert fetch.calls == 1
    assert (ctx.cache_hits, ctx.network_calls) == (0, 1)
    assert ctx.sources_called == {SRC}
    assert len(rig.cache) == 1


async def test_second_lookup_is_cache_hit(rig: Rig) -> None:
    """A repeated lookup is served from the cache without fetching."""
    fetch = Fetch(["mbid-1"])
    await rig.lookup(rig.ctx(), fetch)
    ctx = rig.ctx()
    assert await rig.lookup(ctx, fetch) == ["mbid-1"]
    assert fetch.calls == 1
    assert (ctx.cache_hits, ctx.network_calls) == (1, 0)
    assert ctx.sources_called == set()


async def test_cache_key_is_namespaced_by_source(rig: Rig) -> None:
    """The answer is stored under enrichment:v1:<source>:<lookup key>."""
    await rig.lookup(rig.ctx(), Fetch(["x"]))
    assert await rig.cache.get(f"{CACHE_PREFIX}:{SRC}:{LOOKUP.key}") == b'["x"]'


async def test_force_refresh_bypasses_read_but_rewrites(rig: Rig) -> None:
    """force_refresh fetches despite a cached answer and replaces the cached value."""
    await rig.lookup(rig.ctx(), Fetch(["old"]))
    fresh = Fetch(["new"])
    ctx = rig.ctx(force_refresh=True)
    assert await rig.lookup(ctx, fresh) == ["new"]
    assert fresh.calls == 1
    assert (ctx.cache_hits, ctx.network_calls) == (0, 1)
    later = Fetch(["unused"])
    assert await rig.lookup(rig.ctx(), later) == ["new"]
    assert later.calls == 0


async def test_empty_answer_gets_not_found_ttl(rig: Rig) -> None:
    """An empty answer is cached, but only for not_found_s: after that it is refetched."""
    fetch = Fetch([])
    await rig.lookup(rig.ctx(), fetch)
    rig.cache_clock.now += TTL.not_found_s - 0.5
    assert await rig.lookup(rig.ctx(), fetch) == []
    assert fetch.calls == 1
    rig.cache_clock.now += 1.0
    ctx = rig.ctx()
    await rig.lookup(ctx, fetch)
    assert fetch.calls == 2
    assert ctx.network_calls == 1


async def test_non_empty_answer_outlives_not_found_ttl(rig: Rig) -> None:
    """A non-empty answer keeps its kind's TTL, well beyond not_found_s."""
    fetch = Fetch(["found"])
    await rig.lookup(rig.ctx(), fetch)
    rig.cache_clock.now += TTL.not_found_s + 100
    ctx = rig.ctx()
    assert await rig.lookup(ctx, fetch) == ["found"]
    assert fetch.calls == 1
    assert ctx.cache_hits == 1
    rig.cache_clock.now += TTL.search_s
    await rig.lookup(rig.ctx(), fetch)
    assert fetch.calls == 2


async def test_upstream_error_is_never_cached(rig: Rig) -> None:
    """A lookup that fails is not cached: the next lookup fetches again and succeeds."""
    fetch = Fetch(UpstreamRejected(SRC, "400 bad query"), ["after"])
    with pytest.raises(UpstreamRejected):
        await rig.lookup(rig.ctx(), fetch)
    assert len(rig.cache) == 0
    ctx = rig.ctx()
    assert await rig.lookup(ctx, fetch) == ["after"]
    assert fetch.calls == 2
    assert ctx.network_calls == 1


async def test_retriable_failure_is_retried_through_policy(rig: Rig) -> None:
    """A retriable fetch failure is retried by the policy (fake sleep) and then cached."""
    fetch = Fetch(UpstreamUnavailable(SRC, "503"), ["ok"])
    ctx = rig.ctx()
    assert await rig.lookup(ctx, fetch) == ["ok"]
    assert fetch.calls == 2
    assert len(rig.sleep.delays) == 1
    assert ctx.network_calls == 1


async def test_cache_hit_never_touches_limiter() -> None:
    """The limiter is asked only on a miss; a cache hit does not acquire."""
    limiter = CountingLimiter()
    rig = Rig(limiter)
    fetch = Fetch(["v"])
    await rig.lookup(rig.ctx(), fetch)
    assert limiter.acquires == 1
    for _ in range(3):
        await rig.lookup(rig.ctx(), fetch)
    assert limiter.acquires == 1
    assert fetch.calls == 1


async def test_concurrent_identical_lookups_fetch_once(rig: Rig) -> None:
    """Concurrent lookups of the same key share one fetch and all get its answer."""
    fetch = Fetch(["shared"])
    fetch.release = asyncio.Event()
    contexts = [rig.ctx() for _ in range(3)]
    tasks = [asyncio.create_task(rig.lookup(c, fetch)) for c in contexts]
    for _ in range(5):
        await asyncio.sleep(0)
    fetch.release.set()
    assert await asyncio.gather(*tasks) == [["shared"]] * 3
    assert fetch.calls == 1
    assert rig.caller.coalesced_calls == 2


async def test_corrupt_cache_entry_is_refetched(rig: Rig) -> None:
    """A cached entry that does not validate is ignored, refetched and overwritten."""
    key = f"{CACHE_PREFIX}:{SRC}:{LOOKUP.key}"
    await rig.cache.set(key, b'{"not": "a list"', 1000)
    fetch = Fetch(["fresh"])
    ctx = rig.ctx()
    assert await rig.lookup(ctx, fetch) == ["fresh"]
    assert fetch.calls == 1
    assert (ctx.cache_hits, ctx.network_calls) == (0, 1)
    assert await rig.cache.get(key) == b'["fresh"]'


async def test_wrong_shape_cache_entry_is_refetched(rig: Rig) -> None:
    """Valid JSON of the wrong shape (an older build's entry) is also refetched."""
    key = f"{CACHE_PREFIX}:{SRC}:{LOOKUP.key}"
    await rig.cache.set(key, b'{"old": "format"}', 1000)
    fetch = Fetch(["fresh"])
    assert await rig.lookup(rig.ctx(), fetch) == ["fresh"]
    assert fetch.calls == 1


async def test_limiter_refusal_is_final_for_the_call() -> None:
    """A refusing limiter raises ClientThrottled at once: no fetch, no cache, no retry."""
    limiter = CountingLimiter(grant=False)
    rig = Rig(limiter)
    fetch = Fetch(["never"])
    with pytest.raises(ClientThrottled) as info:
        await rig.lookup(rig.ctx(), fetch)
    assert info.value.source is SRC
    assert fetch.calls == 0
    assert isinstance(info.value, RateLimited)
    assert limiter.acquires == 1
    assert len(rig.cache) == 0


async def test_no_time_left_raises_deadline_exhausted(rig: Rig) -> None:
    """With the deadline already spent no fetch is attempted."""
    fetch = Fetch(["never"])
    with pytest.raises(DeadlineExceeded):
        await rig.lookup(rig.ctx(budget_s=0.0), fetch)
    assert fetch.calls == 0


async def test_a_long_caller_joining_a_short_one_is_served_under_its_own_deadline(
    rig: Rig,
) -> None:
    """A 0.6 s caller starts a lookup, an 8 s caller joins; after the short one has gone
    (its deadline passed), the shared fetch still has the long caller's time and answers."""
    fetch = Fetch(["answer"])
    fetch.release = asyncio.Event()
    short = asyncio.create_task(rig.lookup(rig.ctx(budget_s=0.6), fetch))
    for _ in range(5):
        await asyncio.sleep(0)
    long = asyncio.create_task(rig.lookup(rig.ctx(budget_s=8.0), fetch))
    for _ in range(5):
        await asyncio.sleep(0)
    rig.clock.now += 1.0  # past the short caller's deadline
    short.cancel()  # it leaves (the servicer cuts it off); the shared fetch goes on
    await asyncio.gather(short, return_exceptions=True)
    assert fetch.deadlines[0].remaining() >= 7.0  # the exchange may outlast the short caller
    fetch.release.set()
    assert await long == ["answer"]
    assert fetch.calls == 1


async def test_the_lookup_waits_in_its_callers_lane() -> None:
    """A background track's lookup asks the limiter for a background slot."""
    limiter = CountingLimiter()
    rig = Rig(limiter)
    ctx = rig.ctx()
    ctx.priority = Priority.BACKGROUND
    await rig.lookup(ctx, Fetch(["v"]))
    assert limiter.lanes == [Priority.BACKGROUND]
