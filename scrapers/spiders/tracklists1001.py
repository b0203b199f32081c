"""1001tracklists.com: DJ pages list tracklists; each tracklist page is HTML with
schema.org ``MusicRecording`` microdata per track row.

A row (``div.tlpItem``) carries the cue (``div.cue``), the printed number
(``span.fontXL``: "01", or "w/" for a track played with the previous one), the credit
(``meta[itemprop=name]``, else the ``span.trackValue`` text; "ID - ID" when unknown)
and the label (``span.trackLabel``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider

__all__ = ["Tracklists1001Spider"]

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*$")


class Tracklists1001Spider(TracklistSpider):
    """Tracklists of the DJs in ``TRACKLISTS1001_DJS`` (or ``-a dj=slug``)."""

    name = "1001tracklists"
    base_url_setting = "TRACKLISTS1001_BASE_URL"
    default_base_url = "https://www.1001tracklists.com"

    async def start(self) -> AsyncIterator[Any]:
        """One DJ page per configured DJ slug."""
        dj = getattr(self, "dj", None)  # -a dj=slug
        for slug in [dj] if dj else self.settings.getlist("TRACKLISTS1001_DJS"):
            yield scrapy.Request(
                self.url(f"/dj/{slug}/index.html"), callback=self.parse_dj, cb_kwargs={"page": 1}
            )

    def parse_dj(self, response: Response, page: int) -> Iterator[Any]:
        """Follow every tracklist link, then the next listing page."""
        for href in response.css("div.bTitle a::attr(href)").getall():
            yield response.follow(href, callback=self.parse_tracklist)
        next_page = response.css("ul.pagination li.active + li a::attr(href)").get()
        if next_page and page < self.max_pages:
            yield response.follow(next_page, callback=self.parse_dj, cb_kwargs={"page": page + 1})

    def parse_tracklist(self, response: Response) -> Iterator[Any]:
        """A tracklist page: the setlist, its tracks and links."""
        title = " ".join(response.css("h1#pageTitle ::text").getall()).strip()
        date = _DATE.search(title)
        source_id = response.css("div#tlTab::attr(data-tlid)").get() or response.url
        yield from self.setlist_items(
            source_id=source_id,
            url=response.url,
            lines=[self._line(row) for row in response.css("div.tlpItem")],
            name=title,
            dj_name=response.css("meta[itemprop=author]::attr(content)").get(),
            event_name=response.css("meta[itemprop=event]::attr(content)").get(),
            date=date.group(1) if date else None,
        )

    @staticmethod
    def _line(row: Selector) -> str:
        """A row as a tracklist line: "[cue] number credit [label]"."""
        credit = row.css("meta[itemprop=name]::attr(content)").get()
        if not credit:
            credit = " ".join(" ".join(row.css("span.trackValue ::text").getall()).split())
        cue = (row.css("div.cue::text").get() or "").strip()
        number = (row.css("span.fontXL::text").get() or "").strip()
        prefix = "w/" if number.lower() == "w/" else (f"{number}." if number.isdigit() else "")
        label = (row.css("span.trackLabel::text").get() or "").strip()
        parts = [f"[{cue}]" if cue else "", prefix, credit, f"[{label}]" if label else ""]
        return " ".join(part for part in parts if part)
