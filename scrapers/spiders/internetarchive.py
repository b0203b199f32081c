"""Internet Archive: advanced search, then the metadata API (JSON, no key).

Checked against (2026-12-03): the Internet Archive's advanced search and metadata API
documentation. ``/advancedsearch.php?q=...&fl[]=identifier&fl[]=title&rows=50&page=N&
output=json`` answers ``response.numFound`` and ``response.docs[].identifier``;
``/metadata/<identifier>`` answers the item: ``metadata`` (``title``, ``creator``,
``date``, ``description``: HTML, a string or a list of strings) and ``files[]``. The
tracklist is in the description ("Tracklist:" then lines, ``<br />``-separated); without
one, the item's ``original`` audio files are the tracks (``track`` number, ``title``,
``artist`` or ``creator``), but only when there are at least two of them: a single-file
mix's title is the mix ("Eric Prydz - Essential Mix 2004-10-17"), not a track
(issue 17 item 9). Unverified: how consistently uploaders fill ``track`` / ``artist``.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, urlencode

import scrapy
from scrapy.http import Response

from scrapers.spiders.base import TracklistSpider
from scrapers.spiders.description import html_text, tracklist_lines

__all__ = ["MIN_TRACK_FILES", "InternetArchiveSpider", "file_lines"]

ROWS = 50


def _text(value: Any) -> str:
    """A metadata value as text (the API gives a string or a list of strings)."""
    return "\n".join(map(str, value)) if isinstance(value, list) else str(value or "")


def _track_number(file: dict[str, Any]) -> int:
    """A file's track number ("3", "03", "3/12"); files without one sort last."""
    digits = str(file.get("track") or "").split("/")[0].strip()
    return int(digits) if digits.isdigit() else 10_000


#: Audio formats the archive stores uploads in (its ``format`` names).
AUDIO_FORMATS = ("mp3", "flac", "ogg", "wav", "aiff", "m4a", "audio", "vbr")
#: Fewer original audio files than this: the item is one recording, not a tracklist.
MIN_TRACK_FILES = 2


def _is_audio(file: dict[str, Any]) -> bool:
    """Whether an item file is an audio file (by its format or its name)."""
    text = f"{file.get('format') or ''} {file.get('name') or ''}".lower()
    return any(kind in text for kind in AUDIO_FORMATS)


def file_lines(files: list[dict[str, Any]]) -> list[str]:
    """Tracklist lines from the item's original audio files, in track order.

    None for a single-file item: its one title names the whole mix.
    """
    originals = [f for f in files if f.get("source") == "original" and _is_audio(f)]
    if len(originals) < MIN_TRACK_FILES:
        return []
    tracks = [f for f in originals if f.get("title")]
    lines = []
    for file in sorted(tracks, key=_track_number):
        artist = _text(file.get("artist") or file.get("creator")).strip()
        if artist:
            lines.append(f"{artist} - {_text(file['title']).strip()}")
    return lines


class InternetArchiveSpider(TracklistSpider):
    """Items found by the searches in ``INTERNETARCHIVE_QUERIES`` (or ``-a query=...``)."""

    name = "internetarchive"
    base_url_setting = "INTERNETARCHIVE_BASE_URL"
    default_base_url = "https://archive.org"
    custom_settings = {"ROBOTSTXT_OBEY": False, "DOWNLOAD_DELAY": 1.0}  # noqa: RUF012

    async def start(self) -> AsyncIterator[Any]:
        """The first result page per query."""
        chosen = getattr(self, "query", None)  # -a query=...
        for query in [chosen] if chosen else self.settings.getlist("INTERNETARCHIVE_QUERIES"):
            yield self._search(query, 1)

    def _search(self, query: str, page: int) -> scrapy.Request:
        """One advanced search result page."""
        params = [("q", query), ("fl[]", "identifier"), ("fl[]", "title")]
        params += [("rows", str(ROWS)), ("page", str(page)), ("output", "json")]
        return scrapy.Request(
            self.url(f"/advancedsearch.php?{urlencode(params)}"),
            callback=self.parse_search,
            cb_kwargs={"query": query, "page": page},
        )

    def parse_search(self, response: Response, query: str, page: int) -> Iterator[Any]:
        """The metadata of every item found, then the next page."""
        found = json.loads(response.body).get("response") or {}
        for doc in found.get("docs", []):
            identifier = quote(str(doc["identifier"]))
            yield scrapy.Request(self.url(f"/metadata/{identifier}"), callback=self.parse_item)
        pages = math.ceil(int(found.get("numFound", 0)) / ROWS)
        if page < min(pages, self.max_pages):
            yield self._search(query, page + 1)

    def parse_item(self, response: Response) -> Iterator[Any]:
        """One item: the setlist, its tracks and links (nothing without a tracklist)."""
        item = json.loads(response.body)
        meta = item.get("metadata") or {}
        lines = tracklist_lines(html_text(_text(meta.get("description"))))
        lines = lines or file_lines(item.get("files") or [])
        if not lines or not meta.get("identifier"):
            return
        date = _text(meta.get("date"))
        yield from self.setlist_items(
            source_id=str(meta["identifier"]),
            url=f"https://archive.org/details/{meta['identifier']}",
            lines=lines,
            name=_text(meta.get("title")) or None,
            dj_name=_text(meta.get("creator")) or None,
            date=date[:10] if len(date) >= 10 else None,
        )
