"""Downloader middlewares.

``LoopbackOnlyMiddleware`` refuses every request whose host is not a loopback address
when ``SCRAPERS_LOOPBACK_ONLY`` is true. The demo and the tests turn it on: a spider whose
base URL was not pointed at the local fixture site is then stopped (and counted) instead
of reaching the real website.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is a loopback address (127.0.0.0/8, ::1, localhost)."""
    host = urlsplit(url).hostname or ""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackOnlyMiddleware:
    """Drops requests to anything but this machine (demo, tests)."""

    def __init__(self, crawler: Crawler) -> None:
        self._stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LoopbackOnlyMiddleware:
        """Enabled only by ``SCRAPERS_LOOPBACK_ONLY``."""
        if not crawler.settings.getbool("SCRAPERS_LOOPBACK_ONLY"):
            raise NotConfigured
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> Any:
        """Let loopback requests through; refuse the rest."""
        if is_loopback(request.url):
            return None
        if self._stats is not None:
            self._stats.inc_value("loopback_only/refused")
        raise IgnoreRequest(f"SCRAPERS_LOOPBACK_ONLY: refusing {request.url}")
