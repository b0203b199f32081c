"""Unit tests for enrichment_server.deadline.Deadline with a fake clock."""

from __future__ import annotations

from enrichment_server.deadline import Deadline


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 500.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_after_counts_from_now() -> None:
    """Deadline.after(s) expires s seconds after the clock's current time."""
    clock = FakeClock()
    deadline = Deadline.after(3.0, clock)
    assert deadline.expires_at == 503.0
    assert deadline.remaining() == 3.0


def test_remaining_decreases_with_clock() -> None:
    """remaining() is the time left as the clock advances."""
    clock = FakeClock()
    deadline = Deadline.after(3.0, clock)
    clock.now += 1.25
    assert deadline.remaining() == 1.75
    assert not deadline.expired()


def test_remaining_never_negative() -> None:
    """Past the deadline remaining() is 0, not negative."""
    clock = FakeClock()
    deadline = Deadline.after(1.0, clock)
    clock.now += 10
    assert deadline.remaining() == 0.0


def test_expired_exactly_at_deadline() -> None:
    """At the expiry instant the deadline counts as expired."""
    clock = FakeClock()
    deadline = Deadline.after(2.0, clock)
    clock.now += 2.0
    assert deadline.expired()


def test_not_expired_before_deadline() -> None:
    """Just before the expiry instant the deadline is not expired."""
    clock = FakeClock()
    deadline = Deadline.after(2.0, clock)
    clock.now += 1.999
    assert not deadline.expired()


def test_zero_budget_is_expired_at_once() -> None:
    """A deadline of 0 seconds is expired immediately."""
    assert Deadline.after(0.0, FakeClock()).expired()


def test_cap_picks_earlier_cap() -> None:
    """cap(s) with s shorter than the time left gives the deadline s from now."""
    clock = FakeClock()
    capped = Deadline.after(10.0, clock).cap(2.0)
    assert capped.expires_at == 502.0
    assert capped.remaining() == 2.0


def test_cap_keeps_earlier_original() -> None:
    """cap(s) with s longer than the time left keeps the original deadline."""
    clock = FakeClock()
    capped = Deadline.after(1.0, clock).cap(5.0)
    assert capped.expires_at == 501.0


def test_cap_is_measured_from_current_time() -> None:
    """cap(s) counts s from the clock's time when cap is called, not creation time."""
    clock = FakeClock()
    deadline = Deadline.after(10.0, clock)
    clock.now += 4.0
    assert deadline.cap(3.0).expires_at == 507.0


def test_cap_shares_the_clock() -> None:
    """The capped deadline reads the same clock as the original."""
    clock = FakeClock()
    capped = Deadline.after(10.0, clock).cap(2.0)
    clock.now += 1.5
    assert capped.remaining() == 0.5
