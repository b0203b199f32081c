"""YouTube Data API v3 (JSON): ``https://www.googleapis.com/youtube/v3``, an API key per request.

Checked against (2026-12-03): the YouTube Data API v3 reference and quota documentation
as issue 17 summarises it: ``search.list`` now has its own quota bucket of 100 calls a
day (each call formerly cost 100 of the 10,000 daily units), ``videos.list`` costs 1 unit
per call for up to 50 ids. So the spider plans around searches: one search page per query
per crawl by default (``YOUTUBE_MAX_SEARCH_PAGES``, 1), 50 results a page, and one
``videos.list`` call per page of results for the full descriptions. Ten queries a day
stay far inside the search bucket; the video calls are negligible. Unverified here: the
exact reset time of the search bucket (Pacific midnight, like the unit quota).

``search?part=snippet&type=video&q=...`` finds videos (``items[].id.videoId``,
``nextPageToken``); its snippets cut descriptions short, so ``videos?part=snippet&id=a,b``
then returns each video (``items[].id``, ``snippet.title``, ``snippet.description``,
``snippet.channelTitle``, ``snippet.publishedAt``). Sets keep their tracklist in the
description, usually as chapters ("00:00 Artist - Title"), read by
``spiders.description``. ``YOUTUBE_API_KEY`` is required (the spider closes without one)
and travels in the ``X-goog-api-key`` header (Google APIs accept it there), never in the
URL: Scrapy logs every URL it fetches, so a ``key=`` parameter would put the key in logs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider
from scrapers.spiders.description import tracklist_lines

__all__ = ["YouTubeSpider"]


class YouTubeSpider(TracklistSpider):
    """Videos found by the searches in ``YOUTUBE_QUERIES`` (or ``-a query=...``)."""

    name = "youtube"
    base_url_setting = "YOUTUBE_BASE_URL"
    default_base_url = "https://www.googleapis.com"
    custom_settings = {"ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 1.0}  # noqa: RUF012

    async def start(self) -> AsyncIterator[Any]:
        """The first search page per query."""
        if not self.settings.get("YOUTUBE_API_KEY"):
            raise CloseSpider("YOUTUBE_API_KEY is not set")
        chosen = getattr(self, "query", None)  # -a query=...
        for query in [chosen] if chosen else self.settings.getlist("YOUTUBE_QUERIES"):
            yield self._search(query, None, 1)

    def _api(self, method: str, params: dict[str, Any], **kwargs: Any) -> scrapy.Request:
        """An API request: ``params`` in the URL, the key in a header (URLs are logged)."""
        url = self.url(f"/youtube/v3/{method}?{urlencode(params)}")
        headers = {"X-goog-api-key": str(self.settings.get("YOUTUBE_API_KEY") or "")}
        return scrapy.Request(url, headers=headers, **kwargs)

    def _search(self, query: str, token: str | None, page: int) -> scrapy.Request:
        """One search result page."""
        params = {"part": "snippet", "type": "video", "maxResults": 50, "q": query}
        if token:
            params["pageToken"] = token
        return self._api(
            "search", params, callback=self.parse_search, cb_kwargs={"query": query, "page": page}
        )

    def parse_search(self, response: Response, query: str, page: int) -> Iterator[Any]:
        """The full videos of a result page, then the next page."""
        data = json.loads(response.body)
        ids = [item["id"]["videoId"] for item in data.get("items", []) if "videoId" in item["id"]]
        if ids:
            params = {"part": "snippet", "id": ",".join(ids)}
            yield self._api("videos", params, callback=self.parse_videos)
        token = data.get("nextPageToken")
        if token and page < self.settings.getint("YOUTUBE_MAX_SEARCH_PAGES", 1):
            yield self._search(query, token, page + 1)

    def parse_videos(self, response: Response) -> Iterator[Any]:
        """Every video whose description holds a tracklist."""
        for video in json.loads(response.body).get("items", []):
            snippet = video.get("snippet") or {}
            lines = tracklist_lines(str(snippet.get("description") or ""))
            if not lines:
                continue
            published = str(snippet.get("publishedAt") or "")
            yield from self.setlist_items(
                source_id=str(video["id"]),
                url=f"https://www.youtube.com/watch?v={video['id']}",
                lines=lines,
                name=snippet.get("title"),
                dj_name=snippet.get("channelTitle"),
                date=published[:10] if len(published) >= 10 else None,
            )
