"""setlist.fm REST API 1.0 (JSON): ``/rest/1.0/search/setlists?artistName=...&p=N``.

Needs an API key (``SETLISTFM_API_KEY``, sent as ``x-api-key``). Each setlist has
``sets.set[].song[]``; a song's artist is its ``cover`` artist when it has one, else the
setlist's artist; ``with`` is a guest (credited as feat.), a remix/edit ``info`` becomes
the version. The API allows about 2 requests per second: ``DOWNLOAD_DELAY`` 0.5.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider
from scrapers.trackid import is_version

__all__ = ["SetlistFmSpider", "song_line"]


def song_line(song: dict[str, Any], artist: str) -> str:
    """A setlist.fm song as an "Artist - Title (Version)" line ("" when it has no name)."""
    name = str(song.get("name") or "").strip()
    if not name:
        return ""
    credit = str((song.get("cover") or {}).get("name") or artist)
    guest = (song.get("with") or {}).get("name")
    if guest:
        credit += f" feat. {guest}"
    info = str(song.get("info") or "").strip()
    version = f" ({info})" if info and is_version(info) else ""
    return f"{credit} - {name}{version}"


class SetlistFmSpider(TracklistSpider):
    """Setlists of the artists in ``SETLISTFM_ARTISTS`` (or ``-a artist=Name``)."""

    name = "setlistfm"
    base_url_setting = "SETLISTFM_BASE_URL"
    default_base_url = "https://api.setlist.fm"
    # An API with a key: robots.txt is for crawlers of the website, not API clients.
    custom_settings = {"ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 0.5}  # noqa: RUF012

    async def start(self) -> AsyncIterator[Any]:
        """The first search page per artist."""
        if not self.settings.get("SETLISTFM_API_KEY"):
            raise CloseSpider("SETLISTFM_API_KEY is not set")
        artist = getattr(self, "artist", None)
        for name in [artist] if artist else self.settings.getlist("SETLISTFM_ARTISTS"):
            yield self._search(name, 1)

    def _search(self, artist: str, page: int) -> scrapy.Request:
        """The search request for one result page."""
        query = urlencode({"artistName": artist, "p": page})
        headers = {
            "x-api-key": self.settings.get("SETLISTFM_API_KEY"),
            "Accept": "application/json",
        }
        return scrapy.Request(
            self.url(f"/rest/1.0/search/setlists?{query}"),
            headers=headers,
            callback=self.parse_search,
            cb_kwargs={"artist": artist, "page": page},
        )

    def parse_search(self, response: Response, artist: str, page: int) -> Iterator[Any]:
        """Every setlist of a result page, then the next page."""
        data = json.loads(response.body)
        for setlist in data.get("setlist", []):
            yield from self._setlist(setlist)
        pages = math.ceil(int(data.get("total", 0)) / max(int(data.get("itemsPerPage", 20)), 1))
        if page < min(pages, self.max_pages):
            yield self._search(artist, page + 1)

    def _setlist(self, setlist: dict[str, Any]) -> Iterator[Any]:
        """The items of one setlist."""
        artist = setlist["artist"]["name"]
        songs = [song for part in setlist.get("sets", {}).get("set", []) for song in part["song"]]
        venue = setlist.get("venue") or {}
        yield from self.setlist_items(
            source_id=setlist["id"],
            url=setlist.get("url") or "",
            lines=[line for line in (song_line(song, artist) for song in songs) if line],
            name=f"{artist} @ {venue.get('name', '?')}",
            dj_name=artist,
            event_name=(setlist.get("tour") or {}).get("name"),
            venue=venue.get("name"),
            date=_iso_date(setlist.get("eventDate")),
        )


def _iso_date(event_date: str | None) -> str | None:
    """setlist.fm's "dd-MM-yyyy" as ISO "yyyy-MM-dd"."""
    if not event_date:
        return None
    return datetime.strptime(event_date, "%d-%m-%Y").date().isoformat()
