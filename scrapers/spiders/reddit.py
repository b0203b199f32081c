"""Reddit's public JSON: ``/r/<subreddit>/search.json?q=tracklist&restrict_sr=1&sort=new``.

The answer is a ``Listing`` (``data.children[]``, ``data.after`` for the next page); each
``t3`` child is a post whose Markdown ``selftext`` may hold a tracklist ("Tracklist:"
then numbered or bulleted "Artist - Title" lines, or timestamped lines). Titles such as
"Eric Prydz @ Creamfields 2019" give the DJ and event. No key, but Reddit refuses
generic agents: the project's identifying ``USER_AGENT`` is sent. Unauthenticated use
is limited to about 10 requests a minute: ``DOWNLOAD_DELAY`` 6.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import scrapy
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider
from scrapers.spiders.description import tracklist_lines

__all__ = ["RedditSpider"]


class RedditSpider(TracklistSpider):
    """Tracklist posts of the subreddits in ``REDDIT_SUBREDDITS`` (or ``-a subreddit=``)."""

    name = "reddit"
    base_url_setting = "REDDIT_BASE_URL"
    default_base_url = "https://www.reddit.com"
    # The JSON endpoints are an API; robots.txt is for crawlers of the HTML site.
    custom_settings = {"ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 6.0}  # noqa: RUF012

    async def start(self) -> AsyncIterator[Any]:
        """The first search page per subreddit."""
        chosen = getattr(self, "subreddit", None)  # -a subreddit=Name
        for subreddit in [chosen] if chosen else self.settings.getlist("REDDIT_SUBREDDITS"):
            yield self._search(subreddit, None, 1)

    def _search(self, subreddit: str, after: str | None, page: int) -> scrapy.Request:
        """The search request for one listing page (``after`` is the previous page's last)."""
        query = {
            "q": self.settings.get("REDDIT_QUERY", "tracklist"),
            "restrict_sr": "1",
            "sort": "new",
            "limit": "25",
            "raw_json": "1",
        }
        if after:
            query["after"] = after
        return scrapy.Request(
            self.url(f"/r/{quote(subreddit)}/search.json?{urlencode(query)}"),
            callback=self.parse_listing,
            cb_kwargs={"subreddit": subreddit, "page": page},
        )

    def parse_listing(self, response: Response, subreddit: str, page: int) -> Iterator[Any]:
        """Every post with a tracklist, then the next page."""
        listing = json.loads(response.body)["data"]
        for child in listing.get("children", []):
            if child.get("kind") == "t3":
                yield from self._post(child["data"])
        after = listing.get("after")
        if after and page < self.max_pages:
            yield self._search(subreddit, after, page + 1)

    def _post(self, post: dict[str, Any]) -> Iterator[Any]:
        """The items of one post (none when its text holds no tracklist)."""
        lines = tracklist_lines(post.get("selftext") or "")
        if not lines:
            return
        title = str(post.get("title") or "").strip()
        dj_name, at, event = title.partition(" @ ")
        created = post.get("created_utc")
        yield from self.setlist_items(
            source_id=str(post["id"]),
            url=self.url(str(post.get("permalink") or f"/comments/{post['id']}/")),
            lines=lines,
            name=title,
            dj_name=dj_name.strip() if at else None,
            event_name=event.strip() or None,
            date=datetime.fromtimestamp(float(created), UTC).date().isoformat()
            if created
            else None,
        )
