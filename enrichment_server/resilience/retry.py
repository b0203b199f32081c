"""Retries with exponential backoff and full jitter, bounded by the caller's deadline.

Full jitter (sleep uniform in [0, min(cap, base * 2**n)]) does the least work of the
jittered variants (AWS architecture blog). ``Retry-After`` replaces the computed delay
when the source sends one, up to a cap; a longer one is not waited for. A retry that
could not finish before the deadline is not started. ``asyncio.CancelledError`` is a
``BaseException`` and is never caught here, so cancellation is never retried.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from enrichment_server.deadline import Deadline
from enrichment_server.errors import UpstreamError
from enrichment_server.resilience.budget import RetryBudget

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

#: Do not start an attempt with less time than this left: it could not complete.
MIN_ATTEMPT_S = 0.05


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait between attempts of one upstream call."""

    max_attempts: int = 3
    base_s: float = 0.1
    cap_s: float = 2.0
    retry_after_cap_s: float = 5.0
    rng: random.Random = field(default_factory=random.Random)
    sleep: Sleep = asyncio.sleep

    def backoff(self, retry_number: int) -> float:
        """Full-jitter delay before retry ``retry_number`` (0 = first retry)."""
        return self.rng.uniform(0.0, min(self.cap_s, self.base_s * 2**retry_number))

    def delay_for(self, error: UpstreamError, retry_number: int) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to give up now."""
        if not error.retry_now:
            return None
        if error.retry_after is not None:
            if error.retry_after > self.retry_after_cap_s:
                return None
            return error.retry_after
        return self.backoff(retry_number)

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        deadline: Deadline,
        budget: RetryBudget | None = None,
        on_retry: Callable[[], None] | None = None,
    ) -> T:
        """Call ``attempt`` until it succeeds, fails for good, or time runs out.

        With a ``budget``, each call deposits and each retry must withdraw: during an
        outage retries stop at the budget's share instead of multiplying the load.
        """
        if budget is not None:
            budget.record_request()
        for number in range(self.max_attempts):
            try:
                return await attempt()
            except UpstreamError as error:
                delay = self.delay_for(error, number)
                last = number == self.max_attempts - 1
                if last or delay is None or delay + MIN_ATTEMPT_S > deadline.remaining():
                    raise
                if budget is not None and not budget.try_spend():
                    raise
                if on_retry is not None:
                    on_retry()
                await self.sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
