"""SoundCloud API v2 (JSON): ``https://api-v2.soundcloud.com``, a ``client_id`` per request.

Checked against (2026-12-03): public SoundCloud tools on GitHub (api-v2 with the
website's own ``client_id``, which SoundCloud rotates; they re-read it from the website's
script bundles, ``https://a-v2.sndcdn.com/assets/*.js``, matching ``client_id:"..."``) and
issue 17's finding that a stale id answers 401. The official API (OAuth, api.soundcloud.com)
is the alternative for registered apps; not used here. Unverified here: which bundle holds
the id today (every ``/assets/`` script is tried, last first).

``/resolve?url=https://soundcloud.com/<user>`` answers the user object (``id``);
``/users/<id>/tracks?limit=50&linked_partitioning=1`` pages its tracks (``collection[]``,
``next_href`` without the ``client_id``). A track object (``kind: "track"``) has
``title``, ``description``, ``permalink_url``, ``created_at`` and ``user.username``; DJ
mixes keep their tracklist in the ``description`` free text, read by
``spiders.description``.

The ``client_id`` is never hard-coded: ``SOUNDCLOUD_CLIENT_ID`` if set, else (and on every
401) it is read again from the website (``SOUNDCLOUD_WEB_URL``) and the refused requests
are sent again, at most ``MAX_REFRESHES`` times per crawl (``soundcloud/client_id_refreshed``
counts them; the id itself is never logged).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider
from scrapers.spiders.description import tracklist_lines

__all__ = ["MAX_REFRESHES", "SoundCloudSpider"]

#: How often one crawl may read the client_id again before giving up.
MAX_REFRESHES = 2
_CLIENT_ID = re.compile(r"""client_id\s*[:=]\s*["']([A-Za-z0-9_-]{16,64})["']""")


def _with_client_id(url: str, client_id: str) -> str:
    """``url`` with its ``client_id`` parameter replaced."""
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query)), "client_id": client_id}
    return parts._replace(query=urlencode(query)).geturl()


class SoundCloudSpider(TracklistSpider):
    """Tracks of the users in ``SOUNDCLOUD_USERS`` (or ``-a user=permalink``)."""

    name = "soundcloud"
    base_url_setting = "SOUNDCLOUD_BASE_URL"
    default_base_url = "https://api-v2.soundcloud.com"
    custom_settings = {"ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 1.0}  # noqa: RUF012

    client_id: str = ""
    refreshes: int = 0
    refreshing: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waiting: list[scrapy.Request] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        """The spider, starting from the configured client_id (if any)."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.client_id = str(crawler.settings.get("SOUNDCLOUD_CLIENT_ID") or "")
        return spider

    async def start(self) -> AsyncIterator[Any]:
        """Resolve each configured user's profile URL (after finding a client_id if unset)."""
        chosen = getattr(self, "user", None)  # -a user=permalink
        users = [chosen] if chosen else self.settings.getlist("SOUNDCLOUD_USERS")
        profiles = [{"url": f"https://soundcloud.com/{user}"} for user in users]
        requests = [self._api_request("/resolve", profile) for profile in profiles]
        if self.client_id:
            for request in requests:
                yield request
            return
        for request in requests:
            for refresh in self._refused(request):
                yield refresh

    def _api_request(
        self, path: str, params: dict[str, Any], page: int | None = None
    ) -> scrapy.Request:
        """An API request (401 reaches the callback, to refresh the client_id)."""
        query = {**params, "client_id": self.client_id}
        if page is None:
            callback, kwargs = self.parse_user, {}
        else:
            callback, kwargs = self.parse_tracks, {"page": page}
        return scrapy.Request(
            self.url(f"{path}?{urlencode(query)}"),
            callback=callback,
            cb_kwargs=kwargs,
            meta={"handle_httpstatus_list": [401], "page_kind": "api"},
            dont_filter=True,
        )

    def _refused(self, request: scrapy.Request) -> Iterator[scrapy.Request]:
        """Hold a refused request; start one read of the website's client_id."""
        self.waiting.append(request)
        if self.refreshing:
            return
        if self.refreshes >= MAX_REFRESHES:
            raise CloseSpider("soundcloud refused every client_id read from its website")
        self.refreshing = True
        self.refreshes += 1
        web = str(self.settings.get("SOUNDCLOUD_WEB_URL") or "https://soundcloud.com")
        yield scrapy.Request(web.rstrip("/") + "/", callback=self.parse_website, dont_filter=True)

    def parse_website(self, response: Response) -> Iterator[Any]:
        """The website's script bundles: look for the client_id, last bundle first."""
        scripts = [
            response.urljoin(src)
            for src in response.css("script[src]::attr(src)").getall()
            if "/assets/" in src
        ]
        yield from self._next_script(list(reversed(scripts)))

    def _next_script(self, scripts: list[str]) -> Iterator[Any]:
        """Fetch the next candidate bundle, or stop when none is left."""
        if not scripts:
            raise CloseSpider("no client_id found in soundcloud's website scripts")
        yield scrapy.Request(
            scripts[0],
            callback=self.parse_script,
            cb_kwargs={"rest": scripts[1:]},
            dont_filter=True,
        )

    def parse_script(self, response: Response, rest: list[str]) -> Iterator[Any]:
        """A bundle: take its client_id and send the held requests again with it."""
        found = _CLIENT_ID.search(response.text)
        if found is None:
            yield from self._next_script(rest)
            return
        self.client_id = found.group(1)
        self.refreshing = False
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("soundcloud/client_id_refreshed")
        self.logger.info("soundcloud client_id read again from the website's scripts")
        held, self.waiting = self.waiting, []
        for request in held:
            yield request.replace(url=_with_client_id(request.url, self.client_id))

    def parse_user(self, response: Response) -> Iterator[Any]:
        """The first page of the resolved user's tracks."""
        if response.status == 401:
            yield from self._refused(response.request)  # type: ignore[arg-type]
            return
        user = json.loads(response.body)
        params = {"limit": 50, "linked_partitioning": 1}
        yield self._api_request(f"/users/{user['id']}/tracks", params, page=1)

    def parse_tracks(self, response: Response, page: int) -> Iterator[Any]:
        """Every track with a tracklist in its description, then ``next_href``."""
        if response.status == 401:
            yield from self._refused(response.request)  # type: ignore[arg-type]
            return
        data = json.loads(response.body)
        for track in data.get("collection", []):
            if track.get("kind") == "track":
                yield from self._track(track)
        next_href = data.get("next_href")
        if next_href and page < self.max_pages:
            parts = urlsplit(next_href)  # absolute on api-v2, without the client_id
            yield self._api_request(parts.path, dict(parse_qsl(parts.query)), page=page + 1)

    def _track(self, track: dict[str, Any]) -> Iterator[Any]:
        """The items of one track (none when its description holds no tracklist)."""
        lines = tracklist_lines(str(track.get("description") or ""))
        if not lines:
            return
        created = str(track.get("created_at") or "")
        yield from self.setlist_items(
            source_id=str(track["id"]),
            url=str(track.get("permalink_url") or ""),
            lines=lines,
            name=track.get("title"),
            dj_name=(track.get("user") or {}).get("username"),
            date=created[:10] if len(created) >= 10 else None,
        )
