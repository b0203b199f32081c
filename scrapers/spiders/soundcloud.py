"""SoundCloud API v2 (JSON): ``https://api-v2.soundcloud.com``, a ``client_id`` per request.

``/resolve?url=https://soundcloud.com/<user>`` answers the user object (``id``);
``/users/<id>/tracks?limit=50&linked_partitioning=1`` pages its tracks
(``collection[]``, ``next_href`` without the ``client_id``). A track object
(``kind: "track"``) has ``title``, ``description``, ``permalink_url``, ``created_at``
("2023-06-10T18:00:00Z") and ``user.username``; DJ mixes keep their tracklist in the
``description`` free text, read by ``spiders.description``. ``SOUNDCLOUD_CLIENT_ID`` is
required (the spider closes without one); ``DOWNLOAD_DELAY`` 1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider
from scrapers.spiders.description import tracklist_lines

__all__ = ["SoundCloudSpider"]


class SoundCloudSpider(TracklistSpider):
    """Tracks of the users in ``SOUNDCLOUD_USERS`` (or ``-a user=permalink``)."""

    name = "soundcloud"
    base_url_setting = "SOUNDCLOUD_BASE_URL"
    default_base_url = "https://api-v2.soundcloud.com"
    custom_settings = {"ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 1.0}  # noqa: RUF012

    async def start(self) -> AsyncIterator[Any]:
        """Resolve each configured user's profile URL."""
        if not self.settings.get("SOUNDCLOUD_CLIENT_ID"):
            raise CloseSpider("SOUNDCLOUD_CLIENT_ID is not set")
        chosen = getattr(self, "user", None)  # -a user=permalink
        for user in [chosen] if chosen else self.settings.getlist("SOUNDCLOUD_USERS"):
            profile = f"https://soundcloud.com/{user}"
            yield scrapy.Request(self._api("/resolve", {"url": profile}), callback=self.parse_user)

    def _api(self, path: str, params: dict[str, Any]) -> str:
        """An API URL on our base URL with ``params`` and the ``client_id``."""
        query = {**params, "client_id": self.settings.get("SOUNDCLOUD_CLIENT_ID")}
        return self.url(f"{path}?{urlencode(query)}")

    def parse_user(self, response: Response) -> Iterator[Any]:
        """The first page of the resolved user's tracks."""
        user = json.loads(response.body)
        params = {"limit": 50, "linked_partitioning": 1}
        yield self._tracks(self._api(f"/users/{user['id']}/tracks", params), 1)

    def _tracks(self, url: str, page: int) -> scrapy.Request:
        """A track page request."""
        return scrapy.Request(url, callback=self.parse_tracks, cb_kwargs={"page": page})

    def parse_tracks(self, response: Response, page: int) -> Iterator[Any]:
        """Every track with a tracklist in its description, then ``next_href``."""
        data = json.loads(response.body)
        for track in data.get("collection", []):
            if track.get("kind") == "track":
                yield from self._track(track)
        next_href = data.get("next_href")
        if next_href and page < self.max_pages:
            parts = urlsplit(next_href)  # absolute on api-v2, without the client_id
            yield self._tracks(self._api(parts.path, dict(parse_qsl(parts.query))), page + 1)

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
