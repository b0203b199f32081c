"""The persistence pipeline and its contract with the service's migrated schema."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from enrichment_server.store import migrate
from scrapers.items import SetlistItem, SetlistTrackItem, TrackItem
from scrapers.pipelines.persistence import PersistencePipeline
from scrapers.store import SERVICE_TABLES, SchemaMismatch, create_engine, schema_problems
from tests.scrapers.support import scalar


class Stats:
    """Counts like Scrapy's stats collector."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        """Add ``count`` to ``key``."""
        self.values[key] += count


async def _reflect(url: str) -> dict[str, dict[str, dict[str, object]]]:
    """table -> column -> reflected column info, for the service's tables."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:

            def inspect(sync: sa.Connection) -> dict[str, dict[str, dict[str, object]]]:
                inspector = sa.inspect(sync)
                return {
                    t.name: {c["name"]: dict(c) for c in inspector.get_columns(t.name)}
                    for t in SERVICE_TABLES
                }

            return await conn.run_sync(inspect)
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def migrated_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A database migrated by the service's own migrations (SQLite, and Postgres when up)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{request.getfixturevalue('tmp_path')}/contract.db"
    else:
        url = request.getfixturevalue("postgres_url")
    await migrate(url)
    yield url
    engine = create_engine(url)
    async with engine.begin() as conn:  # leave the shared Postgres database as migrations made it
        await conn.execute(sa.text("DROP TABLE IF EXISTS setlist_tracks"))
        await conn.execute(sa.text("DROP TABLE IF EXISTS setlists"))
        await conn.execute(sa.text("DELETE FROM tracks"))
    await engine.dispose()


async def test_table_view_matches_the_migrations(migrated_url: str) -> None:
    """Every column the pipeline writes exists with the same type family and nullability."""
    reflected = await _reflect(migrated_url)
    for table in SERVICE_TABLES:
        for column in table.columns:
            found = reflected[table.name][column.name]
            assert found["nullable"] == column.nullable, f"{table.name}.{column.name}"
            assert found["type"]._type_affinity is column.type._type_affinity or isinstance(  # type: ignore[attr-defined]
                column.type, sa.JSON
            ), f"{table.name}.{column.name}: {found['type']} vs {column.type}"
        required = {
            n
            for n, c in reflected[table.name].items()
            if not c["nullable"] and c.get("default") is None
        }
        assert required <= set(table.columns.keys()), table.name
    engine = create_engine(migrated_url)
    async with engine.connect() as conn:
        assert await conn.run_sync(schema_problems) == []
    await engine.dispose()


async def test_refuses_a_database_without_the_service_schema(tmp_path: object) -> None:
    """An empty database stops the crawl at open_spider with a clear message."""
    url = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    pipeline = PersistencePipeline(url, Stats())
    with pytest.raises(SchemaMismatch, match="table tracks is missing"):
        await pipeline.open_spider()
    await pipeline.close_spider()


async def test_upserts_keep_enriched_values_and_mark_pending(migrated_url: str) -> None:
    """Pending tracks get a 'pending' row; a later unenriched write never erases enrichment."""
    stats = Stats()
    pipeline = PersistencePipeline(migrated_url, stats)
    await pipeline.open_spider()
    base = {"track_id": "trk-1", "artist_name": "deadmau5", "track_title": "Strobe"}
    await pipeline.process_item(TrackItem(**base, enrichment_status="pending"))
    await pipeline.process_item(
        TrackItem(**base, bpm=128.0, musical_key="B Major", camelot_key="1B", genres=["house"],
                  enriched_at="2026-01-01T00:00:00+00:00", enrichment_status="completed")
    )  # fmt: skip
    await pipeline.process_item(TrackItem(**base, enrichment_status="pending"))
    await pipeline.process_item(SetlistItem(setlist_id="x:1", source="x", name="Set"))
    for position in (1, 1, 2):
        await pipeline.process_item(
            SetlistTrackItem(setlist_id="x:1", track_id="trk-1", position=position)
        )
    await pipeline.close_spider()
    row = "SELECT musical_key || ' ' || camelot_key FROM tracks WHERE track_id = 'trk-1'"
    assert await scalar(migrated_url, row) == "B Major 1B"
    assert await scalar(migrated_url, "SELECT bpm FROM tracks") == 128.0
    assert await scalar(migrated_url, "SELECT status FROM enrichment_status") == "pending"
    assert await scalar(migrated_url, "SELECT count(*) FROM setlist_tracks") == 2
    assert stats.values == Counter(
        {"persistence/tracks": 3, "persistence/setlists": 1, "persistence/links": 3}
    )
