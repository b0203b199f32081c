"""Unit tests for enrichment_server.resilience.breaker, walked step by step with a fake clock.

Modelled on resilience4j's CircuitBreakerStateMachineTest: every step asserts the state
and the counts, and transitions are checked through the ``on_transition`` hook.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from enrichment_server.domain import ErrorKind, Source
from enrichment_server.errors import UpstreamError
from enrichment_server.resilience.breaker import (
    BreakerConfig,
    BreakerSnapshot,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    Outcome,
    Permit,
)

SRC = Source.SPOTIFY
CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN
Transition = tuple[str, BreakerState, BreakerState, str]


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


class Rig:
    """A breaker on a fake clock that records every transition."""

    def __init__(self, **overrides: Any) -> None:
        base: dict[str, Any] = {
            "window_s": 10.0,
            "min_calls": 4,
            "failure_rate": 0.5,
            "consecutive_failures": 0,
            "slow_call_s": 1.0,
            "open_s": 10.0,
            "max_open_s": 35.0,
            "half_open_probes": 3,
            "half_open_successes": 3,
            "max_half_open_s": 20.0,
        }
        self.config = BreakerConfig(**(base | overrides))
        self.clock = FakeClock()
        self.transitions: list[Transition] = []
        self.breaker = CircuitBreaker(SRC, self.config, self.clock, self._hook)

    def _hook(self, name: str, old: BreakerState, new: BreakerState, reason: str) -> None:
        self.transitions.append((name, old, new, reason))

    def succeed(self, count: int = 1, duration_s: float = 0.1) -> None:
        """Admit and record ``count`` successful calls."""
        for _ in range(count):
            self.breaker.acquire().success(duration_s)

    def fail(self, count: int = 1, duration_s: float = 0.1) -> None:
        """Admit and record ``count`` failed calls."""
        for _ in range(count):
            self.breaker.acquire().failure(duration_s)

    def trip(self) -> None:
        """Open the breaker through the failure rate (min_calls failures)."""
        self.fail(self.config.min_calls)
        assert self.breaker.state is OPEN

    def to_half_open(self) -> None:
        """Trip, then wait out the first open period."""
        self.trip()
        self.clock.advance(self.config.open_s)
        assert self.breaker.state is HALF_OPEN

    def snap(self) -> BreakerSnapshot:
        """The breaker's snapshot."""
        return self.breaker.snapshot()


def reasons(rig: Rig) -> list[str]:
    """The reasons of every transition so far."""
    return [reason for _, _, _, reason in rig.transitions]


# --- CLOSED: the window and the fast trip ---------------------------------------------


def test_not_judged_below_min_calls_even_if_all_fail() -> None:
    """Three of three calls failing stays CLOSED with min_calls=4; the rate reads None."""
    rig = Rig()
    for n in range(1, 4):
        rig.fail()
        snap = rig.snap()
        assert (snap.state, snap.calls, snap.failures, snap.failure_rate) == (CLOSED, n, n, None)
    assert rig.transitions == []


def test_opens_at_exactly_the_failure_rate_threshold() -> None:
    """Failures/calls == failure_rate opens (>=, as resilience4j), one below does not."""
    rig = Rig(min_calls=10, failure_rate=0.5)
    rig.succeed(6)
    rig.fail(3)
    assert rig.snap().failure_rate is None  # 9 calls: still below min_calls
    rig.fail()
    snap = rig.snap()
    assert (snap.state, snap.calls, snap.failures, snap.failure_rate) == (CLOSED, 10, 4, 0.4)
    rig.fail()
    snap = rig.snap()
    assert (snap.state, snap.calls, snap.failures, snap.failure_rate) == (CLOSED, 11, 5, 5 / 11)
    rig.fail()
    snap = rig.snap()
    assert (snap.state, snap.calls, snap.failures, snap.failure_rate) == (OPEN, 12, 6, 0.5)
    assert rig.transitions == [(str(SRC), CLOSED, OPEN, "failure_rate")]


def test_failure_rate_threshold_is_exact_for_decimal_rates() -> None:
    """3 failures in 10 calls meets failure_rate=0.3 (no 0.1*3 rounding miss)."""
    rig = Rig(min_calls=10, failure_rate=0.3)
    rig.succeed(7)
    rig.fail(2)
    assert rig.breaker.state is CLOSED
    rig.fail()
    assert rig.breaker.state is OPEN


def test_consecutive_failures_trip_below_min_calls() -> None:
    """consecutive_failures in a row open at once, with far fewer calls than min_calls."""
    rig = Rig(min_calls=100, consecutive_failures=3)
    rig.fail(2)
    rig.succeed()  # a success resets the run
    assert rig.snap().consecutive_failures == 0
    rig.fail(2)
    assert (rig.breaker.state, rig.snap().consecutive_failures) == (CLOSED, 2)
    rig.fail()
    snap = rig.snap()
    assert (snap.state, snap.calls, snap.consecutive_failures) == (OPEN, 6, 3)
    assert reasons(rig) == ["consecutive_failures"]


def test_ignored_calls_touch_neither_the_window_nor_the_run() -> None:
    """ignore() between failures neither counts a call nor breaks the consecutive run."""
    rig = Rig(min_calls=100, consecutive_failures=3)
    rig.fail(2)
    rig.breaker.acquire().ignore()
    assert (rig.snap().calls, rig.snap().consecutive_failures) == (2, 2)
    rig.fail()
    assert reasons(rig) == ["consecutive_failures"]


def test_failures_older_than_the_window_are_forgotten() -> None:
    """Failures leave the 10 s window once 10 s old, so later successes do not trip."""
    rig = Rig(window_s=10.0, min_calls=4)
    rig.fail(3)
    rig.clock.advance(9.5)
    assert rig.snap().failures == 3  # same 1 s bucket range: still inside the window
    rig.clock.advance(0.5)
    snap = rig.snap()
    assert (snap.calls, snap.failures) == (0, 0)
    rig.succeed(3)
    rig.fail()
    snap = rig.snap()
    assert (snap.state, snap.calls, snap.failures, snap.failure_rate) == (CLOSED, 4, 1, 0.25)


def test_slow_call_rate_trips_when_every_call_is_slow() -> None:
    """With slow_call_rate=1.0 only an all-slow window opens; exactly slow_call_s is not slow."""
    rig = Rig(min_calls=4, slow_call_s=1.0, slow_call_rate=1.0)
    rig.succeed(3, duration_s=1.5)
    rig.succeed(1, duration_s=1.0)
    snap = rig.snap()
    assert (snap.state, snap.slow_calls, snap.slow_call_rate) == (CLOSED, 3, 0.75)
    rig.succeed(1, duration_s=2.0)
    assert rig.breaker.state is CLOSED  # 4 of 5 slow
    rig.clock.advance(10.0)  # forget the fast call
    rig.succeed(4, duration_s=2.0)
    assert (rig.breaker.state, reasons(rig)) == (OPEN, ["slow_call_rate"])


def test_slow_failures_count_as_slow_and_failed() -> None:
    """A slow failure counts in both the failure and the slow-call totals."""
    rig = Rig(min_calls=100)
    rig.fail(duration_s=3.0)
    snap = rig.snap()
    assert (snap.calls, snap.failures, snap.slow_calls) == (1, 1, 1)


# --- OPEN ------------------------------------------------------------------------------


def test_open_rejects_with_circuit_open_carrying_retry_after() -> None:
    """OPEN refuses every call with CircuitOpen: retriable later, not now, retry_after left."""
    rig = Rig(open_s=10.0)
    rig.trip()
    rig.clock.advance(4.0)
    for rejected in (1, 2):
        with pytest.raises(CircuitOpen) as caught:
            rig.breaker.acquire()
        assert rig.snap().rejected_total == rejected
    error = caught.value
    assert isinstance(error, UpstreamError)
    assert (error.source, error.kind, error.retry_after) == (SRC, ErrorKind.CIRCUIT_OPEN, 6.0)
    assert (error.retriable, error.retry_now) == (True, False)
    assert "failure_rate" in error.message
    assert error.to_failure().kind is ErrorKind.CIRCUIT_OPEN


def test_moves_lazily_to_half_open_after_open_s() -> None:
    """OPEN stays OPEN until open_s has passed, then the next look finds HALF_OPEN."""
    rig = Rig(open_s=10.0)
    rig.trip()
    assert rig.snap().open_until == rig.clock.now + 10.0
    rig.clock.advance(9.999)
    assert rig.breaker.state is OPEN
    rig.clock.advance(0.001)
    assert len(rig.transitions) == 1  # nothing moves until someone looks
    snap = rig.snap()
    assert (snap.state, snap.open_until) == (HALF_OPEN, None)
    assert rig.transitions[-1] == (str(SRC), OPEN, HALF_OPEN, "open_elapsed")


# --- HALF_OPEN -------------------------------------------------------------------------


def test_half_open_admits_exactly_half_open_probes() -> None:
    """Exactly half_open_probes permits, the next is rejected until the period can end."""
    rig = Rig(half_open_probes=3, half_open_successes=2, max_half_open_s=20.0)
    rig.to_half_open()
    permits = [rig.breaker.acquire() for _ in range(3)]
    assert rig.snap().half_open_probes == 3
    rig.clock.advance(5.0)
    with pytest.raises(CircuitOpen) as caught:
        rig.breaker.acquire()
    assert caught.value.retry_after == 15.0
    assert "probe" in caught.value.message
    assert (rig.breaker.state, rig.snap().rejected_total) == (HALF_OPEN, 1)
    assert len(permits) == 3


def test_probe_failure_reopens_with_doubling_wait_capped() -> None:
    """Each probe failure re-opens at once with the wait doubled: 20, then 35 (cap), 35."""
    rig = Rig(open_s=10.0, open_backoff=2.0, max_open_s=35.0)
    rig.to_half_open()
    for wait in (20.0, 35.0, 35.0):
        rig.breaker.acquire()  # a probe that is still running changes nothing
        rig.fail()
        snap = rig.snap()
        assert (snap.state, snap.open_until) == (OPEN, rig.clock.now + wait)
        rig.clock.advance(wait - 0.5)
        assert rig.breaker.state is OPEN
        rig.clock.advance(0.5)
        assert rig.breaker.state is HALF_OPEN
    assert reasons(rig) == ["failure_rate"] + ["open_elapsed", "probe_failed"] * 3 + [
        "open_elapsed"
    ]


def test_probe_successes_close_clear_the_window_and_reset_backoff() -> None:
    """half_open_successes successes close; the window empties and the backoff restarts."""
    rig = Rig(open_s=10.0, half_open_probes=3, half_open_successes=2)
    rig.to_half_open()
    rig.fail()  # re-open with 20 s
    rig.clock.advance(20.0)
    rig.succeed()
    assert rig.breaker.state is HALF_OPEN
    rig.succeed()
    snap = rig.snap()
    assert (snap.state, snap.calls, snap.failures, snap.consecutive_failures) == (CLOSED, 0, 0, 0)
    assert rig.transitions[-1] == (str(SRC), HALF_OPEN, CLOSED, "probes_succeeded")
    rig.trip()
    assert rig.snap().open_until == rig.clock.now + 10.0
    rig.clock.advance(10.0)
    rig.fail()  # the backoff starts again from open_s: 20 s, not 40 s
    assert rig.snap().open_until == rig.clock.now + 20.0


def test_half_open_timeout_reopens_when_probes_never_record() -> None:
    """Probes that never return cannot wedge HALF_OPEN: after max_half_open_s it re-opens."""
    rig = Rig(open_s=10.0, max_half_open_s=20.0, half_open_probes=2, half_open_successes=2)
    rig.to_half_open()
    hung = [rig.breaker.acquire() for _ in range(2)]
    rig.clock.advance(19.9)
    with pytest.raises(CircuitOpen):
        rig.breaker.acquire()
    rig.clock.advance(0.1)
    snap = rig.snap()
    assert (snap.state, snap.open_until) == (OPEN, rig.clock.now + 20.0)
    assert rig.transitions[-1] == (str(SRC), HALF_OPEN, OPEN, "half_open_timeout")
    for permit in hung:  # a probe that finally returns belongs to the old period
        permit.success(30.0)
    assert (rig.breaker.state, len(rig.transitions)) == (OPEN, 3)


def test_ignore_frees_a_probe_slot_and_counts_nothing() -> None:
    """An ignored probe gives its slot back and neither closes nor re-opens the breaker."""
    rig = Rig(half_open_probes=2, half_open_successes=2)
    rig.to_half_open()
    first, _second = rig.breaker.acquire(), rig.breaker.acquire()
    with pytest.raises(CircuitOpen):
        rig.breaker.acquire()
    first.ignore()
    assert rig.snap().half_open_probes == 1
    third = rig.breaker.acquire()
    third.ignore()
    assert (rig.breaker.state, rig.snap().half_open_probes) == (HALF_OPEN, 1)


def test_all_slow_probes_reopen_instead_of_closing() -> None:
    """Probes that succeed but are all slow re-open (slow_call_rate) rather than flap."""
    rig = Rig(half_open_probes=2, half_open_successes=2, slow_call_s=1.0, slow_call_rate=1.0)
    rig.to_half_open()
    rig.succeed(2, duration_s=3.0)
    assert (rig.breaker.state, rig.transitions[-1][3]) == (OPEN, "slow_call_rate")


def test_one_slow_probe_among_fast_ones_still_closes() -> None:
    """A slow probe counts as a success when the probes' slow share is below slow_call_rate."""
    rig = Rig(half_open_probes=2, half_open_successes=2, slow_call_s=1.0, slow_call_rate=1.0)
    rig.to_half_open()
    rig.succeed(duration_s=3.0)
    rig.succeed(duration_s=0.1)
    assert rig.breaker.state is CLOSED


def test_permit_from_before_the_trip_cannot_reopen_half_open() -> None:
    """A call admitted while CLOSED that fails during HALF_OPEN is not a probe."""
    rig = Rig()
    straggler = rig.breaker.acquire()
    rig.to_half_open()
    straggler.failure(0.1)
    snap = rig.snap()
    assert (snap.state, snap.half_open_probes) == (HALF_OPEN, 0)


# --- permits, reset, force_open ---------------------------------------------------------


def test_a_permit_recorded_twice_counts_once() -> None:
    """Only a permit's first record counts; a second failure or a success is a no-op."""
    rig = Rig(min_calls=100)
    permit = rig.breaker.acquire()
    permit.failure(0.1)
    permit.failure(0.1)
    permit.success(0.1)
    permit.record(Outcome.FAILURE, 0.1)
    snap = rig.snap()
    assert (snap.calls, snap.failures, snap.consecutive_failures) == (1, 1, 1)
    assert permit.recorded


def test_a_probe_recorded_twice_frees_one_slot() -> None:
    """ignore() twice on one probe gives back one slot, not two."""
    rig = Rig(half_open_probes=2, half_open_successes=2)
    rig.to_half_open()
    probe: Permit = rig.breaker.acquire()
    rig.breaker.acquire()
    probe.ignore()
    probe.ignore()
    assert rig.snap().half_open_probes == 1


def test_reset_returns_previous_and_closed_and_clears_everything() -> None:
    """reset() from OPEN returns (OPEN, CLOSED), empties the window and the backoff."""
    rig = Rig(open_s=10.0)
    rig.to_half_open()
    rig.fail()  # OPEN, wait now 20 s
    assert rig.breaker.reset() == (OPEN, CLOSED)
    snap = rig.snap()
    assert (snap.state, snap.calls, snap.failures, snap.open_until) == (CLOSED, 0, 0, None)
    assert rig.transitions[-1] == (str(SRC), OPEN, CLOSED, "reset")
    rig.trip()
    assert rig.snap().open_until == rig.clock.now + 10.0


def test_reset_while_closed_clears_counts_without_a_transition() -> None:
    """reset() in CLOSED returns (CLOSED, CLOSED), clears the window and reports nothing."""
    rig = Rig(min_calls=100)
    rig.fail(3)
    assert rig.breaker.reset() == (CLOSED, CLOSED)
    snap = rig.snap()
    assert (snap.calls, snap.consecutive_failures, snap.transitions_total) == (0, 0, 0)
    assert rig.transitions == []


def test_force_open_rejects_until_the_given_time() -> None:
    """force_open(until) rejects with retry_after up to ``until``, then probes as usual."""
    rig = Rig()
    until = rig.clock.now + 50.0
    rig.breaker.force_open(until, "quota exhausted")
    assert rig.transitions == [(str(SRC), CLOSED, OPEN, "forced")]
    rig.clock.advance(49.0)
    with pytest.raises(CircuitOpen) as caught:
        rig.breaker.acquire()
    assert caught.value.retry_after == 1.0
    assert "quota exhausted" in caught.value.message
    rig.clock.advance(1.0)
    assert rig.breaker.state is HALF_OPEN


def test_force_open_never_shortens_and_ignores_the_past() -> None:
    """A past ``until`` does nothing; a shorter one keeps the longer open period."""
    rig = Rig(open_s=10.0)
    rig.breaker.force_open(rig.clock.now, "stale hint")
    assert rig.breaker.state is CLOSED
    rig.trip()
    rig.breaker.force_open(rig.clock.now + 5.0, "shorter hint")
    assert rig.snap().open_until == rig.clock.now + 10.0
    rig.breaker.force_open(rig.clock.now + 60.0, "longer hint")
    assert rig.snap().open_until == rig.clock.now + 60.0
    assert reasons(rig) == ["failure_rate"]


# --- events and snapshot ----------------------------------------------------------------


def test_on_transition_called_once_per_transition_in_order() -> None:
    """A full cycle reports each transition exactly once with (name, old, new, reason)."""
    rig = Rig(half_open_probes=2, half_open_successes=2)
    rig.to_half_open()
    rig.fail()
    rig.clock.advance(20.0)
    for _ in range(3):  # repeated looks at the state report nothing new
        assert rig.breaker.state is HALF_OPEN
    rig.succeed(2)
    rig.breaker.force_open(rig.clock.now + 1.0, "replica hint")
    name = str(SRC)
    assert rig.transitions == [
        (name, CLOSED, OPEN, "failure_rate"),
        (name, OPEN, HALF_OPEN, "open_elapsed"),
        (name, HALF_OPEN, OPEN, "probe_failed"),
        (name, OPEN, HALF_OPEN, "open_elapsed"),
        (name, HALF_OPEN, CLOSED, "probes_succeeded"),
        (name, CLOSED, OPEN, "forced"),
    ]
    assert rig.snap().transitions_total == 6


def test_snapshot_fields() -> None:
    """The snapshot reports every field as of now, in one frozen object."""
    rig = Rig(min_calls=4, consecutive_failures=5)
    rig.succeed(1, duration_s=2.0)
    rig.fail(3)
    snap = rig.snap()
    assert snap == BreakerSnapshot(
        state=OPEN,
        calls=4,
        failures=3,
        slow_calls=1,
        failure_rate=0.75,
        slow_call_rate=0.25,
        consecutive_failures=3,
        open_until=rig.clock.now + 10.0,
        half_open_probes=0,
        rejected_total=0,
        transitions_total=1,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.calls = 0  # type: ignore[misc]


def test_breaker_works_without_a_hook_and_is_named_after_its_source() -> None:
    """on_transition is optional; the name is the source's value."""
    breaker = CircuitBreaker(Source.LASTFM, BreakerConfig(consecutive_failures=1))
    assert breaker.name == "lastfm"
    breaker.acquire().failure(0.1)
    assert breaker.state is OPEN


@pytest.mark.parametrize(
    "overrides",
    [
        {"half_open_successes": 4, "half_open_probes": 3},
        {"max_half_open_s": 0.0},
        {"failure_rate": 0.0},
        {"open_s": 400.0},
        {"open_backoff": 0.5},
        {"min_calls": 0},
    ],
)
def test_config_refuses_meaningless_settings(overrides: dict[str, Any]) -> None:
    """BreakerConfig raises ValueError on settings that break the state machine."""
    with pytest.raises(ValueError, match=r"invalid BreakerConfig\("):
        BreakerConfig(**overrides)
