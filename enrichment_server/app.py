"""Composition root: builds every long-lived object from the settings and owns lifecycles.

Nothing else constructs sessions, stores, caches or clients; everything is passed in
(``wiring.py`` has the builders), so tests build the same graph with their own settings
(port 0, sandbox URLs, a temporary database).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.sdk.trace.export import SpanExporter

from enrichment_client.pb.enrichment.v1 import admin_pb2
from enrichment_client.pb.enrichment.v1 import admin_pb2_grpc as admin_grpc
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc
from enrichment_server.api import decoding
from enrichment_server.api.admin import AdminServicer
from enrichment_server.api.health import SERVICE_NAME, Health
from enrichment_server.api.http import HttpBackends, serve_http
from enrichment_server.api.servicer import EnrichmentServicer, ServicerOptions
from enrichment_server.cache.memory import MemoryCache
from enrichment_server.cache.redis import RedisCache
from enrichment_server.config import Settings
from enrichment_server.credentials import Credentials, CredentialService, CredentialsUnreadable
from enrichment_server.domain import Source
from enrichment_server.enrichment.explain import Explainer
from enrichment_server.enrichment.matching import Matcher
from enrichment_server.enrichment.merge import with_overrides
from enrichment_server.enrichment.results import ResultCache
from enrichment_server.enrichment.waterfall import Waterfall
from enrichment_server.recorder import ThreadedRecorder
from enrichment_server.redis_conn import redis_client
from enrichment_server.resilience.hints import SharedBreakerHints
from enrichment_server.resilience.pipeline import CACHE_PREFIX
from enrichment_server.resilience.registry import BreakerRegistry
from enrichment_server.sources.http import AiohttpTransport, Transport, close_quietly
from enrichment_server.store import Backoff, MaskedCredential, Store
from enrichment_server.telemetry.http_spans import TracingTransport
from enrichment_server.telemetry.interceptor import MetricsObserver, ObservingInterceptor
from enrichment_server.telemetry.metrics import Metrics
from enrichment_server.telemetry.tracing import TracingObserver, build_tracer_provider
from enrichment_server.wiring import Shared, build_sources, server_credentials
from enrichment_server.workers.maintenance import Maintenance
from enrichment_server.workers.start import build_workers, quota_pace

log = structlog.get_logger(__name__)
ADMIN_SERVICE_NAME = admin_pb2.DESCRIPTOR.services_by_name["EnrichmentAdminService"].full_name


class StartupError(Exception):
    """The service cannot start as configured; the message says how to fix it."""


class App:
    """The running service: gRPC server, health, background workers, and their parts.

    Everything ``start`` opens is registered on one ``AsyncExitStack``, so a start that fails
    half-way and a normal stop release the same things in the reverse order of opening.
    """

    def __init__(self, settings: Settings, span_exporters: Sequence[SpanExporter] = ()) -> None:
        self.settings = settings
        self.tracer_provider = build_tracer_provider(
            settings.trace_sample_ratio, settings.otlp_endpoint, span_exporters
        )
        self.health = Health()
        self.port = 0
        self.http_port = 0
        self.shared: Shared | None = None
        self.store: Store | None = None
        self.waterfall: Waterfall | None = None
        self.credentials: CredentialService | None = None
        self._stack = AsyncExitStack()
        self._server: grpc.aio.Server | None = None
        self._servicer: EnrichmentServicer | None = None
        self._admin: AdminServicer | None = None
        self._recorder: ThreadedRecorder | None = None
        self._stop_workers = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._stopped = False

    async def start(self) -> int:
        """Open the store, build everything, bind, start serving; return the bound port."""
        try:
            shared, store, waterfall, credentials = await self._open()
        except BaseException:
            await self._abandon_start()
            raise
        await self.health.serving()
        for source in shared.registry.sources:
            await self.health.upstream(str(source), serving=True)
        self._start_workers(store, waterfall, shared, credentials)
        log.info(
            "server_started",
            port=self.port,
            http_port=self.http_port,
            sources=[str(s) for s in shared.registry.sources],
            cache="redis" if shared.redis is not None else "memory",
            database=self.settings.database_url.partition("://")[0],
        )
        return self.port

    async def _open(self) -> tuple[Shared, Store, Waterfall, CredentialService]:
        """Open every part in dependency order, each registered on the exit stack."""
        settings, stack = self.settings, self._stack
        stack.callback(self.tracer_provider.shutdown)  # flushes spans still batched: last
        self.store = store = await Store.open(settings.database_url)
        stack.push_async_callback(store.close)
        self.credentials = credentials = CredentialService(settings, store)
        try:
            await credentials.load()
        except CredentialsUnreadable as exc:
            raise StartupError(str(exc)) from None
        session = aiohttp.ClientSession()
        stack.push_async_callback(close_quietly, session)
        self.shared = shared = self._build_shared()
        if shared.redis is not None:
            stack.push_async_callback(shared.redis.aclose)
        self.waterfall = waterfall = self._build_waterfall(
            self._transport(session), shared, credentials
        )
        if settings.record_results:
            self._recorder = ThreadedRecorder(
                settings.database_url,
                max_attempts=settings.dlq_max_attempts,
                backoff=self._backoff(),
            )
            await self._recorder.start()
            stack.push_async_callback(self._recorder.close)
        self._server = self._build_server(shared, store, waterfall, credentials)
        await self._server.start()
        await self._serve_http(shared, store, waterfall)
        return shared, store, waterfall, credentials

    @property
    def metrics_port(self) -> int:
        """The HTTP port (it was the metrics port; the old name stays for callers)."""
        return self.http_port

    async def _serve_http(self, shared: Shared, store: Store, waterfall: Waterfall) -> None:
        """The HTTP port (``api/http.py``) over the same servicers the gRPC server uses."""
        settings = self.settings
        assert self._servicer is not None
        assert self._admin is not None
        backends = HttpBackends(
            settings=settings,
            metrics=shared.metrics,
            tracer=shared.tracer,
            health=self.health,
            store=store,
            breakers=shared.registry,
            enrich=self._servicer,
            admin=self._admin,
            cache_backend="redis" if shared.redis is not None else "memory",
            waterfall=waterfall,
        )
        try:
            runner, self.http_port = await serve_http(backends)
        except OSError as exc:
            address = f"{settings.http_host}:{settings.http_port}"
            raise StartupError(f"cannot serve HTTP on {address}: {exc.strerror}") from exc
        self._stack.push_async_callback(runner.cleanup)

    def _build_waterfall(
        self, transport: Transport, shared: Shared, credentials: CredentialService
    ) -> Waterfall:
        """The waterfall over today's sources; rebuilt sources when credentials change."""
        settings = self.settings
        waterfall = Waterfall(
            build_sources(settings, transport, shared, credentials.current),
            Matcher(settings.match_threshold),
            precedence=with_overrides(settings.field_precedence),
            results=ResultCache(settings.result_cache_max_entries, settings.result_cache_ttl_s),
            hooks=shared.metrics,
        )

        async def rebuild(new: Credentials) -> None:
            waterfall.replace_sources(build_sources(settings, transport, shared, new))
            log.info("credentials_applied", sources=[str(s) for s in shared.registry.sources])

        credentials.on_change(rebuild)
        return waterfall

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

    def _transport(self, session: aiohttp.ClientSession) -> TracingTransport:
        """The upstreams' HTTP transport: one CLIENT span per request in sampled traces."""
        tracer = self.tracer_provider.get_tracer("enrichment_server")
        return TracingTransport(AiohttpTransport(session), tracer)

    def _backoff(self) -> Backoff:
        return Backoff(
            base_s=self.settings.dlq_backoff_base_s, cap_s=self.settings.dlq_backoff_cap_s
        )

    def _build_server(
        self, shared: Shared, store: Store, waterfall: Waterfall, credentials: CredentialService
    ) -> grpc.aio.Server:
        settings = self.settings
        server = grpc.aio.server(
            interceptors=[
                ObservingInterceptor(
                    [MetricsObserver(shared.metrics), TracingObserver(shared.tracer)]
                )
            ],
            options=[
                ("grpc.max_connection_age_ms", int(settings.max_connection_age_s * 1000)),
                # grpcio's default SO_REUSEPORT lets a second server share a taken port
                # silently; a taken port must fail the start instead.
                ("grpc.so_reuseport", 0),
            ],
        )
        # BULK/BACKGROUND stream items wait in their stream for what the quota can serve.
        paced = quota_pace(settings, shared, settings.batch_concurrency).capacity
        options = ServicerOptions(settings.default_deadline_s, settings.batch_concurrency, paced)
        self._servicer = EnrichmentServicer(waterfall, options, shared.metrics, self._recorder)
        decoding.register(pb_grpc.add_EnrichmentServiceServicer_to_server, self._servicer, server)
        self._admin = admin = AdminServicer(
            shared.registry,
            settings.admin_token.get_secret_value(),
            store,
            credentials,
            shared.metrics.cache_hit_rate,
            Explainer(waterfall, Matcher(settings.match_threshold)),
        )
        decoding.register(admin_grpc.add_EnrichmentAdminServiceServicer_to_server, admin, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health.servicer, server)
        names = (
            SERVICE_NAME,
            ADMIN_SERVICE_NAME,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        )
        reflection.enable_server_reflection(names, server)
        self.port = self._bind(server)
        return server

    def _bind(self, server: grpc.aio.Server) -> int:
        settings = self.settings
        address = f"{settings.grpc_host}:{settings.grpc_port}"
        credentials = server_credentials(settings)
        try:
            if credentials is None:
                return int(server.add_insecure_port(address))
            return int(server.add_secure_port(address, credentials))
        except RuntimeError as exc:  # grpc.aio's only signal of a failed bind
            raise StartupError(
                f"cannot listen on {address}: the port is taken (another enrichment-server?)"
                " or the address is not local; set ENRICHMENT_GRPC_PORT to a free port"
            ) from exc

    def _start_workers(
        self,
        store: Store,
        waterfall: Waterfall,
        shared: Shared,
        credentials: CredentialService,
    ) -> None:
        """DLQ replayer, scheduled re-enrichment and maintenance: never inside an RPC."""
        settings = self.settings
        maintenance = Maintenance(store, shared.metrics, credentials)
        self._workers.append(asyncio.create_task(maintenance.run_forever(self._stop_workers)))
        if shared.hints is not None:  # breaker resets and openings made on other replicas
            sync = shared.registry.run_forever(self._stop_workers, shared.hints.refresh_s)
            self._workers.append(asyncio.create_task(sync))
        if not settings.workers_enabled:
            return
        worker_id = f"{socket.gethostname()}:{self.port}"
        write = self._recorder.record if self._recorder is not None else None
        dlq, scheduler = build_workers(
            settings, store, waterfall.enrich, shared, worker_id, self._backoff(), write
        )
        loops = ((dlq, settings.dlq_interval_s), (scheduler, settings.scheduler_interval_s))
        for worker, interval in loops:
            task = asyncio.create_task(worker.run_forever(interval, self._stop_workers))
            self._workers.append(task)

    async def set_credential(self, source: Source, name: str, value: str) -> MaskedCredential:
        """Encrypt and store a credential, then rebuild the source's client to use it."""
        if self.credentials is None:
            raise ValueError("credentials cannot be stored before the service has started")
        return await self.credentials.set_credential(source, name, value)

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
        if self._recorder is not None:
            await self._recorder.drain(grace)  # results still being written
        await self._stop_background(grace)
        await self._stack.aclose()
        log.info("server_stopped")

    async def _stop_background(self, grace_s: float) -> None:
        """Workers finish their batch within the grace period; leases cover the rest."""
        self._stop_workers.set()
        if self._workers:
            _, pending = await asyncio.wait(self._workers, timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)

    async def _abandon_start(self) -> None:
        """A start that failed half-way: release what it had opened."""
        self._stopped = True
        if self._server is not None:
            await self._server.stop(0)
        await self._stack.aclose()

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
