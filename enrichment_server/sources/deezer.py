"""Deezer public API: track search, track by id or ISRC, album (label, genres, UPC).

Quirks handled (reference: upstream-apis.md section 5.1): no auth, but a User-Agent is
sent; errors arrive **inside an HTTP 200** as ``{"error":{"type","message","code"}}``, so
the body is checked for them before it is parsed: 800 ``no data`` is "not found" (None or
``[]``), 4 ``Quota limit exceeded`` is throttling with **no** ``Retry-After`` (the retry
policy's backoff applies), 700 is a busy service, anything else means our request was
wrong. HTTP 5xx bodies are a proxy's HTML page and are never parsed. ``duration`` is in
whole **seconds**; ``bpm`` is ``0`` when Deezer has no tempo (exposed as None);
``release_date`` may be ``"0000-00-00"`` (None); search items lack ``isrc``, ``bpm``,
``release_date`` and ``contributors`` (fetch the track for those). The search uses the
advanced syntax ``artist:"..." track:"..."``; quotes inside the values are removed because
Deezer has no escape for them.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator, Field, TypeAdapter

from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.errors import UpstreamError, UpstreamRejected, UpstreamUnavailable
from enrichment_server.resilience.pipeline import CallContext, Lookup, TtlKind
from enrichment_server.sources.base import EndpointSource, Model, is_empty, is_none
from enrichment_server.sources.http import HttpResponse

T = TypeVar("T")
SEARCH_LIMIT = 10
NOT_FOUND = 800
QUOTA = 4
BUSY = 700


def _zero_is_none(value: Any) -> Any:
    """Deezer's "unknown" numbers (``bpm: 0``) and empty strings become None."""
    return None if value in (0, 0.0, "", None) else value


def _no_date(value: Any) -> Any:
    """``"0000-00-00"`` (and ``""``) is Deezer's "no release date"."""
    return None if value in ("", "0000-00-00", None) else value


def _unwrap_data(value: Any) -> Any:
    """Album ``genres`` is ``{"data": [...]}`` on the wire and a plain list in the cache."""
    return value.get("data", []) if isinstance(value, dict) else value


OptionalFloat = Annotated[float | None, BeforeValidator(_zero_is_none)]
OptionalStr = Annotated[str | None, BeforeValidator(_zero_is_none)]
OptionalDate = Annotated[str | None, BeforeValidator(_no_date)]


class DeezerArtist(Model):
    """An artist object (``role`` "Main" or "Featured" in ``contributors``)."""

    id: int | None = None
    name: str
    role: str | None = None


class DeezerAlbumRef(Model):
    """The album object embedded in a track."""

    id: int
    title: str
    release_date: OptionalDate = None


class DeezerTrack(Model):
    """A full track or a search item (which lacks isrc, bpm, release date, contributors)."""

    id: int
    title: str
    title_short: str | None = None
    title_version: str | None = None
    isrc: OptionalStr = None
    duration: int | None = None
    """Whole seconds."""
    release_date: OptionalDate = None
    bpm: OptionalFloat = None
    """Beats per minute; None where Deezer answers ``0`` (unknown)."""
    gain: float | None = None
    rank: int | None = None
    artist: DeezerArtist
    contributors: list[DeezerArtist] = Field(default_factory=list)
    album: DeezerAlbumRef

    @property
    def duration_ms(self) -> int | None:
        """The duration in milliseconds (Deezer only knows whole seconds)."""
        return None if self.duration is None else self.duration * 1000

    @property
    def artist_names(self) -> list[str]:
        """The main artist, then every other contributor, each once."""
        names = [self.artist.name, *(c.name for c in self.contributors)]
        return list(dict.fromkeys(names))

    @property
    def artist_credit(self) -> str:
        """Artists joined the way Spotify's client joins them: ``"Bicep, Clara La San"``."""
        return ", ".join(self.artist_names)


class DeezerGenre(Model):
    """One album genre."""

    id: int
    name: str


class DeezerAlbum(Model):
    """``/album/{id}``, reduced to what enrichment uses."""

    id: int
    title: str
    label: OptionalStr = None
    upc: OptionalStr = None
    release_date: OptionalDate = None
    record_type: str | None = None
    genres: Annotated[list[DeezerGenre], BeforeValidator(_unwrap_data)] = Field(
        default_factory=list
    )

    @property
    def genre_names(self) -> list[str]:
        """The genre names, main genre first."""
        return [g.name for g in self.genres]


class _SearchPage(Model):
    data: list[DeezerTrack]
    total: int | None = None


TRACKS = TypeAdapter(list[DeezerTrack])
TRACK = TypeAdapter(DeezerTrack | None)
ALBUM = TypeAdapter(DeezerAlbum | None)
_SEARCH = TypeAdapter(_SearchPage)
_TRACK_BODY = TypeAdapter(DeezerTrack)
_ALBUM_BODY = TypeAdapter(DeezerAlbum)


class DeezerClient(EndpointSource):
    """Deezer lookups (public catalog reads; no credentials)."""

    source = Source.DEEZER

    async def search(self, ctx: CallContext, artist: str, title: str) -> list[DeezerTrack]:
        """Tracks for ``artist:"A" track:"T"``, best first (unverified: the matcher decides)."""
        query = _query(artist, title)
        lookup = Lookup(f"search:{query.casefold()}", TtlKind.SEARCH)
        return await self._caller.lookup(
            ctx, lookup, TRACKS, lambda d: self._search(d, query), is_empty
        )

    async def track(self, ctx: CallContext, deezer_id: int) -> DeezerTrack | None:
        """The full track with this id, or None when Deezer does not know it."""
        lookup = Lookup(f"track:{deezer_id}", TtlKind.BY_ID)
        path = f"/track/{int(deezer_id)}"
        return await self._caller.lookup(
            ctx, lookup, TRACK, lambda d: self._get(d, path, _TRACK_BODY), is_none
        )

    async def by_isrc(self, ctx: CallContext, isrc: str) -> DeezerTrack | None:
        """The full track carrying ``isrc`` (``/track/isrc:{ISRC}``), or None."""
        code = isrc.strip().upper()
        lookup = Lookup(f"isrc:{code}", TtlKind.ISRC)
        path = f"/track/isrc:{urllib.parse.quote(code, safe='')}"
        return await self._caller.lookup(
            ctx, lookup, TRACK, lambda d: self._get(d, path, _TRACK_BODY), is_none
        )

    async def album(self, ctx: CallContext, album_id: int) -> DeezerAlbum | None:
        """The album (label, genres, UPC, release date), or None when unknown."""
        lookup = Lookup(f"album:{album_id}", TtlKind.BY_ID)
        path = f"/album/{int(album_id)}"
        return await self._caller.lookup(
            ctx, lookup, ALBUM, lambda d: self._get(d, path, _ALBUM_BODY), is_none
        )

    async def _search(self, deadline: Deadline, query: str) -> list[DeezerTrack]:
        params = {"q": query, "limit": str(SEARCH_LIMIT)}
        resp = await self._call(deadline, "/search", params)
        return [] if resp is None else list(self._parse(resp, _SEARCH).data)

    async def _get(self, deadline: Deadline, path: str, adapter: TypeAdapter[T]) -> T | None:
        """One object by path, None when Deezer has no data for it."""
        resp = await self._call(deadline, path, None)
        return None if resp is None else self._parse(resp, adapter)

    async def _call(
        self, deadline: Deadline, path: str, params: dict[str, str] | None
    ) -> HttpResponse | None:
        """The response; None for error 800; raises for any other failure."""
        resp = await self._send(deadline, self._url(path), params=params, headers=self._headers)
        if resp.status >= 500:
            raise UpstreamUnavailable(self.source, f"HTTP {resp.status}")
        if resp.status == 429:
            raise self._throttled(resp, "rate limited (HTTP 429)")
        if resp.status >= 400:
            raise UpstreamRejected(self.source, f"HTTP {resp.status}: {self._error_text(resp)}")
        code = _error_code(resp)
        if code is None:
            return resp
        if code == NOT_FOUND:
            return None
        raise self._error(resp, code)

    def _error(self, resp: HttpResponse, code: int) -> UpstreamError:
        text = f"error {code}: {self._error_text(resp)}"
        if code == QUOTA:
            return self._throttled(resp, text)
        if code == BUSY:
            return UpstreamUnavailable(self.source, text)
        return UpstreamRejected(self.source, text)


def _error_code(resp: HttpResponse) -> int | None:
    """The Deezer error code in a body (``{"error": {"code": N}}``), else None."""
    try:
        body = json.loads(resp.body)
    except ValueError:
        return None  # not JSON at all: ``_parse`` reports it as malformed
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    return code if isinstance(code, int) and not isinstance(code, bool) else -1


def _query(artist: str, title: str) -> str:
    """``artist:"A" track:"T"``, leaving out an empty part (Deezer matches nothing to "")."""
    parts = (("artist", _clean(artist)), ("track", _clean(title)))
    return " ".join(f'{name}:"{value}"' for name, value in parts if value)


def _clean(value: str) -> str:
    """An advanced-search value: double quotes removed, whitespace collapsed."""
    return " ".join(value.replace('"', " ").split())
