"""MixesDB (MediaWiki): category pages list mixes; a mix page's tracklist is the ordered
list after the "Tracklist" heading, one "[cue] Artist - Title [Label]" per ``li``.

Cues are minutes in brackets ("[045]") or "[1:02:03]"; the page title is
"YYYY-MM-DD - DJ @ Event".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider

__all__ = ["MixesDbSpider"]


class MixesDbSpider(TracklistSpider):
    """Mixes in the categories of ``MIXESDB_CATEGORIES`` (or ``-a category=Name``)."""

    name = "mixesdb"
    base_url_setting = "MIXESDB_BASE_URL"
    default_base_url = "https://www.mixesdb.com"
    # MixesDB's robots.txt asks for a crawl delay of 4 s.
    custom_settings = {  # noqa: RUF012 - Scrapy's own class attribute
        "DOWNLOAD_DELAY": 4.0,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "AUTOTHROTTLE_START_DELAY": 4.0,
    }

    async def start(self) -> AsyncIterator[Any]:
        """One category page per configured category."""
        chosen = getattr(self, "category", None)  # -a category=Name
        for category in [chosen] if chosen else self.settings.getlist("MIXESDB_CATEGORIES"):
            path = "/w/Category:" + quote(category.replace(" ", "_"))
            yield scrapy.Request(
                self.url(path), callback=self.parse_category, cb_kwargs={"page": 1}
            )

    def parse_category(self, response: Response, page: int) -> Iterator[Any]:
        """Follow every mix in the category, then the "next page" link."""
        for href in response.css("#mw-pages li a::attr(href)").getall():
            yield response.follow(href, callback=self.parse_mix)
        next_page = response.xpath("//div[@id='mw-pages']//a[text()='next page']/@href").get()
        if next_page and page < self.max_pages:
            yield response.follow(
                next_page, callback=self.parse_category, cb_kwargs={"page": page + 1}
            )

    def parse_mix(self, response: Response) -> Iterator[Any]:
        """A mix page: the setlist, its tracks and links."""
        title = " ".join(response.css("h1#firstHeading ::text").getall()).strip()
        date, _, rest = title.partition(" - ")
        dj_name, _, event = rest.partition(" @ ")
        heading = "//h2[span[@id='Tracklist']]"
        items = response.xpath(f"{heading}/following-sibling::ol[1]/li")
        lines = [" ".join(" ".join(li.css("::text").getall()).split()) for li in items]
        page_id = response.css("body::attr(data-page-id)").get()
        yield from self.setlist_items(
            source_id=page_id or response.url,
            url=response.url,
            lines=lines,
            name=title,
            dj_name=dj_name or None,
            event_name=event or None,
            date=date if len(date) == 10 else None,
        )
