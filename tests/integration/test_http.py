"""The HTTP port: /health, /stats, POST /enrich and the breaker reset speak the seed's
contract with the RPCs' answers, and every request is logged, traced and counted."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import grpc
import pytest
from structlog.testing import capture_logs

from enrichment_client.pb.enrichment.v1 import admin_pb2, admin_pb2_grpc
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import App, running
from enrichment_server.config import load_settings
from tests.integration.conftest import sandbox_settings

TOKEN = secrets.token_hex(16)
SEED_RESPONSE_KEYS = {
    "track_id",
    "status",
    "sources_used",
    "metadata_acquired",
    "errors",
    "duration_seconds",
    "cached",
    "timestamp",
}


@pytest.fixture
async def app(sandbox: Sandbox) -> AsyncIterator[App]:
    """A server with an admin token; Spotify's breaker opens after 3 failures in a row."""
    settings = sandbox_settings(
        sandbox, admin_token=TOKEN, breaker_consecutive_failures=3, breaker_open_s=300
    )
    async with running(settings) as started:
        yield started


async def call(
    app: App, method: str, path: str, **kwargs: Any
) -> tuple[int, dict[str, Any], aiohttp.typedefs.LooseHeaders]:
    """One HTTP request to the server's port: status, JSON body, headers."""
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{app.http_port}{path}"
        async with session.request(method, url, **kwargs) as response:
            return response.status, await response.json(), response.headers


async def grpc_stats(app: App) -> admin_pb2.GetStatsResponse:
    """GetStats over gRPC with the token."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = admin_pb2_grpc.EnrichmentAdminServiceStub(channel)
        metadata = (("authorization", f"Bearer {TOKEN}"),)
        answer: admin_pb2.GetStatsResponse = await stub.GetStats(
            admin_pb2.GetStatsRequest(), metadata=metadata
        )
        return answer


async def test_post_enrich_answers_the_seed_json(app: App) -> None:
    """The seed's request JSON gets the seed's response JSON, recorded like an RPC."""
    request = {
        "track_id": "seed-1",
        "artist_name": "deadmau5",
        "track_title": "Strobe",
        "existing_spotify_id": None,
        "existing_isrc": "",
        "existing_musicbrainz_id": None,
    }
    status, body, _ = await call(app, "POST", "/enrich", json=request)
    assert status == 200
    assert set(body) >= SEED_RESPONSE_KEYS
    assert body["status"] == "completed"
    assert body["track_id"] == "seed-1"
    assert body["metadata_acquired"]["key"] == "B Major"
    assert body["metadata_acquired"]["bpm"] == 128.0
    assert "spotify" in body["sources_used"]
    assert body["errors"] == []
    stats = await grpc_stats(app)
    assert stats.total_tracks == 1
    assert dict(stats.tracks_by_status) == {"completed": 1}


async def test_post_enrich_names_every_bad_field_with_400(app: App) -> None:
    """Wrong JSON types and invalid values are a 400 naming each field, nothing recorded."""
    status, body, _ = await call(
        app, "POST", "/enrich", json={"artist_name": 7, "track_title": "x", "priority": 11}
    )
    assert status == 400
    assert [v["field"] for v in body["field_violations"]] == ["artist_name", "priority"]
    bad = {"artist_name": " ", "track_title": "", "existing_isrc": "nope"}
    status, body, _ = await call(app, "POST", "/enrich", json=bad)
    assert status == 400
    fields = {v["field"] for v in body["field_violations"]}
    assert fields == {"artist_name", "track_title", "existing_isrc"}
    status, body, _ = await call(app, "POST", "/enrich", data=b"{not json")
    assert (status, body["field_violations"][0]["field"]) == (400, "body")
    assert (await grpc_stats(app)).total_tracks == 0


async def test_not_found_is_failed_in_the_seed_status(app: App) -> None:
    """A track no source knows is the seed's "failed", marked not_found and not retriable."""
    body = {"artist_name": "Nobody Known", "track_title": "Nothing Like It Exists"}
    status, answer, _ = await call(app, "POST", "/enrich", json=body)
    assert status == 200
    assert (answer["status"], answer["enrichment_status"]) == ("failed", "not_found")
    assert answer["retriable"] is False
    assert answer["metadata_acquired"] == {}


async def test_stats_has_the_seed_shape_and_the_rpc_numbers(app: App) -> None:
    """/stats carries GetStats's coverage, statuses, dead letters and hit rate."""
    await call(app, "POST", "/enrich", json={"artist_name": "deadmau5", "track_title": "Strobe"})
    status, body, _ = await call(app, "GET", "/stats")
    rpc = await grpc_stats(app)
    assert status == 200
    coverage = body["track_stats"]["coverage_percentages"]
    for name, value in rpc.coverage_percentages.items():
        assert coverage[name] == pytest.approx(value, abs=0.01), name
    assert coverage["audio_features"] == coverage["bpm"] == 100.0
    assert body["track_stats"]["total_tracks"] == rpc.total_tracks == 1
    assert body["track_stats"]["by_status"] == dict(rpc.tracks_by_status)
    assert body["dead_letters"] == {"due": rpc.dead_letters_due, "parked": rpc.dead_letters_parked}
    assert body["cache_hit_rate"] == pytest.approx(rpc.cache_hit_rate, abs=1e-3)


async def test_health_is_degraded_with_an_open_breaker_and_reset_closes_it(
    app: App, sandbox: Sandbox
) -> None:
    """Upstream trouble is "degraded" at 200; the reset needs the token and closes it."""
    status, body, _ = await call(app, "GET", "/health")
    assert (status, body["status"], body["api_clients"]["spotify"]["state"]) == (
        200,
        "healthy",
        "closed",
    )
    sandbox.spotify.controls.faults.add(FaultRule(kind="status", status=500, times=3))
    await call(app, "POST", "/enrich", json={"artist_name": "deadmau5", "track_title": "Strobe"})
    status, body, _ = await call(app, "GET", "/health")
    assert (status, body["status"], body["api_clients"]["spotify"]["state"]) == (
        200,
        "degraded",
        "open",
    )
    path = "/enrich/reset-circuit-breaker/spotify"
    assert (await call(app, "POST", path))[0] == 401
    wrong = {"Authorization": "Bearer wrong"}
    assert (await call(app, "POST", path, headers=wrong))[0] == 401
    right = {"Authorization": f"Bearer {TOKEN}"}
    status, body, _ = await call(app, "POST", path, headers=right)
    assert (status, body["previous_state"], body["current_state"]) == (200, "open", "closed")
    assert (await call(app, "GET", "/health"))[1]["status"] == "healthy"
    assert (await call(app, "POST", "/enrich/reset-circuit-breaker/nope", headers=right))[0] == 404


async def test_reset_without_a_configured_token_is_forbidden(sandbox: Sandbox) -> None:
    """With no admin token the reset says how to enable it (403), as the RPC refuses."""
    async with running(sandbox_settings(sandbox)) as app:
        status, body, _ = await call(app, "POST", "/enrich/reset-circuit-breaker/all")
    assert status == 403
    assert "ENRICHMENT_ADMIN_TOKEN" in body["error"]


async def test_health_is_unhealthy_while_shutting_down(app: App) -> None:
    """Our own failure (not serving: a graceful shutdown began) is 503 "unhealthy"."""
    await app.health.shutting_down()  # what SIGTERM does first
    status, body, _ = await call(app, "GET", "/health")
    assert (status, body["status"], body["serving"]) == (503, "unhealthy", False)


async def test_every_request_is_logged_traced_and_counted(app: App) -> None:
    """One log line per request with its trace id; http_server_requests_total moves;
    enrichments through HTTP count in enrichment_tasks_total like RPCs."""
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with capture_logs() as logs:
        await call(
            app, "GET", "/health?token=secret-in-query", headers={"traceparent": traceparent}
        )
        await call(app, "POST", "/enrich", json={"artist_name": "Röyksopp", "track_title": "Eple"})
    lines = [line for line in logs if line["event"] == "http_request"]
    assert [(line["route"], line["status"]) for line in lines] == [
        ("/health", 200),
        ("/enrich", 200),
    ]
    assert lines[0]["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert all(line["trace_id"] for line in lines)
    assert "secret-in-query" not in repr(logs)
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{app.http_port}/metrics"
        async with session.get(url) as response:
            text = await response.text()
    assert 'http_server_requests_total{code="200",method="POST",route="/enrich"} 1.0' in text
    assert 'enrichment_tasks_total{status="completed"} 1.0' in text


async def test_metrics_off_keeps_the_port_serving(sandbox: Sandbox) -> None:
    """ENRICHMENT_METRICS_ENABLED=false turns /metrics off, not /health."""
    settings = sandbox_settings(sandbox, metrics_enabled=False)
    async with running(settings) as app, aiohttp.ClientSession() as session:
        base = f"http://127.0.0.1:{app.http_port}"
        async with session.get(f"{base}/metrics") as response:
            assert response.status == 404
        async with session.get(f"{base}/health") as response:
            assert response.status == 200


def test_the_old_metrics_variables_still_name_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """ENRICHMENT_METRICS_PORT/HOST are aliases; ENRICHMENT_HTTP_PORT wins over them."""
    monkeypatch.setenv("ENRICHMENT_METRICS_PORT", "9191")
    monkeypatch.setenv("ENRICHMENT_METRICS_HOST", "127.0.0.2")
    settings = load_settings()
    assert (settings.http_port, settings.http_host) == (9191, "127.0.0.2")
    monkeypatch.setenv("ENRICHMENT_HTTP_PORT", "9292")
    assert load_settings().http_port == 9292


async def test_priority_maps_to_lanes(app: App) -> None:
    """The seed's priority 1-10 is accepted and mapped: 8-10 interactive, 4-7 bulk, 1-3
    background (passed on once EnrichRequest carries a priority)."""
    lanes = {}
    for priority in (1, 3, 4, 7, 8, 10):
        body = {"artist_name": "deadmau5", "track_title": "Strobe", "priority": priority}
        status, answer, _ = await call(app, "POST", "/enrich", json=body)
        assert status == 200
        lanes[priority] = answer["lane"]
    assert lanes == {
        1: "background",
        3: "background",
        4: "bulk",
        7: "bulk",
        8: "interactive",
        10: "interactive",
    }
