"""Breakers, coalescing, quota and the fault matrix, through the real server and sandbox."""

from __future__ import annotations

import asyncio
import socket

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from enrichment_client import EnrichmentClient, pb
from enrichment_sandbox.catalogue import load_catalogue
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from enrichment_server.config import Settings
from enrichment_server.domain import Source
from enrichment_server.resilience.breaker import BreakerState
from enrichment_server.store import Store
from tests.integration.conftest import sandbox_settings

SOURCE_PB = {
    "spotify": pb.SOURCE_SPOTIFY,
    "musicbrainz": pb.SOURCE_MUSICBRAINZ,
    "lastfm": pb.SOURCE_LASTFM,
}


def closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def health_of(app_port: int, service: str) -> int:
    """grpc.health.v1 status of ``service``."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app_port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        answer = await stub.Check(health_pb2.HealthCheckRequest(service=service))
    return int(answer.status)


def fast_breaker(sandbox: Sandbox, **extra: object) -> Settings:
    """Settings whose breakers trip after 3 failures and probe after 2 s (long enough for the
    next call to find the breaker still open on a busy machine)."""
    return sandbox_settings(
        sandbox,
        breaker_consecutive_failures=3,
        breaker_open_s=2.0,
        breaker_half_open_probes=1,
        **extra,
    )


async def test_breaker_opens_rejects_fast_probes_and_closes(sandbox: Sandbox) -> None:
    """Spotify down: the breaker opens, stops traffic, then one probe closes it on recovery."""
    spotify = sandbox.spotify.controls
    spotify.faults.add(FaultRule(endpoint="search", kind="status", status=500))
    async with running(fast_breaker(sandbox)) as app:
        client = await EnrichmentClient.connect(f"127.0.0.1:{app.port}")
        async with client:
            first = await client.enrich("deadmau5", "Strobe")
            searches = spotify.calls["search"]
            second = await client.enrich("Röyksopp", "Eple")
            open_health = await health_of(app.port, "upstream.spotify")
            spotify.faults.clear()
            third = await _enrich_until_spotify_answers(client)
            closed_health = await health_of(app.port, "upstream.spotify")
    assert searches == 3  # three attempts, then the breaker opened
    assert first.status == pb.ENRICHMENT_STATUS_PARTIAL
    spotify_error = {e.source: e for e in second.errors}[pb.SOURCE_SPOTIFY]
    assert spotify_error.code == pb.ERROR_CODE_CIRCUIT_OPEN
    assert spotify_error.retriable
    assert spotify_error.retry_after.ToTimedelta().total_seconds() > 0
    assert second.metadata.HasField("musicbrainz_id")  # the other sources' data is kept
    assert open_health == health_pb2.HealthCheckResponse.NOT_SERVING
    assert spotify.calls["search"] == searches + 1  # only the probe after recovery
    assert third.status == pb.ENRICHMENT_STATUS_COMPLETED
    assert closed_health == health_pb2.HealthCheckResponse.SERVING


async def _enrich_until_spotify_answers(client: EnrichmentClient) -> pb.EnrichResponse:
    """Enrich every 0.1 s until Spotify is no longer refused (the breaker let a probe pass)."""
    for _ in range(200):
        answer = await client.enrich("Kölsch", "Grey", force_refresh=True)
        if pb.SOURCE_SPOTIFY not in {e.source for e in answer.errors}:
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError("the Spotify breaker never let a probe through")


@pytest.mark.timeout(180)  # only a hang guard: the poll below gives up after 120 s
async def test_dead_letters_close_a_half_open_breaker_with_no_live_caller(
    sandbox: Sandbox,
) -> None:
    """Deezer fails until its breaker opens, then recovers, and no live call follows: the
    dead-letter worker's own calls probe the half-open breaker, close it and drain the
    queue. (Background work used to leave half-open breakers to live callers; with none,
    the breaker timed out, re-opened for ever longer and the queue never drained.)"""
    deezer = sandbox.deezer.controls
    deezer.faults.add(FaultRule(kind="status", status=500))
    settings = fast_breaker(
        sandbox, workers_enabled=True, dlq_interval_s=0.1, dlq_backoff_base_s=0.2
    )
    async with running(settings) as app:
        assert app.store is not None
        assert app.shared is not None
        async with await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client:
            answers = [await client.enrich(t.artist, t.title) for t in load_catalogue().tracks[:3]]
        tripped = app.shared.registry.states()[Source.DEEZER]
        deezer.faults.clear()
        queued = await _dead_letters_after_draining(app.store, timeout_s=120)
        state = app.shared.registry.states()[Source.DEEZER]
    assert tripped in (BreakerState.OPEN, BreakerState.HALF_OPEN)
    assert all(pb.SOURCE_DEEZER in {e.source for e in a.errors} for a in answers)
    assert queued == 0
    assert state is BreakerState.CLOSED


async def _dead_letters_after_draining(store: Store, timeout_s: float) -> int:
    """Poll until the dead-letter queue is empty or ``timeout_s`` passed; what is left."""
    for _ in range(int(timeout_s / 0.1)):
        entries, _ = await store.list_dead_letters()
        if not entries:
            return 0
        await asyncio.sleep(0.1)
    return len((await store.list_dead_letters())[0])


async def test_readiness_does_not_follow_an_open_breaker(sandbox: Sandbox) -> None:
    """An open upstream breaker leaves the pod's readiness SERVING."""
    sandbox.spotify.controls.faults.add(FaultRule(kind="status", status=500))
    async with running(fast_breaker(sandbox)) as app:
        async with await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client:
            await client.enrich("deadmau5", "Strobe")
        assert await health_of(app.port, "upstream.spotify") == 2  # NOT_SERVING
        assert await health_of(app.port, "readiness") == 1  # SERVING


async def test_quota_exhaustion_blocks_the_source_without_retrying(sandbox: Sandbox) -> None:
    """QUOTA_EXCEEDED: no retry, and later tracks do not touch Spotify at all."""
    spotify = sandbox.spotify.controls
    spotify.faults.add(FaultRule(endpoint="search", kind="quota"))
    async with (
        running(sandbox_settings(sandbox)) as app,
        await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client,
    ):
        first = await client.enrich("deadmau5", "Strobe")
        second = await client.enrich("Röyksopp", "Eple")
    codes = [{e.source: e.code for e in r.errors}[pb.SOURCE_SPOTIFY] for r in (first, second)]
    assert codes == [pb.ERROR_CODE_QUOTA_EXCEEDED, pb.ERROR_CODE_CIRCUIT_OPEN]
    assert spotify.calls["search"] == 1


async def test_fifty_concurrent_identical_calls_make_one_upstream_call_each(
    sandbox: Sandbox,
) -> None:
    """50 concurrent Enrich of one new track: every sandbox endpoint is called once."""
    sandbox.spotify.controls.update_config({"audio_features": "ok"})
    for upstream in sandbox.upstreams().values():
        upstream.controls.set_latency(100)
    async with (
        running(sandbox_settings(sandbox)) as app,
        await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client,
    ):
        answers = await asyncio.gather(
            *(client.enrich("deadmau5", "Strobe", track_id=f"c{i}") for i in range(50))
        )
    assert {a.status for a in answers} == {pb.ENRICHMENT_STATUS_COMPLETED}
    counts = {
        f"{name}.{endpoint}": n
        for name, upstream in sandbox.upstreams().items()
        for endpoint, n in upstream.controls.calls.items()
    }
    assert counts
    assert set(counts.values()) == {1}, counts


FAULTS = {
    "5xx_burst": FaultRule(kind="status", status=500),
    "hang": FaultRule(kind="hang"),
    "retry_after": FaultRule(kind="rate_limit", retry_after=0.1, times=1),
    "malformed": FaultRule(kind="malformed"),
    "error_in_200": FaultRule(kind="error_in_200"),
}
# Expected (status, error code or None when the retry recovered) per fault.
EXPECTED = {
    "5xx_burst": (pb.ENRICHMENT_STATUS_PARTIAL, pb.ERROR_CODE_UNAVAILABLE),
    "hang": (pb.ENRICHMENT_STATUS_PARTIAL, None),
    "retry_after": (pb.ENRICHMENT_STATUS_COMPLETED, None),
    "malformed": (pb.ENRICHMENT_STATUS_PARTIAL, pb.ERROR_CODE_MALFORMED_RESPONSE),
    "error_in_200": (pb.ENRICHMENT_STATUS_PARTIAL, pb.ERROR_CODE_UNAVAILABLE),
}


@pytest.mark.parametrize("source", ["spotify", "musicbrainz", "lastfm"])
@pytest.mark.parametrize("fault", [*FAULTS, "connection_refused"])
async def test_fault_matrix(sandbox: Sandbox, source: str, fault: str) -> None:
    """Each source x fault: the right status and retriable error, cut at the deadline."""
    overrides: dict[str, object] = {}
    if fault == "connection_refused":
        key = {"spotify": "spotify_api_url", "musicbrainz": "musicbrainz_url"}.get(
            source, "lastfm_url"
        )
        overrides[key] = f"http://127.0.0.1:{closed_port()}/"
    else:
        sandbox.upstreams()[source].controls.faults.add(FAULTS[fault])
    # The server's own 2-s deadline cuts the hang; the client waits longer, so a busy
    # machine answering a little late is not mistaken for a missed deadline. The breaker
    # stays closed: how many failed attempts fit in one call depends on the machine, and
    # this pins each fault's own error (the breaker's tests pin CIRCUIT_OPEN).
    overrides |= {"breaker_consecutive_failures": 1000, "breaker_min_calls": 1000}
    async with (
        running(sandbox_settings(sandbox, default_deadline_s=2.0, **overrides)) as app,
        await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client,
    ):
        response = await client.enrich("deadmau5", "Strobe", timeout_s=30)
    errors = {e.source: e for e in response.errors}
    status, code = EXPECTED.get(fault, (pb.ENRICHMENT_STATUS_PARTIAL, pb.ERROR_CODE_UNAVAILABLE))
    assert response.status == status
    assert set(errors) <= {SOURCE_PB[source]}
    if status == pb.ENRICHMENT_STATUS_COMPLETED:
        assert not errors
        return
    error = errors[SOURCE_PB[source]]
    assert error.retriable
    if code is not None:
        assert error.code == code
    else:  # a hang ends as a timeout of the attempt or of the whole deadline
        assert error.code in (pb.ERROR_CODE_UNAVAILABLE, pb.ERROR_CODE_DEADLINE_EXCEEDED)
