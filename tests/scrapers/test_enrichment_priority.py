"""The crawl's calls are BULK work, and the service's own quota refusal is no failure."""

from __future__ import annotations

from scrapy.settings import Settings

from enrichment_client import Priority, pb
from scrapers.pipelines.enrichment import EnrichmentConfig
from tests.scrapers.scripted_server import Script
from tests.scrapers.test_enrichment_outcomes import counted, pipeline_for, track


async def test_the_pipeline_sends_bulk_priority() -> None:
    """Every Enrich call of a crawl asks for the BULK lane by default."""
    script = Script()
    async with pipeline_for(script, fallback=True) as pipeline:
        await pipeline.process_item(track("Bicep", "Glue"))
        await pipeline.process_item(track("Bicep", "Apricots"))
    assert script.priorities == [pb.PRIORITY_BULK, pb.PRIORITY_BULK]


def test_the_priority_is_a_setting() -> None:
    """ENRICHMENT_PRIORITY changes the lane (e.g. a one-off interactive re-crawl)."""
    assert EnrichmentConfig.from_settings(Settings()).priority is Priority.BULK
    chosen = EnrichmentConfig.from_settings(Settings({"ENRICHMENT_PRIORITY": "interactive"}))
    assert chosen.priority is Priority.INTERACTIVE


async def test_our_quota_refusal_keeps_the_item_pending_without_a_failure() -> None:
    """An answer incomplete only because of the service's own quota: the item goes on
    "pending" (the service finishes it later), counted as deferred, not as partial."""
    script = Script(local_refusals=1)
    async with pipeline_for(script, fallback=True) as pipeline:
        deferred = await pipeline.process_item(track("Bicep", "Glue"))
        answered = await pipeline.process_item(track("Bicep", "Apricots"))
    assert deferred["enrichment_status"] == "pending"
    assert answered["enrichment_status"] == "completed"
    stats = counted(pipeline)
    assert (stats["enrichment/deferred"], stats["enrichment/partial"]) == (1, 0)
