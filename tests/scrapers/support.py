"""Helpers for the scraper tests: real crawls in a subprocess, database counts, servers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from enrichment_sandbox.runner import Sandbox
from enrichment_sandbox.sites import KEYED_SITES, FixtureSites
from scrapers.store import create_engine
from tests.integration.processes import SERVER, START_TIMEOUT_S, wait_serving

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "test-setlistfm-key"
#: The fixture sites that refuse requests without the key (header or query parameter).
API_KEYS = dict.fromkeys(KEYED_SITES, API_KEY)
#: What the fixture site holds: tracklist links and distinct identifiable tracks.
EXPECTED_LINKS = 112
EXPECTED_TRACKS = 61
#: Fixture tracks the service answers NOT_FOUND ("Moonlit Harbour Collective", absent
#: from the catalogue, and "Eric Prydz vs. Pryda - Power Drive", credited to Pryda alone).
UNKNOWN_TRACKS = 2


@dataclass
class CrawlResult:
    """What one crawl subprocess left behind."""

    returncode: int
    reports: dict[str, Any]
    log: str

    def stat(self, name: str) -> int:
        """A stats counter summed over every spider."""
        return sum(int(r["stats"].get(name, 0)) for r in self.reports.values())


def site_settings(sites: FixtureSites) -> dict[str, str]:
    """Settings pointing every spider at the fixture sites, without politeness delays."""
    return sites.crawl_settings(API_KEY)


async def run_crawl(
    tmp: Path, settings: Mapping[str, str], spiders: tuple[str, ...] = (), timeout_s: float = 240
) -> CrawlResult:
    """Run ``python -m scrapers.crawl`` to the end; its stats report and log."""
    stats = tmp / f"stats-{uuid.uuid4().hex[:8]}.json"
    args = [f"--set={name}={value}" for name, value in settings.items()]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "scrapers.crawl", *spiders, *args, f"--stats-out={stats}",
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    reports = json.loads(stats.read_text()) if stats.exists() else {}
    return CrawlResult(process.returncode or 0, reports, output.decode())


async def scalar(url: str, query: str) -> Any:
    """One value from the database."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(sa.text(query))).scalar()
    finally:
        await engine.dispose()


async def counts(url: str) -> dict[str, int]:
    """Row counts that tell enriched from pending tracks."""
    queries = {
        "tracks": "SELECT count(*) FROM tracks",
        "links": "SELECT count(*) FROM setlist_tracks",
        "with_spotify_id": "SELECT count(*) FROM tracks WHERE spotify_id IS NOT NULL",
        "with_bpm_key_camelot": "SELECT count(*) FROM tracks WHERE bpm IS NOT NULL"
        " AND musical_key IS NOT NULL AND camelot_key IS NOT NULL",
        "pending": "SELECT count(*) FROM enrichment_status WHERE status = 'pending'",
        "without_status": "SELECT count(*) FROM tracks t WHERE NOT EXISTS"
        " (SELECT 1 FROM enrichment_status s WHERE s.track_id = t.track_id)",
        "enriched": "SELECT count(*) FROM enrichment_status"
        " WHERE status IN ('completed', 'not_found')",
    }
    return {name: int(await scalar(url, query)) for name, query in queries.items()}


def server_env(sandbox: Sandbox, database_url: str, port: int) -> dict[str, str]:
    """Environment of an ``enrichment-server`` process over ``sandbox``."""
    return {
        **os.environ,
        **sandbox.settings(),
        "ENRICHMENT_DATABASE_URL": database_url,
        "ENRICHMENT_GRPC_HOST": "127.0.0.1",
        "ENRICHMENT_GRPC_PORT": str(port),
        "ENRICHMENT_METRICS_ENABLED": "false",
        "ENRICHMENT_WORKERS_ENABLED": "false",
        "ENRICHMENT_MUSICBRAINZ_RATE_PER_S": "1000",
        "ENRICHMENT_DEEZER_RATE_PER_S": "0",
        "ENRICHMENT_GETSONGBPM_RATE_PER_S": "0",
        "ENRICHMENT_LASTFM_RATE_PER_S": "0",
        "ENRICHMENT_LOG_FORMAT": "json",
    }


@asynccontextmanager
async def server_process(
    env: Mapping[str, str], log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A real ``enrichment-server`` process (SIGKILL it to simulate a crash)."""
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(SERVER, env=dict(env), stderr=sink)
    try:
        await wait_serving(f"127.0.0.1:{env['ENRICHMENT_GRPC_PORT']}", START_TIMEOUT_S)
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 20)
