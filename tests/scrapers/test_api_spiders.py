"""The API spiders as the real services work today: auth, limits, rotation, rules."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler

from enrichment_sandbox.sites import FixtureSites
from scrapers import settings as project_settings
from scrapers.spiders.internetarchive import file_lines
from tests.integration.processes import free_port
from tests.scrapers.support import API_KEYS, run_crawl, scalar, site_settings

FIXTURES = Path(__file__).with_name("fixtures")
#: The client_id our fixture of SoundCloud's website scripts holds.
ROTATED_CLIENT_ID = "fixtureRotatedClientId0123456789"


def spider(name: str, **settings: Any) -> Any:
    """A spider with the project settings plus ``settings``."""
    base = Settings()
    base.setmodule(project_settings)
    project = {
        key: getattr(project_settings, key) for key in dir(project_settings) if key.isupper()
    }
    crawler = get_crawler(SpiderLoader.from_settings(base).load(name), project | settings)
    return crawler.spidercls.from_crawler(crawler)


async def started(spider_: Any) -> list[Any]:
    """Everything a spider's ``start()`` yields."""
    return [request async for request in spider_.start()]


async def test_reddit_asks_for_an_app_only_token_first() -> None:
    """Reddit: client_credentials with basic auth, then searches on the OAuth host."""
    reddit = spider("reddit", REDDIT_CLIENT_ID="app-id", REDDIT_CLIENT_SECRET="app-secret")
    (token_request,) = await started(reddit)
    assert (token_request.method, token_request.url) == (
        "POST",
        "https://www.reddit.com/api/v1/access_token",
    )
    assert parse_qs(token_request.body.decode()) == {"grant_type": ["client_credentials"]}
    basic = token_request.headers["Authorization"].decode().removeprefix("Basic ")
    assert base64.b64decode(basic) == b"app-id:app-secret"
    answer = TextResponse(
        token_request.url, body=(FIXTURES / "reddit/api/v1/access_token.json").read_bytes()
    )
    (search,) = list(reddit.parse_token(answer))
    assert urlsplit(search.url)[:3] == ("https", "oauth.reddit.com", "/r/EricPrydz/search")
    assert search.headers["Authorization"] == b"bearer fixture-app-only-token"


async def test_reddit_needs_credentials() -> None:
    """Without an app's id and secret the spider closes and says why."""
    with pytest.raises(CloseSpider) as closed:
        await started(spider("reddit", REDDIT_CLIENT_ID="", REDDIT_CLIENT_SECRET=""))
    assert "REDDIT_CLIENT_ID" in closed.value.reason


def test_reddit_whoa_there_page_is_a_block() -> None:
    """The 403 "whoa there" HTML is a block, not an empty result."""
    url = "https://oauth.reddit.com/r/x/search"
    body = b"<!doctype html><html><title>Blocked</title><h1>whoa there, pardner!</h1></html>"
    page = HtmlResponse(url, status=403, body=body, request=Request(url))
    assert spider("reddit").blocked_reason(page) == "blocked"
    listing = TextResponse(url, status=200, body=b'{"kind": "Listing", "data": {}}')
    assert spider("reddit").blocked_reason(listing) is None


async def test_residentadvisor_is_off_by_default() -> None:
    """RA's terms forbid scraping: nothing is requested unless explicitly enabled."""
    ra = spider("residentadvisor")
    assert await started(ra) == []
    assert ra.crawler.stats.get_value("residentadvisor/disabled") == 1


async def test_residentadvisor_asks_for_at_most_ten() -> None:
    """Enabled, the archive query's limit never exceeds 10 (more answers nothing)."""
    ra = spider("residentadvisor", RESIDENTADVISOR_ENABLED=True, RESIDENTADVISOR_PODCAST_LIMIT=40)
    (archive,) = await started(ra)
    assert json.loads(archive.body)["variables"] == {"limit": 10}


def test_internetarchive_single_file_is_not_a_tracklist() -> None:
    """One original audio file is the whole mix; two or more are tracks."""
    mix = {"source": "original", "format": "VBR MP3", "title": "Essential Mix", "creator": "X"}
    assert file_lines([mix, {"source": "original", "format": "Metadata"}]) == []
    second = {"source": "original", "format": "Flac", "title": "Two", "artist": "Y", "track": "2"}
    first = mix | {"track": "1", "title": "One"}
    assert file_lines([second, first]) == ["X - One", "Y - Two"]


def test_youtube_plans_for_the_search_bucket() -> None:
    """One search page of 50 per query by default: search.list has 100 calls a day."""
    youtube = spider("youtube", YOUTUBE_API_KEY="k")
    request = youtube._search("q", None, 1)
    assert parse_qs(urlsplit(request.url).query)["maxResults"] == ["50"]
    url = "https://www.googleapis.com/youtube/v3/search"
    answer = TextResponse(url, body=b'{"items": [], "nextPageToken": "CDIQAA"}')
    assert list(youtube.parse_search(answer, "q", 1)) == []


@pytest.mark.parametrize("configured", ["stale-client-id-000", ""])
async def test_soundcloud_reads_a_new_client_id_on_401(
    tmp_path: Path, database_url: str, configured: str
) -> None:
    """A refused (or absent) client_id is read again from the website's scripts."""
    with FixtureSites(api_keys=API_KEYS | {"soundcloud": ROTATED_CLIENT_ID}) as sites:
        settings = site_settings(sites) | {
            "SOUNDCLOUD_CLIENT_ID": configured,
            "METADATA_ENRICHMENT_URL": f"127.0.0.1:{free_port()}",
            "ENRICHMENT_TIMEOUT": "2",
            "ENRICHMENT_DATABASE_URL": database_url,
        }
        result = await run_crawl(tmp_path, settings, ("soundcloud",))
        paths = [path for path, _ in sites.requests("soundcloud")]
    assert result.returncode == 0, result.log[-2000:]
    assert result.stat("soundcloud/client_id_refreshed") == 1
    assert [p for p in paths if p.startswith("/assets/")] == [
        "/assets/49-c84d21.js",
        "/assets/2-1b5e0d.js",
    ]
    spider_lines = [line for line in result.log.splitlines() if "[soundcloud]" in line]
    assert spider_lines  # the spider said it read a new id...
    assert not any(ROTATED_CLIENT_ID in line for line in spider_lines)  # ...but not which
    assert await scalar(database_url, "SELECT count(*) FROM setlists") == 1
