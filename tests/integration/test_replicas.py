"""Several replicas sharing the real Redis; a Redis outage under load."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis

from enrichment_client import DeadlineExceeded, EnrichmentClient, make_request, pb
from enrichment_sandbox.catalogue import load_catalogue
from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from tests.integration.conftest import sandbox_settings
from tests.integration.processes import sandbox_process, server_process
from tests.redis_server import RedisServer

pytestmark = pytest.mark.integration
MB_LIMIT = 10
WINDOW_S = 2


def _delete_service_keys(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        keys = list(client.scan_iter("enrichment:v1:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def shared_redis(redis_url: str) -> Iterator[str]:
    """The machine's Redis (test db) without any of the service's keys, before and after."""
    _delete_service_keys(redis_url)
    yield redis_url
    _delete_service_keys(redis_url)


async def _enrich_all(target: str, rows: list[tuple[str, str]], deadline: float) -> list[bool]:
    """Enrich ``rows`` 20 at a time; per call, True if answered, False on DEADLINE_EXCEEDED
    (this test is about the rate at the upstream; the chaos test owns deadlines)."""
    slots = asyncio.Semaphore(20)
    answered: list[bool] = []

    async def one(client: EnrichmentClient, artist: str, title: str) -> None:
        async with slots:
            try:
                await client.enrich_request(make_request(artist, title), timeout_s=deadline)
            except DeadlineExceeded:
                answered.append(False)
                return
            answered.append(True)

    async with await EnrichmentClient.connect(target) as client:
        await asyncio.gather(*(one(client, a, t) for a, t in rows))
    return answered


async def _sandbox_admin(settings: dict[str, str], path: str) -> dict[str, object]:
    origin = settings["ENRICHMENT_MUSICBRAINZ_URL"].removesuffix("/ws/2")
    async with aiohttp.ClientSession() as http, http.get(f"{origin}/_sandbox/{path}") as resp:
        answer: dict[str, object] = await resp.json()
    return answer


async def test_two_replicas_share_the_musicbrainz_limit(shared_redis: str, tmp_path: Path) -> None:
    """Two servers on one Redis send MusicBrainz one limit's worth, not two.

    Counted over 2-s windows as the upstream sees arrivals: one shared limit allows 20
    (2 x 10/s), two separate limits 40. The bound leaves 5 for arrivals bunched by a busy
    machine (the exact spacing is pinned against Redis in test_redis_backends.py).
    """
    # ~70 MusicBrainz calls: several 2-s windows at the limit, whether shared or not.
    rows = [(t.artist, t.title) for t in load_catalogue().tracks[:60]]
    deadline = 5.0
    # MusicBrainz gets a sandbox process of its own: it timestamps arrivals, and a loop
    # also serving the burst of Spotify and Last.fm calls would record them late, in clumps.
    async with sandbox_process() as sandbox, sandbox_process() as mb_sandbox:
        sandbox["ENRICHMENT_MUSICBRAINZ_URL"] = mb_sandbox["ENRICHMENT_MUSICBRAINZ_URL"]
        settings = sandbox | {
            "ENRICHMENT_REDIS_URL": shared_redis,
            "ENRICHMENT_MUSICBRAINZ_RATE_PER_S": str(MB_LIMIT),
            "ENRICHMENT_LASTFM_RATE_PER_S": "0",
            # Only MusicBrainz matters here: fewer sources, less CPU, no spurious deadlines.
            "ENRICHMENT_DEEZER_ENABLED": "false",
            "ENRICHMENT_GETSONGBPM_API_KEY": "",
            # A starved sandbox answers slowly: that must not open breakers and stop calls.
            "ENRICHMENT_HTTP_TIMEOUT_S": "4",
            "ENRICHMENT_BREAKER_CONSECUTIVE_FAILURES": "1000",
            "ENRICHMENT_BREAKER_MIN_CALLS": "1000",
        }
        async with (
            server_process(settings, tmp_path / "a.log") as first,
            server_process(settings, tmp_path / "b.log") as second,
        ):
            outcomes = await asyncio.gather(
                _enrich_all(first, rows[0::2], deadline),
                _enrich_all(second, rows[1::2], deadline),
            )
        musicbrainz = await _sandbox_admin(sandbox, f"calls?window_s={WINDOW_S}")
    calls = musicbrainz["calls"]
    assert isinstance(calls, dict)
    assert musicbrainz["max_in_window"] <= WINDOW_S * MB_LIMIT + 5  # type: ignore[operator]
    assert sum(calls.values()) >= 2 * WINDOW_S * MB_LIMIT  # the limit was exercised
    assert sum(len(part) for part in outcomes) == len(rows)


async def test_redis_outage_under_load_fails_no_rpc_and_caching_resumes(
    sandbox: Sandbox,
) -> None:
    """Redis killed mid-load: every call still answers; after a restart the cache works."""
    tracks = [(t.artist, t.title) for t in load_catalogue().tracks[:30]]
    with RedisServer() as private:
        # The in-process result cache off: this pins what Redis does and does not answer.
        settings = sandbox_settings(sandbox, redis_url=private.url, result_cache_max_entries=0)
        async with running(settings) as app:
            target = f"127.0.0.1:{app.port}"
            async with await EnrichmentClient.connect(target) as client:
                answers = [await client.enrich(a, t) for a, t in tracks[:10]]
                private.kill()
                answers += [await client.enrich(a, t) for a, t in tracks[10:20]]
                answers += [await client.enrich(a, t) for a, t in tracks[:10]]  # cache gone
                private.restart()
                answers += [await client.enrich(a, t) for a, t in tracks[20:30]]
                again = [await client.enrich(a, t) for a, t in tracks[20:30]]
    assert len(answers) == 40
    assert all(a.status != pb.ENRICHMENT_STATUS_FAILED for a in answers)
    assert not any(a.cached for a in answers[20:30])  # Redis down: nothing came from it
    assert all(a.cached for a in again)  # caching resumed after the restart
