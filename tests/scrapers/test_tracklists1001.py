"""The 1001tracklists spider: our fixtures, the real captures (when present), block pages."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from parsel import Selector
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.utils.test import get_crawler

from enrichment_sandbox.sites import FixtureSites
from scrapers.items import SetlistItem, SetlistTrackItem, TrackItem
from scrapers.parsing import parse_line
from scrapers.spiders.tracklists1001 import Tracklists1001Spider
from tests.integration.processes import free_port
from tests.scrapers.support import run_crawl, scalar, site_settings

FIXTURES = Path(__file__).with_name("fixtures") / "1001tracklists"
#: The real captures (CI has them beside the checkout; elsewhere the tests skip).
REAL = (
    Path(
        os.environ.get(
            "SCRAPERS_REAL_PAGES", Path(__file__).resolve().parents[3] / "shared" / "real-pages"
        )
    )
    / "1001tracklists"
)
#: What each real tracklist capture holds: (name, DJ, date, event, source id).
REAL_SETS = {
    "tracklist-matroda.html": (
        "Matroda @ Club Space Miami, United States 2023-08-05",
        "Matroda",
        "2023-08-05",
        "Club Space Miami",
        "l3uw499",
    ),
    "tracklist-habstrakt.html": (
        "Habstrakt & JSTJR @ 1001Tracklists x DJ Lovers Club pres. WaterWays, "
        "Amsterdam Dance Event, Netherlands 2024-11-11",
        "Habstrakt & JSTJR",
        "2024-11-11",
        "1001Tracklists x DJ Lovers Club pres. WaterWays, Amsterdam Dance Event",
        "18kll1h1",
    ),
    "tracklist-maxstyler.html": (
        "Max Styler @ circuitGROUNDS, EDC Las Vegas, United States 2025-05-16",
        "Max Styler",
        "2025-05-16",
        "EDC Las Vegas",
        "1pmwyfn1",
    ),
}
#: The real captures that are not content: what the spider must call them.
REAL_BLOCKS = {
    "ip-block-search.html": "captcha",
    "ip-block-tracklist.html": "captcha",
    "tracklist-neptune.html": "challenge",
}


def spider() -> Tracklists1001Spider:
    """The spider on a crawler with the project's spider settings."""
    crawler = get_crawler(Tracklists1001Spider)
    return Tracklists1001Spider.from_crawler(crawler)


def page(path: Path, url: str = "https://www.1001tracklists.com/tracklist/x/y.html") -> Any:
    """A saved page as the response to a tracklist request."""
    request = Request(url, meta={"page_kind": "tracklist"})
    return HtmlResponse(url, body=path.read_bytes(), request=request)


def split(out: list[Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """(setlists, tracks, links) of a callback's output."""
    return (
        [i for i in out if isinstance(i, SetlistItem)],
        [i for i in out if isinstance(i, TrackItem)],
        [i for i in out if isinstance(i, SetlistTrackItem)],
    )


def test_fixture_tracklist_metadata_and_rows() -> None:
    """Name, DJ (not the submitter), date, event and id come from heading and microdata."""
    path = FIXTURES / "tracklist/2m7xk1/eric-prydz-creamfields-united-kingdom-2019-08-24.html"
    (setlist,), tracks, links = split(list(spider().parse_tracklist(page(path))))
    assert (setlist["name"], setlist["dj_name"], setlist["event_name"]) == (
        "Eric Prydz @ Creamfields, United Kingdom 2019-08-24",
        "Eric Prydz",
        "Creamfields",
    )
    assert (setlist["date"], setlist["source_id"]) == ("2019-08-24", "2m7xk1")
    assert setlist["track_count"] == len(tracks) == len(links) == 20
    assert (tracks[0]["artist_name"], tracks[0]["track_title"], tracks[0]["label"]) == (
        "Eric Prydz",
        "Opus",
        "PRYDA",
    )
    assert links[1]["cue_time"] == "0:04:31"
    assert links[2]["mashup"] is True
    assert tracks[3]["featured_artists"] == ["POLIÇA"]


def test_radio_show_event_is_the_show() -> None:
    """A radio episode's event is the show linked as the source."""
    path = FIXTURES / "tracklist/1tq9h3k/eric-prydz-epic-radio-episode-1-2023-06-10.html"
    (setlist,), _, _ = split(list(spider().parse_tracklist(page(path))))
    assert (setlist["dj_name"], setlist["event_name"]) == ("Eric Prydz", "EPIC Radio")


def test_dj_page_follows_rows_then_scrolls() -> None:
    """Each row's tracklist is requested, then the scroll endpoint after the last row."""
    url = "https://www.1001tracklists.com/dj/ericprydz/index.html"
    response = page(FIXTURES / "dj/ericprydz/index.html", url)
    out = list(spider().parse_dj(response, page=1))
    tracklists = [r.url for r in out if r.meta["page_kind"] == "tracklist"]
    assert [u.split("/")[4] for u in tracklists] == ["2m7xk1", "1tq9h3k"]
    (more,) = [r for r in out if r.meta["page_kind"] == "dj_more"]
    assert (more.method, more.url) == ("POST", "https://www.1001tracklists.com/ajax/get_data.php")
    form = {k: v[0] for k, v in parse_qs(more.body.decode()).items()}
    assert form == {"type": "overview", "dj": "q8w2ex", "pos": "2", "id": "1tq9h3k", "count": "15"}


def test_scroll_answer_adds_rows_and_ends() -> None:
    """The scroll's JSON rows are followed; ``end`` stops the scrolling."""
    body = (FIXTURES / "ajax/get_data.php.pos2.json").read_bytes()
    url = "https://www.1001tracklists.com/ajax/get_data.php"
    response = TextResponse(url, body=body, request=Request(url, meta={"page_kind": "dj_more"}))
    out = list(spider().parse_more(response, dj_id="q8w2ex", shown=2, page=2))
    assert [r.url.split("/")[4] for r in out] == ["5vn3ab"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("tracklist/9zz0blk/eric-prydz-captcha-example.html", "captcha"),
        ("tracklist/8yy0chl/eric-prydz-challenge-example.html", "challenge"),
        ("tracklist/2m7xk1/eric-prydz-creamfields-united-kingdom-2019-08-24.html", None),
        ("tracklist/7xx0gon/eric-prydz-removed-example.html", None),
    ],
)
def test_block_pages_are_recognised(path: str, reason: str | None) -> None:
    """Captcha and challenge pages are blocks; a tracklist or a removed page is not."""
    assert spider().blocked_reason(page(FIXTURES / path)) == reason


def test_scroll_captcha_is_a_block() -> None:
    """A scroll answer asking for a captcha is a block too."""
    url = "https://www.1001tracklists.com/ajax/get_data.php"
    body = json.dumps({"success": False, "captcha": True}).encode()
    response = TextResponse(url, body=body, request=Request(url, meta={"page_kind": "dj_more"}))
    assert spider().blocked_reason(response) == "captcha"


def test_removed_tracklist_yields_no_set() -> None:
    """A page without a tracklist yields nothing and is counted."""
    crawled = spider()
    removed = FIXTURES / "tracklist/7xx0gon/eric-prydz-removed-example.html"
    assert list(crawled.parse_tracklist(page(removed))) == []
    assert crawled.crawler.stats is not None
    assert crawled.crawler.stats.get_value("1001tracklists/no_tracklist") == 1


# --- the real captures --------------------------------------------------------------------


def real_capture(name: str) -> Path:
    """A real capture's path; skips (saying why) where the captures are not present."""
    if not REAL.is_dir():
        pytest.skip(f"real 1001tracklists captures not present at {REAL} (CI has them)")
    return REAL / name


def expected_rows(path: Path) -> list[tuple[str | None, str, str]]:
    """Each identifiable row as the page's own markup states it: (number, cue, credit)."""
    rows = []
    for row in Selector(path.read_text()).css("div.tlpItem"):
        credit = row.css("meta[itemprop=name]::attr(content)").get() or ""
        number = (row.css("span.fontXL::text").get() or "").strip()
        cue = (row.css("div.cue::text").get() or "").strip()
        if parse_line(credit) is not None:
            rows.append((None if number == "w/" else number, cue, credit))
    return rows


def test_real_captures_are_all_covered() -> None:
    """Every capture in the folder is either an expected set or an expected block."""
    real_capture("")
    assert {p.name for p in REAL.glob("*.html")} == set(REAL_SETS) | set(REAL_BLOCKS)


@pytest.mark.parametrize("name", sorted(REAL_SETS))
def test_real_tracklist_capture(name: str) -> None:
    """A real tracklist page: the set's metadata and every identifiable row, in order."""
    path = real_capture(name)
    crawled = spider()
    response = page(path)
    assert crawled.blocked_reason(response) is None
    (setlist,), tracks, links = split(list(crawled.parse_tracklist(response)))
    found = tuple(setlist[k] for k in ("name", "dj_name", "date", "event_name", "source_id"))
    rows = expected_rows(path)
    print(f"\n{name}: {found}; {len(Selector(path.read_text()).css('div.tlpItem'))} rows,")
    print(f"  {len(links)} identifiable tracks, {sum(bool(lk['cue_time']) for lk in links)} cued")
    assert found == REAL_SETS[name]
    assert setlist["track_count"] == len(links) == len(rows)
    for link, track, (number, cue, credit) in zip(links, tracks, rows, strict=True):
        (parsed,) = parse_line(credit).tracks  # type: ignore[union-attr]
        assert track["track_id"] == parsed.track_id, credit
        assert link["number"] == (int(number) if number else None), credit
        assert link["mashup"] is (number is None), credit
        assert (link["cue_seconds"] is not None) == bool(cue), credit


@pytest.mark.parametrize("name", sorted(REAL_BLOCKS))
def test_real_block_capture_is_recognised(name: str) -> None:
    """The real captcha pages and the challenge shell are blocks, never sets."""
    response = page(real_capture(name))
    reason = spider().blocked_reason(response)
    print(f"\n{name}: blocked ({reason})")
    assert reason == REAL_BLOCKS[name]


# --- real crawls: a block stops the spider, robots.txt is obeyed and reported ------------------


def crawl_settings(sites: FixtureSites, database_url: str, djs: str) -> dict[str, str]:
    """One 1001tracklists crawl of ``djs`` with the service down (items saved pending)."""
    return site_settings(sites) | {
        "TRACKLISTS1001_DJS": djs,
        "METADATA_ENRICHMENT_URL": f"127.0.0.1:{free_port()}",
        "ENRICHMENT_TIMEOUT": "2",
        "ENRICHMENT_DATABASE_URL": database_url,
    }


@pytest.mark.parametrize(("dj", "reason"), [("blocked", "captcha"), ("challenged", "challenge")])
async def test_block_page_stops_the_crawl(
    tmp_path: Path, fixture_sites: FixtureSites, database_url: str, dj: str, reason: str
) -> None:
    """A block page ends the spider (reason, counter, log line, exit 1); nothing saved of it."""
    settings = crawl_settings(fixture_sites, database_url, dj)
    result = await run_crawl(tmp_path, settings, ("1001tracklists",))
    report = result.reports["1001tracklists"]
    counted = result.stat(f"blocked/{reason}")
    print(f"\n{dj}: finish_reason={report['finish_reason']}, blocked/{reason}={counted}")
    assert result.returncode == 1
    assert report["finish_reason"] == f"blocked_{reason}"
    assert result.stat(f"blocked/{reason}") == 1
    assert f"answered a {reason} page" in result.log
    assert await scalar(database_url, "SELECT count(*) FROM setlists") == 0


async def test_robots_refusal_is_reported_and_obeyed(
    tmp_path: Path, fixture_sites: FixtureSites, database_url: str
) -> None:
    """robots.txt disallows /ajax/: no scroll request, a counter and a log line say so."""
    settings = crawl_settings(fixture_sites, database_url, "ericprydz")
    result = await run_crawl(tmp_path, settings, ("1001tracklists",))
    assert result.returncode == 0, result.log[-2000:]
    assert result.stat("robots/disallowed/dj_more") == 1
    assert "robots.txt disallows dj_more pages" in result.log
    assert not any(
        path.startswith("/ajax/") for path, _ in fixture_sites.requests("1001tracklists")
    )
    assert await scalar(database_url, "SELECT count(*) FROM setlists") == 2


async def test_scroll_is_followed_where_allowed(
    tmp_path: Path, fixture_sites: FixtureSites, database_url: str
) -> None:
    """Where robots.txt allows it, the scroll endpoint's further sets are crawled too."""
    settings = crawl_settings(fixture_sites, database_url, "ericprydz") | {
        "ROBOTSTXT_OBEY": "false"
    }
    result = await run_crawl(tmp_path, settings, ("1001tracklists",))
    assert result.returncode == 0, result.log[-2000:]
    assert await scalar(database_url, "SELECT count(*) FROM setlists") == 3
    politeness = {
        k: v for k, v in result.reports["1001tracklists"]["stats"].items() if "polite" in k
    }
    print(f"\npoliteness in force: {politeness}")
    assert politeness["politeness/concurrent_requests_per_domain"] == 1
