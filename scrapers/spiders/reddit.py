"""Reddit through its OAuth API: app-only token, then subreddit searches on the OAuth host.

Checked against (2026-12-03): Reddit's OAuth2 documentation (application-only
``client_credentials`` grant: ``POST https://www.reddit.com/api/v1/access_token`` with
HTTP basic auth ``client_id:client_secret``; API calls on ``https://oauth.reddit.com``
with ``Authorization: bearer <token>``, tokens valid 24 h; a descriptive User-Agent is
required) and issue 17's finding that unauthenticated ``.json`` listings and
``search.json`` answer 403 since 2026-05-30 (several public projects report it). The
search answer is a ``Listing`` (``data.children[]``, ``data.after`` for the next page);
each ``t3`` child is a post whose Markdown ``selftext`` may hold a tracklist, read by
``spiders.description``. Unverified here: the OAuth search's exact rate limit (the
documentation's 100 queries per minute per client is not relied on: 1 s between calls).

``REDDIT_CLIENT_ID`` / ``REDDIT_CLIENT_SECRET`` come from settings (the spider closes
without them). Reddit's 403 "whoa there, pardner!" HTML is a block, not an empty result:
it stops the spider (``scrapers.blocking``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse

from scrapers.blocking import challenge_reason
from scrapers.spiders.base import TracklistSpider
from scrapers.spiders.description import tracklist_lines

__all__ = ["RedditSpider"]


class RedditSpider(TracklistSpider):
    """Tracklist posts of the subreddits in ``REDDIT_SUBREDDITS`` (or ``-a subreddit=``)."""

    name = "reddit"
    base_url_setting = "REDDIT_BASE_URL"
    default_base_url = "https://www.reddit.com"
    # An OAuth API: robots.txt is for crawlers of the HTML site.
    custom_settings = {"ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 1.0}  # noqa: RUF012

    token: str = ""

    async def start(self) -> AsyncIterator[Any]:
        """Ask for an app-only token; the searches follow once it is granted."""
        client_id = self.settings.get("REDDIT_CLIENT_ID")
        secret = self.settings.get("REDDIT_CLIENT_SECRET")
        if not client_id or not secret:
            raise CloseSpider("REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET are not set")
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        yield scrapy.FormRequest(
            self.url("/api/v1/access_token"),
            formdata={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
            callback=self.parse_token,
            meta={"page_kind": "token"},
        )

    def parse_token(self, response: Response) -> Iterator[Any]:
        """Keep the token, then the first search page per subreddit."""
        self.token = str(json.loads(response.body)["access_token"])
        chosen = getattr(self, "subreddit", None)  # -a subreddit=Name
        for subreddit in [chosen] if chosen else self.settings.getlist("REDDIT_SUBREDDITS"):
            yield self._search(subreddit, None, 1)

    def blocked_reason(self, response: Response) -> str | None:
        """Reddit's "whoa there" 403 page (or any HTML 403/429) is a block."""
        if generic := challenge_reason(response):
            return generic
        html = isinstance(response, TextResponse) and b"<html" in response.body[:2048].lower()
        if response.status in (403, 429) and html:
            return "blocked"
        return None

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
        oauth = str(self.settings.get("REDDIT_OAUTH_BASE_URL") or "https://oauth.reddit.com")
        return scrapy.Request(
            f"{oauth.rstrip('/')}/r/{quote(subreddit)}/search?{urlencode(query)}",
            headers={"Authorization": f"bearer {self.token}"},
            callback=self.parse_listing,
            cb_kwargs={"subreddit": subreddit, "page": page},
            meta={"page_kind": "search"},
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
