"""Every metric is moved by real traffic and scraped over HTTP (none declared and idle)."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from enrichment_client import EnrichmentClient, InvalidArgument, make_request
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import sandbox_settings

EXPECTED = {
    "enrichment_tasks",
    "enrichment_task_duration_seconds",
    "enrichment_cache_hits",
    "enrichment_cache_misses",
    "enrichment_result_cache_lookups",
    "enrichment_circuit_breaker_state",
    "enrichment_api_duration_seconds",
    "enrichment_api_calls",
    "enrichment_retries",
    "enrichment_ratelimit_wait_seconds",
    "enrichment_ratelimit_lane",
    "enrichment_ratelimit_lane_wait_seconds",
    "grpc_server_started",
    "grpc_server_handled",
    "grpc_server_handling_seconds",
}


async def test_metrics_endpoint_exposes_every_metric_moved_by_traffic(sandbox: Sandbox) -> None:
    """After real calls, /metrics has non-zero samples for every metric family."""
    sandbox.spotify.controls.faults.add(FaultRule(endpoint="search", kind="status", times=1))
    settings = sandbox_settings(sandbox, musicbrainz_rate_per_s=20.0)
    async with running(settings) as app:
        async with await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client:
            await client.enrich("deadmau5", "Strobe")  # a retry (503 once), misses
            await client.enrich("deadmau5", "Strobe")  # a result-cache hit
            # Another answer sharing upstream lookups (the ISRC, Last.fm): upstream cache hits.
            by_isrc = make_request("deadmau5", "Strobe", isrc="GBTDG0900141")
            _ = [a async for a in client.enrich_many([by_isrc])]
            rows = [make_request(t, "Grey") for t in ("Kölsch", "Kolsch", "KÖLSCH")]
            _ = [a async for a in client.enrich_many(rows)]  # MusicBrainz limiter waits
            with pytest.raises(InvalidArgument):
                await client.enrich("", "nothing")
        url = f"http://127.0.0.1:{app.metrics_port}/metrics"
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            text = await resp.text()
            content_type = resp.headers["Content-Type"]
    families = {f.name: f for f in text_string_to_metric_families(text)}
    nonzero = {name for name, f in families.items() if any(s.value > 0 for s in f.samples)}
    assert content_type.startswith("text/plain")
    assert nonzero >= EXPECTED, sorted(EXPECTED - nonzero)
    handled = {
        (s.labels["grpc_method"], s.labels["grpc_code"])
        for s in families["grpc_server_handled"].samples
        if s.name.endswith("_total") and s.value > 0
    }
    assert {("Enrich", "OK"), ("Enrich", "INVALID_ARGUMENT"), ("EnrichBatch", "OK")} <= handled
    cache_sources = {
        s.labels["source"]
        for name in ("enrichment_cache_hits", "enrichment_cache_misses")
        for s in families[name].samples
    }
    assert "result" not in cache_sources  # the seed's hit rate counts upstream lookups only
    results = {
        s.labels["outcome"]: s.value
        for s in families["enrichment_result_cache_lookups"].samples
        if s.name.endswith("_total")
    }
    assert results["hit"] >= 1  # the second identical Enrich
    assert results["miss"] >= 1
    retries = [s for s in families["enrichment_retries"].samples if s.name.endswith("_total")]
    assert {s.labels["source"] for s in retries if s.value > 0} == {"spotify"}
