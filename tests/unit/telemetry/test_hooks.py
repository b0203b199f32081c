"""The hooks: ``Metrics`` turns each reported event into its Prometheus sample.

That the core reports through the protocol is pinned beside each reporter: the waterfall's
result-cache lookups (enrichment/test_waterfall.py), the servicer's results
(api/test_servicer.py), the registry's breaker states (resilience/test_guard.py)."""

from __future__ import annotations

import pytest

from enrichment_server.telemetry.hooks import Hooks, NullHooks
from enrichment_server.telemetry.metrics import Metrics
from tests.unit.telemetry.recording_hooks import RecordingHooks


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    """The current value of one sample (0 when it was never set)."""
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_metrics_and_null_hooks_implement_the_protocol() -> None:
    """Both can stand where a ``Hooks`` is expected (mypy checks the assignment)."""
    hooks: list[Hooks] = [Metrics(), NullHooks(), RecordingHooks()]
    assert len(hooks) == 3


def test_lookups_and_calls_are_counted_per_source() -> None:
    """Cache hits/misses, result-cache outcomes, attempts by outcome, retries."""
    metrics = Metrics()
    metrics.cache_lookup("spotify", hit=True)
    metrics.cache_lookup("spotify", hit=False)
    metrics.cache_lookup("spotify", hit=False)
    metrics.result_lookup(hit=True)
    metrics.upstream_call("musicbrainz", "ok", 0.2)
    metrics.upstream_call("musicbrainz", "unavailable", 1.5)
    metrics.retry("musicbrainz")
    assert sample(metrics, "enrichment_cache_hits_total", source="spotify") == 1
    assert sample(metrics, "enrichment_cache_misses_total", source="spotify") == 2
    assert metrics.cache_hit_rate() == pytest.approx(1 / 3)
    assert sample(metrics, "enrichment_result_cache_lookups_total", outcome="hit") == 1
    calls = "enrichment_api_calls_total"
    assert sample(metrics, calls, source="musicbrainz", outcome="ok") == 1
    assert sample(metrics, calls, source="musicbrainz", outcome="unavailable") == 1
    assert sample(metrics, "enrichment_api_duration_seconds_sum", source="musicbrainz") == 1.7
    assert sample(metrics, "enrichment_retries_total", source="musicbrainz") == 1


def test_breaker_state_is_one_hot() -> None:
    """Exactly the current state's gauge is 1 for a source."""
    metrics = Metrics()
    metrics.breaker_state("deezer", "open")
    metrics.breaker_state("deezer", "half_open")
    gauge = "enrichment_circuit_breaker_state"
    values = {
        state: sample(metrics, gauge, source="deezer", state=state)
        for state in ("closed", "open", "half_open")
    }
    assert values == {"closed": 0, "open": 0, "half_open": 1}


def test_results_limiter_waits_and_dead_letters_are_observed() -> None:
    """Tasks by status with their duration; limiter waits; dead-letter depth by state."""
    metrics = Metrics()
    metrics.task_finished("partial", 0.5)
    metrics.task_finished("completed", 0.25)
    metrics.limiter_wait("musicbrainz", 1.0)
    metrics.dlq(due=3, parked=1)
    assert sample(metrics, "enrichment_tasks_total", status="partial") == 1
    assert sample(metrics, "enrichment_task_duration_seconds_count") == 2
    assert sample(metrics, "enrichment_task_duration_seconds_sum") == 0.75
    assert sample(metrics, "enrichment_ratelimit_wait_seconds_sum", source="musicbrainz") == 1
    assert sample(metrics, "enrichment_dlq_depth", state="due") == 3
    assert sample(metrics, "enrichment_dlq_depth", state="parked") == 1


def test_two_servers_keep_separate_registries() -> None:
    """No module-level metric: one Metrics object's counts never show in another's."""
    first, second = Metrics(), Metrics()
    first.retry("spotify")
    assert sample(first, "enrichment_retries_total", source="spotify") == 1
    assert sample(second, "enrichment_retries_total", source="spotify") == 0


def test_limiter_lanes_count_grants_refusals_and_waits() -> None:
    """Each lane's grants and refusals are counted apart, and its waits observed."""
    metrics = Metrics()
    metrics.limiter_lane("musicbrainz", "background", granted=True, seconds=2.0)
    metrics.limiter_lane("musicbrainz", "background", granted=False, seconds=9.5)
    metrics.limiter_lane("musicbrainz", "interactive", granted=True, seconds=0.0)
    lanes = "enrichment_ratelimit_lane_total"
    background = {"source": "musicbrainz", "lane": "background"}
    assert sample(metrics, lanes, **background, outcome="granted") == 1
    assert sample(metrics, lanes, **background, outcome="refused") == 1
    assert sample(metrics, lanes, source="musicbrainz", lane="interactive", outcome="refused") == 0
    waits = "enrichment_ratelimit_lane_wait_seconds_sum"
    assert sample(metrics, waits, **background) == 11.5
