"""ResetBreaker reaches every replica through the shared Redis state (issue 12 item 11).

Two App instances (two replicas) share the machine's real Redis and one sandbox. Spotify
fails until replica A's breaker opens; A publishes the opening and B honours it. An
operator then resets the breaker on A only, through the real admin RPC.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import grpc
import pytest

from enrichment_client import EnrichmentClient, pb
from enrichment_client.pb.enrichment.v1 import admin_pb2, admin_pb2_grpc
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import App, running
from enrichment_server.domain import Source
from enrichment_server.resilience.breaker import BreakerState
from tests.integration.conftest import sandbox_settings
from tests.integration.test_replicas import _delete_service_keys

pytestmark = pytest.mark.integration
TOKEN = secrets.token_hex(16)
#: The hint refresh interval the app builds its shared breaker state with.
HINT_REFRESH_S = 1.0


@pytest.fixture
def shared_redis(redis_url: str) -> Iterator[str]:
    """The machine's Redis (test db) without any of the service's keys, before and after."""
    _delete_service_keys(redis_url)
    yield redis_url
    _delete_service_keys(redis_url)


def spotify_state(app: App) -> BreakerState:
    """The replica's Spotify breaker state."""
    assert app.shared is not None
    return app.shared.registry.states()[Source.SPOTIFY]


async def until_closed(app: App, rounds: int) -> int:
    """Hint refresh intervals waited until the replica's Spotify breaker is CLOSED."""
    for waited in range(rounds):
        if spotify_state(app) is BreakerState.CLOSED:
            return waited
        await asyncio.sleep(HINT_REFRESH_S)
    return rounds


async def test_a_reset_on_one_replica_closes_the_breaker_on_every_replica(
    sandbox: Sandbox, shared_redis: str
) -> None:
    """issue 12 item 11: ResetBreaker on replica A closes B's breaker within B's hint
    refresh interval, with no call made on B, and B then uses Spotify again."""
    settings = sandbox_settings(
        sandbox,
        redis_url=shared_redis,
        admin_token=TOKEN,
        breaker_consecutive_failures=3,
        breaker_open_s=300,
    )
    controls = sandbox.spotify.controls
    controls.faults.add(FaultRule(kind="status", status=500))
    async with running(settings) as a, running(settings) as b:
        async with await EnrichmentClient.connect(f"127.0.0.1:{a.port}") as client:
            await client.enrich("deadmau5", "Strobe")
        assert spotify_state(a) is BreakerState.OPEN
        async with await EnrichmentClient.connect(f"127.0.0.1:{b.port}") as client:
            await client.enrich("Röyksopp", "Eple")  # honours A's opening: Spotify not asked
        assert spotify_state(b) is BreakerState.OPEN
        controls.faults.clear()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{a.port}") as channel:
            await admin_pb2_grpc.EnrichmentAdminServiceStub(channel).ResetBreaker(
                admin_pb2.ResetBreakerRequest(source=pb.SOURCE_SPOTIFY),
                metadata=[("authorization", f"Bearer {TOKEN}")],
            )
        assert spotify_state(a) is BreakerState.CLOSED
        # B is not called: its periodic sync (every hint refresh interval, always asking
        # Redis) alone must apply the reset, normally within one interval; the bound is
        # generous for a busy machine (B would otherwise stay open for 300 s).
        assert await until_closed(b, rounds=20) < 20
        searches = controls.calls["search"]
        async with await EnrichmentClient.connect(f"127.0.0.1:{b.port}") as client:
            response = await client.enrich("Kölsch", "Grey")
        assert response.status == pb.ENRICHMENT_STATUS_COMPLETED
        assert response.metadata.HasField("spotify_id")
        assert controls.calls["search"] > searches
