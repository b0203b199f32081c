"""``APIEnrichmentPipeline``: the thin client. All enrichment is delegated to the service.

One gRPC channel per crawl (opened in ``open_spider``, closed in ``close_spider``); each
``TrackItem`` is one ``Enrich`` call awaited inside ``process_item``. Scrapy runs many
``process_item`` calls at once (``CONCURRENT_ITEMS``), so calls overlap on the channel,
up to the in-flight window (``window.py``: as many as the service's quota serves, at
most ``ENRICHMENT_MAX_IN_FLIGHT``); nothing else is serialised or locked.

Every gRPC status code has one outcome (issue 12 item 15):

* ``INVALID_ARGUMENT`` (or a string protobuf cannot encode, e.g. a lone surrogate): the
  item is dropped, counted in ``enrichment/invalid`` and logged with the fields named.
* Any other code (``UNAVAILABLE``, ``DEADLINE_EXCEEDED``, ``UNKNOWN``, ``INTERNAL``,
  ``CANCELLED``, ``RESOURCE_EXHAUSTED``, ...), counted in ``enrichment/failed/<CODE>``:

  * ``ENRICHMENT_FALLBACK_ENABLED=True``: the item goes on unenriched, marked "pending";
    the persistence pipeline saves it and the service's scheduler enriches it later.
  * ``False``: the item waits, retrying with jittered exponential backoff until the
    service answers, so every item leaves the pipeline enriched (Scrapy's backpressure
    slows the crawl meanwhile; nothing is dropped).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol, Self

import grpc
from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from enrichment_client import (
    EnrichmentClient,
    EnrichmentClientError,
    InvalidArgument,
    Priority,
    make_request,
    normalise_target,
    pb,
    refused_locally,
)
from scrapers.items import TrackItem
from scrapers.pipelines.mapping import apply_response, has_full_metadata, status_name
from scrapers.pipelines.window import InFlightWindow

__all__ = ["APIEnrichmentPipeline", "EnrichmentConfig"]

logger = logging.getLogger(__name__)

#: Item fields sent in an ``EnrichRequest``.
REQUEST_FIELDS = ("track_id", "artist_name", "track_title", "spotify_id", "isrc", "musicbrainz_id")
#: Reconnect quickly once the service is back (gRPC's default backoff grows to 120 s).
CHANNEL_OPTIONS = [
    ("grpc.lb_policy_name", "round_robin"),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


class Stats(Protocol):
    """The part of Scrapy's stats collector the pipeline uses."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        """Add ``count`` to the counter ``key``."""


@dataclass(frozen=True, slots=True)
class EnrichmentConfig:
    """The pipeline's settings (seed names in brackets)."""

    target: str = "127.0.0.1:50051"  # METADATA_ENRICHMENT_URL
    timeout_s: float = 30.0  # ENRICHMENT_TIMEOUT
    fallback_enabled: bool = True  # ENRICHMENT_FALLBACK_ENABLED
    retry_initial_s: float = 0.5  # ENRICHMENT_RETRY_INITIAL_S
    retry_max_s: float = 10.0  # ENRICHMENT_RETRY_MAX_S
    #: A crawl is bulk work: live (interactive) callers get upstream quota first.
    priority: Priority = Priority.BULK  # ENRICHMENT_PRIORITY
    #: Calls in flight at most; fewer while the service's quota refuses (``window.py``).
    max_in_flight: int = 16  # ENRICHMENT_MAX_IN_FLIGHT

    @classmethod
    def from_settings(cls, settings: Any) -> EnrichmentConfig:
        """Read a Scrapy ``Settings`` object."""
        return cls(
            target=settings.get("METADATA_ENRICHMENT_URL") or "127.0.0.1:50051",
            timeout_s=settings.getfloat("ENRICHMENT_TIMEOUT", 30.0),
            fallback_enabled=settings.getbool("ENRICHMENT_FALLBACK_ENABLED", True),
            retry_initial_s=settings.getfloat("ENRICHMENT_RETRY_INITIAL_S", 0.5),
            retry_max_s=settings.getfloat("ENRICHMENT_RETRY_MAX_S", 10.0),
            priority=Priority.parse(settings.get("ENRICHMENT_PRIORITY") or "bulk"),
            max_in_flight=settings.getint("ENRICHMENT_MAX_IN_FLIGHT", 16),
        )


class APIEnrichmentPipeline:
    """Enrich ``TrackItem``s through the enrichment service (DELEGATION mode)."""

    def __init__(self, config: EnrichmentConfig, stats: Stats) -> None:
        self.config = config
        self.stats = stats
        self.client: EnrichmentClient | None = None
        self.window = InFlightWindow(config.max_in_flight)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        """Build from the crawler's settings and stats collector."""
        assert crawler.stats is not None
        return cls(EnrichmentConfig.from_settings(crawler.settings), crawler.stats)

    async def open_spider(self) -> None:
        """Open the crawl's one channel (connected lazily: the service may still be down)."""
        address = normalise_target(self.config.target)
        channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        self.client = EnrichmentClient(channel, self.config.timeout_s)
        mode = "fallback enabled" if self.config.fallback_enabled else "fallback disabled"
        logger.info(
            "APIEnrichmentPipeline initialized in DELEGATION mode (target=%s, timeout=%.1fs, %s)",
            address,
            self.config.timeout_s,
            mode,
        )

    async def close_spider(self) -> None:
        """Close the channel."""
        if self.client is not None:
            await self.client.close()
            self.client = None

    async def process_item(self, item: Any) -> Any:
        """Enrich a ``TrackItem`` (other items pass untouched)."""
        if not isinstance(item, TrackItem):
            return item
        adapter = ItemAdapter(item)
        if has_full_metadata(adapter):
            adapter["enrichment_status"] = "skipped"
            self.stats.inc_value("enrichment/skipped")
            return item
        response = await self._enrich(adapter)
        if response is None:
            adapter["enrichment_status"] = "pending"
            self.stats.inc_value("enrichment/pending")
            return item
        apply_response(adapter, response)
        if refused_locally(response):
            # The service's own quota said "later" (no upstream failed): the item stays
            # pending, no attempt is spent, the service's scheduler finishes it.
            adapter["enrichment_status"] = "pending"
            self.stats.inc_value("enrichment/deferred")
            return item
        self.stats.inc_value(f"enrichment/{status_name(response)}")
        return item

    async def _enrich(self, item: ItemAdapter) -> pb.EnrichResponse | None:
        """The service's answer; None when it failed and fallback is enabled."""
        assert self.client is not None, "open_spider was not called"
        unencodable = _unencodable_fields(item)
        if unencodable:
            self._drop(item, unencodable, "not valid UTF-8")
        delay = self.config.retry_initial_s
        while True:
            try:
                return await self._call(self.client, _request(item, self.config.priority))
            except InvalidArgument as exc:
                fields = sorted({v.field for v in exc.violations}) or ["(not named)"]
                self._drop(item, fields, exc.message)
            except EnrichmentClientError as exc:
                self.stats.inc_value("enrichment/unavailable")
                self.stats.inc_value(f"enrichment/failed/{exc.code}")
                if self.config.fallback_enabled:
                    logger.warning("enrichment failed (%s), saving pending: %s", exc.code, exc)
                    return None
                logger.warning("enrichment failed (%s), retrying in %.1fs", exc.code, delay)
                self.stats.inc_value("enrichment/retries")
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self.config.retry_max_s)

    async def _call(self, client: EnrichmentClient, request: pb.EnrichRequest) -> pb.EnrichResponse:
        """One call inside the in-flight window, telling it whether the service answered
        or its own quota refused."""
        async with self.window.slot() as slot:
            response = await client.enrich_request(request)
            slot.refused = refused_locally(response)
            slot.answered = not slot.refused
            return response

    def _drop(self, item: ItemAdapter, fields: list[str], reason: str) -> NoReturn:
        """Count and log an item the service cannot take, then drop it."""
        self.stats.inc_value("enrichment/invalid")
        logger.warning(
            "dropping track %r: invalid field(s) %s: %s",
            item.get("track_id"),
            ", ".join(fields),
            reason,
        )
        raise DropItem(f"service refused {item.get('track_id')!r}: {', '.join(fields)}")


def _unencodable_fields(item: ItemAdapter) -> list[str]:
    """The request fields holding strings protobuf cannot send (lone surrogates)."""
    found = []
    for name in REQUEST_FIELDS:
        value = item.get(name)
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                found.append(name)
    return found


def _request(item: ItemAdapter, priority: Priority) -> pb.EnrichRequest:
    """The request for an item: its deterministic id plus any identifiers it carries."""
    return make_request(
        item["artist_name"],
        item["track_title"],
        track_id=item["track_id"],
        spotify_id=item.get("spotify_id") or None,
        isrc=item.get("isrc") or None,
        musicbrainz_id=item.get("musicbrainz_id") or None,
        priority=priority,
    )
