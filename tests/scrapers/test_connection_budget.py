"""Issue 12 item 3: one bounded pool per crawl process; a failed write is retried or reported.

The database is a real Postgres one owned by a role with a connection limit: more
connections than the limit are refused exactly as "too many clients already" is
(SQLSTATE 53300), without touching the shared server's ``max_connections``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from scrapy.exceptions import DropItem
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from enrichment_sandbox.sites import FixtureSites
from enrichment_server.store import migrate
from scrapers.dbpool import PoolConfig, SharedEngines
from scrapers.items import SetlistItem, TrackItem
from scrapers.pipelines.persistence import PersistencePipeline, WriteRetry
from tests.integration.processes import free_port
from tests.scrapers.support import EXPECTED_LINKS, EXPECTED_TRACKS, counts, run_crawl, scalar
from tests.scrapers.support import site_settings as fixture_site_settings

#: Whole crawls against real servers: minutes on a busy machine. The timeout only catches a
#: hang; nothing here asserts how long a crawl takes (that is bench/'s business).
pytestmark = pytest.mark.timeout(300)


class Stats:
    """Counts like Scrapy's stats collector; ``reach`` waits for a count."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()
        self.changed = asyncio.Event()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        """Add ``count`` to ``key``."""
        self.values[key] += count
        self.changed.set()

    async def reach(self, key: str, count: int) -> None:
        """Return once ``key`` has counted ``count``."""
        while self.values[key] < count:
            self.changed.clear()
            await self.changed.wait()


@dataclass
class LimitedDatabase:
    """A migrated database whose owner role may hold at most ``limit`` connections."""

    url: str
    admin_url: str
    role: str

    async def admin(self, statement: str, **params: str) -> None:
        """Run one statement as the server's superuser."""
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text(statement), params)
        finally:
            await engine.dispose()

    async def set_limit(self, limit: int) -> None:
        """Change how many connections the role may open (applies to new connections)."""
        await self.admin(f'ALTER ROLE "{self.role}" CONNECTION LIMIT {limit}')

    async def drop_connections(self) -> None:
        """Terminate every open connection of the role (as a database restart would)."""
        await self.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role",
            role=self.role,
        )


@pytest.fixture
async def limited_database(postgres_url: str) -> AsyncIterator[LimitedDatabase]:
    """A fresh database owned by a role limited to 4 connections; dropped afterwards."""
    name = f"scrapers_limited_{uuid.uuid4().hex[:10]}"
    server = make_url(postgres_url)
    admin_url = server.set(database="postgres").render_as_string(hide_password=False)
    url = server.set(username=name, password=None, database=name)
    database = LimitedDatabase(url.render_as_string(hide_password=False), admin_url, name)
    await database.admin(f'CREATE ROLE "{name}" LOGIN')
    await database.admin(f'CREATE DATABASE "{name}" OWNER "{name}"')
    try:
        await migrate(database.url)
        await database.set_limit(4)
        yield database
    finally:
        await database.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await database.admin(f'DROP ROLE IF EXISTS "{name}"')


async def test_all_spiders_share_one_bounded_pool(
    tmp_path: Path, fixture_sites: FixtureSites, limited_database: LimitedDatabase
) -> None:
    """Issue 12 item 3: every spider in one process, 4 connections allowed: nothing lost."""
    settings = fixture_site_settings(fixture_sites) | {
        "METADATA_ENRICHMENT_URL": f"127.0.0.1:{free_port()}",
        "ENRICHMENT_FALLBACK_ENABLED": "true",
        "ENRICHMENT_TIMEOUT": "2",
        "ENRICHMENT_DATABASE_URL": limited_database.url,
        "SCRAPERS_DB_POOL_SIZE": "3",
    }
    result = await run_crawl(tmp_path, settings, timeout_s=120)
    found = await counts(limited_database.url)
    setlists = await scalar(limited_database.url, "SELECT count(*) FROM setlists")
    print(f"\nrows: {found}, setlists: {setlists}")
    assert result.returncode == 0, result.log[-3000:]
    assert "too many connections" not in result.log
    assert sum(1 for r in result.reports.values() if r["finish_reason"] == "finished") == 10
    assert (found["tracks"], found["links"]) == (EXPECTED_TRACKS, EXPECTED_LINKS)
    assert setlists == result.stat("persistence/setlists") > 0


async def test_transient_write_failure_is_retried(limited_database: LimitedDatabase) -> None:
    """Issue 12 item 3: connections refused mid-crawl: the write waits and lands."""
    stats = Stats()
    engines = SharedEngines(PoolConfig(size=1, timeout_s=5))
    retry = WriteRetry(attempts=1000, initial_s=0.01, max_s=0.05)
    pipeline = PersistencePipeline(limited_database.url, stats, engines, retry)
    await pipeline.open_spider()
    try:
        await limited_database.set_limit(0)
        await limited_database.drop_connections()
        item = TrackItem(track_id="trk-1", artist_name="deadmau5", track_title="Strobe")
        writing = asyncio.create_task(pipeline.process_item(item))
        await asyncio.wait_for(stats.reach("persistence/retries", 2), 60)
        assert not writing.done()
        await limited_database.set_limit(4)
        assert await asyncio.wait_for(writing, 60) is item
    finally:
        await pipeline.close_spider()
    assert stats.values["persistence/tracks"] == 1
    assert await scalar(limited_database.url, "SELECT artist_name FROM tracks") == "deadmau5"


async def test_lasting_write_failure_is_reported(
    limited_database: LimitedDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12 item 3: a write Postgres refuses for good is counted, logged and dropped."""
    stats = Stats()
    caplog.set_level(logging.ERROR, logger="scrapers.pipelines.persistence")
    pipeline = PersistencePipeline(limited_database.url, stats)
    await pipeline.open_spider()
    try:
        with pytest.raises(DropItem, match="not saved"):
            await pipeline.process_item(SetlistItem(setlist_id="x:1", source="x", name="a\x00b"))
    finally:
        await pipeline.close_spider()
    assert stats.values["persistence/failed/setlists"] == 1
    assert stats.values["persistence/retries"] == 0
    assert "could not save setlists 'x:1'" in caplog.text
