"""GetSongBPM (``api.getsong.co``): tempo, key, Open Key and danceability by artist/title.

Quirks handled (reference: upstream-apis.md section 5.2): the key rides in the query
(``api_key``); ``type=both`` wants the strict lookup ``song:<title> artist:<artist>``; the
search matches by **title only** and returns same-title songs by other artists, so hits
whose artist shares no name with the asked artist are dropped here (the matcher still
scores the rest); a miss is the **object** ``{"search":{"error":"no result"}}`` at HTTP 200
(likewise ``{"song":{"error":..}}`` for an unknown id), not ``[]``; ``tempo`` is a
**string** (``"128"``); ``key_of`` uses Unicode accidentals (``"F♯m"``, ``"E♭"``) and is
parsed with :func:`keys.parse_key`, falling back to ``open_key`` (``"4m"``);
``danceability`` is 0..100 and may be missing. 401/403 mean the key was refused (a
configuration error, never retried), 429 is throttling, a 400 ``{"error":..}`` a malformed
request, and a bare ``{"error":..}`` inside a 200 a transient failure.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, TypeAdapter

from enrichment_server.deadline import Deadline
from enrichment_server.domain import Source
from enrichment_server.enrichment.matching import MATCHER_VERSION, normalise
from enrichment_server.enrichment.musical_key import MusicalKey, parse_key
from enrichment_server.errors import UpstreamRejected, UpstreamUnavailable
from enrichment_server.resilience.pipeline import CallContext, Lookup, TtlKind, UpstreamCaller
from enrichment_server.sources.base import EndpointSource, Model, is_empty, is_none
from enrichment_server.sources.http import HttpResponse, Transport

NO_RESULT = "no result"
_FIELD_MARK = re.compile(r"\b(song|artist):", re.IGNORECASE)


def _tempo(value: Any) -> Any:
    """``"128"`` -> 128.0; empty, zero or non-finite tempos are unknown (None)."""
    if isinstance(value, str):
        value = value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return value  # let the float field reject it as malformed
    number = float(value)  # a ValueError here is a validation error, hence malformed
    return number if math.isfinite(number) and number > 0 else None


def _text(value: Any) -> Any:
    """Years arrive as strings or numbers; keep text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class GsbArtist(Model):
    """The artist of a song."""

    id: str | None = None
    name: str
    uri: str | None = None
    genres: list[str] = Field(default_factory=list)
    origin: str | None = Field(default=None, alias="from")
    mbid: str | None = None


class GsbAlbum(Model):
    """The album of a song."""

    title: str | None = None
    uri: str | None = None
    year: Annotated[str | None, BeforeValidator(_text)] = None


class GsbSong(Model):
    """A song, as ``/song/`` and each ``/search/`` hit carry it."""

    id: str
    title: str
    uri: str | None = None
    tempo: Annotated[float | None, BeforeValidator(_tempo)] = None
    """Beats per minute (sent as a string)."""
    time_sig: str | None = None
    key_of: str | None = None
    open_key: str | None = None
    danceability_pct: int | None = Field(default=None, alias="danceability")
    """0..100 as sent; see :attr:`danceability`."""
    artist: GsbArtist
    album: GsbAlbum | None = None

    @property
    def key(self) -> MusicalKey | None:
        """The key from ``key_of`` ("F♯m"), else from ``open_key`` ("4m"); None if neither."""
        for text in (self.key_of, self.open_key):
            key = parse_key(text) if text else None
            if key is not None:
                return key
        return None

    @property
    def danceability(self) -> float | None:
        """Danceability on Spotify's 0..1 scale."""
        if self.danceability_pct is None:
            return None
        return max(0.0, min(1.0, self.danceability_pct / 100))

    @property
    def artist_name(self) -> str:
        """The artist the song is filed under."""
        return self.artist.name


class _Miss(Model):
    error: str


class _SearchBody(Model):
    search: list[GsbSong] | _Miss


class _SongBody(Model):
    song: GsbSong | _Miss


SONGS = TypeAdapter(list[GsbSong])
SONG = TypeAdapter(GsbSong | None)
_SEARCH = TypeAdapter(_SearchBody)
_SONG = TypeAdapter(_SongBody)


class GetSongBpmClient(EndpointSource):
    """GetSongBPM lookups; one instance per API key."""

    source = Source.GETSONGBPM

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

    async def search(self, ctx: CallContext, artist: str, title: str) -> list[GsbSong]:
        """Songs titled ``title`` by (an artist sharing a name with) ``artist``; [] on a miss."""
        # The answer is filtered by the matcher's normaliser (``_same_artist``) before it is
        # cached, so a newer matcher must not reuse it: the key carries its version.
        key = f"search:m{MATCHER_VERSION}:{artist.casefold()}|{title.casefold()}"
        lookup = Lookup(key, TtlKind.SEARCH)
        return await self._caller.lookup(
            ctx, lookup, SONGS, lambda d: self._search(d, artist, title), is_empty
        )

    async def song(self, ctx: CallContext, song_id: str) -> GsbSong | None:
        """The song with this id, or None when GetSongBPM does not know it."""
        lookup = Lookup(f"song:{song_id}", TtlKind.BY_ID)
        return await self._caller.lookup(
            ctx, lookup, SONG, lambda d: self._song(d, song_id), is_none
        )

    async def _search(self, deadline: Deadline, artist: str, title: str) -> list[GsbSong]:
        params = {"type": "both", "lookup": f"song:{_clean(title)} artist:{_clean(artist)}"}
        body = self._parse(await self._call(deadline, "/search/", params), _SEARCH)
        if isinstance(body.search, _Miss):
            self._check_miss(body.search)
            return []
        return [song for song in body.search if _same_artist(artist, song.artist_name)]

    async def _song(self, deadline: Deadline, song_id: str) -> GsbSong | None:
        body = self._parse(await self._call(deadline, "/song/", {"id": song_id}), _SONG)
        if isinstance(body.song, _Miss):
            self._check_miss(body.song)
            return None
        return body.song

    def _check_miss(self, miss: _Miss) -> None:
        """``no result`` is a miss; any other error text in its place is a rejection."""
        if miss.error.strip().casefold() != NO_RESULT:
            raise UpstreamRejected(self.source, self._redact(f"unexpected error: {miss.error}"))

    async def _call(self, deadline: Deadline, path: str, params: dict[str, str]) -> HttpResponse:
        """The successful response, or the error its status or bare error body means."""
        query = {"api_key": self._api_key, **params}
        resp = await self._send(deadline, self._url(path), params=query, headers=self._headers)
        if resp.status in (401, 403):
            raise self._refused(f"HTTP {resp.status}: {self._error_text(resp)}")
        if resp.status == 429:
            raise self._throttled(resp, f"rate limited (429): {self._error_text(resp)}")
        if resp.status >= 500:
            raise UpstreamUnavailable(self.source, f"HTTP {resp.status}: {self._error_text(resp)}")
        if resp.status >= 400:
            raise UpstreamRejected(self.source, f"HTTP {resp.status}: {self._error_text(resp)}")
        if _bare_error(resp):
            raise UpstreamUnavailable(self.source, f"error in HTTP 200: {self._error_text(resp)}")
        return resp


def _bare_error(resp: HttpResponse) -> bool:
    """Whether the body is ``{"error": "<text>"}`` rather than a search or song answer."""
    try:
        body = json.loads(resp.body)
    except ValueError:
        return False  # ``_parse`` reports it as malformed
    return isinstance(body, dict) and isinstance(body.get("error"), str)


def _same_artist(asked: str, found: str) -> bool:
    """Whether two credits share at least one normalised artist name."""
    return bool(set(normalise(asked, "").artists) & set(normalise(found, "").artists))


def _clean(value: str) -> str:
    """Lookup values: whitespace collapsed, no ``song:``/``artist:`` to confuse the parser."""
    return " ".join(_FIELD_MARK.sub(r"\1 ", value).split())
