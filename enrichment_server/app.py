"""Composition root: builds every long-lived object from the settings and owns lifecycles.

Nothing else constructs sessions, stores, caches or clients; everything is passed in
(``wiring.py`` has the builders), so tests build the same graph with their own settings
(port 0, sandbox URLs, a temporary database).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import grpc
import structlog
from aiohttp import web
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.sdk.trace.export import SpanExporter

from enrichment_client.pb.enrichment.v1 import admin_pb2
from enrichment_client.pb.enrichment.v1 import admin_pb2_grpc as admin_grpc
from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc
from enrichment_server.api.admin import AdminServicer
from enrichment_server.api.health import SERVICE_NAME, Health
from enrichment_server.api.servicer import EnrichmentServicer, ServicerOptions
from enrichment_server.cache.memory import MemoryCache
from enrichment_server.cache.redis import RedisCache
from enrichment_server.config import Settings
from enrichment_server.crypto import CredentialCipher
from enrichment_server.domain import Source
from enrichment_server.enrichment.matching import Matcher
from enrichment_server.enrichment.merge import with_overrides
from enrichment_server.enrichment.results import ResultCache
from enrichment_server.enrichment.waterfall import Waterfall
from enrichment_server.recorder import ThreadedRecorder
from enrichment_server.redis_conn import redis_client
from enrichment_server.resilience.hints import SharedBreakerHints
from enrichment_server.resilience.pipeline import CACHE_PREFIX
from enrichment_server.resilience.registry import BreakerRegistry
from enrichment_server.sources.http import AiohttpTransport, close_quietly
from enrichment_server.store import Backoff, MaskedCredential, Store
from enrichment_server.telemetry.http_spans import TracingTransport
from enrichment_server.telemetry.interceptor import MetricsObserver, ObservingInterceptor
from enrichment_server.telemetry.metrics import Metrics, serve_metrics
from enrichment_server.telemetry.tracing import TracingObserver, build_tracer_provider
from enrichment_server.wiring import Credentials, Shared, build_sources, server_credentials
from enrichment_server.workers.dlq import DeadLetterWorker
from enrichment_server.workers.scheduler import Scheduler

log = structlog.get_logger(__name__)
ADMIN_SERVICE_NAME = admin_pb2.DESCRIPTOR.services_by_name["EnrichmentAdminService"].full_name
#: How often a replica refreshes DLQ gauges and credentials set on another replica.
MAINTENANCE_INTERVAL_S = 15.0


class StartupError(Exception):
    """The service cannot start as configured; the message says how to fix it."""


class App:
    """The running service: gRPC server, health, background workers, and their parts."""

    def __init__(self, settings: Settings, span_exporters: Sequence[SpanExporter] = ()) -> None:
        self.settings = settings
        self.tracer_provider = build_tracer_provider(
            settings.trace_sample_ratio, settings.otlp_endpoint, span_exporters
        )
        self.health = Health()
        self.port = 0
        self.metrics_port = 0
        self.shared: Shared | None = None
        self.store: Store | None = None
        self.waterfall: Waterfall | None = None
        self._cipher: CredentialCipher | None = None
        self._credentials = Credentials()
        self._session: aiohttp.ClientSession | None = None
        self._server: grpc.aio.Server | None = None
        self._metrics_runner: web.AppRunner | None = None
        self._servicer: EnrichmentServicer | None = None
        self._recorder: ThreadedRecorder | None = None
        self._stop_workers = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._stopped = False

    async def start(self) -> int:
        """Open the store, build everything, bind, start serving; return the bound port."""
        settings = self.settings
        self.store = await Store.open(settings.database_url)
        await self._load_credentials(self.store)
        self._session = aiohttp.ClientSession()
        self.shared = shared = self._build_shared()
        sources = build_sources(settings, self._transport(self._session), shared, self._credentials)
        self.waterfall = Waterfall(
            sources,
            Matcher(settings.match_threshold),
            precedence=with_overrides(settings.field_precedence),
            results=ResultCache(settings.result_cache_max_entries, settings.result_cache_ttl_s),
            hooks=shared.metrics,
        )
        if settings.record_results:
            self._recorder = ThreadedRecorder(
                settings.database_url,
                max_attempts=settings.dlq_max_attempts,
                backoff=self._backoff(),
            )
            await self._recorder.start()
        try:
            self._server = self._build_server(shared, self.store, self.waterfall)
            await self._server.start()
            if settings.metrics_enabled:
                self._metrics_runner, self.metrics_port = await serve_metrics(
                    shared.metrics, settings.metrics_host, settings.metrics_port
                )
        except OSError as exc:
            await self._abandon_start()
            address = f"{settings.metrics_host}:{settings.metrics_port}"
            raise StartupError(f"cannot serve metrics on {address}: {exc.strerror}") from exc
        except StartupError:
            await self._abandon_start()
            raise
        await self.health.serving()
        for source in shared.registry.sources:
            await self.health.upstream(str(source), serving=True)
        self._start_workers(self.store, self.waterfall, shared.metrics)
        log.info(
            "server_started",
            port=self.port,
            metrics_port=self.metrics_port,
            sources=[str(s) for s in shared.registry.sources],
            cache="redis" if shared.redis is not None else "memory",
            database=settings.database_url.partition("://")[0],
        )
        return self.port

    async def _load_credentials(self, store: Store) -> None:
        """Stored credentials (decrypted) over the environment's; no key, no stored ones."""
        key = self.settings.secret_key.get_secret_value()
        if key:
            self._cipher = CredentialCipher.from_key(key)
        elif await store.has_credentials():
            await store.close()
            raise StartupError(
                "the database holds encrypted credentials but ENRICHMENT_SECRET_KEY is not "
                "set: set the key they were stored with (there is no default key)"
            )
        stored = await store.load_credentials(self._cipher) if self._cipher else {}
        self._credentials = Credentials.resolve(self.settings, stored)

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

    def _build_server(self, shared: Shared, store: Store, waterfall: Waterfall) -> grpc.aio.Server:
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
        options = ServicerOptions(settings.default_deadline_s, settings.batch_concurrency)
        self._servicer = EnrichmentServicer(waterfall, options, shared.metrics, self._recorder)
        pb_grpc.add_EnrichmentServiceServicer_to_server(self._servicer, server)
        admin = AdminServicer(
            shared.registry,
            settings.admin_token.get_secret_value(),
            store,
            self,
            shared.metrics.cache_hit_rate,
        )
        admin_grpc.add_EnrichmentAdminServiceServicer_to_server(admin, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health.servicer, server)
        names = (
            SERVICE_NAME,
            ADMIN_SERVICE_NAME,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        )
        reflection.enable_server_reflection(names, server)
        address = f"{settings.grpc_host}:{settings.grpc_port}"
        credentials = server_credentials(settings)
        try:
            if credentials is None:
                self.port = server.add_insecure_port(address)
            else:
                self.port = server.add_secure_port(address, credentials)
        except RuntimeError as exc:  # grpc.aio's only signal of a failed bind
            raise StartupError(
                f"cannot listen on {address}: the port is taken (another enrichment-server?)"
                " or the address is not local; set ENRICHMENT_GRPC_PORT to a free port"
            ) from exc
        return server

    def _start_workers(self, store: Store, waterfall: Waterfall, metrics: Metrics) -> None:
        """DLQ replayer, scheduled re-enrichment and maintenance: never inside an RPC."""
        settings = self.settings
        self._workers.append(asyncio.create_task(self._maintain(store, metrics)))
        if not settings.workers_enabled:
            return
        worker_id = f"{socket.gethostname()}:{self.port}"
        # A lease outlives the batch it covers (items run concurrently, one deadline each).
        lease_s = settings.default_deadline_s * 3 + 5
        dlq = DeadLetterWorker(
            store,
            waterfall.enrich,
            worker_id=worker_id,
            batch_size=settings.dlq_batch_size,
            lease_s=lease_s,
            per_item_deadline_s=settings.default_deadline_s,
            max_attempts=settings.dlq_max_attempts,
            backoff=self._backoff(),
        )
        scheduler = Scheduler(
            store,
            waterfall.enrich,
            worker_id=worker_id,
            batch_size=settings.scheduler_batch_size,
            lease_s=lease_s,
            per_item_deadline_s=settings.default_deadline_s,
            max_attempts=settings.dlq_max_attempts,
            backoff=self._backoff(),
        )
        loops = ((dlq, settings.dlq_interval_s), (scheduler, settings.scheduler_interval_s))
        for worker, interval in loops:
            task = asyncio.create_task(worker.run_forever(interval, self._stop_workers))
            self._workers.append(task)

    async def _maintain(self, store: Store, metrics: Metrics) -> None:
        """Every few seconds: DLQ depth gauges, and credentials changed on other replicas."""
        while not self._stop_workers.is_set():
            try:
                stats = await store.stats()
                metrics.dlq(stats.dead_letters_due, stats.dead_letters_parked)
                if self._cipher is not None:
                    await self._apply(await store.load_credentials(self._cipher))
            except Exception:  # a database blip must not end the loop
                log.exception("maintenance_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_workers.wait(), MAINTENANCE_INTERVAL_S)

    async def set_credential(self, source: Source, name: str, value: str) -> MaskedCredential:
        """Encrypt and store a credential, then rebuild the source's client to use it."""
        if (str(source), name) not in Credentials.FIELDS:
            known = sorted(f"{s}/{n}" for s, n in Credentials.FIELDS)
            raise ValueError(f"unknown credential {source}/{name}; known: {known}")
        if self._cipher is None or self.store is None:
            raise ValueError("credentials cannot be stored: set ENRICHMENT_SECRET_KEY")
        await self.store.set_credential(
            str(source), name, value, self._cipher, now=datetime.now(UTC)
        )
        await self._apply(await self.store.load_credentials(self._cipher))
        listed = await self.store.list_credentials()
        return next(c for c in listed if (c.source, c.name) == (str(source), name))

    async def _apply(self, stored: dict[tuple[str, str], str]) -> None:
        """Swap in clients whose credentials changed (the next enrichment uses them)."""
        credentials = Credentials.resolve(self.settings, stored)
        if credentials == self._credentials or self._session is None or self.shared is None:
            return
        self._credentials = credentials
        rebuilt = build_sources(
            self.settings, self._transport(self._session), self.shared, credentials
        )
        if self.waterfall is not None:
            self.waterfall.replace_sources(rebuilt)
        log.info("credentials_applied", sources=[str(s) for s in self.shared.registry.sources])

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
        if self._servicer is not None:
            await self._servicer.drain(grace)  # results still being written
        if self._recorder is not None:
            await self._recorder.close()
        await self._stop_background(grace)
        await self._close()
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
        if self._recorder is not None:
            await self._recorder.close()
        await self._close()

    async def _close(self) -> None:
        if self._session is not None:
            await close_quietly(self._session)
        if self._metrics_runner is not None:
            await self._metrics_runner.cleanup()
        self.tracer_provider.shutdown()  # flushes spans still batched for export
        if self.shared is not None and self.shared.redis is not None:
            await self.shared.redis.aclose()
        if self.store is not None:
            await self.store.close()

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
