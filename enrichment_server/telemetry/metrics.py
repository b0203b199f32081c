"""Prometheus metrics, with the names operators already know from the seed.

One ``Metrics`` object per server, on its own ``CollectorRegistry`` (no module-level
globals), exposed by ``exposition`` on the HTTP port (``api/http.py``):

* ``enrichment_tasks_total{status}``, ``enrichment_task_duration_seconds``
* ``enrichment_cache_hits_total{source}`` / ``enrichment_cache_misses_total{source}``: upstream
  lookups only (the seed's cache-hit-rate alert means those)
* ``enrichment_result_cache_lookups_total{outcome="hit"|"miss"}``: whole answers remembered
  by the in-process result cache, kept apart so they do not skew the upstream hit rate
* ``enrichment_circuit_breaker_state{source,state}`` (1 for the current state, else 0)
* ``enrichment_api_duration_seconds{source}``, ``enrichment_api_calls_total{source,outcome}``
* ``enrichment_retries_total{source}``, ``enrichment_ratelimit_wait_seconds{source}``
* ``enrichment_dlq_depth{state}`` (set by the DLQ worker)
* ``grpc_server_started_total``, ``grpc_server_handled_total{grpc_code}``,
  ``grpc_server_handling_seconds`` (go-grpc-prometheus names; see ``interceptor.py``)
* ``http_server_requests_total{method,route,code}``, ``http_server_request_duration_seconds``
  for the HTTP port (route templates, never raw paths: ids must not become labels)
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BREAKER_STATES = ("closed", "open", "half_open")
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_GRPC = ("grpc_type", "grpc_service", "grpc_method")


class Metrics:
    """Every metric of one server process; implements ``telemetry.hooks.Hooks``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.tasks = Counter("enrichment_tasks", "Enrichments by status.", ["status"], registry=r)
        self.task_seconds = Histogram(
            "enrichment_task_duration_seconds",
            "Time per enrichment.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.cache_hits = Counter(
            "enrichment_cache_hits",
            "Upstream lookups answered by the cache.",
            ["source"],
            registry=r,
        )
        self.cache_misses = Counter(
            "enrichment_cache_misses",
            "Upstream lookups the cache could not answer.",
            ["source"],
            registry=r,
        )
        self.result_lookups = Counter(
            "enrichment_result_cache_lookups",
            "Whole-track answers looked up in the result cache, by outcome.",
            ["outcome"],
            registry=r,
        )
        self.breaker = Gauge(
            "enrichment_circuit_breaker_state",
            "1 for the breaker's current state.",
            ["source", "state"],
            registry=r,
        )
        self.api_seconds = Histogram(
            "enrichment_api_duration_seconds",
            "Upstream HTTP attempt latency.",
            ["source"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.api_calls = Counter(
            "enrichment_api_calls",
            "Upstream HTTP attempts by outcome.",
            ["source", "outcome"],
            registry=r,
        )
        self.retries = Counter(
            "enrichment_retries", "Upstream attempts retried.", ["source"], registry=r
        )
        self.limiter_seconds = Histogram(
            "enrichment_ratelimit_wait_seconds",
            "Wait for a rate-limit slot.",
            ["source"],
            buckets=(0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.lane_seconds = Histogram(
            "enrichment_ratelimit_lane_wait_seconds",
            "Wait for a rate-limit slot, by priority lane.",
            ["source", "lane"],
            buckets=(0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.lane_outcomes = Counter(
            "enrichment_ratelimit_lane",
            "Rate-limit slots granted or refused (our own quota), by priority lane.",
            ["source", "lane", "outcome"],
            registry=r,
        )
        self.dlq_depth = Gauge(
            "enrichment_dlq_depth", "Dead letters by state.", ["state"], registry=r
        )
        self.grpc_started = Counter(
            "grpc_server_started", "RPCs started on the server.", _GRPC, registry=r
        )
        self.grpc_handled = Counter(
            "grpc_server_handled",
            "RPCs completed, by status code.",
            (*_GRPC, "grpc_code"),
            registry=r,
        )
        self.grpc_seconds = Histogram(
            "grpc_server_handling_seconds",
            "RPC handling time.",
            _GRPC,
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.http_requests = Counter(
            "http_server_requests",
            "HTTP requests on the service's port, by route template and status code.",
            ["method", "route", "code"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "http_server_request_duration_seconds",
            "HTTP request handling time.",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def http_request(self, method: str, route: str, code: int, duration_s: float) -> None:
        """Count one HTTP request on the service's port and observe its handling time."""
        self.http_requests.labels(method, route, str(code)).inc()
        self.http_seconds.labels(method, route).observe(duration_s)

    def cache_lookup(self, source: str, hit: bool) -> None:
        """Count a cache hit or miss."""
        (self.cache_hits if hit else self.cache_misses).labels(source).inc()

    def result_lookup(self, hit: bool) -> None:
        """Count a result-cache hit or miss."""
        self.result_lookups.labels("hit" if hit else "miss").inc()

    def upstream_call(self, source: str, outcome: str, duration_s: float) -> None:
        """Count an HTTP attempt and observe its latency."""
        self.api_calls.labels(source, outcome).inc()
        self.api_seconds.labels(source).observe(duration_s)

    def retry(self, source: str) -> None:
        """Count a retry."""
        self.retries.labels(source).inc()

    def limiter_wait(self, source: str, seconds: float) -> None:
        """Observe a rate-limit wait."""
        self.limiter_seconds.labels(source).observe(seconds)

    def limiter_lane(self, source: str, lane: str, granted: bool, seconds: float) -> None:
        """Count a lane's grant or refusal and observe its wait."""
        self.lane_outcomes.labels(source, lane, "granted" if granted else "refused").inc()
        self.lane_seconds.labels(source, lane).observe(seconds)

    def breaker_state(self, source: str, state: str) -> None:
        """Set the one-hot state gauge of a source's breaker."""
        for name in BREAKER_STATES:
            self.breaker.labels(source, name).set(1 if name == state else 0)

    def task_finished(self, status: str, duration_s: float) -> None:
        """Count an enrichment by status."""
        self.tasks.labels(status).inc()
        self.task_seconds.observe(duration_s)

    def cache_hit_rate(self) -> float:
        """Upstream-lookup hits / (hits + misses) since start (0 before any lookup)."""

        def total(counter: Counter) -> float:
            return sum(
                sample.value
                for metric in counter.collect()
                for sample in metric.samples
                if sample.name.endswith("_total")
            )

        hits, misses = total(self.cache_hits), total(self.cache_misses)
        return hits / (hits + misses) if hits + misses else 0.0

    def dlq(self, due: int, parked: int) -> None:
        """Set the dead-letter depth gauges."""
        self.dlq_depth.labels("due").set(due)
        self.dlq_depth.labels("parked").set(parked)


def exposition(metrics: Metrics) -> tuple[bytes, str]:
    """The text exposition of every metric and its content type (for ``GET /metrics``)."""
    return generate_latest(metrics.registry), CONTENT_TYPE_LATEST
