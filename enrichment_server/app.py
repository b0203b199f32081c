"""Composition root: builds every long-lived object from the settings and owns lifecycles.

Nothing else constructs sessions, caches or clients; everything is passed in, so tests
build the same graph with their own settings (port 0, sandbox URLs).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import grpc
import redis.asyncio as aredis
import structlog
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SpanExporter

from enrichment_client.pb.enrichment.v1 import admin_pb2
from enrichment_client.pb.enrichment.v1 import admin_pb2_grpc as admin_grpc
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc
from enrichment_server.admin import AdminServicer
from enrichment_server.cache import Cache, MemoryCache
from enrichment_server.config import Settings
from enrichment_server.domain import Source
from enrichment_server.health import SERVICE_NAME, Health
from enrichment_server.matching import Matcher
from enrichment_server.merge import with_overrides
from enrichment_server.redis_store import (
    RedisCache,
    RedisRateLimiter,
    SharedBreakerHints,
    redis_client,
)
from enrichment_server.resilience.breaker import BreakerConfig, CircuitBreaker
from enrichment_server.resilience.budget import RetryBudget
from enrichment_server.resilience.guard import Guard
from enrichment_server.resilience.ratelimit import RateLimiter, SpacingLimiter
from enrichment_server.resilience.registry import BreakerRegistry
from enrichment_server.resilience.retry import RetryPolicy
from enrichment_server.servicer import EnrichmentServicer, ServicerOptions
from enrichment_server.sources.caller import CACHE_PREFIX, TtlPolicy, UpstreamCaller
from enrichment_server.sources.deezer import DeezerClient
from enrichment_server.sources.getsongbpm import GetSongBpmClient
from enrichment_server.sources.http import AiohttpTransport, Transport, close_quietly
from enrichment_server.sources.lastfm import LastfmClient
from enrichment_server.sources.musicbrainz import MusicBrainzClient
from enrichment_server.sources.spotify import SpotifyClient
from enrichment_server.telemetry.interceptor import MetricsObserver, ObservingInterceptor
from enrichment_server.telemetry.metrics import Metrics, serve_metrics
from enrichment_server.telemetry.tracing import TracingObserver, build_tracer_provider
from enrichment_server.waterfall import SourceSet, Waterfall

log = structlog.get_logger(__name__)
RATE_SLACK = 0.98
ADMIN_SERVICE_NAME = admin_pb2.DESCRIPTOR.services_by_name["EnrichmentAdminService"].full_name


@dataclass(slots=True)
class Shared:
    """Long-lived objects every source's caller draws on."""

    cache: Cache
    registry: BreakerRegistry
    metrics: Metrics
    tracer: trace.Tracer
    redis: aredis.Redis | None = None
    hints: SharedBreakerHints | None = None


def breaker_config(settings: Settings, source: Source) -> BreakerConfig:
    """The breaker settings, with the per-source overrides applied."""
    values: dict[str, float] = {
        "window_s": settings.breaker_window_s,
        "min_calls": settings.breaker_min_calls,
        "failure_rate": settings.breaker_failure_rate,
        "consecutive_failures": settings.breaker_consecutive_failures,
        "slow_call_s": settings.breaker_slow_call_s,
        "slow_call_rate": settings.breaker_slow_call_rate,
        "open_s": settings.breaker_open_s,
        "max_open_s": settings.breaker_max_open_s,
        "half_open_probes": settings.breaker_half_open_probes,
        "half_open_successes": settings.breaker_half_open_probes,
        "max_half_open_s": settings.breaker_max_half_open_s,
    }
    values |= settings.breaker_overrides.get(str(source), {})
    integers = {"min_calls", "consecutive_failures", "half_open_probes", "half_open_successes"}
    return BreakerConfig(**{k: int(v) if k in integers else v for k, v in values.items()})  # type: ignore[arg-type]


def _limiter(settings: Settings, shared: Shared, source: Source, rate: float) -> RateLimiter | None:
    if rate <= 0:
        return None
    # Upstreams count arrivals, which jitter by a few ms around our evenly spaced starts;
    # 2 % slack keeps every 1-second window at or under the published limit.
    rate *= RATE_SLACK
    if shared.redis is not None:
        key = f"{CACHE_PREFIX}:ratelimit:{source}"
        return RedisRateLimiter(shared.redis, key, rate)
    return SpacingLimiter(rate)


def build_caller(
    settings: Settings, shared: Shared, source: Source, rate_per_s: float
) -> UpstreamCaller:
    """One source's caller: cache, coalescing, breaker, limiter, retries with a budget."""
    breaker = CircuitBreaker(
        source, breaker_config(settings, source), on_transition=shared.registry.on_transition
    )
    guard = Guard(breaker, hints=shared.hints, quota_block_s=settings.quota_block_s)
    shared.registry.add(source, guard)
    ttl = TtlPolicy(
        search_s=settings.cache_ttl_search_s,
        by_id_s=settings.cache_ttl_by_id_s,
        isrc_s=settings.cache_ttl_isrc_s,
        not_found_s=settings.cache_ttl_not_found_s,
    )
    retry = RetryPolicy(
        max_attempts=settings.http_max_attempts,
        base_s=settings.retry_base_s,
        cap_s=settings.retry_cap_s,
        retry_after_cap_s=settings.retry_after_cap_s,
        rng=random.Random(),
    )
    budget = RetryBudget(settings.retry_budget_ratio, settings.retry_budget_min_per_s)
    limiter = _limiter(settings, shared, source, rate_per_s)
    return UpstreamCaller(
        source,
        shared.cache,
        ttl,
        retry,
        limiter,
        guard,
        budget,
        hooks=shared.metrics,
        tracer=shared.tracer,
    )


def build_sources(settings: Settings, transport: Transport, shared: Shared) -> SourceSet:
    """One client per enabled source, each behind its own caller."""
    timeout = settings.http_timeout_s
    spotify = musicbrainz = lastfm = None
    if settings.spotify_enabled:
        spotify = SpotifyClient(
            build_caller(settings, shared, Source.SPOTIFY, settings.spotify_rate_per_s),
            transport,
            timeout,
            api_url=str(settings.spotify_api_url),
            token_url=str(settings.spotify_token_url),
            client_id=settings.spotify_client_id,
            client_secret=settings.spotify_client_secret.get_secret_value(),
            market=settings.spotify_market,
        )
    if settings.musicbrainz_enabled:
        musicbrainz = MusicBrainzClient(
            build_caller(settings, shared, Source.MUSICBRAINZ, settings.musicbrainz_rate_per_s),
            transport,
            timeout,
            base_url=str(settings.musicbrainz_url),
            user_agent=settings.musicbrainz_user_agent,
        )
    if settings.lastfm_enabled:
        lastfm = LastfmClient(
            build_caller(settings, shared, Source.LASTFM, settings.lastfm_rate_per_s),
            transport,
            timeout,
            base_url=str(settings.lastfm_url),
            api_key=settings.lastfm_api_key.get_secret_value(),
            user_agent=settings.musicbrainz_user_agent,
        )
    return SourceSet(
        spotify=spotify,
        musicbrainz=musicbrainz,
        lastfm=lastfm,
        deezer=_deezer(settings, transport, shared),
        getsongbpm=_getsongbpm(settings, transport, shared),
    )


def _deezer(settings: Settings, transport: Transport, shared: Shared) -> DeezerClient | None:
    if not settings.deezer_enabled:
        return None
    return DeezerClient(
        build_caller(settings, shared, Source.DEEZER, settings.deezer_rate_per_s),
        transport,
        settings.http_timeout_s,
        base_url=str(settings.deezer_url),
        user_agent=settings.musicbrainz_user_agent,
    )


def _getsongbpm(
    settings: Settings, transport: Transport, shared: Shared
) -> GetSongBpmClient | None:
    if not settings.getsongbpm_enabled:
        return None
    return GetSongBpmClient(
        build_caller(settings, shared, Source.GETSONGBPM, settings.getsongbpm_rate_per_s),
        transport,
        settings.http_timeout_s,
        base_url=str(settings.getsongbpm_url),
        api_key=settings.getsongbpm_api_key.get_secret_value(),
        user_agent=settings.musicbrainz_user_agent,
    )


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS credentials from the PEM files, requiring client certificates when a client CA
    is configured (mTLS); None for plaintext."""
    if not settings.tls_cert_file:
        return None
    pair = (Path(settings.tls_key_file).read_bytes(), Path(settings.tls_cert_file).read_bytes())
    client_ca = (
        Path(settings.tls_client_ca_file).read_bytes() if settings.tls_client_ca_file else None
    )
    return grpc.ssl_server_credentials(
        [pair], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


class App:
    """The running service: gRPC server, health, and the objects behind them."""

    def __init__(self, settings: Settings, span_exporters: Sequence[SpanExporter] = ()) -> None:
        self.settings = settings
        self.tracer_provider = build_tracer_provider(
            settings.trace_sample_ratio, settings.otlp_endpoint, span_exporters
        )
        self.health = Health()
        self.port = 0
        self._session: aiohttp.ClientSession | None = None
        self._server: grpc.aio.Server | None = None
        self.waterfall: Waterfall | None = None
        self._stopped = False
        self.shared: Shared | None = None
        self.metrics_port = 0
        self._metrics_runner: web.AppRunner | None = None

    async def start(self) -> int:
        """Build everything, bind, start serving; return the bound port."""
        settings = self.settings
        self._session = aiohttp.ClientSession()
        self.shared = shared = self._build_shared()
        sources = build_sources(settings, AiohttpTransport(self._session), shared)
        self.waterfall = Waterfall(
            sources,
            Matcher(settings.match_threshold),
            precedence=with_overrides(settings.field_precedence),
        )
        options = ServicerOptions(settings.default_deadline_s, settings.batch_concurrency)
        self._server = server = grpc.aio.server(
            interceptors=[
                ObservingInterceptor(
                    [MetricsObserver(shared.metrics), TracingObserver(shared.tracer)]
                )
            ],
            options=[("grpc.max_connection_age_ms", int(settings.max_connection_age_s * 1000))],
        )
        pb_grpc.add_EnrichmentServiceServicer_to_server(
            EnrichmentServicer(self.waterfall, options, shared.metrics), server
        )
        admin_grpc.add_EnrichmentAdminServiceServicer_to_server(
            AdminServicer(shared.registry, settings.admin_token.get_secret_value()), server
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health.servicer, server)
        reflection.enable_server_reflection(
            (
                SERVICE_NAME,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            server,
        )
        address = f"{settings.grpc_host}:{settings.grpc_port}"
        credentials = server_credentials(settings)
        if credentials is None:
            self.port = server.add_insecure_port(address)
        else:
            self.port = server.add_secure_port(address, credentials)
        await server.start()
        if settings.metrics_enabled:
            self._metrics_runner, self.metrics_port = await serve_metrics(
                shared.metrics, settings.metrics_host, settings.metrics_port
            )
        await self.health.serving()
        for source in shared.registry.sources:
            await self.health.upstream(str(source), serving=True)
        enabled = [str(s) for s in shared.registry.sources]
        cache = "redis" if shared.redis is not None else "memory"
        log.info(
            "server_started",
            port=self.port,
            metrics_port=self.metrics_port,
            sources=enabled,
            cache=cache,
        )
        return self.port

    def _build_shared(self) -> Shared:
        settings = self.settings

        def mirror(source: Source, serving: bool) -> Awaitable[None]:
            return self.health.upstream(str(source), serving)

        metrics = Metrics()
        tracer = self.tracer_provider.get_tracer("enrichment_server")
        if not settings.redis_url:
            registry = BreakerRegistry(health=mirror, hooks=metrics)
            cache = MemoryCache(settings.cache_max_entries)
            return Shared(cache, registry, metrics, tracer)
        redis = redis_client(settings.redis_url)
        hints = SharedBreakerHints(redis, f"{CACHE_PREFIX}:breaker")
        registry = BreakerRegistry(hints=hints, health=mirror, hooks=metrics)
        return Shared(RedisCache(redis), registry, metrics, tracer, redis, hints)

    async def stop(self, grace_s: float | None = None) -> None:
        """NOT_SERVING first, then let in-flight RPCs finish within the grace period.

        During ``drain_s`` the server still accepts calls while health reports NOT_SERVING,
        so health watchers and load balancers move away before new calls are refused.
        """
        if self._stopped:
            return
        self._stopped = True
        grace = self.settings.grace_period_s if grace_s is None else grace_s
        await self.health.shutting_down()
        if self.settings.drain_s > 0:
            log.info("server_draining", drain_s=self.settings.drain_s)
            await asyncio.sleep(self.settings.drain_s)
        if self._server is not None:
            log.info("server_stopping", grace_s=grace)
            await self._server.stop(grace)
        if self._session is not None:
            await close_quietly(self._session)
        if self._metrics_runner is not None:
            await self._metrics_runner.cleanup()
        self.tracer_provider.shutdown()  # flushes spans still batched for export
        if self.shared is not None and self.shared.redis is not None:
            await self.shared.redis.aclose()
        log.info("server_stopped")

    async def wait(self) -> None:
        """Until the server terminates."""
        if self._server is not None:
            await self._server.wait_for_termination()


@asynccontextmanager
async def running(
    settings: Settings, span_exporters: Sequence[SpanExporter] = ()
) -> AsyncIterator[App]:
    """Start an ``App`` and stop it on exit (tests, demo)."""
    app = App(settings, span_exporters)
    await app.start()
    try:
        yield app
    finally:
        await app.stop(grace_s=1.0)
