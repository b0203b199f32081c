"""The console's history: per-source calls, errors, latency, limiter waits and lanes over the
window, and the throughput series, from this process's counters."""

from __future__ import annotations

import pytest

from enrichment_server.api.console.sampler import WINDOW, Sampler
from enrichment_server.telemetry.metrics import Metrics


class FakeClock:
    """Wall-clock seconds the test moves."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_counts_what_happened_since_its_first_snapshot() -> None:
    """Calls before the first snapshot are not counted; after it, per source and lane."""
    metrics, clock = Metrics(), FakeClock()
    sampler = Sampler(metrics, clock=clock)
    metrics.upstream_call("spotify", "ok", 0.5)  # before the window
    sampler.sample()
    metrics.upstream_call("spotify", "ok", 0.1)
    metrics.upstream_call("spotify", "unavailable", 0.3)
    metrics.limiter_wait("spotify", 0.2)
    metrics.limiter_lane("spotify", "bulk", True, 0.2)
    metrics.limiter_lane("spotify", "bulk", False, 1.0)
    for _ in range(10):
        metrics.task_finished("completed", 0.1)
    clock.now += 5
    window = sampler.window()
    spotify = window["sources"]["spotify"]
    assert spotify["calls"] == 2
    assert spotify["errors"] == 1
    assert spotify["latency_ms"] == pytest.approx(200.0)
    assert spotify["wait_ms"] == pytest.approx(200.0)
    assert spotify["lanes"] == "bulk 1 granted, 1 refused"
    assert window["throughput"] == [{"at": clock.now, "per_s": 2.0}]


def test_the_history_keeps_ten_minutes() -> None:
    """Older snapshots fall out once the window is full."""
    metrics, clock = Metrics(), FakeClock()
    sampler = Sampler(metrics, clock=clock)
    for _ in range(WINDOW + 5):
        sampler.sample()
        clock.now += 5
    assert len(sampler.history) == WINDOW
    assert sampler.history[0].at == 1_000_000.0 + 5 * 5
