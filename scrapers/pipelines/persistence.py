"""``PersistencePipeline``: upsert tracks, setlists and links into the service's database.

The database is ``ENRICHMENT_DATABASE_URL`` (default the service's SQLite file,
``sqlite+aiosqlite:///enrichment.db``; ``postgresql+asyncpg://...`` in production). The
service's migrations must have run (the service runs them at start; from a checkout,
``python -m enrichment_server.store.migrate URL``): the crawl refuses to start when
``tracks`` or ``enrichment_status`` lack a column this pipeline writes. The scrapers'
own ``setlists`` / ``setlist_tracks`` tables are created when missing.

Every spider of a process shares one bounded pool (``scrapers.dbpool``). A write that
fails transiently (no free connection, "too many clients", a dropped connection, a lock)
is retried ``SCRAPERS_DB_WRITE_ATTEMPTS`` times with backoff; a write that still fails, or
fails for good, is reported: ``persistence/failed/<kind>`` counted, an error logged with
the item's id, the item dropped with that reason, and ``scrapers.crawl`` exits 1.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, NoReturn, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from scrapers.dbpool import PoolConfig, SharedEngines, is_transient
from scrapers.items import SetlistItem, SetlistTrackItem, TrackItem
from scrapers.pipelines.enrichment import Stats
from scrapers.store import (
    SchemaMismatch,
    create_scraper_tables,
    schema_problems,
    upsert_link,
    upsert_setlist,
    upsert_track,
)

__all__ = ["DEFAULT_DATABASE_URL", "PersistencePipeline", "WriteRetry"]

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///enrichment.db"
WRITERS = {
    TrackItem: ("tracks", upsert_track),
    SetlistItem: ("setlists", upsert_setlist),
    SetlistTrackItem: ("links", upsert_link),
}


@dataclass(frozen=True, slots=True)
class WriteRetry:
    """Attempts and backoff for a transiently failing write."""

    attempts: int = 5  # SCRAPERS_DB_WRITE_ATTEMPTS
    initial_s: float = 0.5  # SCRAPERS_DB_WRITE_RETRY_INITIAL_S, doubled per attempt
    max_s: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> WriteRetry:
        """Read a Scrapy ``Settings`` object."""
        return cls(
            attempts=max(1, settings.getint("SCRAPERS_DB_WRITE_ATTEMPTS", 5)),
            initial_s=settings.getfloat("SCRAPERS_DB_WRITE_RETRY_INITIAL_S", 0.5),
        )


class PersistencePipeline:
    """Write every item to the database (one short transaction per item)."""

    def __init__(
        self,
        database_url: str,
        stats: Stats,
        engines: SharedEngines | None = None,
        retry: WriteRetry | None = None,
    ) -> None:
        self.database_url = database_url
        self.stats = stats
        self.engines = engines or SharedEngines(PoolConfig())
        self.retry = retry or WriteRetry()
        self.engine: AsyncEngine | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from ``ENRICHMENT_DATABASE_URL``; the process's pool if ``crawl.py`` made one."""
        assert crawler.stats is not None
        settings = crawler.settings
        url = settings.get("ENRICHMENT_DATABASE_URL") or DEFAULT_DATABASE_URL
        shared = settings.get("SCRAPERS_SHARED_ENGINES")
        engines = shared if isinstance(shared, SharedEngines) else None
        engines = engines or SharedEngines(PoolConfig.from_settings(settings))
        return cls(url, crawler.stats, engines, WriteRetry.from_settings(settings))

    async def open_spider(self) -> None:
        """Check the service's schema, create the scrapers' tables if missing."""
        self.engine = self.engines.acquire(self.database_url)
        async with self.engine.begin() as conn:
            problems = await conn.run_sync(schema_problems)
            if problems:
                shown = make_url(self.database_url).render_as_string(hide_password=True)
                raise SchemaMismatch(
                    f"{shown} does not have the enrichment service's schema "
                    f"({'; '.join(problems)}): start the service once or run its migrations"
                )
        await create_scraper_tables(self.engine)
        logger.info(
            "PersistencePipeline writing to %s (pool of %d shared by the process)",
            make_url(self.database_url),
            self.engines.pool.size,
        )

    async def close_spider(self) -> None:
        """Let go of the process's pool (the last spider closes it)."""
        if self.engine is not None:
            self.engine = None
            await self.engines.release(self.database_url)

    async def process_item(self, item: Any) -> Any:
        """Upsert the item's row(s); retry a transient failure, report a lasting one."""
        assert self.engine is not None, "open_spider was not called"
        kind, write = WRITERS.get(type(item), (None, None))
        if write is None or kind is None:
            return item
        delay = self.retry.initial_s
        for attempt in range(1, self.retry.attempts + 1):
            try:
                async with self.engine.begin() as conn:
                    await write(conn, dict(item))
            except Exception as exc:
                if not is_transient(exc) or attempt == self.retry.attempts:
                    self._report(kind, item, exc, attempt)
                self.stats.inc_value("persistence/retries")
                logger.warning("write of %s failed (%s), retrying", kind, type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry.max_s)
                continue
            self.stats.inc_value(f"persistence/{kind}")
            return item
        raise AssertionError("unreachable: the last attempt returns or reports")

    def _report(self, kind: str, item: Any, exc: Exception, attempts: int) -> NoReturn:
        """Count and log a write that failed for good, then drop the item with the reason."""
        self.stats.inc_value(f"persistence/failed/{kind}")
        ident = item.get("track_id") or item.get("setlist_id")
        logger.error(
            "could not save %s %r after %d attempt(s): %s: %s",
            kind,
            ident,
            attempts,
            type(exc).__name__,
            str(exc).splitlines()[0] if str(exc) else "",
        )
        raise DropItem(f"not saved ({kind} {ident!r}): {type(exc).__name__}") from exc
