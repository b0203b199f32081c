"""Mixcloud API (JSON, no key for public reads): ``https://api.mixcloud.com``.

``/<user>/cloudcasts/?limit=20`` lists a user's uploads (``data[]`` with each
cloudcast's ``key``, ``paging.next`` an absolute URL with ``offset``); ``/<user>/<slug>/``
is one cloudcast whose ``sections[]`` are its tracklist: a ``track`` section has
``track.name``, ``track.artist.name`` and ``start_time`` (seconds); ``chapter`` sections
have no track. The API answers 429 with ``retry_after`` when pushed: ``DOWNLOAD_DELAY`` 1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import scrapy
from scrapy.http import Response

from scrapers.parsing import format_cue
from scrapers.spiders.base import TracklistSpider

__all__ = ["MixcloudSpider", "section_line"]


def section_line(section: dict[str, Any]) -> str:
    """A track section as "[H:MM:SS] Artist - Title" ("" for chapters and empty tracks)."""
    track = section.get("track") or {}
    title = str(track.get("name") or "").strip()
    artist = str((track.get("artist") or {}).get("name") or "").strip()
    if not title or not artist:
        return ""
    cue = format_cue(section["start_time"]) if section.get("start_time") is not None else None
    return f"[{cue}] {artist} - {title}" if cue else f"{artist} - {title}"


class MixcloudSpider(TracklistSpider):
    """Cloudcasts of the users in ``MIXCLOUD_USERS`` (or ``-a user=name``)."""

    name = "mixcloud"
    base_url_setting = "MIXCLOUD_BASE_URL"
    default_base_url = "https://api.mixcloud.com"
    custom_settings = {"ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 1.0}  # noqa: RUF012

    async def start(self) -> AsyncIterator[Any]:
        """The first cloudcast listing page per user."""
        chosen = getattr(self, "user", None)  # -a user=name
        for user in [chosen] if chosen else self.settings.getlist("MIXCLOUD_USERS"):
            yield self._listing(self.url(f"/{quote(user)}/cloudcasts/?limit=20"), 1)

    def _listing(self, url: str, page: int) -> scrapy.Request:
        """A listing page request."""
        return scrapy.Request(url, callback=self.parse_listing, cb_kwargs={"page": page})

    def parse_listing(self, response: Response, page: int) -> Iterator[Any]:
        """Every cloudcast of a listing page, then ``paging.next``."""
        data = json.loads(response.body)
        for cloudcast in data.get("data", []):
            yield scrapy.Request(self.url(cloudcast["key"]), callback=self.parse_cloudcast)
        next_url = (data.get("paging") or {}).get("next")
        if next_url and page < self.max_pages:
            parts = urlsplit(next_url)  # absolute on api.mixcloud.com: keep our base URL
            yield self._listing(self.url(f"{parts.path}?{parts.query}"), page + 1)

    def parse_cloudcast(self, response: Response) -> Iterator[Any]:
        """One cloudcast: the setlist, its tracks and links."""
        cloudcast = json.loads(response.body)
        lines = [section_line(section) for section in cloudcast.get("sections", [])]
        created = str(cloudcast.get("created_time") or "")
        yield from self.setlist_items(
            source_id=str(cloudcast["key"]).strip("/"),
            url=cloudcast.get("url") or response.url,
            lines=[line for line in lines if line],
            name=cloudcast.get("name"),
            dj_name=(cloudcast.get("user") or {}).get("name"),
            date=created[:10] if len(created) >= 10 else None,
        )
