"""Recent history for the console: counter snapshots every few seconds, for ten minutes.

Prometheus keeps history in Prometheus; the console must stand alone (no Prometheus in
the demo), so it samples this process's own counters: upstream calls and errors, their
latency sums, rate-limit waits and finished enrichments. Differences between the first and
last snapshot of the window give "over the last minutes"; consecutive ones the chart.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Metric

from enrichment_server.telemetry.metrics import Metrics

INTERVAL_S = 5.0
WINDOW = 120  # snapshots: ten minutes at five seconds


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Counter totals at one moment (wall-clock seconds, for the chart's axis)."""

    at: float
    tasks: float
    calls: dict[str, float] = field(default_factory=dict)
    errors: dict[str, float] = field(default_factory=dict)
    latency_sum: dict[str, float] = field(default_factory=dict)
    wait_sum: dict[str, float] = field(default_factory=dict)
    wait_count: dict[str, float] = field(default_factory=dict)
    lanes: dict[tuple[str, str, str], float] = field(default_factory=dict)


Keep = Callable[[dict[str, str]], bool]


def _by_source(metric: Metric, suffix: str, keep: Keep) -> dict[str, float]:
    totals: dict[str, float] = {}
    for sample in metric.samples:
        if sample.name.endswith(suffix) and keep(sample.labels):
            source = sample.labels.get("source", "")
            totals[source] = totals.get(source, 0.0) + sample.value
    return totals


def take(metrics: Metrics, now: float) -> Snapshot:
    """The counters' current totals."""
    calls_metric = next(iter(metrics.api_calls.collect()))
    latency = next(iter(metrics.api_seconds.collect()))
    waits = next(iter(metrics.limiter_seconds.collect()))
    tasks = next(iter(metrics.tasks.collect()))
    lanes = next(iter(metrics.lane_outcomes.collect()))
    every: Keep = lambda labels: True  # noqa: E731
    return Snapshot(
        at=now,
        tasks=sum(s.value for s in tasks.samples if s.name.endswith("_total")),
        calls=_by_source(calls_metric, "_total", every),
        errors=_by_source(calls_metric, "_total", lambda labels: labels.get("outcome") != "ok"),
        latency_sum=_by_source(latency, "_sum", every),
        wait_sum=_by_source(waits, "_sum", every),
        wait_count=_by_source(waits, "_count", every),
        lanes={
            (x.labels["source"], x.labels["lane"], x.labels["outcome"]): x.value
            for x in lanes.samples
            if x.name.endswith("_total")
        },
    )


class Sampler:
    """Keeps the last ``WINDOW`` snapshots; ``run`` takes one every ``interval_s``."""

    def __init__(
        self,
        metrics: Metrics,
        interval_s: float = INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._metrics = metrics
        self._interval_s = interval_s
        self._clock = clock
        self.history: deque[Snapshot] = deque(maxlen=WINDOW)

    def sample(self) -> Snapshot:
        """Take one snapshot now and keep it."""
        snapshot = take(self._metrics, self._clock())
        self.history.append(snapshot)
        return snapshot

    async def run(self, stop: asyncio.Event) -> None:
        """Sample until ``stop`` is set."""
        while not stop.is_set():
            self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._interval_s)

    def window(self) -> dict[str, Any]:
        """Per source over the window (calls, errors, mean latency and limiter wait in ms),
        and the throughput series (enrichments per second between snapshots)."""
        last = take(self._metrics, self._clock())
        first = self.history[0] if self.history else last
        sources = {
            source: _source_window(first, last, source)
            for source in last.calls.keys() | last.wait_count.keys()
        }
        points = [*self.history, last]
        series = [
            {"at": b.at, "per_s": round((b.tasks - a.tasks) / max(b.at - a.at, 1e-6), 3)}
            for a, b in itertools.pairwise(points)
        ]
        return {"since": first.at, "sources": sources, "throughput": series}


def _lanes(first: Snapshot, last: Snapshot, source: str) -> str:
    """Rate-limit slots per priority lane over the window: "bulk 12 granted, 3 refused"."""
    counts: dict[str, dict[str, float]] = {}
    for (name, lane, outcome), total in last.lanes.items():
        if name == source:
            moved = total - first.lanes.get((name, lane, outcome), 0.0)
            counts.setdefault(lane, {})[outcome] = moved
    parts = []
    for lane, outcomes in sorted(counts.items()):
        granted, refused = outcomes.get("granted", 0.0), outcomes.get("refused", 0.0)
        if granted or refused:
            text = f"{lane} {granted:.0f} granted"
            parts.append(text + (f", {refused:.0f} refused" if refused else ""))
    return "; ".join(parts) or "idle"


def _source_window(first: Snapshot, last: Snapshot, source: str) -> dict[str, Any]:
    """One source's calls, errors, mean latency and limiter wait (ms), lanes, in the window."""
    calls = last.calls.get(source, 0.0) - first.calls.get(source, 0.0)
    waits = last.wait_count.get(source, 0.0) - first.wait_count.get(source, 0.0)
    latency = last.latency_sum.get(source, 0.0) - first.latency_sum.get(source, 0.0)
    waited = last.wait_sum.get(source, 0.0) - first.wait_sum.get(source, 0.0)
    return {
        "calls": calls,
        "errors": last.errors.get(source, 0.0) - first.errors.get(source, 0.0),
        "latency_ms": round(1000 * latency / calls, 1) if calls else 0.0,
        "wait_ms": round(1000 * waited / waits, 1) if waits else 0.0,
        "lanes": _lanes(first, last, source),
    }
