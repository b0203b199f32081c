"""Every gRPC status code the service can answer has one outcome in the pipeline.

The codes come from a real ``grpc.aio`` server over a real channel (``scripted_server``),
not from patching the pipeline or the client.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import pytest
from scrapy.exceptions import DropItem

from scrapers.items import TrackItem
from scrapers.pipelines.enrichment import APIEnrichmentPipeline, EnrichmentConfig
from scrapers.trackid import track_id
from tests.scrapers.scripted_server import Script, scripted_server

#: Every code but OK and INVALID_ARGUMENT: the failures that must never lose an item.
FAILURES = [
    code
    for code in grpc.StatusCode
    if code not in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT)
]


class Stats:
    """Counts like Scrapy's stats collector."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        """Add ``count`` to ``key``."""
        self.values[key] += count


def track(artist: str = "deadmau5", title: str = "Strobe") -> TrackItem:
    """A scraped track item."""
    return TrackItem(track_id=track_id(artist, title), artist_name=artist, track_title=title)


@asynccontextmanager
async def pipeline_for(
    script: Script, *, fallback: bool, timeout_s: float = 10.0, max_in_flight: int = 16
) -> AsyncIterator[APIEnrichmentPipeline]:
    """The pipeline, opened against a scripted server."""
    async with scripted_server(script) as target:
        config = EnrichmentConfig(
            target, timeout_s, fallback, retry_initial_s=0.001, max_in_flight=max_in_flight
        )
        opened = APIEnrichmentPipeline(config, Stats())
        await opened.open_spider()
        try:
            yield opened
        finally:
            await opened.close_spider()


def counted(pipeline: APIEnrichmentPipeline) -> Counter[str]:
    """The pipeline's stats counters."""
    stats = pipeline.stats
    assert isinstance(stats, Stats)
    return stats.values


@pytest.mark.parametrize("code", FAILURES, ids=lambda code: code.name)
async def test_every_failure_saves_pending_with_fallback(code: grpc.StatusCode) -> None:
    """Issue 12 item 15: any failing code, fallback on, passes the item on "pending"."""
    script = Script(failures=[code])
    async with pipeline_for(script, fallback=True) as pipeline:
        item = await pipeline.process_item(track())
    assert item["enrichment_status"] == "pending"
    assert counted(pipeline)[f"enrichment/failed/{code.name}"] == 1
    assert counted(pipeline)["enrichment/pending"] == 1
    assert counted(pipeline)["enrichment/invalid"] == 0


@pytest.mark.parametrize("code", FAILURES, ids=lambda code: code.name)
async def test_every_failure_is_retried_without_fallback(code: grpc.StatusCode) -> None:
    """Issue 12 item 15: any failing code, fallback off, is retried until enriched."""
    script = Script(failures=[code, code])
    async with pipeline_for(script, fallback=False) as pipeline:
        item = await pipeline.process_item(track())
    assert item["enrichment_status"] == "completed"
    assert item["canonical_artist"] == "deadmau5"
    assert script.calls == 3
    assert counted(pipeline)["enrichment/retries"] == 2
    assert counted(pipeline)[f"enrichment/failed/{code.name}"] == 2


async def test_invalid_argument_is_dropped_naming_the_field(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 12 item 15: INVALID_ARGUMENT drops the item, counted, the field in the log."""
    script = Script(failures=[grpc.StatusCode.INVALID_ARGUMENT])
    caplog.set_level(logging.WARNING, logger="scrapers.pipelines.enrichment")
    async with pipeline_for(script, fallback=False) as pipeline:
        with pytest.raises(DropItem, match="artist_name"):
            await pipeline.process_item(track())
    assert script.calls == 1
    assert counted(pipeline)["enrichment/invalid"] == 1
    assert "artist_name" in caplog.text


async def test_unencodable_string_is_dropped_before_sending(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 12 item 15: a lone surrogate (protobuf cannot send it) is invalid input."""
    script = Script()
    caplog.set_level(logging.WARNING, logger="scrapers.pipelines.enrichment")
    async with pipeline_for(script, fallback=True) as pipeline:
        with pytest.raises(DropItem, match="track_title"):
            await pipeline.process_item(track("Bicep", "Glue \ud800"))
    assert script.calls == 0
    assert counted(pipeline)["enrichment/invalid"] == 1
    assert "track_title" in caplog.text


async def test_real_deadline_saves_pending() -> None:
    """A server that does not answer within ENRICHMENT_TIMEOUT: the item is saved pending."""
    script = Script(hold=True)
    async with pipeline_for(script, fallback=True, timeout_s=0.2) as pipeline:
        item = await pipeline.process_item(track())
    assert item["enrichment_status"] == "pending"
    assert counted(pipeline)["enrichment/failed/DEADLINE_EXCEEDED"] == 1


async def test_calls_overlap_up_to_the_window() -> None:
    """Once the window has grown (twenty answers), twenty items are inside the service at
    the same time (nothing serialises them), and never more: the other ten wait."""
    script = Script()
    async with pipeline_for(script, fallback=True, max_in_flight=20) as pipeline:
        warm = [track(f"Warm {n}", f"Title {n}") for n in range(20)]
        await asyncio.gather(*(pipeline.process_item(item) for item in warm))
        assert pipeline.window.limit == 20
        script.hold = True
        items = [track(f"Artist {n}", f"Title {n}") for n in range(30)]
        calls = asyncio.gather(*(pipeline.process_item(item) for item in items))
        await asyncio.wait_for(script.wait_in_flight(20), 30)
        assert (script.calls, pipeline.window.in_flight) == (40, 20)
        script.release()
        results = await calls
    assert (script.peak_in_flight, script.calls) == (20, 50)
    assert {result["enrichment_status"] for result in results} == {"completed"}
