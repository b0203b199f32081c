"""APIEnrichmentPipeline against a real server on the sandbox: mapping, stats, outcomes."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from scrapy.exceptions import DropItem

from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from scrapers.items import ENRICHED_FIELDS, SetlistItem, TrackItem
from scrapers.pipelines.enrichment import APIEnrichmentPipeline, EnrichmentConfig
from scrapers.trackid import track_id
from tests.integration.conftest import sandbox_settings
from tests.integration.processes import free_port


class Stats:
    """Counts like Scrapy's stats collector."""

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


def track(artist: str, title: str) -> TrackItem:
    """A scraped track item."""
    return TrackItem(track_id=track_id(artist, title), artist_name=artist, track_title=title)


@pytest.fixture
async def pipeline(sandbox: Sandbox) -> AsyncIterator[APIEnrichmentPipeline]:
    """The pipeline, opened against a real server over the sandbox."""
    async with running(sandbox_settings(sandbox, lastfm_rate_per_s=0.0)) as app:
        opened = APIEnrichmentPipeline(
            EnrichmentConfig(f"http://127.0.0.1:{app.port}", 10.0), Stats()
        )
        await opened.open_spider()
        yield opened
        await opened.close_spider()


async def test_fields_are_mapped_explicitly(pipeline: APIEnrichmentPipeline) -> None:
    """The response's metadata lands on the declared item fields (key -> musical_key)."""
    item = await pipeline.process_item(track("deadmau5", "Strobe (Original Mix)"))
    assert item["enrichment_status"] == "completed"
    assert item["spotify_id"] == "41Xji81wFy3cM7ggbGczQW"
    assert item["isrc"] == "GBTDG0900141"
    assert (item["bpm"], item["musical_key"], item["camelot_key"]) == (128.0, "B Major", "1B")
    assert item["major"] is True
    assert item["label"] == "mau5trap"
    assert item["canonical_title"] == "Strobe"
    assert "progressive house" in item["genres"]
    assert item["enrichment_sources"]["spotify_id"] == "spotify"
    assert set(item.keys()) <= set(TrackItem.fields)
    assert pipeline.stats.values["enrichment/completed"] == 1  # type: ignore[attr-defined]


async def test_outcomes_are_counted(pipeline: APIEnrichmentPipeline) -> None:
    """completed, not_found and skipped each move their own counter; other items pass."""
    full = track("Bicep", "Glue")
    full.update(
        spotify_id="x" * 22, isrc="GBCEN1700001", bpm=130.0, musical_key="A Minor", camelot_key="8A"
    )
    items = [
        track("Bicep", "Glue"),
        track("Moonlit Harbour Collective", "Saltwater Lanterns"),
        full,
    ]
    results = await asyncio.gather(*(pipeline.process_item(item) for item in items))
    assert [r["enrichment_status"] for r in results] == ["completed", "not_found", "skipped"]
    assert "spotify_id" not in results[1]
    setlist = SetlistItem(setlist_id="s:1")
    assert await pipeline.process_item(setlist) is setlist
    counted = pipeline.stats.values  # type: ignore[attr-defined]
    assert (
        counted["enrichment/completed"],
        counted["enrichment/not_found"],
        counted["enrichment/skipped"],
    ) == (1, 1, 1)


async def test_invalid_input_is_dropped_and_counted(pipeline: APIEnrichmentPipeline) -> None:
    """A credit the service refuses is dropped with a reason, not retried forever."""
    with pytest.raises(DropItem, match="service refused"):
        await pipeline.process_item(TrackItem(track_id="t", artist_name=" ", track_title="x"))
    assert pipeline.stats.values["enrichment/invalid"] == 1  # type: ignore[attr-defined]


async def test_unavailable_with_fallback_passes_pending() -> None:
    """No server: the item passes unenriched, marked pending, counted unavailable."""
    stats = Stats()
    pipeline = APIEnrichmentPipeline(EnrichmentConfig(f"127.0.0.1:{free_port()}", 2.0, True), stats)
    await pipeline.open_spider()
    try:
        item = await pipeline.process_item(track("deadmau5", "Strobe"))
    finally:
        await pipeline.close_spider()
    assert item["enrichment_status"] == "pending"
    assert not any(name in item for name in ENRICHED_FIELDS)
    assert stats.values == Counter(
        {"enrichment/unavailable": 1, "enrichment/failed/UNAVAILABLE": 1, "enrichment/pending": 1}
    )


async def test_unavailable_without_fallback_waits_for_the_service(sandbox: Sandbox) -> None:
    """No fallback: the item is held, retried, and enriched once the server starts."""
    port = free_port()
    config = EnrichmentConfig(f"127.0.0.1:{port}", 2.0, False, retry_initial_s=0.1, retry_max_s=0.3)
    stats = Stats()
    pipeline = APIEnrichmentPipeline(config, stats)
    await pipeline.open_spider()
    try:
        waiting = asyncio.create_task(pipeline.process_item(track("Kölsch", "Grey")))
        await asyncio.wait_for(stats.reach("enrichment/retries", 2), 30)
        assert not waiting.done()
        settings = sandbox_settings(sandbox, grpc_port=port, lastfm_rate_per_s=0.0)
        async with running(settings):
            item = await asyncio.wait_for(waiting, 15)
    finally:
        await pipeline.close_spider()
    assert item["enrichment_status"] == "completed"
    assert item["spotify_id"]
    assert pipeline.stats.values["enrichment/retries"] > 0  # type: ignore[attr-defined]
