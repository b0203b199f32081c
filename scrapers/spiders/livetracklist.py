"""LiveTracklist (HTML): artist pages list tracklists; a tracklist page is a timed list.

Checked against (2026-12-03): issue 17's findings on the live site only (no capture, no
public scraper found): tracklist pages live at a root slug (``/<slug>``), rows are
``#TheList > li`` with ``span.artist`` / ``span.title``, and the cue time is not in the
text but in a per-row CSS rule (``content: "11:40"`` on a selector naming the row by its
``id``, or by ``:nth-child(N)``). Unverified: the exact form of that CSS rule (both forms
above are read), the artist page's markup (``a.tracklist-link``, ``a[rel=next]``), the
header fields (``h1.tracklist-title``, ``a.tracklist-artist``, ``.tracklist-event``,
``time[datetime]``, ``body[data-tracklist-id]``), the label (``span.label``) and the
"played with the previous" marker (``li.with``). Verify them on a real page before a
production crawl.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider

__all__ = ["LiveTracklistSpider", "row_cues"]


_RULE = re.compile(r"([^{}]+)\{([^}]*)\}")
_CONTENT_CUE = re.compile(r"content:\s*[\"']((?:\d{1,2}:)?\d{1,3}:\d{2})[\"']")
_NTH = re.compile(r"nth-child\(\d+\)")
_ID = re.compile(r"#[\w-]+")


def row_cues(css: str) -> dict[str, str]:
    """Row selector ("#t1" or "nth-child(3)") -> cue, from the page's per-row CSS rules."""
    cues: dict[str, str] = {}
    for selector, body in _RULE.findall(css):
        cue = _CONTENT_CUE.search(body)
        row = _NTH.search(selector) or (_ID.findall(selector) or [None])[-1]
        if cue and row:
            cues[row if isinstance(row, str) else row.group(0)] = cue.group(1)
    return cues


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
            url = self.url(f"/artist/{slug}/")
            yield self.page(url, self.parse_artist, "artist", cb_kwargs={"page": 1})

    def parse_artist(self, response: Response, page: int) -> Iterator[Any]:
        """Follow every tracklist link, then the next listing page."""
        for href in response.css("a.tracklist-link::attr(href)").getall():
            yield self.page(response.urljoin(href), self.parse_tracklist, "tracklist")
        next_page = response.css("a[rel=next]::attr(href)").get()
        if next_page and page < self.max_pages:
            url = response.urljoin(next_page)
            yield self.page(url, self.parse_artist, "artist", cb_kwargs={"page": page + 1})

    def parse_tracklist(self, response: Response) -> Iterator[Any]:
        """A tracklist page: the setlist, its tracks and links.

        @fixture livetracklist/eric-prydz-holo-alexandra-palace-london-2019-07-13.html
        @returns items 13 13
        """
        rows = response.css("#TheList > li")
        cues = row_cues(" ".join(response.css("style::text").getall()))
        date = response.css("time::attr(datetime)").get() or ""
        ident = response.css("body::attr(data-tracklist-id)").get()
        yield from self.setlist_items(
            source_id=ident or urlsplit(response.url).path.strip("/"),
            url=response.url,
            lines=[self._line(row, index, cues) for index, row in enumerate(rows, 1)],
            name=_text(response, "h1.tracklist-title") or None,
            dj_name=_text(response, "a.tracklist-artist") or None,
            event_name=_text(response, ".tracklist-event") or None,
            date=date[:10] if len(date) >= 10 else None,
        )

    @staticmethod
    def _line(row: Selector, index: int, cues: dict[str, str]) -> str:
        """A row as a tracklist line: "[cue] w/ Artist - Title [Label]"."""
        cue = cues.get(f"#{row.attrib.get('id', '')}") or cues.get(f"nth-child({index})", "")
        together = "w/" if "with" in (row.attrib.get("class") or "").split() else ""
        credit = f"{_text(row, 'span.artist')} - {_text(row, 'span.title')}"
        label = _text(row, "span.label")
        parts = [f"[{cue}]" if cue else "", together, credit, f"[{label}]" if label else ""]
        return " ".join(part for part in parts if part)
