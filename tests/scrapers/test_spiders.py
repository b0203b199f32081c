"""Every spider: enrichment in its pipelines, a base URL setting, and parsing of fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scrapy.http import Request, TextResponse
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler

from scrapers import settings as project_settings
from scrapers.items import SetlistItem
from scrapers.spiders.base import TracklistSpider
from scrapers.spiders.setlistfm import song_line

FIXTURES = Path(__file__).with_name("fixtures")
ENRICHMENT = "scrapers.pipelines.enrichment.APIEnrichmentPipeline"
PERSISTENCE = "scrapers.pipelines.persistence.PersistencePipeline"


def _loader() -> SpiderLoader:
    """The project's spider loader."""
    settings = Settings()
    settings.setmodule(project_settings)
    return SpiderLoader.from_settings(settings)


SPIDER_NAMES = sorted(_loader().list())


def test_the_pattern_spiders_exist() -> None:
    """The three pattern spiders are registered."""
    assert {"1001tracklists", "mixesdb", "setlistfm"} <= set(SPIDER_NAMES)


@pytest.mark.parametrize("name", SPIDER_NAMES)
def test_spider_uses_the_enrichment_pipeline(name: str) -> None:
    """Enrichment runs before persistence in every spider's effective settings."""
    spider_cls = _loader().load(name)
    crawler = get_crawler(
        spider_cls, {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    )
    pipelines = crawler.settings.getwithbase("ITEM_PIPELINES")
    assert ENRICHMENT in pipelines
    assert PERSISTENCE in pipelines
    assert pipelines[ENRICHMENT] < pipelines[PERSISTENCE]


@pytest.mark.parametrize("name", SPIDER_NAMES)
def test_spider_is_a_tracklist_spider_with_a_base_url(name: str) -> None:
    """Each spider subclasses TracklistSpider, names a base URL setting and starts async."""
    spider_cls = _loader().load(name)
    assert issubclass(spider_cls, TracklistSpider)
    assert spider_cls.base_url_setting
    assert hasattr(project_settings, spider_cls.base_url_setting)
    assert "start" in vars(spider_cls)


def _spider(name: str) -> Any:
    """A spider instance bound to a crawler with the project settings."""
    crawler = get_crawler(_loader().load(name), {"SETLISTFM_API_KEY": "k"})
    return crawler.spidercls.from_crawler(crawler)


def test_setlistfm_songs() -> None:
    """Covers credit the original artist, "with" is feat., remix info is the version."""
    assert (
        song_line({"name": "Opus", "info": "Four Tet Remix"}, "Eric Prydz")
        == "Eric Prydz - Opus (Four Tet Remix)"
    )
    assert (
        song_line({"name": "Strobe", "cover": {"name": "deadmau5"}}, "Eric Prydz")
        == "deadmau5 - Strobe"
    )
    assert song_line({"name": "X", "with": {"name": "Rob Swire"}}, "A") == "A feat. Rob Swire - X"
    assert song_line({"name": "", "tape": True}, "A") == ""
    assert song_line({"name": "Opus", "info": "extended intro"}, "A") == "A - Opus"


def test_setlistfm_page() -> None:
    """A search page yields its setlists and asks for the next page."""
    spider = _spider("setlistfm")
    url = "https://api.setlist.fm/rest/1.0/search/setlists?artistName=Eric+Prydz&p=1"
    body = (FIXTURES / "setlistfm/rest/1.0/search/setlists.p1.json").read_bytes()
    response = TextResponse(url, body=body, headers={"Content-Type": "application/json"})
    out = list(spider.parse_search(response, artist="Eric Prydz", page=1))
    setlists = [item for item in out if isinstance(item, SetlistItem)]
    assert [s["date"] for s in setlists] == ["2019-07-13", "2019-08-24"]
    (next_page,) = [item for item in out if isinstance(item, Request)]
    assert next_page.url.endswith("p=2")
    assert next_page.headers["x-api-key"] == b"k"


@pytest.mark.parametrize(
    ("name", "delay", "per_domain"),
    [("1001tracklists", 3.0, 1), ("mixesdb", 4.0, 1), ("livetracklist", 1.0, 2)],
)
def test_html_spiders_keep_their_sites_pace(name: str, delay: float, per_domain: int) -> None:
    """1001tracklists 3 s one at a time, MixesDB 4 s (its crawl delay), never randomised below."""
    spider_cls = _loader().load(name)
    project = {k: getattr(project_settings, k) for k in dir(project_settings) if k.isupper()}
    settings = get_crawler(spider_cls, project).settings
    assert settings.getfloat("DOWNLOAD_DELAY") == delay
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == per_domain
    if per_domain == 1:
        assert settings.getbool("RANDOMIZE_DOWNLOAD_DELAY") is False
    assert settings.getbool("ROBOTSTXT_OBEY") is True
