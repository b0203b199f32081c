"""Composition root: builds every long-lived object from the settings and owns lifecycles.

Nothing else constructs sessions, caches or clients; everything is passed in, so tests
build the same graph with their own settings (port 0, sandbox URLs).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import grpc
import structlog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from enrichment_client.pb.enrichment.v1 import enrichment_pb2_grpc as pb_grpc
from enrichment_server.cache import Cache, MemoryCache
from enrichment_server.config import Settings
from enrichment_server.domain import Source
from enrichment_server.health import SERVICE_NAME, Health
from enrichment_server.matching import Matcher
from enrichment_server.resilience.ratelimit import RateLimiter, SpacingLimiter
from enrichment_server.resilience.retry import RetryPolicy
from enrichment_server.servicer import EnrichmentServicer, ServicerOptions
from enrichment_server.sources.caller import TtlPolicy, UpstreamCaller
from enrichment_server.sources.http import AiohttpTransport, Transport, close_quietly
from enrichment_server.sources.lastfm import LastfmClient
from enrichment_server.sources.musicbrainz import MusicBrainzClient
from enrichment_server.sources.spotify import SpotifyClient
from enrichment_server.waterfall import SourceSet, Waterfall

log = structlog.get_logger(__name__)


def build_sources(settings: Settings, transport: Transport, cache: Cache) -> SourceSet:
    """One client per enabled source, each behind its own caller (cache, limiter, retry)."""
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

    def caller(source: Source, limiter: RateLimiter | None = None) -> UpstreamCaller:
        return UpstreamCaller(source, cache, ttl, retry, limiter)

    timeout = settings.http_timeout_s
    spotify = musicbrainz = lastfm = None
    if settings.spotify_enabled:
        spotify = SpotifyClient(
            caller(Source.SPOTIFY),
            transport,
            timeout,
            api_url=str(settings.spotify_api_url),
            token_url=str(settings.spotify_token_url),
            client_id=settings.spotify_client_id,
            client_secret=settings.spotify_client_secret.get_secret_value(),
            market=settings.spotify_market,
        )
    if settings.musicbrainz_enabled:
        limiter = SpacingLimiter(settings.musicbrainz_rate_per_s)
        musicbrainz = MusicBrainzClient(
            caller(Source.MUSICBRAINZ, limiter),
            transport,
            timeout,
            base_url=str(settings.musicbrainz_url),
            user_agent=settings.musicbrainz_user_agent,
        )
    if settings.lastfm_enabled:
        lastfm = LastfmClient(
            caller(Source.LASTFM),
            transport,
            timeout,
            base_url=str(settings.lastfm_url),
            api_key=settings.lastfm_api_key.get_secret_value(),
            user_agent=settings.musicbrainz_user_agent,
        )
    return SourceSet(spotify=spotify, musicbrainz=musicbrainz, lastfm=lastfm)


class App:
    """The running service: gRPC server, health, and the objects behind them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.health = Health()
        self.port = 0
        self._session: aiohttp.ClientSession | None = None
        self._server: grpc.aio.Server | None = None
        self.waterfall: Waterfall | None = None
        self._stopped = False

    async def start(self) -> int:
        """Build everything, bind, start serving; return the bound port."""
        settings = self.settings
        self._session = aiohttp.ClientSession()
        cache = MemoryCache(settings.cache_max_entries)
        sources = build_sources(settings, AiohttpTransport(self._session), cache)
        self.waterfall = Waterfall(sources, Matcher(settings.match_threshold))
        options = ServicerOptions(settings.default_deadline_s, settings.batch_concurrency)
        self._server = server = grpc.aio.server(
            options=[("grpc.max_connection_age_ms", int(settings.max_connection_age_s * 1000))]
        )
        pb_grpc.add_EnrichmentServiceServicer_to_server(
            EnrichmentServicer(self.waterfall, options), server
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
        self.port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
        await server.start()
        await self.health.serving()
        enabled = [s for s in ("spotify", "musicbrainz", "lastfm") if getattr(sources, s)]
        log.info("server_started", port=self.port, sources=enabled)
        return self.port

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
        log.info("server_stopped")

    async def wait(self) -> None:
        """Until the server terminates."""
        if self._server is not None:
            await self._server.wait_for_termination()


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[App]:
    """Start an ``App`` and stop it on exit (tests, demo)."""
    app = App(settings)
    await app.start()
    try:
        yield app
    finally:
        await app.stop(grace_s=1.0)
