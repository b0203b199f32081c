"""The instrumentation hook protocol: the core reports events, never imports metrics.

Components receive a ``Hooks`` in their constructor and call it at the points that
matter; ``telemetry/metrics.py`` implements it with Prometheus, ``NullHooks`` does
nothing (tests, tools). This keeps metric objects out of module globals and lets the
hot path pay only a method call when telemetry is off.
"""

from __future__ import annotations

from typing import Protocol


class Hooks(Protocol):
    """Events worth counting."""

    def cache_lookup(self, source: str, hit: bool) -> None:
        """An upstream lookup was answered from the cache (or not)."""

    def result_lookup(self, hit: bool) -> None:
        """A whole track's answer was found in the result cache (or not)."""

    def upstream_call(self, source: str, outcome: str, duration_s: float) -> None:
        """One HTTP attempt finished; ``outcome`` is "ok" or an error kind."""

    def retry(self, source: str) -> None:
        """An attempt is being retried."""

    def limiter_wait(self, source: str, seconds: float) -> None:
        """A request waited this long (possibly 0) for its rate-limit slot."""

    def limiter_lane(self, source: str, lane: str, granted: bool, seconds: float) -> None:
        """A request waited ``seconds`` in priority ``lane``; got a slot or was refused."""

    def breaker_state(self, source: str, state: str) -> None:
        """A source's breaker is now in ``state``."""

    def task_finished(self, status: str, duration_s: float) -> None:
        """One track's enrichment ended with ``status``."""


class NullHooks:
    """Hooks that record nothing."""

    def cache_lookup(self, source: str, hit: bool) -> None:
        """Ignored."""

    def result_lookup(self, hit: bool) -> None:
        """Ignored."""

    def upstream_call(self, source: str, outcome: str, duration_s: float) -> None:
        """Ignored."""

    def retry(self, source: str) -> None:
        """Ignored."""

    def limiter_wait(self, source: str, seconds: float) -> None:
        """Ignored."""

    def limiter_lane(self, source: str, lane: str, granted: bool, seconds: float) -> None:
        """Ignored."""

    def breaker_state(self, source: str, state: str) -> None:
        """Ignored."""

    def task_finished(self, status: str, duration_s: float) -> None:
        """Ignored."""
