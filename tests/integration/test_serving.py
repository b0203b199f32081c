"""Serving as an operator meets it: Health/Watch streams, client-side health checking
works, and a taken port stops a second server instead of sharing it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from enrichment_client.pb.enrichment.v1 import enrichment_pb2, enrichment_pb2_grpc
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import Stack, sandbox_settings

BIN = Path(sys.executable).parent
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_watch_streams_serving_then_not_serving_on_drain(sandbox: Sandbox) -> None:
    """Health/Watch (a coroutine handler behind our interceptor) sends SERVING, keeps the
    stream open, then sends NOT_SERVING when a graceful stop begins."""
    async with (
        running(sandbox_settings(sandbox, drain_s=0.5)) as app,
        grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel,
    ):
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service="readiness")
        )
        first = await watch.read()
        stopping = asyncio.create_task(app.stop(grace_s=1.0))
        second = await watch.read()
        await stopping
    assert first.status == SERVING
    assert second.status == NOT_SERVING


async def test_grpcurl_watch_prints_serving_and_keeps_the_stream_open(stack: Stack) -> None:
    """`grpcurl ... Health/Watch` prints SERVING and is still streaming when -max-time ends."""
    result = await asyncio.to_thread(
        subprocess.run,
        [
            str(BIN / "grpcurl"),
            "-plaintext",
            "-max-time",
            "3",
            stack.target,
            "grpc.health.v1.Health/Watch",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    print(result.stdout, result.stderr)
    assert json.loads(result.stdout) == {"status": "SERVING"}
    assert "DeadlineExceeded" in result.stderr  # ended by -max-time, not by the server


async def test_client_side_health_checking_channel_gets_answers(stack: Stack) -> None:
    """A channel with healthCheckConfig {serviceName: readiness} (round_robin) becomes ready
    and its calls are answered."""
    config = {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": "readiness"},
    }
    options = [("grpc.service_config", json.dumps(config))]
    async with grpc.aio.insecure_channel(stack.target, options=options) as channel:
        stub = enrichment_pb2_grpc.EnrichmentServiceStub(channel)
        request = enrichment_pb2.EnrichRequest(
            track_id="hc-1", artist_name="deadmau5", track_title="Strobe"
        )
        response = await stub.Enrich(request, timeout=10)
    assert response.track_id == "hc-1"
    assert response.status == enrichment_pb2.ENRICHMENT_STATUS_COMPLETED


async def test_second_server_on_a_taken_port_exits_2_naming_the_port(
    stack: Stack, tmp_path: Path
) -> None:
    """enrichment-server on the port a running server holds exits 2 and names the port
    (SO_REUSEPORT is off, so it cannot silently share the traffic)."""
    env = {
        **os.environ,
        "ENRICHMENT_GRPC_HOST": "127.0.0.1",
        "ENRICHMENT_GRPC_PORT": str(stack.app.port),
        "ENRICHMENT_METRICS_ENABLED": "false",
        "ENRICHMENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'second.db'}",
        "ENRICHMENT_LOG_FORMAT": "json",
    }
    second = await asyncio.to_thread(
        subprocess.run,
        [str(BIN / "enrichment-server")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    print(second.stderr[-400:])
    assert second.returncode == 2
    assert f"127.0.0.1:{stack.app.port}" in second.stderr
    assert "server_started" not in second.stderr
