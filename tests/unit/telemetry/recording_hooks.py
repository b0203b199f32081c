"""Hooks that remember what the core reported, for tests of the code that reports it."""

from __future__ import annotations

from dataclasses import dataclass, field

from enrichment_server.telemetry.hooks import NullHooks


@dataclass
class RecordingHooks(NullHooks):
    """Records results, breaker states and result-cache lookups; ignores the rest."""

    tasks: list[tuple[str, float]] = field(default_factory=list)
    breaker_states: list[tuple[str, str]] = field(default_factory=list)
    result_lookups: list[bool] = field(default_factory=list)

    def task_finished(self, status: str, duration_s: float) -> None:
        """Remember one finished enrichment."""
        self.tasks.append((status, duration_s))

    def breaker_state(self, source: str, state: str) -> None:
        """Remember a breaker's new state."""
        self.breaker_states.append((source, state))

    def result_lookup(self, hit: bool) -> None:
        """Remember a result-cache lookup."""
        self.result_lookups.append(hit)
