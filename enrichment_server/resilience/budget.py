"""Per-source retry budget (Finagle / Envoy style).

A retry is allowed while the retries in the last ``window_s`` stay below
``max(min_per_s * window_s, ratio * first_attempts_in_the_window)``.

Why this stops retries from multiplying load during an outage: per-call retry limits
("3 attempts") let every failing request become 3 requests, so an upstream that is
already struggling suddenly gets 3x the traffic. Here only *first* attempts deposit and
retries never do, so retries cannot fund further retries; with ``ratio=0.2`` the
retries in any window are at most 20 % of the requests (rounded up), so at high traffic the upstream
sees at most +20 % load however many calls fail (Envoy's budget_percent, Finagle's
``RetryBudget``). At low traffic 20 % of a handful of requests rounds down to zero
retries, so one lost packet on the only call of the minute could never be retried; the
floor (``min_per_s * window_s`` retries per window) keeps retries usable there, and
costs little because it is small in absolute terms. (Finagle adds the floor to the
ratio; taking the larger of the two keeps the +20 % bound exact at high traffic.)

Deposits and withdrawals expire with their one-second bucket, so a burst of traffic an
hour ago does not bank retries for now. Time comes from an injected monotonic clock.
"""

from __future__ import annotations

import time

from enrichment_server.deadline import Clock
from enrichment_server.resilience.window import SlidingCounts

#: The budget's bucket width; the window is ``ceil(window_s)`` of them.
BUDGET_BUCKET_S = 1.0


class RetryBudget:
    """How many retries one source may still get, shared by every call to it."""

    def __init__(
        self,
        ratio: float = 0.2,
        min_per_s: float = 1.0,
        window_s: float = 10.0,
        clock: Clock = time.monotonic,
    ) -> None:
        if ratio < 0 or min_per_s < 0 or window_s < BUDGET_BUCKET_S:
            raise ValueError("need ratio >= 0, min_per_s >= 0 and window_s >= 1")
        self._ratio = ratio
        self._floor = min_per_s * window_s
        self._clock = clock
        self._counts = SlidingCounts(2, window_s, BUDGET_BUCKET_S)  # requests, retries

    def record_request(self) -> None:
        """Deposit for a first attempt (retries never deposit)."""
        self._counts.add(self._clock(), 1, 0)

    def try_spend(self) -> bool:
        """Spend one retry if the budget allows it now; False leaves the budget untouched."""
        now = self._clock()
        if self._allowance(now) <= 0.0:
            return False
        self._counts.add(now, 0, 1)
        return True

    @property
    def available(self) -> float:
        """The window's limit minus retries spent (never negative); a spend needs > 0."""
        return max(0.0, self._allowance(self._clock()))

    def _allowance(self, now: float) -> float:
        """The window's retry limit minus the retries already spent in it."""
        requests, retries = self._counts.totals(now)
        return max(self._floor, self._ratio * requests) - retries
