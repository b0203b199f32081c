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
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import urljoin

import scrapy

from scrapers.items import SetlistItem, SetlistTrackItem, TrackItem
from scrapers.parsing import TracklistEntry, format_cue, parse_tracklist

__all__ = ["TracklistSpider"]


class TracklistSpider(scrapy.Spider):
    """A spider whose pages are tracklists; subclasses set the class variables below."""

    #: The setting holding the source's base URL (tests point it at 127.0.0.1).
    base_url_setting: ClassVar[str] = ""
    #: The real site's base URL.
    default_base_url: ClassVar[str] = ""

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
