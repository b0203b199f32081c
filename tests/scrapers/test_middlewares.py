"""The loopback-only guard the demo and the tests rely on."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler

from scrapers.middlewares import LoopbackOnlyMiddleware, is_loopback


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080/x", True),
        ("http://127.5.4.3/", True),
        ("http://localhost:1/", True),
        ("http://[::1]:80/", True),
        ("https://www.1001tracklists.com/", False),
        ("http://10.0.0.1/", False),
        ("http://192.168.1.1/", False),
    ],
)
def test_is_loopback(url: str, local: bool) -> None:
    """Only 127.0.0.0/8, ::1 and localhost count as this machine."""
    assert is_loopback(url) is local


def test_the_guard_refuses_real_sites_and_counts_them() -> None:
    """Enabled, it drops a request to a real site and lets a local one through."""
    crawler = get_crawler(settings_dict={"SCRAPERS_LOOPBACK_ONLY": True})
    assert crawler.stats is not None
    guard = LoopbackOnlyMiddleware.from_crawler(crawler)
    assert guard.process_request(Request("http://127.0.0.1:9/a")) is None
    with pytest.raises(IgnoreRequest):
        guard.process_request(Request("https://www.reddit.com/r/x.json"))
    assert crawler.stats.get_value("loopback_only/refused") == 1
