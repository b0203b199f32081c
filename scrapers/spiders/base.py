"""``TracklistSpider``: what every source spider shares.

A new spider subclasses it, names its base-URL setting and default, and in its
callbacks turns a page into ``setlist_items(...)``::

    class ExampleSpider(TracklistSpider):
        name = "example"
        base_url_setting = "EXAMPLE_BASE_URL"
        default_base_url = "https://example.com"

        async def start(self) -> AsyncIterator[Any]:
            yield scrapy.Request(self.url("/tracklists"), callback=self.parse)

        def parse(self, response: Response) -> Iterator[Any]:
            lines = response.css("li.track::text").getall()
            yield from self.setlist_items(source_id="42", url=response.url, lines=lines)

The enrichment and persistence pipelines come from the project settings; a spider must
not replace ``ITEM_PIPELINES`` (a test checks every spider).

Politeness is per site, in each spider's ``custom_settings`` (``DOWNLOAD_DELAY``,
``CONCURRENT_REQUESTS_PER_DOMAIN``, ``ROBOTSTXT_OBEY``); tests and the demo override them
with ``-s`` for local fixture sites. The values in force are recorded in the crawl's
stats (``politeness/...``). ``blocked_reason`` says what the site's block pages look like
(``scrapers.blocking`` stops the spider at one); ``page(...)`` builds a request whose
refusal by robots.txt is logged and counted (``robots/disallowed/<kind>``) instead of
passing silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, Self
from urllib.parse import urljoin

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure

from scrapers.blocking import challenge_reason
from scrapers.items import SetlistItem, SetlistTrackItem, TrackItem
from scrapers.parsing import TracklistEntry, format_cue, parse_tracklist

__all__ = ["TracklistSpider"]

logger = logging.getLogger(__name__)


class TracklistSpider(scrapy.Spider):
    """A spider whose pages are tracklists; subclasses set the class variables below."""

    #: The setting holding the source's base URL (tests point it at 127.0.0.1).
    base_url_setting: ClassVar[str] = ""
    #: The real site's base URL.
    default_base_url: ClassVar[str] = ""

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """The spider, recording its politeness settings in the stats when it opens."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.record_politeness, signal=signals.spider_opened)
        return spider

    def record_politeness(self) -> None:
        """Write the politeness settings in force to the stats (``politeness/<setting>``)."""
        stats = self.crawler.stats
        if stats is None:
            return
        settings = self.settings
        values = {
            "download_delay": settings.getfloat("DOWNLOAD_DELAY"),
            "randomize_download_delay": settings.getbool("RANDOMIZE_DOWNLOAD_DELAY"),
            "concurrent_requests_per_domain": settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
            "autothrottle_enabled": settings.getbool("AUTOTHROTTLE_ENABLED"),
            "robotstxt_obey": settings.getbool("ROBOTSTXT_OBEY"),
        }
        for name, value in values.items():
            stats.set_value(f"politeness/{name}", value)

    def blocked_reason(self, response: Response) -> str | None:
        """Why ``response`` is a block or challenge page, not content (None: content)."""
        return challenge_reason(response)

    def page(
        self, url: str, callback: Callable[..., Any], kind: str, **kwargs: Any
    ) -> scrapy.Request:
        """A request for one ``kind`` of page whose refusal (robots.txt...) is reported."""
        meta = {"page_kind": kind, **kwargs.pop("meta", {})}
        return scrapy.Request(url, callback=callback, errback=self.not_fetched, meta=meta, **kwargs)

    def not_fetched(self, failure: Failure) -> None:
        """Errback: say which page was not fetched and why (robots.txt, block, error)."""
        request = getattr(failure, "request", None)
        kind = request.meta.get("page_kind", "page") if request is not None else "page"
        url = request.url if request is not None else "?"
        message = str(failure.value)
        stats = self.crawler.stats
        if "robots.txt" in message:
            if stats is not None:
                stats.inc_value(f"robots/disallowed/{kind}")
            logger.warning(
                "%s: robots.txt disallows %s pages, not fetched: %s", self.name, kind, url
            )
        else:
            logger.warning("%s: %s page not fetched (%s): %s", self.name, kind, message, url)

    @property
    def base_url(self) -> str:
        """The source's base URL from its setting, without a trailing slash."""
        configured = self.settings.get(self.base_url_setting) if self.base_url_setting else None
        return str(configured or self.default_base_url).rstrip("/")

    def url(self, path: str) -> str:
        """An absolute URL for ``path`` on the source."""
        return urljoin(self.base_url + "/", path.lstrip("/"))

    @property
    def max_pages(self) -> int:
        """How many listing / result pages to follow (``SCRAPERS_MAX_PAGES``)."""
        return self.settings.getint("SCRAPERS_MAX_PAGES", 5)

    def setlist_items(
        self, *, source_id: str, url: str, lines: Iterable[str], **fields: Any
    ) -> Iterator[scrapy.Item]:
        """The items of one tracklist: the setlist, then each track and its link.

        ``fields`` are further ``SetlistItem`` fields (name, dj_name, event_name, venue,
        date). Unidentifiable lines ("ID - ID") leave no item.
        """
        entries = parse_tracklist(lines)
        setlist_id = f"{self.name}:{source_id}"
        yield SetlistItem(
            setlist_id=setlist_id,
            source=self.name,
            source_id=source_id,
            url=url,
            track_count=len(entries),
            **fields,
        )
        for entry in entries:
            yield self.track_item(entry, url)
            yield self.link_item(entry, setlist_id)

    def track_item(self, entry: TracklistEntry, url: str) -> TrackItem:
        """The ``TrackItem`` of a parsed entry."""
        track = entry.track
        item = TrackItem(
            track_id=track.track_id,
            artist_name=track.artist,
            track_title=track.title,
            artists=list(track.artists),
            featured_artists=list(track.featured),
            source=self.name,
            source_url=url,
        )
        for name, value in (("version", track.version), ("remixer", track.remixer)):
            if value:
                item[name] = value
        if track.label:
            item["label"] = track.label
        return item

    def link_item(self, entry: TracklistEntry, setlist_id: str) -> SetlistTrackItem:
        """The ``SetlistTrackItem`` placing a parsed entry in its setlist."""
        return SetlistTrackItem(
            setlist_id=setlist_id,
            track_id=entry.track.track_id,
            position=entry.position,
            number=entry.number,
            cue_seconds=entry.cue_seconds,
            cue_time=format_cue(entry.cue_seconds),
            mashup=entry.mashup,
            source=self.name,
        )
