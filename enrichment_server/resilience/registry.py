"""All sources' breakers in one place: transitions logged, published and shown in health.

Every transition is logged; an opening is shared with the other replicas (when Redis is
configured) and each source's state is mirrored in the health service under
``upstream.<source>`` (SERVING unless OPEN). Those health entries are for dashboards
and clients that Watch: readiness never depends on them, since every replica sees the
same upstreams and tying readiness to them would empty the Service at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import structlog

from enrichment_server.deadline import Clock
from enrichment_server.domain import Source
from enrichment_server.resilience.breaker import BreakerState
from enrichment_server.resilience.guard import BreakerHints, Guard
from enrichment_server.telemetry.hooks import Hooks, NullHooks

log = structlog.get_logger("enrichment.breaker")
HealthHook = Callable[[Source, bool], Awaitable[None]]
#: force_open (a quota the guard already shared, or a hint from another replica) must
#: not be echoed back as a new hint.
_NOT_REPUBLISHED = frozenset({"forced"})


class BreakerRegistry:
    """The guards of the enabled sources."""

    def __init__(
        self,
        hints: BreakerHints | None = None,
        health: HealthHook | None = None,
        clock: Clock = time.monotonic,
        hooks: Hooks | None = None,
    ) -> None:
        self._guards: dict[Source, Guard] = {}
        self._hooks: Hooks = hooks or NullHooks()
        self._hints = hints
        self._health = health
        self._clock = clock
        self._background: set[asyncio.Task[None]] = set()

    def add(self, source: Source, guard: Guard) -> None:
        """Register the guard of an enabled source."""
        self._guards[source] = guard
        self._hooks.breaker_state(str(source), str(guard.breaker.state))

    @property
    def sources(self) -> tuple[Source, ...]:
        """The sources with a breaker."""
        return tuple(self._guards)

    def states(self) -> dict[Source, BreakerState]:
        """Each breaker's current state."""
        return {source: guard.breaker.state for source, guard in self._guards.items()}

    def background_blocked(self, half_open_wait_s: float = 5.0) -> dict[str, float]:
        """Sources background work must leave alone now -> seconds until it may try: an
        OPEN breaker (until it half-opens) or a HALF_OPEN one whose probe slots are all
        taken (by live callers or earlier background work; they free up as probes end)."""
        blocked: dict[str, float] = {}
        now = self._clock()
        for source, guard in self._guards.items():
            snapshot = guard.breaker.snapshot()
            if snapshot.state is BreakerState.OPEN and snapshot.open_until is not None:
                blocked[str(source)] = max(half_open_wait_s, snapshot.open_until - now)
            elif snapshot.state is BreakerState.HALF_OPEN and not self._free_probes(guard):
                blocked[str(source)] = half_open_wait_s
        return blocked

    def background_probes(self) -> set[str]:
        """HALF_OPEN sources with a free probe slot: background work may start one track
        needing each. Without this a server with no live callers would never close a
        half-open breaker (it times out and re-opens, for ever longer), and the dead
        letters waiting for it would never drain."""
        return {str(source) for source, guard in self._guards.items() if self._free_probes(guard)}

    @staticmethod
    def _free_probes(guard: Guard) -> int:
        """Probe slots a HALF_OPEN breaker would still grant now (0 in any other state)."""
        snapshot = guard.breaker.snapshot()
        if snapshot.state is not BreakerState.HALF_OPEN:
            return 0
        return max(0, guard.breaker.config.half_open_probes - snapshot.half_open_probes)

    async def reset(
        self, source: Source | None = None
    ) -> list[tuple[Source, BreakerState, BreakerState]]:
        """Reset one breaker (or all) here and on every replica (through the shared state)."""
        chosen = [source] if source is not None else list(self._guards)
        results = []
        for name in chosen:
            previous, current = await self._guards[name].reset()
            results.append((name, previous, current))
        return results

    async def sync(self) -> None:
        """Apply the shared state to every breaker (resets and openings elsewhere)."""
        for guard in self._guards.values():
            await guard.sync(fresh=True)

    async def run_forever(self, stop: asyncio.Event, interval_s: float) -> None:
        """``sync`` every ``interval_s`` until ``stop``: a replica with no traffic still
        honours a reset (health, metrics and GetStats show it) within one interval."""
        while not stop.is_set():
            await self.sync()  # Redis failures read as "no hint": this never raises
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    def on_transition(self, name: str, old: BreakerState, new: BreakerState, reason: str) -> None:
        """Breaker callback: log, share an opening, mirror the state into health."""
        source = Source(name)
        log.warning("breaker_transition", source=name, old=str(old), new=str(new), reason=reason)
        self._hooks.breaker_state(name, str(new))
        guard = self._guards.get(source)
        if new is BreakerState.OPEN and guard is not None and reason not in _NOT_REPUBLISHED:
            open_until = guard.breaker.snapshot().open_until
            if open_until is not None:
                guard.publish(open_until - self._clock())
        if self._health is not None:
            self._spawn(self._health(source, new is not BreakerState.OPEN))

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            await work

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
