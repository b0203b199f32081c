"""A request's deadline, passed down to every upstream call.

Python's gRPC does not propagate deadlines (reference: resilience-grpc.md 3.4), so the
servicer reads the time remaining once and every stage asks this object how long it
may still take.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Deadline:
    """An absolute point on a monotonic clock."""

    expires_at: float
    clock: Clock = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Clock = time.monotonic) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self.expires_at - self.clock())

    def expired(self) -> bool:
        """True when no time is left."""
        return self.remaining() <= 0.0

    def cap(self, seconds: float) -> Deadline:
        """The earlier of this deadline and ``seconds`` from now."""
        return Deadline(min(self.expires_at, self.clock() + seconds), self.clock)

    def later(self, seconds: float) -> Deadline:
        """The later of this deadline and ``seconds`` from now."""
        return Deadline(max(self.expires_at, self.clock() + seconds), self.clock)
