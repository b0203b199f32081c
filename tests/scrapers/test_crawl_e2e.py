"""Real crawls of the fixture sites through both pipelines into a real server and database."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from enrichment_sandbox.runner import Sandbox
from enrichment_sandbox.sites import FixtureSites
from enrichment_server.app import running
from enrichment_server.config import Settings
from tests.integration.conftest import sandbox_settings
from tests.integration.processes import free_port
from tests.scrapers.support import (
    API_KEYS,
    EXPECTED_LINKS,
    EXPECTED_TRACKS,
    UNKNOWN_TRACKS,
    counts,
    run_crawl,
    server_env,
    server_process,
    site_settings,
)

#: Whole crawls against real servers: minutes on a busy machine. The timeout only catches a
#: hang; nothing here asserts how long a crawl takes (that is bench/'s business).
pytestmark = pytest.mark.timeout(300)

SPIDERS = (
    "1001tracklists",
    "internetarchive",
    "livetracklist",
    "mixcloud",
    "mixesdb",
    "reddit",
    "residentadvisor",
    "setlistfm",
    "soundcloud",
    "youtube",
)


def service_settings(sandbox: Sandbox, database_url: str, **overrides: object) -> Settings:
    """Test server settings on ``database_url``; Last.fm unthrottled (a crawl bursts)."""
    return sandbox_settings(sandbox, database_url=database_url, lastfm_rate_per_s=0.0, **overrides)


async def test_crawl_enriches_into_the_database(
    tmp_path: Path, fixture_sites: FixtureSites, database_url: str, sandbox: Sandbox
) -> None:
    """Every fixture track lands in the database with spotify_id, bpm, key and camelot."""
    async with running(service_settings(sandbox, database_url)) as app:
        settings = site_settings(fixture_sites) | {
            "METADATA_ENRICHMENT_URL": f"http://127.0.0.1:{app.port}",
            "ENRICHMENT_DATABASE_URL": database_url,
        }
        result = await run_crawl(tmp_path, settings)
    assert result.returncode == 0, result.log[-3000:]
    assert sorted(result.reports) == sorted(SPIDERS)
    assert (
        f"APIEnrichmentPipeline initialized in DELEGATION mode (target=127.0.0.1:{app.port}"
        in result.log
    )
    for name, report in result.reports.items():
        assert report["pipelines"] == ["APIEnrichmentPipeline", "PersistencePipeline"], name
        assert report["stats"].get("enrichment/completed", 0) > 0, name
    found = await counts(database_url)
    print(f"\nrows after the crawl: {found}")
    assert found["links"] == EXPECTED_LINKS
    assert found["tracks"] == EXPECTED_TRACKS
    assert found["with_spotify_id"] == EXPECTED_TRACKS - UNKNOWN_TRACKS
    assert found["with_bpm_key_camelot"] == EXPECTED_TRACKS - UNKNOWN_TRACKS
    assert found["pending"] == 0
    assert result.stat("enrichment/unavailable") == 0
    agents = {a for site in ("mixesdb", "reddit") for _, a in fixture_sites.requests(site)}
    assert all(agent.startswith("tracklist-scrapers/") for agent in agents)


async def test_service_down_with_fallback_then_scheduler_enriches(
    tmp_path: Path, fixture_sites: FixtureSites, database_url: str, sandbox: Sandbox
) -> None:
    """Service down all crawl: every track saved pending; the scheduler enriches them later."""
    settings = site_settings(fixture_sites) | {
        "METADATA_ENRICHMENT_URL": f"127.0.0.1:{free_port()}",
        "ENRICHMENT_FALLBACK_ENABLED": "true",
        "ENRICHMENT_TIMEOUT": "2",
        "ENRICHMENT_DATABASE_URL": database_url,
    }
    result = await run_crawl(tmp_path, settings)
    assert result.returncode == 0, result.log[-3000:]
    before = await counts(database_url)
    print(f"\nservice down, after the crawl: {before}")
    assert result.stat("enrichment/pending") == EXPECTED_LINKS
    assert before["tracks"] == before["pending"] == EXPECTED_TRACKS
    assert before["links"] == EXPECTED_LINKS
    assert before["with_spotify_id"] == 0
    # A fast DLQ too: on a loaded machine an upstream call may time out (1 s here), and the
    # retry (not the first attempt) is then what completes the track. Enough timeouts in a
    # row open that source's breaker: it probes again after 1 s (not 30), the dead-letter
    # worker's own calls are the probes, and no retry is parked however long the machine
    # stays slow (parking is test_durable's subject, not this test's).
    service = service_settings(
        sandbox,
        database_url,
        workers_enabled=True,
        scheduler_interval_s=0.2,
        dlq_interval_s=0.2,
        dlq_backoff_base_s=0.2,
        dlq_backoff_cap_s=2.0,
        dlq_max_attempts=100,
        breaker_open_s=1.0,
        breaker_max_open_s=2.0,
    )
    started = time.monotonic()
    expected = EXPECTED_TRACKS - UNKNOWN_TRACKS
    async with running(service):
        after = await _wait_for(
            database_url,
            lambda c: c["enriched"] == EXPECTED_TRACKS and c["with_spotify_id"] == expected,
            240,
        )
    print(f"service started, scheduler after {time.monotonic() - started:.1f}s: {after}")
    assert after["pending"] == 0
    assert after["with_spotify_id"] == EXPECTED_TRACKS - UNKNOWN_TRACKS
    assert after["with_bpm_key_camelot"] == EXPECTED_TRACKS - UNKNOWN_TRACKS


async def test_service_killed_mid_crawl_without_fallback_loses_nothing(
    tmp_path: Path, database_url: str, sandbox: Sandbox
) -> None:
    """Server SIGKILLed mid-crawl, fallback off: items wait; all answered once it is back."""
    port = free_port()
    env = server_env(sandbox, database_url, port)
    log = tmp_path / "server.log"
    with FixtureSites(api_keys=API_KEYS, latency_s=0.15) as sites:
        settings = site_settings(sites) | {
            "METADATA_ENRICHMENT_URL": f"127.0.0.1:{port}",
            "ENRICHMENT_FALLBACK_ENABLED": "false",
            "ENRICHMENT_TIMEOUT": "3",
            "ENRICHMENT_RETRY_INITIAL_S": "0.2",
            "ENRICHMENT_RETRY_MAX_S": "1",
            "ENRICHMENT_DATABASE_URL": database_url,
            "CONCURRENT_REQUESTS": "1",
        }
        async with server_process(env, log) as server:
            crawl = asyncio.create_task(run_crawl(tmp_path, settings))
            at_kill = await _wait_for(database_url, lambda c: c["tracks"] >= 5, 120)
            server.send_signal(signal.SIGKILL)
            await server.wait()
        print(f"\nserver killed with {at_kill['tracks']} of {EXPECTED_TRACKS} tracks saved")
        # Fallback off: the crawl cannot end while the service is down (no sleep to "prove"
        # it: the retries counted and nothing pending at the end show the items waited).
        assert not crawl.done()
        during = await counts(database_url)
        async with server_process(env, log):
            result = await crawl
    after = await counts(database_url)
    print(f"during the outage: {during}\nafter the restart: {after}")
    print(f"unavailable calls retried: {result.stat('enrichment/retries')}")
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("enrichment/retries") > 0
    assert result.stat("enrichment/pending") == 0
    assert after["links"] == EXPECTED_LINKS
    # Nothing lost: every track saved with the service's answer (none pending, none without
    # a status). Whether each answer is COMPLETED or PARTIAL depends on how fast the in-test
    # sandbox answered on this machine; a PARTIAL is the retry queue's, not the crawl's, job.
    assert after["tracks"] == EXPECTED_TRACKS
    assert after["without_status"] == 0
    assert after["with_spotify_id"] == EXPECTED_TRACKS - UNKNOWN_TRACKS
    assert after["pending"] == 0


async def _wait_for(url: str, done: object, timeout_s: float) -> dict[str, int]:
    """Poll the row counts until ``done(counts)`` holds; the counts."""
    assert callable(done)
    until = time.monotonic() + timeout_s
    while True:
        try:
            found = await counts(url)
        except OperationalError:  # the crawl has not created its tables yet
            found = {}
        if (found and done(found)) or time.monotonic() > until:
            return found
        await asyncio.sleep(0.1)
