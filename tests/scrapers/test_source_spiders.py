"""The remaining sources' spiders on their fixtures: one parse test each, plus the
free-text tracklist reader they share and the fixture site's paging, keys and GraphQL."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.test import get_crawler

from enrichment_sandbox.sites import BASE_URL_SETTINGS, FixtureSites
from scrapers import settings as project_settings
from scrapers.items import SetlistItem, SetlistTrackItem, TrackItem
from scrapers.spiders.description import clean_line, html_text, tracklist_lines
from scrapers.spiders.internetarchive import file_lines
from scrapers.spiders.mixcloud import section_line

FIXTURES = Path(__file__).with_name("fixtures")
KEYS = {"SOUNDCLOUD_CLIENT_ID": "cid", "YOUTUBE_API_KEY": "yt-key"}


def _spider(name: str) -> Any:
    """A spider instance with the project settings and test credentials."""
    settings = Settings()
    settings.setmodule(project_settings)
    crawler = get_crawler(SpiderLoader.from_settings(settings).load(name), KEYS)
    return crawler.spidercls.from_crawler(crawler)


def _json(path: str, url: str) -> TextResponse:
    """A JSON fixture as a response for ``url``."""
    body = (FIXTURES / path).read_bytes()
    return TextResponse(url, body=body, headers={"Content-Type": "application/json"})


def _split(out: list[Any]) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """(setlists, tracks, links, requests) of a callback's output."""
    return (
        [i for i in out if isinstance(i, SetlistItem)],
        [i for i in out if isinstance(i, TrackItem)],
        [i for i in out if isinstance(i, SetlistTrackItem)],
        [i for i in out if isinstance(i, Request)],
    )


def _credits(tracks: list[Any]) -> list[str]:
    """ "Artist - Title" of each track item."""
    return [f"{t['artist_name']} - {t['track_title']}" for t in tracks]


def test_description_reader() -> None:
    """Headings, prefixes, Markdown, cue dashes and links in free text."""
    text = "Out now!\nFollow Eric Prydz - https://x.co\n\n**Tracklist:**\n\n* 1\\. A - B\n"
    text += "* 00:00 - C - D\n\nThanks - see you\nE - F"
    assert tracklist_lines(text) == ["1. A - B", "[00:00] C - D"]
    assert tracklist_lines("Intro\n00:00 Intro\n03:10 A - B\nMastered by X - Y") == [
        "[03:10] A - B"
    ]
    assert tracklist_lines("A - B\nC - D\nlink - https://x.co", whole=True) == ["A - B", "C - D"]
    assert clean_line("- [01:02:03] | A - B") == "[01:02:03] | A - B"
    assert tracklist_lines("- [01:02:03] | A - B") == ["[01:02:03] A - B"]
    assert html_text("<p>A &amp; B - C<br />D - E</p>").splitlines() == ["A & B - C", "D - E"]


def test_reddit_listing() -> None:
    """Posts with a tracklist become setlists; chatter and "ID - ID" leave nothing."""
    spider = _spider("reddit")
    url = "https://www.reddit.com/r/EricPrydz/search.json?q=tracklist"
    out = list(spider.parse_listing(_json("reddit/r/EricPrydz/search.json", url), "EricPrydz", 1))
    setlists, tracks, links, requests = _split(out)
    assert [s["setlist_id"] for s in setlists] == ["reddit:16k2v9x"]  # the question is skipped
    assert setlists[0]["dj_name"] == "Eric Prydz"
    assert setlists[0]["date"] == "2023-09-16"
    assert _credits(tracks)[:2] == ["Eric Prydz - Opus", "Sasha - Xpander"]
    assert [link["number"] for link in links] == [1, 2, 3, 5, 6]
    (next_page,) = requests
    assert "after=t3_14r8kqz" in next_page.url
    page2 = _json("reddit/r/EricPrydz/search.aftert3_14r8kqz.json", next_page.url)
    _, _, links2, more = _split(list(spider.parse_listing(page2, "EricPrydz", 2)))
    assert [link["cue_time"] for link in links2] == ["0:00:00", "0:07:45", "0:20:30"]
    assert more == []


def test_mixcloud_listing_and_cloudcast() -> None:
    """Each listed cloudcast asks GraphQL for its sections; tracks cued, chapters skipped."""
    spider = _spider("mixcloud")
    listing = _json("mixcloud/ericprydz/cloudcasts.json", "https://api.mixcloud.com/x/")
    query, next_page = list(spider.parse_listing(listing, 1))
    assert (query.method, query.url) == ("POST", "https://app.mixcloud.com/graphql")
    payload = json.loads(query.body)
    assert payload["variables"] == {"lookup": {"username": "ericprydz", "slug": "epic-radio-012"}}
    assert "... on ChapterSection" in payload["query"]
    assert next_page.url.endswith("/ericprydz/cloudcasts/?limit=20&offset=20")
    response = _json("mixcloud/graphql/Tracklist.epic-radio-012.json", query.url)
    setlists, tracks, links, _ = _split(list(spider.parse_tracklist(response, **query.cb_kwargs)))
    assert setlists[0]["setlist_id"] == "mixcloud:ericprydz/epic-radio-012"
    assert (setlists[0]["date"], setlists[0]["track_count"]) == ("2023-08-05", 5)
    assert setlists[0]["dj_name"] == "Eric Prydz"
    assert _credits(tracks)[0] == "Ben Böhmer - Beyond Beliefs"
    assert links[1]["cue_seconds"] == 312
    chapter = {"__typename": "ChapterSection", "chapter": "Guest mix", "startSeconds": 900}
    assert section_line(chapter) == ""


def test_livetracklist_page() -> None:
    """``#TheList > li`` rows, cues from the per-row CSS, labels, "with" and unknown rows."""
    spider = _spider("livetracklist")
    path = "livetracklist/eric-prydz-holo-alexandra-palace-london-2019-07-13.html"
    body = (FIXTURES / path).read_bytes()
    url = "https://www.livetracklist.com/eric-prydz-holo-alexandra-palace-london-2019-07-13"
    response = HtmlResponse(url, body=body, request=Request(url))
    setlists, tracks, links, _ = _split(list(spider.parse_tracklist(response)))
    setlist = setlists[0]
    assert setlist["setlist_id"] == "livetracklist:48213"
    assert (setlist["dj_name"], setlist["event_name"], setlist["date"]) == (
        "Eric Prydz",
        "HOLO",
        "2019-07-13",
    )
    assert len(links) == 6  # seven rows, "ID - ID" skipped
    assert (tracks[1]["label"], links[1]["cue_time"]) == ("Ninja Tune", "0:05:12")
    assert links[3]["mashup"] is True
    assert links[5]["cue_time"] == "1:04:15"
    assert tracks[5]["remixer"] == "Four Tet"


def test_residentadvisor_graphql() -> None:
    """The archive asks for each podcast by id; a podcast's HTML tracklist is read."""
    spider = _spider("residentadvisor")
    url = "https://ra.co/graphql"
    archive = _json("residentadvisor/graphql/GET_PODCAST_ARCHIVE.json", url)
    requests = list(spider.parse_archive(archive))
    payloads = [json.loads(request.body) for request in requests]
    # The two listed, then the walk by id to older ones (the archive answers <= 10).
    assert [p["variables"] for p in payloads] == [{"id": "851"}, {"id": "850"}, {"id": "849"}]
    assert {request.method for request in requests} == {"POST"}
    assert requests[0].headers["Referer"] == b"https://ra.co/podcast"
    podcast = _json("residentadvisor/graphql/GET_PODCAST.850.json", url)
    setlists, tracks, _, _ = _split(list(spider.parse_podcast(podcast)))
    assert (setlists[0]["setlist_id"], setlists[0]["date"]) == ("residentadvisor:850", "2022-08-29")
    assert setlists[0]["url"] == "https://ra.co/podcast/850"
    assert len(tracks) == 5  # "Unknown Artist - Untitled" skipped
    assert _credits(tracks)[-1] == "Jamie xx - Gosh"


def test_soundcloud_tracks() -> None:
    """The user's tracks: a mix with a tracklist in its description, a single without."""
    spider = _spider("soundcloud")
    user = _json("soundcloud/resolve.json", "https://api-v2.soundcloud.com/resolve")
    (tracks_request,) = list(spider.parse_user(user))
    assert "/users/6201929/tracks?" in tracks_request.url
    assert "client_id=cid" in tracks_request.url
    response = _json("soundcloud/users/6201929/tracks.json", tracks_request.url)
    setlists, tracks, links, requests = _split(list(spider.parse_tracks(response, 1)))
    assert [s["setlist_id"] for s in setlists] == ["soundcloud:1573312045"]
    assert setlists[0]["url"] == "https://soundcloud.com/ericprydz/epic-radio-013"
    assert len(tracks) == 5
    assert links[-1]["number"] == 6
    assert requests == []
    paged = TextResponse(
        tracks_request.url,
        body=b'{"collection": [], "next_href": "https://api-v2.soundcloud.com/users/1/tracks?offset=x"}',
    )
    (next_page,) = list(spider.parse_tracks(paged, 1))
    assert "offset=x" in next_page.url
    assert "client_id=cid" in next_page.url


def test_youtube_search_and_videos() -> None:
    """Search asks for the full videos; chapters in the description become cued tracks."""
    spider = _spider("youtube")
    search = _json("youtube/youtube/v3/search.json", "https://www.googleapis.com/youtube/v3/search")
    (videos_request,) = list(spider.parse_search(search, "q", 1))
    assert "id=kf3X2C8oQeA%2C8jzDnsjYv9A" in videos_request.url  # the channel result skipped
    assert videos_request.headers["X-goog-api-key"] == b"yt-key"
    assert "yt-key" not in videos_request.url  # Scrapy logs URLs: the key stays out of them
    videos = _json("youtube/youtube/v3/videos.json", videos_request.url)
    setlists, tracks, links, _ = _split(list(spider.parse_videos(videos)))
    assert [s["source_id"] for s in setlists] == ["kf3X2C8oQeA"]
    assert setlists[0]["url"] == "https://www.youtube.com/watch?v=kf3X2C8oQeA"
    assert _credits(tracks)[0] == "Charlotte de Witte - Doppler"
    assert [link["cue_seconds"] for link in links][:2] == [135, 460]
    assert len(links) == 5


def test_internetarchive_search_and_items() -> None:
    """Search asks for each item's metadata; description tracklists, else audio files."""
    spider = _spider("internetarchive")
    search = _json("internetarchive/advancedsearch.php.page1.json", "https://archive.org/a")
    requests = list(spider.parse_search(search, "q", 1))
    assert [r.url.rsplit("/", 1)[1] for r in requests] == [
        "ericprydz-essential-mix-2004-10-17",
        "ericprydz-cream-ibiza-2005-tape",
    ]
    mix = _json("internetarchive/metadata/ericprydz-essential-mix-2004-10-17.json", requests[0].url)
    setlists, tracks, _, _ = _split(list(spider.parse_item(mix)))
    assert (setlists[0]["date"], setlists[0]["track_count"]) == ("2004-10-17", 6)
    assert tracks[2]["featured_artists"] == ["John Lydon"]
    tape = _json("internetarchive/metadata/ericprydz-cream-ibiza-2005-tape.json", requests[1].url)
    _, tape_tracks, _, _ = _split(list(spider.parse_item(tape)))
    assert _credits(tape_tracks)[0] == "Paul van Dyk - For an Angel"  # in track order
    assert len(tape_tracks) == 6
    assert file_lines([{"source": "derivative", "title": "X", "artist": "Y"}]) == []


def test_fixture_site_paging_keys_and_graphql() -> None:
    """Paging parameters pick files, keys may be query parameters, GraphQL POSTs answer."""
    with FixtureSites(api_keys={"youtube": "k"}) as sites:
        urls = sites.base_urls
        assert set(BASE_URL_SETTINGS) == set(urls)
        reddit = f"{urls['reddit']}/r/EricPrydz/search.json?q=x&after=t3_14r8kqz"
        with urllib.request.urlopen(reddit) as answer:  # noqa: S310 (loopback)
            assert json.load(answer)["data"]["after"] is None
        with urllib.request.urlopen(f"{urls['youtube']}/youtube/v3/videos?key=k") as answer:  # noqa: S310
            assert answer.status == 200
        body = json.dumps({"operationName": "GET_PODCAST", "variables": {"id": "851"}}).encode()
        graphql = f"{urls['residentadvisor']}/graphql"
        post = urllib.request.Request(graphql, data=body)  # noqa: S310 (loopback)
        with urllib.request.urlopen(post) as answer:  # noqa: S310
            assert json.load(answer)["data"]["podcast"]["id"] == "851"
