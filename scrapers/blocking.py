"""Block and challenge pages stop the spider instead of becoming empty or wrong setlists.

Sites that rate-limit answer with a page that looks like content to a careless parser:
1001tracklists' captcha ("Your IP ... has been limited due to overuse", a form posting to
``/info/unblock_ip.html``), Cloudflare's JavaScript challenge shell ("Just a moment...",
or 1001tracklists' "Please wait, you will be forwarded" with a Turnstile widget), Reddit's
"whoa there, pardner!" 403. Each spider says what its site's block pages look like in
``blocked_reason(response)``; ``BlockedPageMiddleware`` asks it for every response and,
on a block page, counts ``blocked/<reason>``, logs one error line, closes the spider with
finish reason ``blocked_<reason>`` (so ``scrapers.crawl`` exits 1) and drops the response,
so nothing from it reaches a callback. Crawling on after a block only deepens it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.utils.defer import deferred_from_coro

__all__ = ["BlockedPageMiddleware", "challenge_reason", "page_kind"]

logger = logging.getLogger(__name__)

_CHALLENGE_TITLE = re.compile(rb"<title>\s*(?:Just a moment\.\.\.|Attention Required!)", re.I)


def page_kind(response: Response) -> str | None:
    """The ``page_kind`` its request was made with (robots.txt answers have no request)."""
    request = response.request
    return request.meta.get("page_kind") if request is not None else None


def challenge_reason(response: Response) -> str | None:
    """ "challenge" for a Cloudflare-style challenge answer, else None (any site)."""
    if (response.headers.get("cf-mitigated") or b"").lower() == b"challenge":
        return "challenge"
    if isinstance(response, TextResponse) and _CHALLENGE_TITLE.search(response.body[:4096]):
        return "challenge"
    return None


class BlockedPageMiddleware:
    """Downloader middleware: a block page closes the spider (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.closing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockedPageMiddleware:
        """The middleware for ``crawler``."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        """Pass content on; stop the spider at a block page."""
        spider = self.crawler.spider
        judge = getattr(spider, "blocked_reason", None)
        reason = judge(response) if judge is not None else challenge_reason(response)
        if reason is None:
            return response
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"blocked/{reason}")
        if not self.closing:
            self.closing = True
            logger.error(
                "%s answered a %s page (HTTP %d) for %s: stopping the spider, nothing saved"
                " from it; crawl again later, more slowly",
                getattr(spider, "name", "?"),
                reason,
                response.status,
                request.url,
            )
            if self.crawler.engine is not None:
                closing = self.crawler.engine.close_spider_async(reason=f"blocked_{reason}")
                deferred_from_coro(closing)
        raise IgnoreRequest(f"{reason} page: {request.url}")
