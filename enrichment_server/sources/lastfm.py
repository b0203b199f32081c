"""Last.fm API 2.0: ``track.getInfo`` (listeners, canonical names) and ``track.getTopTags``.

Quirks handled (reference: upstream-apis.md section 3): errors usually arrive **inside an
HTTP 200** body as ``{"error": N, "message": ...}``, so the body is checked first and the
status second; every number in ``getInfo`` is a string; single-element lists may come
back as an object; an unknown track may be a stub (no mbid, no album, a handful of
listeners) rather than error 6. Codes 8/11/16 are transient, 29 is throttling, 10/26 are
a bad or suspended key (configuration; never retried).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, TypeAdapter

from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.errors import (
    MalformedResponse,
    UpstreamRejected,
    UpstreamUnavailable,
)
from enrichment_server.resilience.pipeline import CallContext, Lookup, TtlKind, UpstreamCaller
from enrichment_server.sources.base import EndpointSource, Model, is_empty, is_none
from enrichment_server.sources.http import HttpResponse, Transport

#: A track with no mbid, no album and fewer listeners than this is Last.fm's stub for
#: "unknown track", not a match.
STUB_MAX_LISTENERS = 10
_TRANSIENT = {8, 11, 16}
_BAD_KEY = {4, 9, 10, 26}
_NOT_FOUND = 6
_THROTTLED = 29


def _as_list(value: Any) -> Any:
    """Last.fm's XML->JSON conversion turns one-element lists into a bare object."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _as_int(value: Any) -> Any:
    """Numbers arrive as strings ("812345"); empty strings mean unknown."""
    if value in (None, ""):
        return None
    return int(value) if isinstance(value, str) else value


LooseList = Annotated[list[Any], BeforeValidator(_as_list)]
StrInt = Annotated[int | None, BeforeValidator(_as_int)]


class LastfmTag(Model):
    """A crowd tag; ``count`` is a relative weight 0..100 (only in getTopTags)."""

    name: str
    count: int | None = None


class LastfmArtist(Model):
    """The artist object of getInfo."""

    name: str
    mbid: str | None = None


class LastfmAlbum(Model):
    """The album object of getInfo."""

    title: str


class LastfmTrack(Model):
    """``track.getInfo``, reduced to the fields we use."""

    name: str
    mbid: str | None = None
    duration: StrInt = None
    listeners: StrInt = None
    playcount: StrInt = None
    artist: LastfmArtist
    album: LastfmAlbum | None = None

    @property
    def is_stub(self) -> bool:
        """Last.fm's placeholder for a track it does not know."""
        return not self.mbid and self.album is None and (self.listeners or 0) < STUB_MAX_LISTENERS


class _TagList(Model):
    tag: Annotated[list[LastfmTag], BeforeValidator(_as_list)] = Field(default_factory=list)


class _TopTags(Model):
    toptags: _TagList


class _Info(Model):
    track: LastfmTrack


TRACK = TypeAdapter(LastfmTrack | None)
TAGS = TypeAdapter(list[LastfmTag])
_INFO = TypeAdapter(_Info)
_TOP_TAGS = TypeAdapter(_TopTags)


class LastfmClient(EndpointSource):
    """Last.fm lookups."""

    source = Source.LASTFM

    def __init__(
        self,
        caller: UpstreamCaller,
        transport: Transport,
        http_timeout_s: float,
        *,
        base_url: str,
        api_key: str,
        user_agent: str,
    ) -> None:
        super().__init__(
            caller,
            transport,
            http_timeout_s,
            base_url=base_url,
            user_agent=user_agent,
            credentials=(api_key,),
        )
        self._api_key = api_key

    async def track_info(self, ctx: CallContext, artist: str, title: str) -> LastfmTrack | None:
        """Canonical names, listeners and playcount; None for unknown tracks (and stubs)."""
        params = _params("track.getInfo", artist, title)
        lookup = Lookup(f"info:{artist.casefold()}|{title.casefold()}", TtlKind.BY_ID)
        return await self._caller.lookup(
            ctx, lookup, TRACK, lambda d: self._info(d, params), is_none
        )

    async def top_tags(self, ctx: CallContext, artist: str, title: str) -> list[LastfmTag]:
        """Weighted tags, heaviest first; [] for unknown tracks."""
        params = _params("track.getTopTags", artist, title)
        lookup = Lookup(f"tags:{artist.casefold()}|{title.casefold()}", TtlKind.BY_ID)
        return await self._caller.lookup(
            ctx, lookup, TAGS, lambda d: self._tags(d, params), is_empty
        )

    async def _info(self, deadline: Deadline, params: dict[str, str]) -> LastfmTrack | None:
        body = await self._call(deadline, params)
        if body is None:
            return None
        track = self._parse(body, _INFO).track
        return None if track.is_stub else track

    async def _tags(self, deadline: Deadline, params: dict[str, str]) -> list[LastfmTag]:
        body = await self._call(deadline, params)
        if body is None:
            return []
        return list(self._parse(body, _TOP_TAGS).toptags.tag)

    async def _call(self, deadline: Deadline, params: dict[str, str]) -> HttpResponse | None:
        """The response, None for "not found" (error 6), or the error the body carries."""
        query = {**params, "api_key": self._api_key, "format": "json"}
        resp = await self._send(deadline, self._base, params=query, headers=self._headers)
        code = _error_code(resp)
        if code is None and resp.status < 400:
            return resp
        if code == _NOT_FOUND:
            return None
        raise self._error(resp, code)

    def _error(self, resp: HttpResponse, code: int | None) -> Exception:
        text = self._error_text(resp)
        if code == _THROTTLED or resp.status == 429:
            return self._throttled(resp, text)
        if code in _BAD_KEY:
            return self._refused(text)
        if code in _TRANSIENT or resp.status >= 500:
            return UpstreamUnavailable(self.source, f"HTTP {resp.status}: {text}")
        if code is None and resp.status == 404:
            return MalformedResponse(self.source, "HTTP 404 without an error body")
        return UpstreamRejected(self.source, f"HTTP {resp.status}: {text}")


def _error_code(resp: HttpResponse) -> int | None:
    """The Last.fm error code in the body, whatever the HTTP status."""
    try:
        body = json.loads(resp.body)
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("error"), int):
        return int(body["error"])
    return None


def _params(method: str, artist: str, title: str) -> dict[str, str]:
    # autocorrect=1: Last.fm answers for the canonical spelling (the matcher verifies it).
    return {"method": method, "artist": artist, "track": title, "autocorrect": "1"}
