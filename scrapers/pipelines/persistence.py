"""``PersistencePipeline``: upsert tracks, setlists and links into the service's database.

The database is ``ENRICHMENT_DATABASE_URL`` (default the service's SQLite file,
``sqlite+aiosqlite:///enrichment.db``; ``postgresql+asyncpg://...`` in production). The
service's migrations must have run (the service runs them at start; from a checkout,
``python -m enrichment_server.store.migrate URL``): the crawl refuses to start when
``tracks`` or ``enrichment_status`` lack a column this pipeline writes. The scrapers'
own ``setlists`` / ``setlist_tracks`` tables are created when missing.
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy.crawler import Crawler
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from scrapers.items import SetlistItem, SetlistTrackItem, TrackItem
from scrapers.pipelines.enrichment import Stats
from scrapers.store import (
    SchemaMismatch,
    create_engine,
    create_scraper_tables,
    schema_problems,
    upsert_link,
    upsert_setlist,
    upsert_track,
)

__all__ = ["DEFAULT_DATABASE_URL", "PersistencePipeline"]

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///enrichment.db"
WRITERS = {
    TrackItem: ("tracks", upsert_track),
    SetlistItem: ("setlists", upsert_setlist),
    SetlistTrackItem: ("links", upsert_link),
}


class PersistencePipeline:
    """Write every item to the database (one short transaction per item)."""

    def __init__(self, database_url: str, stats: Stats) -> None:
        self.database_url = database_url
        self.stats = stats
        self.engine: AsyncEngine | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from ``ENRICHMENT_DATABASE_URL``."""
        assert crawler.stats is not None
        url = crawler.settings.get("ENRICHMENT_DATABASE_URL") or DEFAULT_DATABASE_URL
        return cls(url, crawler.stats)

    async def open_spider(self) -> None:
        """Check the service's schema, create the scrapers' tables if missing."""
        self.engine = create_engine(self.database_url)
        async with self.engine.begin() as conn:
            problems = await conn.run_sync(schema_problems)
            if problems:
                shown = make_url(self.database_url).render_as_string(hide_password=True)
                raise SchemaMismatch(
                    f"{shown} does not have the enrichment service's schema "
                    f"({'; '.join(problems)}): start the service once or run its migrations"
                )
        await create_scraper_tables(self.engine)
        logger.info("PersistencePipeline writing to %s", make_url(self.database_url))

    async def close_spider(self) -> None:
        """Release the connection pool."""
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    async def process_item(self, item: Any) -> Any:
        """Upsert the item's row(s)."""
        assert self.engine is not None, "open_spider was not called"
        kind, write = WRITERS.get(type(item), (None, None))
        if write is None:
            return item
        async with self.engine.begin() as conn:
            await write(conn, dict(item))
        self.stats.inc_value(f"persistence/{kind}")
        return item
