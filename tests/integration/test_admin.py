"""Admin RPCs: ResetBreaker behind the bearer token, from grpcurl and the CLI."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator

import pytest

from enrichment_client import EnrichmentClient, pb
from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import App, running
from tests.integration.conftest import sandbox_settings
from tests.integration.test_ops import grpcurl, run_cli

TOKEN = secrets.token_hex(16)
RESET = "enrichment.v1.EnrichmentAdminService/ResetBreaker"


@pytest.fixture
async def tripped(sandbox: Sandbox) -> AsyncIterator[App]:
    """A server with an admin token whose Spotify breaker has opened."""
    sandbox.spotify.controls.faults.add(FaultRule(kind="status", status=500, times=3))
    settings = sandbox_settings(
        sandbox, admin_token=TOKEN, breaker_consecutive_failures=3, breaker_open_s=300
    )
    async with running(settings) as app:
        async with await EnrichmentClient.connect(f"127.0.0.1:{app.port}") as client:
            await client.enrich("deadmau5", "Strobe")
        yield app


async def test_grpcurl_with_the_token_resets_an_open_breaker(tripped: App) -> None:
    """ResetBreaker with the token reports OPEN -> CLOSED and Spotify is used again."""
    target = f"127.0.0.1:{tripped.port}"
    result = await grpcurl(
        "-plaintext",
        "-H",
        f"authorization: Bearer {TOKEN}",
        "-d",
        '{"source": "SOURCE_SPOTIFY"}',
        target,
        RESET,
    )
    assert result.returncode == 0, result.stderr
    resets = json.loads(result.stdout)["resets"]
    assert resets == [
        {
            "source": "SOURCE_SPOTIFY",
            "previous": "BREAKER_STATE_OPEN",
            "current": "BREAKER_STATE_CLOSED",
        }
    ]
    async with await EnrichmentClient.connect(target) as client:
        response = await client.enrich("Röyksopp", "Eple")
    assert response.status == pb.ENRICHMENT_STATUS_COMPLETED


@pytest.mark.parametrize("header", [None, "authorization: Bearer wrong", f"authorization: {TOKEN}"])
async def test_grpcurl_without_the_right_token_is_unauthenticated(
    tripped: App, header: str | None
) -> None:
    """A missing, wrong or scheme-less token is refused with UNAUTHENTICATED (exit 64+16)."""
    args = ["-plaintext", "-d", "{}", f"127.0.0.1:{tripped.port}", RESET]
    if header is not None:
        args = ["-H", header, *args]
    result = await grpcurl(*args)
    assert result.returncode == 64 + 16
    assert "Unauthenticated" in result.stderr
    assert tripped.shared is not None
    assert (
        str(tripped.shared.registry.states()[next(iter(tripped.shared.registry.sources))]) == "open"
    )


async def test_admin_api_is_off_without_a_configured_token(sandbox: Sandbox) -> None:
    """No ENRICHMENT_ADMIN_TOKEN: refused with FAILED_PRECONDITION saying how to enable it."""
    async with running(sandbox_settings(sandbox)) as app:
        result = await grpcurl(
            "-plaintext",
            "-H",
            "authorization: Bearer x",
            "-d",
            "{}",
            f"127.0.0.1:{app.port}",
            RESET,
        )
    assert result.returncode == 64 + 9
    assert "ENRICHMENT_ADMIN_TOKEN" in result.stderr


async def test_cli_reset_breaker_resets_every_source(tripped: App) -> None:
    """`enrichment reset-breaker` with the token resets all breakers and prints them."""
    target = f"127.0.0.1:{tripped.port}"
    ok = await asyncio.to_thread(run_cli, "--target", target, "--token", TOKEN, "reset-breaker")
    refused = await asyncio.to_thread(run_cli, "--target", target, "reset-breaker")
    assert ok.returncode == 0, ok.stderr
    resets = json.loads(ok.stdout)["resets"]
    assert {r["source"] for r in resets} == {
        "SOURCE_SPOTIFY",
        "SOURCE_MUSICBRAINZ",
        "SOURCE_LASTFM",
        "SOURCE_DEEZER",
        "SOURCE_GETSONGBPM",
    }
    assert {r["current"] for r in resets} == {"BREAKER_STATE_CLOSED"}
    assert refused.returncode == 16
