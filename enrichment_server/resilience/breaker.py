"""Per-source circuit breaker for asyncio: no threads, no tasks, no sleeping.

State moves lazily, driven by calls and an injected monotonic clock (resilience4j with
``automaticTransitionFromOpenToHalfOpenEnabled=false``), so no scheduled task can be
left running (resilience4j #991, #2093) and tests advance a fake clock by hand::

    CLOSED ──failure_rate | consecutive_failures | slow_call_rate──> OPEN
    OPEN ──open_elapsed (noticed on the next look)──> HALF_OPEN
    HALF_OPEN ──probes_succeeded──> CLOSED
    HALF_OPEN ──probe_failed | slow_call_rate | half_open_timeout──> OPEN  (wait x backoff)
    any ──reset──> CLOSED        CLOSED | HALF_OPEN ──forced──> OPEN

Every method runs to completion without an ``await``, so on one event loop no two
transitions interleave (resilience4j #674 needed CAS loops for that). Each transition
starts a new *epoch*; a permit records only into the epoch that issued it, so a call
admitted before a trip can neither re-open a half-open breaker nor count as a probe.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from enrichment_server.deadline import Clock
from enrichment_server.domain import ErrorKind, Source
from enrichment_server.errors import UpstreamError
from enrichment_server.resilience.window import SlidingCounts


class BreakerState(enum.StrEnum):
    """Where the breaker is; the values are metric labels."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


#: ``(name, old, new, reason)``, called synchronously after each transition; must not raise.
TransitionHook = Callable[[str, BreakerState, BreakerState, str], None]


class Outcome(enum.Enum):
    """How an admitted call ended, as far as the breaker is concerned."""

    SUCCESS = "success"
    FAILURE = "failure"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """Thresholds of one breaker; defaults suit a third-party HTTP API."""

    window_s: float = 30.0
    bucket_s: float = 1.0
    min_calls: int = 10
    failure_rate: float = 0.5
    #: Fast trip regardless of the window; resilience4j cannot do this (#785). 0 disables.
    consecutive_failures: int = 5
    slow_call_s: float = 5.0
    slow_call_rate: float = 1.0
    open_s: float = 30.0
    open_backoff: float = 2.0
    max_open_s: float = 300.0
    half_open_probes: int = 3
    half_open_successes: int = 3
    #: Must be positive: resilience4j's default 0 (wait forever) wedged users (#935, #1389).
    max_half_open_s: float = 30.0

    def __post_init__(self) -> None:
        """Refuse settings that would make the state machine meaningless."""
        valid = (
            self.min_calls >= 1
            and self.consecutive_failures >= 0
            and 0 < self.failure_rate <= 1
            and 0 < self.slow_call_rate <= 1
            and 0 < self.open_s <= self.max_open_s
            and self.open_backoff >= 1
            and 1 <= self.half_open_successes <= self.half_open_probes
            and self.max_half_open_s > 0
        )
        if not valid:
            raise ValueError(f"invalid {self!r}")


class CircuitOpen(UpstreamError):
    """Refused without touching the upstream; ``retry_after``: when a probe may be admitted."""

    kind = ErrorKind.CIRCUIT_OPEN
    retriable = True
    retry_now = False


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """A consistent view of one breaker, for metrics, health and the admin API."""

    state: BreakerState
    calls: int
    failures: int
    slow_calls: int
    #: None below ``min_calls``, like resilience4j's -1: the rate is not judged yet.
    failure_rate: float | None
    slow_call_rate: float | None
    consecutive_failures: int
    open_until: float | None
    half_open_probes: int
    rejected_total: int
    transitions_total: int


class Permit:
    """Leave to make one call; record its outcome exactly once (later records are no-ops)."""

    __slots__ = ("_breaker", "_epoch", "recorded")

    def __init__(self, breaker: CircuitBreaker, epoch: int) -> None:
        self._breaker = breaker
        self._epoch = epoch
        self.recorded = False

    def success(self, duration_s: float) -> None:
        """The upstream answered; slow if ``duration_s`` exceeds ``slow_call_s``."""
        self.record(Outcome.SUCCESS, duration_s)

    def failure(self, duration_s: float) -> None:
        """The upstream failed (5xx, connection error, malformed body, its own timeout)."""
        self.record(Outcome.FAILURE, duration_s)

    def ignore(self) -> None:
        """Count neither way (404/4xx, cancellation, our deadline); frees a probe slot."""
        self.record(Outcome.IGNORED, 0.0)

    def record(self, outcome: Outcome, duration_s: float) -> None:
        """Report ``outcome``; only the first report of a permit counts."""
        if self.recorded:
            return
        self.recorded = True
        self._breaker._record(self._epoch, outcome, duration_s)


class CircuitBreaker:
    """One upstream source's breaker: a rate window plus a consecutive-failure fast trip."""

    def __init__(
        self,
        source: Source,
        config: BreakerConfig,
        clock: Clock = time.monotonic,
        on_transition: TransitionHook | None = None,
    ) -> None:
        self.source = source
        self.name = str(source)
        self.config = config
        self._clock = clock
        self._on_transition = on_transition
        # calls, failures, slow calls; the window validates window_s and bucket_s.
        self._window = SlidingCounts(3, config.window_s, config.bucket_s)
        self._state = BreakerState.CLOSED
        self._epoch = 0
        self._consecutive = 0
        self._open_until = 0.0  # meaningful only while OPEN
        self._open_wait = config.open_s
        self._open_reason = ""
        self._half_open_since = 0.0
        self._probes = self._probe_successes = self._probe_slow = 0
        self._rejected_total = self._transitions_total = 0

    @property
    def state(self) -> BreakerState:
        """The current state, after any lazy OPEN -> HALF_OPEN or half-open timeout."""
        return self._advance(self._clock())

    def acquire(self) -> Permit:
        """A permit for one call, or ``CircuitOpen`` when OPEN or out of probe slots."""
        now = self._clock()
        state = self._advance(now)
        # Probes are capped per half-open period, not derived from "open and timer expired",
        # so a burst cannot stampede a recovering upstream (Polly #216, circuitbreaker #55).
        if state is BreakerState.HALF_OPEN and self._probes < self.config.half_open_probes:
            self._probes += 1
        elif state is not BreakerState.CLOSED:
            self._rejected_total += 1
            raise self._rejection(now)
        return Permit(self, self._epoch)

    def reset(self) -> tuple[BreakerState, BreakerState]:
        """Operator reset: CLOSED, window cleared, backoff back to ``open_s``."""
        previous = self._advance(self._clock())
        self._close("reset")
        return previous, self._state

    def force_open(self, until: float, reason: str) -> None:
        """Stay OPEN until clock time ``until`` (quota, a replica's hint); never shortens."""
        now = self._clock()
        if until <= now:
            return
        if self._advance(now) is BreakerState.OPEN:
            self._open_until = max(until, self._open_until)
        else:
            self._open(until, "forced")
        self._open_reason = f"forced: {reason}"

    def snapshot(self) -> BreakerSnapshot:
        """Counts and state as of now (old buckets evicted first)."""
        now = self._clock()
        state = self._advance(now)
        calls, failures, slow = self._window.totals(now)
        judged = calls >= self.config.min_calls
        return BreakerSnapshot(
            state=state,
            calls=calls,
            failures=failures,
            slow_calls=slow,
            failure_rate=failures / calls if judged else None,
            slow_call_rate=slow / calls if judged else None,
            consecutive_failures=self._consecutive,
            open_until=self._open_until if state is BreakerState.OPEN else None,
            half_open_probes=self._probes if state is BreakerState.HALF_OPEN else 0,
            rejected_total=self._rejected_total,
            transitions_total=self._transitions_total,
        )

    def _advance(self, now: float) -> BreakerState:
        """Apply the transitions that are due by time alone."""
        if self._state is BreakerState.OPEN and now >= self._open_until:
            self._probes = self._probe_successes = self._probe_slow = 0
            self._half_open_since = now
            self._transition(BreakerState.HALF_OPEN, "open_elapsed")
        elif (
            self._state is BreakerState.HALF_OPEN
            and now >= self._half_open_since + self.config.max_half_open_s
        ):
            # Probes that never record cannot hold HALF_OPEN forever (resilience4j #935).
            self._reopen(now, "half_open_timeout")
        return self._state

    def _rejection(self, now: float) -> CircuitOpen:
        """The error for a refused call, with when a probe may next be admitted."""
        if self._state is BreakerState.OPEN:
            wait = self._open_until - now
            message = f"circuit open ({self._open_reason})"
        else:
            # Slots free up when probes record; at the latest the period ends here.
            wait = self._half_open_since + self.config.max_half_open_s - now
            message = "circuit half-open, every probe slot is taken"
        return CircuitOpen(self.source, message, retry_after=max(0.0, wait))

    def _record(self, epoch: int, outcome: Outcome, duration_s: float) -> None:
        """Take a permit's outcome into the state it was issued in, if that still holds."""
        now = self._clock()
        self._advance(now)
        if epoch != self._epoch:
            return
        slow = duration_s > self.config.slow_call_s
        if self._state is BreakerState.HALF_OPEN:
            self._record_probe(now, outcome, slow=slow)
        elif outcome is not Outcome.IGNORED:
            failed = outcome is Outcome.FAILURE
            self._window.add(now, 1, failed, slow)
            self._consecutive = self._consecutive + 1 if failed else 0
            reason = self._trip_reason(now)
            if reason is not None:
                self._open(now + self.config.open_s, reason)

    def _trip_reason(self, now: float) -> str | None:
        """Why CLOSED should open now, or None; rates are judged only from ``min_calls``."""
        cfg = self.config
        if cfg.consecutive_failures and self._consecutive >= cfg.consecutive_failures:
            return "consecutive_failures"
        calls, failures, slow = self._window.totals(now)
        if calls < cfg.min_calls:
            return None
        # Division, not failures >= rate * calls: 0.1 * 3 != 0.3 in floating point.
        if failures / calls >= cfg.failure_rate:
            return "failure_rate"
        if slow / calls >= cfg.slow_call_rate:
            return "slow_call_rate"
        return None

    def _record_probe(self, now: float, outcome: Outcome, *, slow: bool) -> None:
        """Any probe failure re-opens; ``half_open_successes`` successes decide.

        A slow success counts toward closing, but then slow/successes >= ``slow_call_rate``
        re-opens instead: closing on all-slow probes would only re-trip after ``min_calls``
        more slow calls (flapping). resilience4j also judges slow calls over its probes.
        """
        if outcome is Outcome.IGNORED:
            self._probes -= 1
        elif outcome is Outcome.FAILURE:
            self._reopen(now, "probe_failed")
        else:
            self._probe_successes += 1
            self._probe_slow += slow
            if self._probe_successes < self.config.half_open_successes:
                return
            if self._probe_slow / self._probe_successes >= self.config.slow_call_rate:
                self._reopen(now, "slow_call_rate")
            else:
                self._close("probes_succeeded")

    def _reopen(self, now: float, reason: str) -> None:
        """HALF_OPEN -> OPEN with the wait multiplied by ``open_backoff`` (capped)."""
        self._open_wait = min(self._open_wait * self.config.open_backoff, self.config.max_open_s)
        self._open(now + self._open_wait, reason)

    def _open(self, until: float, reason: str) -> None:
        """Enter OPEN until clock time ``until``; the window is kept for snapshots."""
        self._open_until = until
        self._open_reason = reason
        self._transition(BreakerState.OPEN, reason)

    def _close(self, reason: str) -> None:
        """Enter CLOSED with a clean slate: window, fast-trip counter and backoff."""
        self._window.clear()
        self._consecutive = 0
        self._open_wait = self.config.open_s
        self._transition(BreakerState.CLOSED, reason)

    def _transition(self, new: BreakerState, reason: str) -> None:
        """Start a new epoch in ``new`` and tell the hook; CLOSED -> CLOSED is not reported."""
        old, self._state = self._state, new
        self._epoch += 1  # permits from the old epoch now record nothing
        if old is new:
            return
        self._transitions_total += 1
        if self._on_transition is not None:
            self._on_transition(self.name, old, new, reason)
