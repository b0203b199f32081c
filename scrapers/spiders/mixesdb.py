"""MixesDB (MediaWiki): category pages list mixes; a mix page's tracklist is every list
between the "Tracklist" heading and the next section heading.

Checked against (2026-12-03): issue 17's findings from the live site (wrapped headings,
several lists per page, ``#catMixesList`` / ``.listPagination``, robots.txt crawl delay of
4 s) and public MixesDB scrapers on GitHub (category ``ul#catMixesList > li > a``, the
"next" link inside ``div.listPagination``, tracks in ``ol > li`` or in the newer
``div.list > div.list-track``). No page capture was available: the fixture reproduces
that structure, and the exact text of the "next" link and the page-bottom blocks are
unverified (any link containing "next"; the walk stops at the next ``h2``).

* Category: ``ul#catMixesList > li > a`` (older skins: ``#mw-pages li a``), the next page
  from ``div.listPagination a`` whose text contains "next".
* Mix page: ``h1#firstHeading`` "YYYY-MM-DD - DJ @ Event" (radio shows: "YYYY-MM-DD - DJ -
  Show"); the id is ``wgArticleId`` from the page's ``RLCONF`` script. The heading is
  ``div.mw-heading > h2#Tracklist`` (older: ``h2 > span#Tracklist``); after it come parts
  ("Part 1", "CD2": ``h3`` headings, read through) each an ``ol`` or a ``div.list``, up to
  the next ``h2`` (Comments, links, the page's bottom block). Lines are "[cue] Artist -
  Title [Label]"; cues are minutes ("[045]") or "[1:02:03]".
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

from parsel import Selector
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider

__all__ = ["MixesDbSpider", "title_parts", "tracklist_lines"]

_ARTICLE_ID = re.compile(r'"wgArticleId"\s*:\s*(\d+)')
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def title_parts(title: str) -> tuple[str | None, str | None, str | None]:
    """(date, DJ, event) of "YYYY-MM-DD - DJ @ Event" or "YYYY-MM-DD - DJ - Show"."""
    date, _, rest = title.partition(" - ")
    if not _DATE.match(date):
        date, rest = "", title
    dj_name, at, event = rest.partition(" @ ")
    if not at:
        dj_name, _, event = rest.partition(" - ")
    return date or None, dj_name.strip() or None, event.strip() or None


def _is_section_heading(node: Selector) -> bool:
    """Whether a top-level node of the page body opens a new ``h2`` section."""
    tag = node.root.tag if isinstance(node.root.tag, str) else ""
    classes = node.attrib.get("class", "")
    return tag == "h2" or ("mw-heading2" in classes) or bool(node.xpath("self::div/h2"))


def tracklist_lines(page: Selector) -> list[str]:
    """Every track line of every list in the "Tracklist" section, in page order."""
    anchor = page.xpath("//*[@id='Tracklist']")
    if not anchor:
        return []
    heading = anchor.xpath(
        "ancestor-or-self::*[self::h2 or contains(@class, 'mw-heading')][last()]"
    )
    lines: list[str] = []
    for node in (heading or anchor).xpath("following-sibling::*"):
        if _is_section_heading(node):
            break
        for item in node.xpath(
            "descendant-or-self::li | descendant-or-self::*[contains(@class, 'list-track')]"
        ):
            lines.append(" ".join(" ".join(item.css("::text").getall()).split()))
    return [line for line in lines if line]


class MixesDbSpider(TracklistSpider):
    """Mixes in the categories of ``MIXESDB_CATEGORIES`` (or ``-a category=Name``, or the
    seed's ``-a artist_name=Name``), at most ``-a limit=N`` of them."""

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

    #: Mix pages followed so far (``-a limit=N`` stops at N, the seed's recipe).
    followed = 0

    async def start(self) -> AsyncIterator[Any]:
        """One category page per configured category. MixesDB files every mix under its
        artists' categories, so the seed's ``-a artist_name=Name`` is that category."""
        chosen = getattr(self, "category", None) or getattr(self, "artist_name", None)
        for category in [chosen] if chosen else self.settings.getlist("MIXESDB_CATEGORIES"):
            url = self.url("/w/Category:" + quote(category.replace(" ", "_")))
            yield self.page(url, self.parse_category, "category", cb_kwargs={"page": 1})

    def parse_category(self, response: Response, page: int) -> Iterator[Any]:
        """Follow every mix in the category, then the "next" page link."""
        links = response.css("ul#catMixesList > li > a::attr(href)").getall()
        for href in links or response.css("#mw-pages li a::attr(href)").getall():
            if self.limit_reached():
                return
            self.followed += 1
            yield self.page(response.urljoin(href), self.parse_mix, "mix")
        pagers = response.css("div.listPagination a, #mw-pages > a")
        following = [a for a in pagers if "next" in " ".join(a.css("::text").getall()).lower()]
        if following and page < self.max_pages and not self.limit_reached():
            url = response.urljoin(following[0].attrib["href"])
            yield self.page(url, self.parse_category, "category", cb_kwargs={"page": page + 1})

    def limit_reached(self) -> bool:
        """``-a limit=N`` mixes were followed (no limit without the argument)."""
        limit = getattr(self, "limit", None)
        return limit is not None and self.followed >= int(limit)

    def parse_mix(self, response: Response) -> Iterator[Any]:
        """A mix page: the setlist, its tracks and links."""
        title = " ".join(" ".join(response.css("h1#firstHeading ::text").getall()).split())
        date, dj_name, event = title_parts(title)
        article = _ARTICLE_ID.search(response.text)
        yield from self.setlist_items(
            source_id=article.group(1) if article else response.url,
            url=response.url,
            lines=tracklist_lines(Selector(text=response.text)),
            name=title,
            dj_name=dj_name,
            event_name=event,
            date=date,
        )
