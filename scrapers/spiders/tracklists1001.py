"""1001tracklists.com: a DJ page lists the DJ's tracklists; each tracklist page is HTML
with schema.org microdata.

Checked against (2026-12-03): four real page captures taken by a public project between
2023 and 2026 (three tracklist pages and the JavaScript challenge shell served in place
of a fourth) and the site's IP-block page on a tracklist and a search URL; for the DJ
page's infinite scroll, a public TypeScript DJ-sync project (2026) that drives it.

Tracklist page (verified on the captures):

* ``#pageTitle h1``: the set's name, "DJ @ Event, Country YYYY-MM-DD", with links to
  ``/dj/<slug>/`` (the DJs) and ``/source/<id>/`` (event, venue, radio show: the event).
* ``div#tlTab`` (``itemtype=MusicPlaylist``): ``data-id`` is the tracklist id; its own
  ``meta`` children carry ``name``, ``datePublished`` (the set's date), ``numTracks`` and
  one ``author`` per DJ. The page-level ``meta[itemprop=author]`` is the *submitting user*,
  not the DJ, and is never read.
* ``div.tlpItem`` rows: ``span.fontXL`` the printed number ("01", or "w/" for a track
  played with the previous one), ``div.cue`` the cue text (empty when unknown; the
  hidden ``input[id$=_cue_seconds]`` holds 0 then, so it is not used), the credit in
  ``meta[itemprop=name]`` ("ID" titles are unknowns), the label in ``span.trackLabel``.

Block pages (verified): the captcha page ("limited due to overuse", a form posting to
``/info/unblock_ip.html``, ``#captcha``) and the challenge shell ("Please wait, you will be
forwarded", ``#turnstile-container``) stop the spider (``scrapers.blocking``). A page
without ``#tlTab`` yields no set (counted in ``1001tracklists/no_tracklist``).

DJ page (not captured; from the public project, unverified here): rows ``div.oItm`` with a
``data-id`` and a ``/tracklist/<id>/<slug>.html`` link; further rows come from
``POST /ajax/get_data.php`` (form: ``type=overview``, ``dj`` = ``iScrollParams.dj`` from
the page's script, ``pos`` = rows shown, ``id`` = last row's ``data-id``, ``count``) whose
JSON is ``{success, data: <rows HTML>, end, captcha}``. Whether robots.txt allows
``/ajax/`` is unverified: robots.txt is obeyed, and a refusal is logged and counted.

Politeness: public scrapers report a block after about 100 requests in 4 minutes, so one
request at a time, 3 s apart (no randomisation below that).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from parsel import Selector
from scrapy.http import HtmlResponse, Response, TextResponse

from scrapers.blocking import challenge_reason, page_kind
from scrapers.spiders.base import TracklistSpider

__all__ = ["Tracklists1001Spider"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TITLE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*$")
_TRACKLIST_ID = re.compile(r"/tracklist/([^/]+)/")
_SCROLL_DJ = re.compile(r"""iScrollParams\s*\.\s*dj\s*=\s*['"]([^'"]+)['"]""")
#: Label texts that name no label.
NO_LABEL = frozenset({"not on label", "self released", "self-released"})
#: Rows asked for per infinite-scroll request (what the site's own script asks for).
SCROLL_COUNT = 15


class Tracklists1001Spider(TracklistSpider):
    """Tracklists of the DJs in ``TRACKLISTS1001_DJS`` (or ``-a dj=slug``)."""

    name = "1001tracklists"
    base_url_setting = "TRACKLISTS1001_BASE_URL"
    default_base_url = "https://www.1001tracklists.com"
    custom_settings = {  # noqa: RUF012 - Scrapy's own class attribute
        "DOWNLOAD_DELAY": 3.0,
        "RANDOMIZE_DOWNLOAD_DELAY": False,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "AUTOTHROTTLE_START_DELAY": 3.0,
    }

    async def start(self) -> AsyncIterator[Any]:
        """One DJ page per configured DJ slug."""
        dj = getattr(self, "dj", None)  # -a dj=slug
        for slug in [dj] if dj else self.settings.getlist("TRACKLISTS1001_DJS"):
            url = self.url(f"/dj/{slug}/index.html")
            yield self.page(url, self.parse_dj, "dj", cb_kwargs={"page": 1})

    def blocked_reason(self, response: Response) -> str | None:
        """The captcha page, the challenge shell, or a scroll answer asking for a captcha."""
        if generic := challenge_reason(response):
            return generic
        if isinstance(response, HtmlResponse):
            if response.css("form[action*='unblock_ip'], #captcha"):
                return "captcha"
            if response.css("#turnstile-container") and not response.css("#tlTab"):
                return "challenge"
        elif isinstance(response, TextResponse) and page_kind(response) == "dj_more":
            try:
                answer = json.loads(response.text)
            except ValueError:
                return None
            return "captcha" if isinstance(answer, dict) and answer.get("captcha") else None
        return None

    def parse_dj(self, response: Response, page: int) -> Iterator[Any]:
        """Follow every tracklist on the DJ page, then ask for the next scroll of rows.

        @fixture 1001tracklists/dj/ericprydz/index.html
        @cb_kwargs {"page": 1}
        @returns requests 3 3
        @returns items 0 0
        """
        yield from self._tracklists(response.css("div.oItm").getall(), response)
        dj_id = _SCROLL_DJ.search(response.text)
        if dj_id:
            yield from self._more(response, dj_id.group(1), response.css("div.oItm"), 0, page)

    def parse_more(self, response: Response, dj_id: str, shown: int, page: int) -> Iterator[Any]:
        """One infinite-scroll answer: its tracklists, then the next scroll unless at the end."""
        answer = json.loads(response.text)
        rows = Selector(text=str(answer.get("data") or "<div></div>")).css("div.oItm")
        yield from self._tracklists(rows.getall(), response)
        if answer.get("success") and not answer.get("end"):
            yield from self._more(response, dj_id, rows, shown, page)

    def _tracklists(self, rows: list[str], response: Response) -> Iterator[Any]:
        """A request per tracklist linked from ``rows`` (HTML of ``div.oItm``)."""
        for row in rows:
            href = Selector(text=row).css("a[href*='/tracklist/']::attr(href)").get()
            if href:
                yield self.page(response.urljoin(href), self.parse_tracklist, "tracklist")

    def _more(
        self, response: Response, dj_id: str, rows: Any, shown: int, page: int
    ) -> Iterator[Any]:
        """The next infinite-scroll request, while rows keep coming and pages remain."""
        last = rows[-1].attrib.get("data-id") if rows else None
        if not last or page >= self.max_pages:
            return
        shown += len(rows)
        form = {"type": "overview", "dj": dj_id, "pos": str(shown), "id": last}
        yield scrapy.FormRequest(
            self.url("/ajax/get_data.php"),
            formdata=form | {"count": str(SCROLL_COUNT)},
            callback=self.parse_more,
            errback=self.not_fetched,
            meta={"page_kind": "dj_more"},
            headers={"X-Requested-With": "XMLHttpRequest", "Referer": response.url},
            cb_kwargs={"dj_id": dj_id, "shown": shown, "page": page + 1},
        )

    def parse_tracklist(self, response: Response) -> Iterator[Any]:
        """A tracklist page: the setlist, its tracks and links (nothing without one).

        @fixture 1001tracklists/tracklist/1tq9h3k/eric-prydz-epic-radio-episode-1-2023-06-10.html
        @returns items 19 19
        @returns requests 0 0
        """
        playlist = response.css("div#tlTab")
        if not playlist:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("1001tracklists/no_tracklist")
            self.logger.info("no tracklist on %s", response.url)
            return
        heading = response.css("#pageTitle h1")
        name = " ".join("".join(heading.css("::text").getall()).split())
        name = name or playlist.xpath("./meta[@itemprop='name']/@content").get() or ""
        ident = playlist.attrib.get("data-id") or _TRACKLIST_ID.search(response.url)
        source_id = ident if isinstance(ident, str) else ident.group(1) if ident else response.url
        yield from self.setlist_items(
            source_id=source_id,
            url=response.url,
            lines=[self._line(row) for row in response.css("div.tlpItem")],
            name=name,
            dj_name=self._djs(playlist, heading),
            event_name=", ".join(heading.css("a[href*='/source/']::text").getall()) or None,
            date=self._date(playlist, name),
        )

    @staticmethod
    def _djs(playlist: Selector | Any, heading: Selector | Any) -> str | None:
        """The set's DJs: the playlist's own ``author`` metas, else the heading's DJ links."""
        names = playlist.xpath("./meta[@itemprop='author']/@content").getall()
        names = names or heading.css("a[href*='/dj/']::text").getall()
        return " & ".join(name.strip() for name in names if name.strip()) or None

    @staticmethod
    def _date(playlist: Selector | Any, name: str) -> str | None:
        """The set's date: the playlist's ``datePublished``, else the title's last word."""
        published = (playlist.xpath("./meta[@itemprop='datePublished']/@content").get() or "")[:10]
        if _DATE.match(published):
            return published
        found = _TITLE_DATE.search(name)
        return found.group(1) if found else None

    @staticmethod
    def _line(row: Selector) -> str:
        """A row as a tracklist line: "[cue] number credit [label]"."""
        credit = row.css("meta[itemprop=name]::attr(content)").get()
        if not credit:
            credit = " ".join(" ".join(row.css("span.trackValue ::text").getall()).split())
        cue = (row.css("div.cue::text").get() or "").strip()
        number = (row.css("span.fontXL::text").get() or "").strip()
        prefix = "w/" if number.lower() == "w/" else (f"{number}." if number.isdigit() else "")
        label = " ".join((row.css("span.trackLabel::text").get() or "").split())
        label = "" if label.casefold() in NO_LABEL else label
        parts = [f"[{cue}]" if cue else "", prefix, credit, f"[{label}]" if label else ""]
        return " ".join(part for part in parts if part)
