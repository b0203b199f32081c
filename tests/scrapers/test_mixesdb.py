"""The MixesDB spider on pages in the site's current MediaWiki structure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parsel import Selector
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from scrapers.items import SetlistItem, SetlistTrackItem, TrackItem
from scrapers.spiders.mixesdb import MixesDbSpider, title_parts, tracklist_lines

FIXTURES = Path(__file__).with_name("fixtures") / "mixesdb"


def spider() -> MixesDbSpider:
    """The spider on a crawler with its own settings."""
    return MixesDbSpider.from_crawler(get_crawler(MixesDbSpider))


def page(path: str, url: str = "https://www.mixesdb.com/w/x") -> HtmlResponse:
    """A fixture page as the response for ``url``."""
    return HtmlResponse(url, body=(FIXTURES / path).read_bytes(), request=Request(url))


def test_mix_page_with_wrapped_heading() -> None:
    """``div.mw-heading > h2#Tracklist``: the list after it, minute cues, a linked artist."""
    out: list[Any] = list(
        spider().parse_mix(page("w/2016-03-26_-_Eric_Prydz_@_Ultra_Music_Festival,_Miami"))
    )
    (setlist,) = [i for i in out if isinstance(i, SetlistItem)]
    links = [i for i in out if isinstance(i, SetlistTrackItem)]
    tracks = [i for i in out if isinstance(i, TrackItem)]
    assert (setlist["setlist_id"], setlist["dj_name"]) == ("mixesdb:512201", "Eric Prydz")
    assert (setlist["date"], setlist["event_name"]) == ("2016-03-26", "Ultra Music Festival, Miami")
    assert len(links) == 11  # 11 lines, "? - ?" skipped, one "vs." mashup of two tracks
    assert links[3]["cue_seconds"] == 11 * 60
    assert tracks[3]["artist_name"] == "Cirez D"  # a wiki link inside the line


def test_parts_are_read_through_to_the_next_section() -> None:
    """Part 1 (``ol``) and Part 2 (``div.list``) make one list; Comments and the bottom don't."""
    path = FIXTURES / "w/2022-11-05_-_Eric_Prydz_@_HOLOSPHERE,_Printworks_London"
    lines = tracklist_lines(Selector(path.read_text()))
    assert len(lines) == 8
    assert lines[0].startswith("[0:00:00] Pryda")
    assert lines[-1].startswith("[1:02:03]")
    assert not any("footer" in line or "1001tracklists" in line for line in lines)


def test_older_heading_markup_still_reads() -> None:
    """``h2 > span#Tracklist`` (the skin before the wrapped headings) finds the same list."""
    html = (
        '<div class="mw-parser-output"><h2><span class="mw-headline" id="Tracklist">Tracklist'
        "</span></h2><ol><li>[000] A - One</li><li>[004] B - Two</li></ol>"
        '<h2><span id="Comments">Comments</span></h2><ul><li>C - Three</li></ul></div>'
    )
    assert tracklist_lines(Selector(html)) == ["[000] A - One", "[004] B - Two"]


def test_category_lists_mixes_and_pages_on() -> None:
    """``#catMixesList`` links are followed; a "next" link in ``.listPagination`` too."""
    out = list(spider().parse_category(page("w/Category:Eric_Prydz"), page=1))
    assert [r.meta["page_kind"] for r in out] == ["mix", "mix"]
    html = (
        b'<ul id="catMixesList"><li><a href="/w/2020-01-01_-_A_@_B">m</a></li></ul>'
        b'<div class="listPagination"><a href="/w/Category:A?offset=200">next 200</a></div>'
    )
    url = "https://www.mixesdb.com/w/Category:A"
    response = HtmlResponse(url, body=html, request=Request(url))
    kinds = [(r.meta["page_kind"], r.url) for r in spider().parse_category(response, page=1)]
    assert kinds[1] == ("category", "https://www.mixesdb.com/w/Category:A?offset=200")


def test_titles() -> None:
    """Event sets ("@") and radio shows (" - Show") both give date, DJ and event."""
    assert title_parts("2020-04-06 - Pete Tong - Essential Selection") == (
        "2020-04-06",
        "Pete Tong",
        "Essential Selection",
    )
    assert title_parts("2019-08-24 - Eric Prydz @ Creamfields, UK") == (
        "2019-08-24",
        "Eric Prydz",
        "Creamfields, UK",
    )


async def test_the_seeds_artist_name_and_limit_arguments() -> None:
    """`scrapy crawl mixesdb -a artist_name='Deadmau5' -a limit=1` (the seed's recipe): the
    artist's category, and no more mixes (nor pages) than the limit."""
    crawler = get_crawler(MixesDbSpider)
    limited = MixesDbSpider.from_crawler(crawler, artist_name="Deadmau5", limit="1")
    (start,) = [request async for request in limited.start()]
    assert start.url == "https://www.mixesdb.com/w/Category:Deadmau5"
    html = (
        b'<ul id="catMixesList"><li><a href="/w/2020-01-01_-_A_@_B">m</a></li>'
        b'<li><a href="/w/2020-01-02_-_A_@_C">n</a></li></ul>'
        b'<div class="listPagination"><a href="/w/Category:A?offset=200">next 200</a></div>'
    )
    url = "https://www.mixesdb.com/w/Category:Deadmau5"
    response = HtmlResponse(url, body=html, request=Request(url))
    kinds = [r.meta["page_kind"] for r in limited.parse_category(response, page=1)]
    assert kinds == ["mix"]
    unlimited = [r.meta["page_kind"] for r in spider().parse_category(response, page=1)]
    assert unlimited == ["mix", "mix", "category"]
