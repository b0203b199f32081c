"""Resident Advisor: the RA Podcast through ra.co's GraphQL endpoint (``POST /graphql``).

OFF BY DEFAULT: RA's terms of use forbid scraping its site. The spider does nothing unless
``RESIDENTADVISOR_ENABLED=true`` is set by someone who has RA's permission; it says so in
the log and in ``residentadvisor/disabled``.

Checked against (2026-12-03): issue 17's findings (``podcasts(limit: N)`` reported to
answer nothing for N > 10) and the operation and field names public RA scrapers on GitHub
send. RA publishes no API; the website's frontend queries ``https://ra.co/graphql`` and
this spider imitates those calls, so they may change without notice (unverified against a
live answer here). ``GET_PODCAST_ARCHIVE`` with ``limit <= 10`` lists the latest podcasts
(``data.podcasts[]``: ``id``, ``title``, ``date``, ``contentUrl``, ``artist.name``); older
ones are walked by id (``GET_PODCAST`` with ``id - 1``...) until
``RESIDENTADVISOR_PODCAST_LIMIT`` podcasts or a missing one (``podcast: null``). A
podcast's ``tracklist`` is HTML, one "Artist - Title" per ``<br />`` line. robots.txt is
obeyed and the requests carry the ``Referer`` and ``ra-content-language`` headers the site
sends.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import JsonRequest, Response

from scrapers.spiders.base import TracklistSpider
from scrapers.spiders.description import html_text, tracklist_lines

__all__ = ["ARCHIVE_LIMIT", "ARCHIVE_QUERY", "PODCAST_QUERY", "ResidentAdvisorSpider"]

#: The most podcasts one archive query may ask for (more is reported to answer nothing).
ARCHIVE_LIMIT = 10

ARCHIVE_QUERY = """query GET_PODCAST_ARCHIVE($limit: Int) {
  podcasts(limit: $limit) { id title date contentUrl artist { id name } }
}"""
PODCAST_QUERY = """query GET_PODCAST($id: ID!) {
  podcast(id: $id) { id title date contentUrl duration artist { id name } tracklist }
}"""


class ResidentAdvisorSpider(TracklistSpider):
    """The latest ``RESIDENTADVISOR_PODCAST_LIMIT`` RA podcasts and their tracklists."""

    name = "residentadvisor"
    base_url_setting = "RESIDENTADVISOR_BASE_URL"
    default_base_url = "https://ra.co"

    async def start(self) -> AsyncIterator[Any]:
        """The podcast archive query, when RA scraping is explicitly enabled."""
        if not self.settings.getbool("RESIDENTADVISOR_ENABLED"):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("residentadvisor/disabled")
            self.logger.warning(
                "residentadvisor is off: RA's terms forbid scraping; set"
                " RESIDENTADVISOR_ENABLED=true only with RA's permission"
            )
            return
        limit = min(self.wanted, ARCHIVE_LIMIT)
        yield self._graphql(
            "GET_PODCAST_ARCHIVE", ARCHIVE_QUERY, {"limit": limit}, self.parse_archive
        )

    @property
    def wanted(self) -> int:
        """How many podcasts to read (``RESIDENTADVISOR_PODCAST_LIMIT``)."""
        return max(0, self.settings.getint("RESIDENTADVISOR_PODCAST_LIMIT", 20))

    def _graphql(
        self, operation: str, query: str, variables: dict[str, Any], callback: Any
    ) -> JsonRequest:
        """A GraphQL POST as the website sends it."""
        headers = {"Referer": self.url("/podcast"), "ra-content-language": "en"}
        payload = {"operationName": operation, "variables": variables, "query": query}
        return JsonRequest(self.url("/graphql"), data=payload, headers=headers, callback=callback)

    def parse_archive(self, response: Response) -> Iterator[Any]:
        """One ``GET_PODCAST`` query per listed podcast; older ones walked by id after."""
        data = json.loads(response.body).get("data") or {}
        podcasts = data.get("podcasts") or []
        ids = [int(p["id"]) for p in podcasts if str(p.get("id", "")).isdigit()]
        for podcast in podcasts:
            yield self._podcast(str(podcast["id"]), 0)
        remaining = self.wanted - len(podcasts)
        if ids and remaining > 0:
            yield self._podcast(str(min(ids) - 1), remaining - 1)

    def _podcast(self, ident: str, walk: int) -> JsonRequest:
        """A ``GET_PODCAST`` query; ``walk`` more older ids follow it."""
        request = self._graphql("GET_PODCAST", PODCAST_QUERY, {"id": ident}, self.parse_podcast)
        request.cb_kwargs["walk"] = walk
        return request

    def parse_podcast(self, response: Response, walk: int = 0) -> Iterator[Any]:
        """One podcast: the setlist, its tracks and links; then the next older id."""
        podcast = (json.loads(response.body).get("data") or {}).get("podcast")
        if not podcast:
            return
        if walk > 0 and str(podcast.get("id", "")).isdigit():
            yield self._podcast(str(int(podcast["id"]) - 1), walk - 1)
        date = str(podcast.get("date") or "")
        yield from self.setlist_items(
            source_id=str(podcast["id"]),
            url=self.url(str(podcast.get("contentUrl") or f"/podcast/{podcast['id']}")),
            lines=tracklist_lines(html_text(str(podcast.get("tracklist") or "")), whole=True),
            name=podcast.get("title"),
            dj_name=(podcast.get("artist") or {}).get("name"),
            event_name="RA Podcast",
            date=date[:10] if len(date) >= 10 else None,
        )
