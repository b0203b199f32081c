"""Unit tests for enrichment_server.resilience.budget with a fake clock."""

from __future__ import annotations

import pytest

from enrichment_server.resilience.budget import RetryBudget
from enrichment_server.resilience.window import SlidingCounts


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def spend_all(budget: RetryBudget) -> int:
    """Spend retries until refused; return how many were allowed."""
    spent = 0
    while budget.try_spend():
        spent += 1
        assert spent <= 10_000, "budget never ran out"
    return spent


def test_floor_allows_retries_at_low_traffic() -> None:
    """With 3 requests, 20 % is 0.6 but the floor (1/s x 10 s) still allows 10 retries."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.2, min_per_s=1.0, window_s=10.0, clock=clock)
    for _ in range(3):
        budget.record_request()
    assert budget.available == 10.0
    assert spend_all(budget) == 10
    assert budget.available == 0.0


def test_ratio_caps_retries_at_20_percent_of_high_traffic() -> None:
    """1000 first attempts allow exactly 200 retries (+20 %), then try_spend is False."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.2, min_per_s=1.0, window_s=10.0, clock=clock)
    for _ in range(1000):
        budget.record_request()
    assert budget.available == 200.0
    assert spend_all(budget) == 200
    assert budget.try_spend() is False


def test_refused_spend_leaves_the_budget_untouched() -> None:
    """try_spend() returning False does not count a retry: a new deposit allows one again."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.5, min_per_s=0.0, window_s=10.0, clock=clock)
    budget.record_request()
    budget.record_request()
    assert budget.try_spend() is True
    assert budget.try_spend() is False
    assert budget.try_spend() is False
    budget.record_request()
    budget.record_request()
    assert (budget.available, budget.try_spend(), budget.try_spend()) == (1.0, True, False)


def test_a_fractional_allowance_permits_one_retry() -> None:
    """retries < limit: 0.2 x 3 requests = 0.6 allows one retry, not two."""
    budget = RetryBudget(ratio=0.2, min_per_s=0.0, window_s=10.0, clock=FakeClock())
    for _ in range(3):
        budget.record_request()
    assert budget.available == pytest.approx(0.6)
    assert spend_all(budget) == 1


def test_spent_retries_and_deposits_expire_after_the_window() -> None:
    """After window_s both the retries spent and the requests deposited are forgotten."""
    clock = FakeClock()
    budget = RetryBudget(ratio=0.2, min_per_s=1.0, window_s=10.0, clock=clock)
    for _ in range(1000):
        budget.record_request()
    assert spend_all(budget) == 200
    clock.now += 9.0
    assert budget.try_spend() is False  # still inside the window
    clock.now += 1.0
    assert budget.available == 10.0  # only the floor is left: the deposits expired too
    assert spend_all(budget) == 10


def test_retries_never_deposit() -> None:
    """With no first attempts and no floor, a retry can never be spent."""
    budget = RetryBudget(ratio=0.2, min_per_s=0.0, window_s=10.0, clock=FakeClock())
    assert (budget.available, budget.try_spend()) == (0.0, False)


def test_budget_refuses_a_window_shorter_than_a_bucket() -> None:
    """window_s below one 1 s bucket is a ValueError."""
    with pytest.raises(ValueError, match="window_s"):
        RetryBudget(window_s=0.5)


def test_sliding_counts_evict_whole_buckets_by_age() -> None:
    """A bucket counts until it is window_s old, measured in whole buckets."""
    counts = SlidingCounts(2, window_s=3.0, bucket_s=1.0)
    counts.add(10.2, 1, 0)
    counts.add(11.9, 0, 2)
    assert counts.totals(12.99) == (1, 2)
    assert counts.totals(13.0) == (0, 2)
    assert counts.totals(14.0) == (0, 0)
    counts.add(14.0, 5, 5)
    counts.clear()
    assert counts.totals(14.0) == (0, 0)


def test_sliding_counts_size_is_not_fooled_by_float_division() -> None:
    """window 3.0 s in 0.1 s buckets is 30 buckets, not 31 (3.0 / 0.1 = 30.000000000000004)."""
    counts = SlidingCounts(1, window_s=3.0, bucket_s=0.1)
    counts.add(0.0, 1)
    assert counts.totals(2.95) == (1,)
    assert counts.totals(3.0) == (0,)
