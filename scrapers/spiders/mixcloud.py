"""Mixcloud: uploads from the public API, tracklists from the website's GraphQL.

Checked against (2026-12-03): Mixcloud's API documentation (``/<user>/cloudcasts/``
lists uploads: ``data[]`` with ``key``, ``slug``, ``name``, ``created_time``, ``url``,
``user.name``; ``paging.next`` is an absolute URL, paged by ``offset`` only from 0 and by
``since``/``until`` after, so the spider follows ``paging.next`` as given) and public
Mixcloud tools on GitHub that read tracklists from ``POST https://app.mixcloud.com/graphql``
with ``cloudcastLookup(lookup: {username, slug}) { sections { __typename ... on
SectionBase { startSeconds } ... on TrackSection { artistName songName } ... on
ChapterSection { chapter } } }`` (recorded answers dated 2026-10). The API's own
``sections`` field is documented only in 2011 and is not used. Unverified here: whether
the GraphQL endpoint rate-limits anonymous callers (1 s between requests, as the API).

A ``TrackSection`` is a track ("[cue] Artist - Title"); a ``ChapterSection`` is a named
part of the show with no artist or title and leaves no track. The API answers 429 with
``retry_after`` when pushed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import scrapy
from scrapy.http import JsonRequest, Response

from scrapers.parsing import format_cue
from scrapers.spiders.base import TracklistSpider

__all__ = ["TRACKLIST_QUERY", "MixcloudSpider", "section_line"]

TRACKLIST_QUERY = """query Tracklist($lookup: CloudcastLookup!) {
  cloudcastLookup(lookup: $lookup) {
    name
    publishDate
    owner { displayName username }
    sections {
      __typename
      ... on SectionBase { startSeconds }
      ... on TrackSection { artistName songName }
      ... on ChapterSection { chapter }
    }
  }
}"""


def section_line(section: dict[str, Any]) -> str:
    """A ``TrackSection`` as "[H:MM:SS] Artist - Title"; "" for chapters and blanks."""
    if section.get("__typename") != "TrackSection":
        return ""
    title = str(section.get("songName") or "").strip()
    artist = str(section.get("artistName") or "").strip()
    if not title or not artist:
        return ""
    start = section.get("startSeconds")
    cue = format_cue(int(start)) if isinstance(start, int | float) else None
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
        """A tracklist query per cloudcast of a listing page, then ``paging.next``."""
        data = json.loads(response.body)
        for cloudcast in data.get("data", []):
            yield self._tracklist(cloudcast)
        next_url = (data.get("paging") or {}).get("next")
        if next_url and page < self.max_pages:
            parts = urlsplit(next_url)  # absolute on api.mixcloud.com: keep our base URL
            yield self._listing(self.url(f"{parts.path}?{parts.query}"), page + 1)

    def _tracklist(self, cloudcast: dict[str, Any]) -> JsonRequest:
        """The GraphQL tracklist query of one listed cloudcast."""
        username, _, slug = str(cloudcast["key"]).strip("/").partition("/")
        graphql = self.settings.get("MIXCLOUD_GRAPHQL_URL") or "https://app.mixcloud.com/graphql"
        payload = {
            "operationName": "Tracklist",
            "query": TRACKLIST_QUERY,
            "variables": {"lookup": {"username": username, "slug": slug}},
        }
        return JsonRequest(
            graphql,
            data=payload,
            callback=self.parse_tracklist,
            cb_kwargs={"cloudcast": cloudcast},
            meta={"page_kind": "tracklist"},
        )

    def parse_tracklist(self, response: Response, cloudcast: dict[str, Any]) -> Iterator[Any]:
        """One cloudcast's sections: the setlist, its tracks and links (chapters skipped)."""
        found = (json.loads(response.body).get("data") or {}).get("cloudcastLookup") or {}
        lines = [section_line(section) for section in found.get("sections") or []]
        created = str(cloudcast.get("created_time") or found.get("publishDate") or "")
        owner = (cloudcast.get("user") or {}).get("name") or (found.get("owner") or {}).get(
            "displayName"
        )
        yield from self.setlist_items(
            source_id=str(cloudcast["key"]).strip("/"),
            url=cloudcast.get("url") or "",
            lines=[line for line in lines if line],
            name=cloudcast.get("name") or found.get("name"),
            dj_name=owner,
            date=created[:10] if len(created) >= 10 else None,
        )
