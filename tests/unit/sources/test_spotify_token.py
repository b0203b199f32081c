"""Spotify's token endpoint stalling never disables Spotify (issue 12 item 10).

A SpotifyClient wired as the app wires it (real transport, caller, cache) against the
Spotify imitation, whose token endpoint is made to hang by a sandbox fault.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import aiohttp
import pytest

from enrichment_sandbox.controls import FaultRule
from enrichment_sandbox.runner import Sandbox
from enrichment_server.cache.memory import MemoryCache
from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.errors import DeadlineExceeded, UpstreamUnavailable
from enrichment_server.resilience.pipeline import CallContext, TtlPolicy, UpstreamCaller
from enrichment_server.resilience.retry import RetryPolicy
from enrichment_server.sources.http import AiohttpTransport, TransportError
from enrichment_server.sources.spotify import SpotifyClient
from tests.unit.sandbox.support import CATALOGUE

HTTP_TIMEOUT_S = 1.0


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The imitations over the small test catalogue."""
    async with Sandbox(CATALOGUE) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """One aiohttp session, as the app shares one."""
    async with aiohttp.ClientSession() as opened:
        yield opened


@pytest.fixture
def client(sandbox: Sandbox, session: aiohttp.ClientSession) -> SpotifyClient:
    """A SpotifyClient with one attempt per call, so each token fetch is one request."""
    settings = sandbox.settings()
    caller = UpstreamCaller(
        Source.SPOTIFY,
        MemoryCache(100),
        TtlPolicy(),
        RetryPolicy(max_attempts=1, rng=random.Random(1)),
    )
    return SpotifyClient(
        caller,
        AiohttpTransport(session),
        HTTP_TIMEOUT_S,
        api_url=settings["ENRICHMENT_SPOTIFY_API_URL"],
        token_url=settings["ENRICHMENT_SPOTIFY_TOKEN_URL"],
        client_id=settings["ENRICHMENT_SPOTIFY_CLIENT_ID"],
        client_secret=settings["ENRICHMENT_SPOTIFY_CLIENT_SECRET"],
        market="US",
    )


async def token_requests_reach(sandbox: Sandbox, count: int) -> None:
    """Until the token endpoint has received ``count`` requests."""
    # The sandbox counts requests but signals none: poll its counter (never a duration).
    while sandbox.spotify.controls.calls["token"] < count:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def test_no_time_left_sends_nothing(sandbox: Sandbox, session: aiohttp.ClientSession) -> None:
    """issue 12 item 10: a timeout of 0 is "no time left", never aiohttp's "no timeout"."""
    transport = AiohttpTransport(session)
    for timeout_s in (0.0, -1.0):
        with pytest.raises(TransportError) as raised:
            await transport.request(
                "POST",
                sandbox.settings()["ENRICHMENT_SPOTIFY_TOKEN_URL"],
                data={"grant_type": "client_credentials"},
                timeout_s=timeout_s,
            )
        assert raised.value.timeout
    assert sandbox.spotify.controls.calls["token"] == 0


async def test_spotify_works_again_within_one_http_timeout_after_the_stall(
    sandbox: Sandbox, client: SpotifyClient
) -> None:
    """issue 12 item 10: callers whose deadline passes while the token endpoint hangs give
    up without sending; once it recovers, the next call succeeds within one HTTP timeout."""
    sandbox.spotify.controls.faults.add(FaultRule(endpoint="token", kind="hang"))
    first = asyncio.create_task(
        client.search(CallContext(Deadline.after(30.0)), "deadmau5", "Strobe")
    )
    await token_requests_reach(sandbox, 1)
    # Short deadlines queue behind the hanging fetch: each gives up at its deadline.
    for title in ("Opus", "Eple", "Grey"):
        with pytest.raises(DeadlineExceeded):
            await client.search(CallContext(Deadline.after(0.2)), "artist", title)
    with pytest.raises(UpstreamUnavailable):
        await first  # cut by its own HTTP timeout, not by the hour-long hang
    # Another fetch is hanging when the endpoint recovers.
    stalled = asyncio.create_task(
        client.search(CallContext(Deadline.after(30.0)), "Eric Prydz", "Opus")
    )
    await token_requests_reach(sandbox, 2)
    sandbox.spotify.controls.faults.clear()
    # Time for the stalled fetch to run out (one HTTP timeout) plus one normal exchange.
    recovered = await client.search(
        CallContext(Deadline.after(2 * HTTP_TIMEOUT_S + 1.0)), "deadmau5", "Strobe"
    )
    assert recovered, "Spotify answered nothing after the token endpoint recovered"
    with pytest.raises(UpstreamUnavailable):
        await stalled
    # The three short callers never sent a token request: only the two stalled ones and
    # the recovering one did.
    assert sandbox.spotify.controls.calls["token"] == 3
