"""LiveTracklist (HTML): artist pages list tracklists; a tracklist page is a timed list.

An artist page (``/artist/<slug>/``) links each tracklist from ``a.tracklist-link`` and
the next listing page from ``a[rel=next]``. A tracklist page has the title in
``h1.tracklist-title``, the DJ in ``a.tracklist-artist``, the event in
``.tracklist-event``, the date in ``time[datetime]`` and one ``li.track`` per row with
``span.track-time`` (cue), ``span.track-artist``, ``span.track-title`` and an optional
``span.track-label``; ``li.track.with`` rows were played with the previous one and
unknown rows read "ID". The id is ``data-tracklist-id`` on ``ol.tracklist``.

The site documents no API; this markup is the fixture's rendering of its timed
tracklist pages, written from memory and not checked against the live site: verify the
selectors on a real page before a production crawl.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider

__all__ = ["LiveTracklistSpider"]


def _text(row: Selector | Response, css: str) -> str:
    """The whitespace-normalised text under ``css``."""
    return " ".join(" ".join(row.css(f"{css} ::text").getall()).split())


class LiveTracklistSpider(TracklistSpider):
    """Tracklists of the artists in ``LIVETRACKLIST_ARTISTS`` (or ``-a artist=slug``)."""

    name = "livetracklist"
    base_url_setting = "LIVETRACKLIST_BASE_URL"
    default_base_url = "https://www.livetracklist.com"

    async def start(self) -> AsyncIterator[Any]:
        """One artist page per configured slug."""
        chosen = getattr(self, "artist", None)  # -a artist=slug
        for slug in [chosen] if chosen else self.settings.getlist("LIVETRACKLIST_ARTISTS"):
            yield scrapy.Request(
                self.url(f"/artist/{slug}/"), callback=self.parse_artist, cb_kwargs={"page": 1}
            )

    def parse_artist(self, response: Response, page: int) -> Iterator[Any]:
        """Follow every tracklist link, then the next listing page."""
        for href in response.css("a.tracklist-link::attr(href)").getall():
            yield response.follow(href, callback=self.parse_tracklist)
        next_page = response.css("a[rel=next]::attr(href)").get()
        if next_page and page < self.max_pages:
            yield response.follow(
                next_page, callback=self.parse_artist, cb_kwargs={"page": page + 1}
            )

    def parse_tracklist(self, response: Response) -> Iterator[Any]:
        """A tracklist page: the setlist, its tracks and links."""
        table = response.css("ol.tracklist")
        date = response.css("time::attr(datetime)").get() or ""
        yield from self.setlist_items(
            source_id=table.attrib.get("data-tracklist-id") or response.url,
            url=response.url,
            lines=[self._line(row) for row in table.css("li.track")],
            name=_text(response, "h1.tracklist-title") or None,
            dj_name=_text(response, "a.tracklist-artist") or None,
            event_name=_text(response, ".tracklist-event") or None,
            date=date[:10] if len(date) >= 10 else None,
        )

    @staticmethod
    def _line(row: Selector) -> str:
        """A row as a tracklist line: "[cue] w/ Artist - Title [Label]"."""
        cue = _text(row, "span.track-time")
        together = "w/" if "with" in (row.attrib.get("class") or "").split() else ""
        credit = f"{_text(row, 'span.track-artist')} - {_text(row, 'span.track-title')}"
        label = _text(row, "span.track-label")
        parts = [f"[{cue}]" if cue else "", together, credit, f"[{label}]" if label else ""]
        return " ".join(part for part in parts if part)
