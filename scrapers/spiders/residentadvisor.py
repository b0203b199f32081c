"""Resident Advisor: the RA Podcast through ra.co's GraphQL endpoint (``POST /graphql``).

RA publishes no public API; its website's frontend queries ``https://ra.co/graphql``
and this spider imitates those calls (operation names and fields as the site uses them;
unofficial, so they may change). ``GET_PODCAST_ARCHIVE`` lists the latest podcasts
(``data.podcasts[]``: ``id``, ``title``, ``date``, ``contentUrl``, ``artist.name``);
``GET_PODCAST`` returns one (``data.podcast``) whose ``tracklist`` is HTML, one
"Artist - Title" per ``<br />`` line. robots.txt is obeyed (a website, not an API with a
key) and the requests carry the ``Referer`` and ``ra-content-language`` headers the site
sends.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import JsonRequest, Response

from scrapers.spiders.base import TracklistSpider
from scrapers.spiders.description import html_text, tracklist_lines

__all__ = ["ARCHIVE_QUERY", "PODCAST_QUERY", "ResidentAdvisorSpider"]

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
        """The podcast archive query."""
        limit = self.settings.getint("RESIDENTADVISOR_PODCAST_LIMIT", 20)
        yield self._graphql(
            "GET_PODCAST_ARCHIVE", ARCHIVE_QUERY, {"limit": limit}, self.parse_archive
        )

    def _graphql(
        self, operation: str, query: str, variables: dict[str, Any], callback: Any
    ) -> JsonRequest:
        """A GraphQL POST as the website sends it."""
        headers = {"Referer": self.url("/podcast"), "ra-content-language": "en"}
        payload = {"operationName": operation, "variables": variables, "query": query}
        return JsonRequest(self.url("/graphql"), data=payload, headers=headers, callback=callback)

    def parse_archive(self, response: Response) -> Iterator[Any]:
        """One ``GET_PODCAST`` query per listed podcast."""
        data = json.loads(response.body).get("data") or {}
        for podcast in data.get("podcasts") or []:
            yield self._graphql(
                "GET_PODCAST", PODCAST_QUERY, {"id": str(podcast["id"])}, self.parse_podcast
            )

    def parse_podcast(self, response: Response) -> Iterator[Any]:
        """One podcast: the setlist, its tracks and links."""
        podcast = (json.loads(response.body).get("data") or {}).get("podcast")
        if not podcast:
            return
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
