"""Typed sections of the settings: what each part of the service reads.

``config.Settings`` parses the flat environment (the ``ENRICHMENT_*`` names operators set,
kept stable); these frozen sections are built from it (``settings.source(...)``,
``settings.breaker``, ``settings.cache``, ``settings.retry``, ``settings.store``,
``settings.telemetry``) so a builder takes the section it needs, not 80 fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from enrichment_server.domain import Source

__all__ = [
    "BreakerSettings",
    "CacheSettings",
    "RetrySettings",
    "SourceSettings",
    "StoreSettings",
    "TelemetrySettings",
]


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """One upstream's section. ``token_url`` and ``market`` are Spotify's only."""

    source: Source
    enabled: bool
    url: str
    rate_per_s: float
    http_timeout_s: float
    user_agent: str
    token_url: str = ""
    market: str = ""


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    """The breakers' section: ``BreakerConfig`` values, per-source overrides, quota block."""

    defaults: Mapping[str, float]
    overrides: Mapping[str, Mapping[str, float]]
    quota_block_s: float

    def for_source(self, source: Source) -> dict[str, float]:
        """The defaults with ``source``'s overrides applied."""
        return {**self.defaults, **self.overrides.get(str(source), {})}


@dataclass(frozen=True, slots=True)
class CacheSettings:
    """The caches' section."""

    max_entries: int
    result_max_entries: int
    result_ttl_s: int
    ttl_search_s: int
    ttl_by_id_s: int
    ttl_isrc_s: int
    ttl_not_found_s: int


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """The upstream retries' section."""

    max_attempts: int
    base_s: float
    cap_s: float
    retry_after_cap_s: float
    budget_ratio: float
    budget_min_per_s: float


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """The durable state's section (database, recording, background workers)."""

    database_url: str
    record_results: bool
    workers_enabled: bool
    dlq_interval_s: float
    dlq_batch_size: int
    dlq_max_attempts: int
    dlq_backoff_base_s: float
    dlq_backoff_cap_s: float
    scheduler_interval_s: float
    scheduler_batch_size: int


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """The HTTP port's section: /metrics, the seed's endpoints and the console."""

    host: str
    port: int
    console_session_s: float


@dataclass(frozen=True, slots=True)
class TelemetrySettings:
    """The telemetry section."""

    trace_sample_ratio: float
    otlp_endpoint: str
    metrics_enabled: bool
    log_level: str
    log_format: str
