"""The guard around each attempt and the registry of every source's breaker, on a fake clock.

Guard: which errors count against an upstream, what a quota does, how a replica's hint is
honoured. Registry: every transition is reported to the hooks, shared with the other
replicas once, mirrored into health, and a reset withdraws the hints.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from enrichment_server.domain import Source
from enrichment_server.errors import (
    ClientThrottled,
    DeadlineExceeded,
    MalformedResponse,
    QuotaExceeded,
    RateLimited,
    Unauthenticated,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
)
from enrichment_server.resilience.breaker import (
    BreakerConfig,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
)
from enrichment_server.resilience.guard import Guard
from enrichment_server.resilience.hints import Hint
from enrichment_server.resilience.registry import BreakerRegistry
from tests.unit.telemetry.recording_hooks import RecordingHooks

SRC = Source.MUSICBRAINZ
CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN
#: Three consecutive failures open the breaker for 10 s; the rate rule is out of the way.
CONFIG = BreakerConfig(consecutive_failures=3, min_calls=1000, open_s=10.0)


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeHints:
    """The shared "open until" store, in memory: what was published and cleared."""

    open_elsewhere: dict[str, float] = field(default_factory=dict)
    published: list[tuple[str, float]] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)

    resets: dict[str, int] = field(default_factory=dict)

    async def read(self, source: str, *, fresh: bool = False) -> Hint:
        """Seconds another replica says the source is open, and the operator-reset count."""
        return Hint(self.open_elsewhere.get(source), self.resets.get(source, 0))

    async def publish_open(self, source: str, seconds: float) -> None:
        """Record a published opening."""
        self.published.append((source, seconds))

    async def clear(self, source: str) -> None:
        """Record a withdrawn hint; count a reset every replica will apply."""
        self.cleared.append(source)
        self.resets[source] = self.resets.get(source, 0) + 1


@dataclass
class Rig:
    """A registry holding one guarded breaker, with fake hints, hooks, health and clock."""

    clock: FakeClock = field(default_factory=FakeClock)
    hints: FakeHints = field(default_factory=FakeHints)
    hooks: RecordingHooks = field(default_factory=RecordingHooks)
    health: list[tuple[Source, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.registry = BreakerRegistry(self.hints, self._health, self.clock, self.hooks)
        breaker = CircuitBreaker(SRC, CONFIG, self.clock, self.registry.on_transition)
        self.guard = Guard(breaker, hints=self.hints, quota_block_s=3600.0, clock=self.clock)
        self.registry.add(SRC, self.guard)

    async def _health(self, source: Source, serving: bool) -> None:
        self.health.append((source, serving))

    async def attempt(self, error: BaseException | None = None) -> None:
        """One guarded attempt that succeeds or fails with ``error``."""
        permit = await self.guard.admit()
        if error is None:
            self.guard.succeeded(permit, 0.1)
        else:
            self.guard.failed(permit, error, 0.1)

    async def settle(self) -> None:
        """Let the fire-and-forget hint and health tasks run."""
        for _ in range(3):
            await asyncio.sleep(0)


@pytest.mark.parametrize(
    "error",
    [
        UpstreamUnavailable(SRC, "503"),
        RateLimited(SRC, "slow down"),
        MalformedResponse(SRC, "not JSON"),
    ],
    ids=["unavailable", "throttled", "malformed"],
)
async def test_upstream_trouble_counts_against_the_source(error: UpstreamError) -> None:
    """5xx, throttling and malformed bodies: three in a row open the breaker."""
    rig = Rig()
    for _ in range(3):
        await rig.attempt(error)
    assert rig.guard.breaker.state is OPEN
    with pytest.raises(CircuitOpen):
        await rig.guard.admit()


@pytest.mark.parametrize(
    "error",
    [
        UpstreamRejected(SRC, "400"),
        Unauthenticated(SRC, "bad key"),
        DeadlineExceeded(SRC, "our deadline"),
        ClientThrottled(SRC, "our limiter"),
        asyncio.CancelledError(),
        KeyError("a bug of ours"),
    ],
    ids=["rejected", "unauthenticated", "deadline", "client_throttled", "cancelled", "bug"],
)
async def test_answers_and_our_own_doing_are_neutral(error: BaseException) -> None:
    """Refusals, bad credentials, our deadline or limiter, cancellation: never open it."""
    rig = Rig()
    for _ in range(10):
        await rig.attempt(error)
    assert rig.guard.breaker.state is CLOSED
    assert rig.guard.breaker.snapshot().failures == 0


async def test_an_exhausted_quota_blocks_until_its_reset_and_tells_the_others() -> None:
    """QUOTA_EXCEEDED with Retry-After 600: open for 600 s at once, shared as a 600-s hint."""
    rig = Rig()
    await rig.attempt(QuotaExceeded(SRC, "daily quota", retry_after=600))
    await rig.settle()
    assert rig.guard.breaker.state is OPEN
    assert rig.guard.breaker.snapshot().open_until == rig.clock.now + 600
    assert rig.hints.published == [(str(SRC), 600)]  # once: the transition is not echoed
    rig.clock.now += 599
    assert rig.guard.breaker.state is OPEN
    rig.clock.now += 2
    assert rig.guard.breaker.state is HALF_OPEN


async def test_a_quota_without_retry_after_blocks_for_the_configured_time() -> None:
    """No Retry-After: the guard's quota_block_s (an hour here) applies."""
    rig = Rig()
    await rig.attempt(QuotaExceeded(SRC, "quota"))
    assert rig.guard.breaker.snapshot().open_until == rig.clock.now + 3600


async def test_another_replicas_hint_opens_a_closed_breaker() -> None:
    """A hint "open for 20 s": this replica refuses too, without a failure of its own."""
    rig = Rig()
    rig.hints.open_elsewhere[str(SRC)] = 20.0
    with pytest.raises(CircuitOpen):
        await rig.guard.admit()
    await rig.settle()
    assert rig.guard.breaker.snapshot().open_until == rig.clock.now + 20
    assert rig.hints.published == []  # a hint is not republished as a new one


async def test_an_opening_is_shared_reported_and_mirrored_into_health() -> None:
    """Three failures: hooks see OPEN, the hint carries open_s, health says not serving."""
    rig = Rig()
    for _ in range(3):
        await rig.attempt(UpstreamUnavailable(SRC, "503"))
    await rig.settle()
    assert rig.hooks.breaker_states == [(str(SRC), "closed"), (str(SRC), "open")]
    assert rig.hints.published == [(str(SRC), CONFIG.open_s)]
    assert rig.health == [(SRC, False)]


async def test_recovery_is_reported_and_health_serves_again() -> None:
    """After open_s a probe is admitted; once the probes succeed health serves again."""
    rig = Rig()
    for _ in range(3):
        await rig.attempt(UpstreamUnavailable(SRC, "503"))
    rig.clock.now += CONFIG.open_s
    for _ in range(CONFIG.half_open_successes):
        await rig.attempt()
    await rig.settle()
    states = [state for _, state in rig.hooks.breaker_states]
    assert states == ["closed", "open", "half_open", "closed"]
    assert rig.health[-1] == (SRC, True)
    assert rig.registry.states() == {SRC: CLOSED}


async def test_a_reset_closes_the_breaker_and_withdraws_the_hint() -> None:
    """An operator reset: OPEN -> CLOSED here, and the shared hint is cleared."""
    rig = Rig()
    for _ in range(3):
        await rig.attempt(UpstreamUnavailable(SRC, "503"))
    assert await rig.registry.reset(SRC) == [(SRC, OPEN, CLOSED)]
    assert rig.hints.cleared == [str(SRC)]
    await rig.attempt()  # admitted again
    assert rig.registry.sources == (SRC,)


async def test_a_reset_counted_by_another_replica_resets_this_one() -> None:
    """issue 12 item 11: this replica's open breaker closes when the shared reset count
    moves (an operator reset elsewhere), at its next sync, with no call made here."""
    rig = Rig()
    await rig.registry.sync()  # the count as of start: no reset to apply
    for _ in range(3):
        await rig.attempt(UpstreamUnavailable(SRC, "503"))
    assert rig.guard.breaker.state is OPEN
    await rig.registry.sync()
    assert rig.guard.breaker.state is OPEN  # nothing changed elsewhere
    rig.hints.resets[SRC] = 1  # another replica's ResetBreaker
    await rig.registry.sync()
    assert rig.guard.breaker.state is CLOSED
