"""The crawl's in-flight window against the real service at the production MusicBrainz
quota (1 request/s): most items of a page are enriched rather than deferred (issue 15).

Twelve cold tracks reach the pipeline at once with a 6 s call timeout, as one page's
items would. The service's BULK lane holds about six of them before their deadline, so
sending all twelve at once defers about half; the window starts small and grows with
the answers, so most of them are enriched. Judged by outcomes, never by duration.
"""

from __future__ import annotations

import asyncio

import pytest

from enrichment_sandbox.runner import Sandbox
from enrichment_server.app import running
from scrapers.pipelines.enrichment import APIEnrichmentPipeline, EnrichmentConfig
from tests.integration.conftest import sandbox_settings
from tests.scrapers.test_enrichment_pipeline import Stats, track

pytestmark = pytest.mark.integration

ITEMS = 12


async def test_most_items_are_enriched_at_the_production_musicbrainz_rate(
    sandbox: Sandbox,
) -> None:
    sandbox.musicbrainz.controls.update_config({"rate_limit_per_s": 1.0})
    known = [t for t in sandbox.catalogue.tracks if t.on_spotify and t.on_musicbrainz]
    settings = sandbox_settings(sandbox, musicbrainz_rate_per_s=1.0, lastfm_rate_per_s=0.0)
    async with running(settings) as app:
        config = EnrichmentConfig(f"127.0.0.1:{app.port}", timeout_s=6.0)
        pipeline = APIEnrichmentPipeline(config, Stats())
        await pipeline.open_spider()
        try:
            items = [track(t.artist, t.title) for t in known[:ITEMS]]
            done = await asyncio.gather(*(pipeline.process_item(item) for item in items))
        finally:
            await pipeline.close_spider()
    stats = pipeline.stats
    assert isinstance(stats, Stats)
    statuses = [item["enrichment_status"] for item in done]
    assert statuses.count("completed") >= ITEMS - 3, statuses
    assert set(statuses) <= {"completed", "pending"}
    assert stats.values["enrichment/deferred"] == statuses.count("pending")
    assert sandbox.musicbrainz.controls.max_in_window(1.0) <= 1
